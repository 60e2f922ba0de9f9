//! Building HTTP responses: the 101 that completes the handshake and plain
//! responses for everything else.

use super::error::HandshakeError;
use super::tokens::is_token;
use super::validate::Negotiated;

/// Headers the 101 writes itself; an application setting them would send
/// duplicates or claim an extension that is not implemented.
const RESERVED_101_HEADERS: [&str; 6] = [
    "upgrade",
    "connection",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
];

/// Headers [`http_response`] writes itself.
const RESERVED_PLAIN_HEADERS: [&str; 2] = ["content-length", "connection"];

/// The `101 Switching Protocols` response: `Upgrade: websocket`,
/// `Connection: Upgrade`, `Sec-WebSocket-Accept`, `Sec-WebSocket-Protocol` if
/// one was chosen, then `extra_headers` (e.g. Set-Cookie from the
/// application).
///
/// Extensions are never echoed, which declines every offer. A header name
/// that is not a token, a value containing CR, LF or NUL (response
/// splitting), or a header the 101 sets itself gives a 500 error.
pub fn response_101(
    negotiated: &Negotiated,
    extra_headers: &[(String, String)],
) -> Result<Vec<u8>, HandshakeError> {
    let mut headers: Vec<(&str, &str)> = vec![
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", negotiated.accept_key.as_str()),
    ];
    if let Some(protocol) = &negotiated.subprotocol {
        headers.push(("Sec-WebSocket-Protocol", protocol.as_str()));
    }
    for (name, value) in &headers {
        check_header(name, value)?;
    }
    for (name, value) in extra_headers {
        check_header(name, value)?;
        if is_reserved(name, &RESERVED_101_HEADERS) {
            return Err(HandshakeError::new(
                500,
                format!("header {name} is set by the handshake"),
            ));
        }
        headers.push((name.as_str(), value.as_str()));
    }
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
    write_headers(&mut out, &headers);
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// A plain HTTP response (426 for non-upgrade requests, 503 when full, static
/// files): status line, the given headers, `Content-Length`,
/// `Connection: close`, blank line, body.
///
/// Given headers that are malformed (CR, LF or NUL, or a name that is not a
/// token) or that this function writes itself (`Content-Length`,
/// `Connection`) are dropped rather than sent, so the framing stays intact.
pub fn http_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
    let kept: Vec<(&str, &str)> = headers
        .iter()
        .copied()
        .filter(|(name, value)| {
            check_header(name, value).is_ok() && !is_reserved(name, &RESERVED_PLAIN_HEADERS)
        })
        .collect();
    write_headers(&mut out, &kept);
    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

/// Standard reason phrase for a status; a generic class phrase for codes
/// not listed.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Unknown",
        },
    }
}

/// Refuses header names that are not tokens and values that could end the
/// header line early.
fn check_header(name: &str, value: &str) -> Result<(), HandshakeError> {
    if !is_token(name) {
        return Err(HandshakeError::new(500, "invalid response header name"));
    }
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(HandshakeError::new(
            500,
            format!("invalid value for response header {name}"),
        ));
    }
    Ok(())
}

fn is_reserved(name: &str, reserved: &[&str]) -> bool {
    reserved.iter().any(|r| r.eq_ignore_ascii_case(name))
}

fn write_headers(out: &mut Vec<u8>, headers: &[(&str, &str)]) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiated(subprotocol: Option<&str>) -> Negotiated {
        Negotiated {
            accept_key: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
            subprotocol: subprotocol.map(str::to_owned),
        }
    }

    #[test]
    fn switching_protocols_exact_bytes() {
        let extra = vec![("Set-Cookie".to_owned(), "sid=1; HttpOnly".to_owned())];
        let out = response_101(&negotiated(Some("chat")), &extra);
        let expected = "HTTP/1.1 101 Switching Protocols\r\n\
            Upgrade: websocket\r\n\
            Connection: Upgrade\r\n\
            Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
            Sec-WebSocket-Protocol: chat\r\n\
            Set-Cookie: sid=1; HttpOnly\r\n\
            \r\n";
        assert_eq!(out, Ok(expected.as_bytes().to_vec()));
    }

    #[test]
    fn no_protocol_header_without_a_choice() {
        let out = response_101(&negotiated(None), &[]).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(!text.to_ascii_lowercase().contains("sec-websocket-protocol"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn header_injection_refused() {
        for (name, value) in [
            ("Set-Cookie", "a=1\r\nX-Evil: 1"),
            ("Set-Cookie", "a=1\nX-Evil: 1"),
            ("Set-Cookie", "a=1\rX"),
            ("X-Evil\r\nA", "1"),
            ("Bad Name", "1"),
            ("", "1"),
            ("Sec-WebSocket-Extensions", "permessage-deflate"),
            ("connection", "close"),
        ] {
            let extra = vec![(name.to_owned(), value.to_owned())];
            let status = response_101(&negotiated(None), &extra)
                .err()
                .map(|e| e.status);
            assert_eq!(status, Some(500), "{name:?}: {value:?}");
        }
        let bad_protocol = negotiated(Some("chat\r\nX: 1"));
        assert!(response_101(&bad_protocol, &[]).is_err());
    }

    #[test]
    fn plain_response() {
        let out = http_response(
            426,
            &[
                ("Upgrade", "websocket"),
                ("Content-Length", "999"),
                ("X-Bad", "a\r\nb"),
            ],
            b"hi",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n\
              Content-Length: 2\r\nConnection: close\r\n\r\nhi"
                .to_vec()
        );
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason_phrase(200), "OK");
        assert_eq!(reason_phrase(400), "Bad Request");
        assert_eq!(reason_phrase(403), "Forbidden");
        assert_eq!(reason_phrase(404), "Not Found");
        assert_eq!(reason_phrase(405), "Method Not Allowed");
        assert_eq!(reason_phrase(426), "Upgrade Required");
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(500), "Internal Server Error");
        assert_eq!(reason_phrase(503), "Service Unavailable");
        assert_eq!(reason_phrase(505), "HTTP Version Not Supported");
        assert_eq!(reason_phrase(499), "Client Error");
        assert_eq!(reason_phrase(999), "Unknown");
    }
}
