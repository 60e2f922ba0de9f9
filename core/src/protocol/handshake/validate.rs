//! Deciding whether a parsed request may be upgraded (RFC 6455 section
//! 4.2.1) and what the 101 agrees to.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::accept::accept_key;
use super::config::{HandshakeConfig, NoMatchingSubprotocol};
use super::error::HandshakeError;
use super::request::Request;
use super::tokens::{list_contains_token, trim_ows};

/// What the handshake agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Value for `Sec-WebSocket-Accept`.
    pub accept_key: String,
    /// The chosen subprotocol, always one the client offered.
    pub subprotocol: Option<String>,
}

/// Checks a parsed request against the RFC and the config, in this order:
/// method GET (405), HTTP/1.1+ (505), exactly one Host (400), Upgrade has
/// `websocket` (426), Connection has `Upgrade` (400), Sec-WebSocket-Key is
/// base64 of 16 bytes (400), Sec-WebSocket-Version is 13 (426), Origin
/// allowed (403), then picks the subprotocol.
///
/// The subprotocol is the first entry of the server's list that the client
/// offered. If the client offered some and none matches, the config decides
/// between 400 and no subprotocol; a protocol the client did not offer is
/// never chosen, and with no server subprotocols the answer carries none.
pub fn validate(request: &Request, config: &HandshakeConfig) -> Result<Negotiated, HandshakeError> {
    if request.method != "GET" {
        return Err(HandshakeError::new(405, "method must be GET").with_header("Allow", "GET"));
    }
    if request.version < 1 {
        return Err(HandshakeError::new(505, "HTTP/1.1 required"));
    }
    match request.headers_named("host").count() {
        0 => return Err(HandshakeError::new(400, "missing Host header")),
        1 => {}
        // RFC 9112 section 3.2: several Host headers must be refused.
        _ => return Err(HandshakeError::new(400, "more than one Host header")),
    }
    if !request.is_websocket_upgrade() {
        return Err(HandshakeError::new(426, "WebSocket upgrade required")
            .with_header("Upgrade", "websocket"));
    }
    if !list_contains_token(request.headers_named("connection"), "upgrade") {
        return Err(HandshakeError::new(
            400,
            "Connection header must contain Upgrade",
        ));
    }
    let key = websocket_key(request)?;
    check_version(request)?;
    check_origin(request, config)?;
    let subprotocol = choose_subprotocol(request, config)?;
    Ok(Negotiated {
        accept_key: accept_key(key),
        subprotocol,
    })
}

/// For applications that choose the subprotocol themselves: `Ok` if `chosen`
/// is `None` or one the client offered, since answering with anything else
/// makes the client fail the connection (RFC 6455 section 4.1).
pub fn check_chosen_subprotocol(
    request: &Request,
    chosen: Option<&str>,
) -> Result<(), HandshakeError> {
    match chosen {
        None => Ok(()),
        Some(p) if request.offered_subprotocols().iter().any(|o| o == p) => Ok(()),
        Some(_) => Err(HandshakeError::new(
            400,
            "subprotocol not offered by the client",
        )),
    }
}

/// The single Sec-WebSocket-Key, which must be base64 of exactly 16 bytes.
fn websocket_key(request: &Request) -> Result<&str, HandshakeError> {
    let mut keys = request.headers_named("sec-websocket-key");
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) => trim_ows(key),
        (None, _) => return Err(HandshakeError::new(400, "missing Sec-WebSocket-Key")),
        (Some(_), Some(_)) => {
            return Err(HandshakeError::new(400, "more than one Sec-WebSocket-Key"))
        }
    };
    // 16 bytes encode to 24 characters; checking first bounds the decode.
    if key.len() != 24 {
        return Err(HandshakeError::new(
            400,
            "Sec-WebSocket-Key must be base64 of 16 bytes",
        ));
    }
    match STANDARD.decode(key) {
        Ok(bytes) if bytes.len() == 16 => Ok(key),
        Ok(_) => Err(HandshakeError::new(
            400,
            "Sec-WebSocket-Key must be base64 of 16 bytes",
        )),
        Err(_) => Err(HandshakeError::new(
            400,
            "Sec-WebSocket-Key is not valid base64",
        )),
    }
}

