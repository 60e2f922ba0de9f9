//! The 101 response that completes the WebSocket handshake (plain HTTP
//! responses are built by `crate::http::response`).

use super::validate::Negotiated;
use crate::http::error::HandshakeError;
use crate::http::response::{check_header, is_reserved, write_headers};

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
}
