//! A refused handshake and the HTTP response that explains it.

use std::fmt;

use super::response::http_response;

/// A refused handshake: the HTTP status, a short reason (also the text body),
/// and extra headers the RFC asks for (`Allow`, `Upgrade`,
/// `Sec-WebSocket-Version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeError {
    /// HTTP status code to answer with.
    pub status: u16,
    /// Short human-readable reason; sent as the body.
    pub reason: String,
    /// Extra response headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body exactly as an application gave it; `None`: the reason and a
    /// newline.
    pub body: Option<String>,
}

impl HandshakeError {
    /// An error with no extra headers.
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// An application's refusal: `body` is sent as given, with nothing added.
    pub fn with_body(status: u16, body: impl Into<String>) -> Self {
        let body = body.into();
        Self {
            body: Some(body.clone()),
            ..Self::new(status, body)
        }
    }

    /// Adds a response header; used where the RFC names one (e.g. 426 with
    /// `Sec-WebSocket-Version: 13`).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The full HTTP/1.1 response: status line, the extra headers,
    /// `Content-Type: text/plain; charset=utf-8`, `Content-Length`,
    /// `Connection: close`, blank line, and the body (`reason + "\n"` unless
    /// an application gave its own).
    ///
    /// Headers whose name or value could break the response framing are
    /// dropped (see [`http_response`]).
    pub fn to_response(&self) -> Vec<u8> {
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        headers.push(("Content-Type", "text/plain; charset=utf-8"));
        let body = match &self.body {
            Some(body) => body.clone().into_bytes(),
            None => format!("{}\n", self.reason).into_bytes(),
        };
        http_response(self.status, &headers, &body)
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "handshake refused: {} ({})", self.reason, self.status)
    }
}

impl std::error::Error for HandshakeError {}

#[cfg(test)]
mod tests {
    use super::HandshakeError;

    #[test]
    fn an_application_body_is_sent_as_given() {
        let text = String::from_utf8(HandshakeError::with_body(401, "no token").to_response())
            .unwrap_or_default();
        assert!(text.starts_with("HTTP/1.1 401 "), "{text}");
        assert!(text.contains("\r\nContent-Length: 8\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nno token"), "{text}");
        let empty =
            String::from_utf8(HandshakeError::with_body(403, "").to_response()).unwrap_or_default();
        assert!(empty.contains("\r\nContent-Length: 0\r\n"), "{empty}");
        assert!(empty.ends_with("\r\n\r\n"), "{empty}");
    }

    #[test]
    fn response_carries_headers_length_and_body() {
        let err = HandshakeError::new(426, "unsupported version")
            .with_header("Sec-WebSocket-Version", "13");
        let text = String::from_utf8_lossy(&err.to_response()).into_owned();
        assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(text.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
        assert!(text.contains("\r\nContent-Length: 20\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nunsupported version\n"));
    }

    #[test]
    fn display_mentions_status_and_reason() {
        let err = HandshakeError::new(403, "origin not allowed");
        assert_eq!(
            err.to_string(),
            "handshake refused: origin not allowed (403)"
        );
    }
}
