//! End-to-end checks of the opening handshake: bytes in, request parsed,
//! validated, response bytes out.

use switchboard::protocol::handshake::{
    accept_key, check_chosen_subprotocol, http_response, reason_phrase, response_101, validate,
    ExtensionOffer, HandshakeConfig, HandshakeError, Negotiated, NoMatchingSubprotocol,
    OriginPolicy, Request, RequestParser,
};

const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Version: 13\r\n\
    \r\n";

fn parse(bytes: &[u8]) -> Request {
    match RequestParser::new(8192).feed(bytes) {
        Ok(Some((request, used))) => {
            assert_eq!(used, bytes.len());
            request
        }
        other => panic!("expected a complete head, got {other:?}"),
    }
}

/// A valid request head with `replace` swapping headers by name (an empty
/// value removes the header) and `extra` appended.
fn head_with(method: &str, replace: &[(&str, &str)], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!("{method} /chat HTTP/1.1\r\n");
    let base = [
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    for (name, value) in base {
        let value = replace
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(value, |(_, v)| v);
        if !value.is_empty() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

fn refused(head: &[u8], config: &HandshakeConfig) -> HandshakeError {
    match validate(&parse(head), config) {
        Err(err) => err,
        Ok(n) => panic!("expected a refusal, got {n:?}"),
    }
}

fn status(head: &[u8], config: &HandshakeConfig) -> u16 {
    refused(head, config).status
}

#[test]
fn rfc_accept_keys() {
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        accept_key("x3JJHMbDL1EzLkh9GBhXDw=="),
        "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
    );
}

#[test]
fn rfc_example_end_to_end() {
    let request = parse(RFC_REQUEST.as_bytes());
    assert_eq!(request.path, "/chat");
    assert_eq!(request.query, "");
    // The RFC's page comes from http://example.com, another site than the
    // server's: refused by default, accepted once that origin is allowed.
    let default = HandshakeConfig {
        subprotocols: vec!["chat".into()],
        ..HandshakeConfig::default()
    };
    assert_eq!(validate(&request, &default).map_err(|e| e.status), Err(403));
    let config = HandshakeConfig {
        origins: OriginPolicy {
            allowed: vec!["http://example.com".into()],
            allow_missing: true,
        },
        ..default
    };
    let negotiated = validate(&request, &config);
    assert_eq!(
        negotiated,
        Ok(Negotiated {
            accept_key: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
            subprotocol: Some("chat".into()),
        })
    );
    let response = negotiated.and_then(|n| response_101(&n, &[]));
    assert_eq!(
        response,
        Ok(b"HTTP/1.1 101 Switching Protocols\r\n\
            Upgrade: websocket\r\n\
            Connection: Upgrade\r\n\
            Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
            Sec-WebSocket-Protocol: chat\r\n\
            \r\n"
            .to_vec())
    );
}

#[test]
fn head_split_one_byte_at_a_time_parses_the_same() {
    let bytes = RFC_REQUEST.as_bytes();
    let whole = parse(bytes);
    let mut parser = RequestParser::new(8192);
    let mut result = None;
    for (i, byte) in bytes.iter().enumerate() {
        match parser.feed(std::slice::from_ref(byte)) {
            Ok(None) => assert!(i + 1 < bytes.len()),
            Ok(Some(done)) => {
                assert_eq!(i + 1, bytes.len());
                result = Some(done);
            }
            Err(err) => panic!("byte {i}: {err}"),
        }
    }
    assert_eq!(result, Some((whole, 1)));
    assert_eq!(parser.buffered(), 0);
}

#[test]
fn leftover_frame_bytes_are_reported() {
    let head = RFC_REQUEST.as_bytes();
    let frame = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    let split = 40;
    let mut second = head[split..].to_vec();
    second.extend_from_slice(&frame);

    let mut parser = RequestParser::new(8192);
    assert_eq!(parser.feed(&head[..split]), Ok(None));
    assert_eq!(parser.buffered(), split);
    match parser.feed(&second) {
        Ok(Some((request, used))) => {
            assert_eq!(used, head.len() - split);
            assert_eq!(&second[used..], &frame);
            assert_eq!(request, parse(head));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(parser.buffered(), 0);
}

#[test]
fn oversized_head_is_431() {
    let mut parser = RequestParser::new(256);
    assert_eq!(parser.feed(b"GET / HTTP/1.1\r\n"), Ok(None));
    let filler = format!("X-Filler: {}\r\n", "a".repeat(300));
    let err = parser.feed(filler.as_bytes()).err();
    assert_eq!(err.map(|e| e.status), Some(431));
    assert!(parser.buffered() <= 256);

    // Trickled in, it stops as soon as the limit is reached.
    let mut parser = RequestParser::new(256);
    let mut fed = 0;
    let stream = [b"GET / HTTP/1.1\r\n".as_slice(), filler.as_bytes()].concat();
    for byte in &stream {
        fed += 1;
        if let Err(err) = parser.feed(std::slice::from_ref(byte)) {
            assert_eq!(err.status, 431);
            break;
        }
        assert!(parser.buffered() < 256);
    }
    assert_eq!(fed, 256);
}

#[test]
fn request_line_parts() {
    let request = parse(b"GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/a/b");
    assert_eq!(request.query, "x=1&y=%20");
    assert_eq!(request.version, 1);
    assert_eq!(request.headers, vec![("Host".to_owned(), "h".to_owned())]);
}

#[test]
fn method_must_be_get() {
    let err = refused(&head_with("POST", &[], &[]), &HandshakeConfig::default());
    assert_eq!(err.status, 405);
    assert_eq!(err.headers, vec![("Allow".to_owned(), "GET".to_owned())]);
    let text = String::from_utf8_lossy(&err.to_response()).into_owned();
    assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
    assert!(text.contains("\r\nAllow: GET\r\n"));
}

#[test]
fn http_1_0_is_505() {
    let mut request = parse(&head_with("GET", &[], &[]));
    request.version = 0;
    let err = validate(&request, &HandshakeConfig::default()).err();
    assert_eq!(err.map(|e| e.status), Some(505));
    // As the parser reads it: the version is the handshake's to refuse.
    let head = String::from_utf8_lossy(&head_with("GET", &[], &[])).replace("HTTP/1.1", "HTTP/1.0");
    let (request, _) = RequestParser::new(8192)
        .feed(head.as_bytes())
        .unwrap()
        .unwrap();
    let err = validate(&request, &HandshakeConfig::default()).err();
    assert_eq!(err.map(|e| e.status), Some(505));
}

#[test]
fn host_is_required() {
    let config = HandshakeConfig::default();
    assert_eq!(
        status(&head_with("GET", &[("Host", "")], &[]), &config),
        400
    );
}

#[test]
fn upgrade_websocket_is_required() {
    let config = HandshakeConfig::default();
    for upgrade in ["", "h2c"] {
        let err = refused(&head_with("GET", &[("Upgrade", upgrade)], &[]), &config);
        assert_eq!(err.status, 426);
        assert_eq!(
            err.headers,
            vec![("Upgrade".to_owned(), "websocket".to_owned())]
        );
    }
    let ok = head_with("GET", &[("Upgrade", "h2c, WebSocket")], &[]);
    assert!(validate(&parse(&ok), &config).is_ok());
    assert!(parse(&ok).is_websocket_upgrade());
}

#[test]
fn connection_upgrade_is_required() {
    let config = HandshakeConfig::default();
    for connection in ["", "keep-alive", "upgrades"] {
        let head = head_with("GET", &[("Connection", connection)], &[]);
        assert_eq!(status(&head, &config), 400, "{connection:?}");
    }
    for connection in ["keep-alive, Upgrade", "UPGRADE", "upgrade,close"] {
        let head = head_with("GET", &[("Connection", connection)], &[]);
        assert!(validate(&parse(&head), &config).is_ok(), "{connection:?}");
    }
}

#[test]
fn key_must_be_base64_of_16_bytes() {
    let config = HandshakeConfig::default();
    for key in [
        "",
        "dGhlIHNhbXBsZSBub25jZQ",     // unpadded
        "dGhlIHNhbXBsZSBub25jZQ==AA", // too long
        "dGhlIHNhbXBsZQ==",           // 10 bytes
        "dGhlIHNhbXBsZSBub25jZSEh",   // 18 bytes, 24 characters
        "dGhlIHNhbXBsZSBub25jZQ!=",   // not base64
        "dGhlIHNhbXBsZSBub25jZR==",   // non-canonical trailing bits
    ] {
        let err = refused(
            &head_with("GET", &[("Sec-WebSocket-Key", key)], &[]),
            &config,
        );
        assert_eq!(err.status, 400, "{key:?}");
        assert!(err.reason.contains("Sec-WebSocket-Key"), "{}", err.reason);
    }
}

#[test]
fn version_must_be_13() {
    let config = HandshakeConfig::default();
    for version in ["", "8", "14", "13, 8"] {
        let err = refused(
            &head_with("GET", &[("Sec-WebSocket-Version", version)], &[]),
            &config,
        );
        assert_eq!(err.status, 426, "{version:?}");
        assert_eq!(
            err.headers,
            vec![("Sec-WebSocket-Version".to_owned(), "13".to_owned())]
        );
        let text = String::from_utf8_lossy(&err.to_response()).into_owned();
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }
}

#[test]
fn origin_policy_is_enforced() {
    let config = HandshakeConfig {
        origins: OriginPolicy {
            allowed: vec!["https://app.example.com".into(), "*.example.org".into()],
            allow_missing: false,
        },
        ..HandshakeConfig::default()
    };
    let with_origin = |origin: &str| head_with("GET", &[], &[("Origin", origin)]);
    assert!(validate(&parse(&with_origin("https://app.example.com")), &config).is_ok());
    assert!(validate(&parse(&with_origin("https://APP.example.com")), &config).is_ok());
    assert!(validate(&parse(&with_origin("http://b.c.example.org:8080")), &config).is_ok());
    assert_eq!(status(&with_origin("https://evil.example"), &config), 403);
    assert_eq!(
        status(&with_origin("https://example.org.evil.com"), &config),
        403
    );
    assert_eq!(status(&head_with("GET", &[], &[]), &config), 403);

    let lenient = HandshakeConfig::default();
    assert!(validate(&parse(&head_with("GET", &[], &[])), &lenient).is_ok());
}

#[test]
fn origin_patterns() {
    let policy = OriginPolicy {
        allowed: vec!["*.example.com".into()],
        allow_missing: true,
    };
    assert!(policy.allows(Some("https://a.example.com"), Some("app.test")));
    assert!(policy.allows(Some("http://b.c.example.com:8080"), Some("app.test")));
    assert!(!policy.allows(Some("https://example.com.evil.com"), Some("app.test")));
    assert!(!policy.allows(Some("https://evilexample.com"), Some("app.test")));
    assert!(policy.allows(None, Some("app.test")));
    let strict = OriginPolicy {
        allow_missing: false,
        ..policy
    };
    assert!(!strict.allows(None, Some("app.test")));
    let scheme = OriginPolicy {
        allowed: vec!["https://*.example.com".into()],
        allow_missing: true,
    };
    assert!(scheme.allows(Some("https://a.example.com"), Some("app.test")));
    assert!(!scheme.allows(Some("http://a.example.com"), Some("app.test")));
}

fn with_protocols(
    offer: Option<&str>,
    server: &[&str],
    none: NoMatchingSubprotocol,
) -> Result<Option<String>, u16> {
    let extra: Vec<(&str, &str)> = offer
        .map(|o| vec![("Sec-WebSocket-Protocol", o)])
        .unwrap_or_default();
    let config = HandshakeConfig {
        subprotocols: server.iter().map(|s| (*s).to_owned()).collect(),
        no_matching_subprotocol: none,
        ..HandshakeConfig::default()
    };
    validate(&parse(&head_with("GET", &[], &extra)), &config)
        .map(|n| n.subprotocol)
        .map_err(|e| e.status)
}

#[test]
fn subprotocol_negotiation() {
    use NoMatchingSubprotocol::{AcceptWithNone, Reject};
    let offer = Some("chat, superchat");
    assert_eq!(
        with_protocols(offer, &["chat"], Reject),
        Ok(Some("chat".into()))
    );
    // The server's preference wins over the client's order.
    assert_eq!(
        with_protocols(offer, &["superchat", "chat"], Reject),
        Ok(Some("superchat".into()))
    );
    assert_eq!(
        with_protocols(offer, &["v2", "chat"], Reject),
        Ok(Some("chat".into()))
    );
    // None matches.
    assert_eq!(with_protocols(offer, &["v2"], Reject), Err(400));
    assert_eq!(with_protocols(offer, &["v2"], AcceptWithNone), Ok(None));
    assert_eq!(NoMatchingSubprotocol::default(), AcceptWithNone);
    // Matching is exact: case differs, not offered.
    assert_eq!(with_protocols(offer, &["Chat"], AcceptWithNone), Ok(None));
    // Client offers none: nothing is chosen, whatever the server supports.
    assert_eq!(with_protocols(None, &["chat"], Reject), Ok(None));
    assert_eq!(with_protocols(None, &["chat"], AcceptWithNone), Ok(None));
    // Server has none configured: the answer carries none.
    assert_eq!(with_protocols(offer, &[], Reject), Ok(None));
    // Offers spread over several headers.
    let head = head_with(
        "GET",
        &[],
        &[
            ("Sec-WebSocket-Protocol", "a"),
            ("Sec-WebSocket-Protocol", "b, chat"),
        ],
    );
    let config = HandshakeConfig {
        subprotocols: vec!["chat".into()],
        ..HandshakeConfig::default()
    };
    let chosen = validate(&parse(&head), &config).map(|n| n.subprotocol);
    assert_eq!(chosen, Ok(Some("chat".into())));
}

#[test]
fn application_chosen_subprotocol() {
    let request = parse(RFC_REQUEST.as_bytes());
    assert_eq!(check_chosen_subprotocol(&request, None), Ok(()));
    assert_eq!(
        check_chosen_subprotocol(&request, Some("superchat")),
        Ok(())
    );
    let err = check_chosen_subprotocol(&request, Some("other")).err();
    assert_eq!(
        err,
        Some(HandshakeError::new(
            400,
            "subprotocol not offered by the client"
        ))
    );
}

#[test]
fn extensions_parsed_and_not_echoed() {
    let head = head_with(
        "GET",
        &[],
        &[(
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits, x-foo; a=1; b=\"q\"",
        )],
    );
    let request = parse(&head);
    assert_eq!(
        request.offered_extensions(),
        vec![
            ExtensionOffer {
                name: "permessage-deflate".into(),
                params: vec![("client_max_window_bits".into(), None)],
            },
            ExtensionOffer {
                name: "x-foo".into(),
                params: vec![
                    ("a".into(), Some("1".into())),
                    ("b".into(), Some("q".into()))
                ],
            },
        ]
    );
    let response = validate(&request, &HandshakeConfig::default())
        .and_then(|n| response_101(&n, &[]))
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 101 "));
    assert!(!text.contains("extensions"));
    assert!(!text.contains("deflate"));
}

#[test]
fn cookies() {
    let request = parse(&head_with("GET", &[], &[("Cookie", "a=1; session=abc")]));
    assert_eq!(request.cookie("session"), Some("abc"));
    assert_eq!(request.cookie("a"), Some("1"));
    assert_eq!(request.cookie("b"), None);
}

#[test]
fn extra_headers_in_101() {
    let negotiated = Negotiated {
        accept_key: accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        subprotocol: None,
    };
    let ok = response_101(
        &negotiated,
        &[("Set-Cookie".into(), "sid=xyz; Secure; HttpOnly".into())],
    )
    .unwrap_or_default();
    assert!(String::from_utf8_lossy(&ok).contains("\r\nSet-Cookie: sid=xyz; Secure; HttpOnly\r\n"));

    for (name, value) in [
        ("Set-Cookie", "sid=1\r\nLocation: https://evil.test"),
        ("Set-Cookie", "sid=1\n\n<html>"),
        ("X-Split\r\nEvil", "1"),
        ("X:Colon", "1"),
    ] {
        let err = response_101(&negotiated, &[(name.into(), value.into())]).err();
        assert_eq!(err.map(|e| e.status), Some(500), "{name:?}");
    }
}

#[test]
fn plain_responses() {
    let out = http_response(503, &[("Retry-After", "1")], b"full\n");
    assert_eq!(
        out,
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
          Content-Length: 5\r\nConnection: close\r\n\r\nfull\n"
            .to_vec()
    );
    assert_eq!(reason_phrase(426), "Upgrade Required");
    assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
}

#[test]
fn error_response_format() {
    let err = HandshakeError::new(400, "missing Host header");
    assert_eq!(
        err.to_response(),
        b"HTTP/1.1 400 Bad Request\r\n\
          Content-Type: text/plain; charset=utf-8\r\n\
          Content-Length: 20\r\n\
          Connection: close\r\n\
          \r\n\
          missing Host header\n"
            .to_vec()
    );
}
