//! The Sec-WebSocket-Accept computation (RFC 6455 section 4.2.2, item 5.4).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The fixed GUID the RFC appends to the client's key; proves the server
/// understood the WebSocket handshake rather than echoing bytes back.
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// base64(SHA-1(key + GUID)): the value of `Sec-WebSocket-Accept`.
///
/// `key` is used exactly as given (already trimmed of header whitespace); the
/// RFC hashes the base64 text, not the decoded bytes.
pub fn accept_key(key: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(key.as_bytes());
    hasher.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::accept_key;

    #[test]
    fn rfc_6455_examples() {
        // Section 1.3 and section 4.2.2 / 1.2 of the RFC.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            accept_key("x3JJHMbDL1EzLkh9GBhXDw=="),
            "HSmrc0sMlYUkAGmm5OPpG2HaGWk="
        );
    }
}
