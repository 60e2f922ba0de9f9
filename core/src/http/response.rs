//! Plain HTTP/1.1 responses: status line, headers that cannot break the
//! framing, `Content-Length`, `Connection: close`, body.

use super::error::HandshakeError;
use super::tokens::is_token;

/// Headers [`http_response`] writes itself.
const RESERVED_PLAIN_HEADERS: [&str; 2] = ["content-length", "connection"];

/// A plain HTTP response (426 for non-upgrade requests, 503 when full, static
/// files): status line, the given headers, `Content-Length`,
/// `Connection: close`, blank line, body.
///
/// Given headers that are malformed (CR, LF or NUL, or a name that is not a
/// token) or that this function writes itself (`Content-Length`,
/// `Connection`) are dropped rather than sent, so the framing stays intact.
pub fn http_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = http_head(status, headers, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// The head of a response whose body, `length` bytes, follows separately.
pub fn http_head(status: u16, headers: &[(&str, &str)], length: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
    let kept: Vec<(&str, &str)> = headers
        .iter()
        .copied()
        .filter(|(name, value)| {
            check_header(name, value).is_ok() && !is_reserved(name, &RESERVED_PLAIN_HEADERS)
        })
        .collect();
    write_headers(&mut out, &kept);
    out.extend_from_slice(format!("Content-Length: {length}\r\n").as_bytes());
    out.extend_from_slice(b"Connection: close\r\n\r\n");
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
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), HandshakeError> {
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

pub(crate) fn is_reserved(name: &str, reserved: &[&str]) -> bool {
    reserved.iter().any(|r| r.eq_ignore_ascii_case(name))
}

pub(crate) fn write_headers(out: &mut Vec<u8>, headers: &[(&str, &str)]) {
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