/// Only version 13 exists; anything else gets 426 naming it so the client can
/// retry (RFC 6455 section 4.4).
fn check_version(request: &Request) -> Result<(), HandshakeError> {
    let mut versions = request.headers_named("sec-websocket-version");
    match (versions.next().map(trim_ows), versions.next()) {
        (Some("13"), None) => Ok(()),
        _ => Err(HandshakeError::new(426, "Sec-WebSocket-Version must be 13")
            .with_header("Sec-WebSocket-Version", "13")),
    }
}

/// Every Origin header must be allowed, so a second one cannot slip past.
fn check_origin(request: &Request, config: &HandshakeConfig) -> Result<(), HandshakeError> {
    let host = request.header("host");
    let mut origins = request.headers_named("origin").peekable();
    let allowed = if origins.peek().is_none() {
        config.origins.allows(None, host)
    } else {
        origins.all(|origin| config.origins.allows(Some(origin), host))
    };
    if allowed {
        Ok(())
    } else {
        Err(HandshakeError::new(403, "origin not allowed"))
    }
}

fn choose_subprotocol(
    request: &Request,
    config: &HandshakeConfig,
) -> Result<Option<String>, HandshakeError> {
    if config.subprotocols.is_empty() {
        return Ok(None);
    }
    let offered = request.offered_subprotocols();
    if let Some(chosen) = config.subprotocols.iter().find(|s| offered.contains(s)) {
        return Ok(Some(chosen.clone()));
    }
    match config.no_matching_subprotocol {
        _ if offered.is_empty() => Ok(None),
        NoMatchingSubprotocol::AcceptWithNone => Ok(None),
        NoMatchingSubprotocol::Reject => {
            Err(HandshakeError::new(400, "no supported subprotocol offered"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: &[(&str, &str)]) -> Request {
        let mut headers = vec![
            ("Host", "example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ];
        headers.extend_from_slice(extra);
        Request {
            method: "GET".into(),
            path: "/chat".into(),
            query: String::new(),
            version: 1,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn valid_request_is_accepted() {
        let n = validate(&request(&[]), &HandshakeConfig::default());
        assert_eq!(
            n,
            Ok(Negotiated {
                accept_key: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                subprotocol: None,
            })
        );
    }

    #[test]
    fn duplicate_key_version_or_host_refused() {
        let config = HandshakeConfig::default();
        let status =
            |extra: &[(&str, &str)]| validate(&request(extra), &config).err().map(|e| e.status);
        assert_eq!(status(&[("Host", "b")]), Some(400));
        assert_eq!(
            status(&[("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==")]),
            Some(400)
        );
        assert_eq!(status(&[("Sec-WebSocket-Version", "13")]), Some(426));
    }

    #[test]
    fn every_origin_header_must_pass() {
        let mut config = HandshakeConfig::default();
        config.origins.allowed = vec!["https://good.test".into()];
        let ok = request(&[("Origin", "https://good.test")]);
        assert!(validate(&ok, &config).is_ok());
        let sneaky = request(&[
            ("Origin", "https://good.test"),
            ("Origin", "https://evil.test"),
        ]);
        assert_eq!(
            validate(&sneaky, &config).err().map(|e| e.status),
            Some(403)
        );
    }

    #[test]
    fn chosen_subprotocol_must_be_offered() {
        let req = request(&[("Sec-WebSocket-Protocol", "chat, superchat")]);
        assert!(check_chosen_subprotocol(&req, None).is_ok());
        assert!(check_chosen_subprotocol(&req, Some("superchat")).is_ok());
        let err = check_chosen_subprotocol(&req, Some("Chat")).err();
        assert_eq!(
            err,
            Some(HandshakeError::new(
                400,
                "subprotocol not offered by the client"
            ))
        );
    }
}
