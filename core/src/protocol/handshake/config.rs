//! What the server is willing to accept during the handshake.

use super::origin::OriginPolicy;

/// How to answer when the client offers subprotocols and none is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoMatchingSubprotocol {
    /// 400 Bad Request: for servers whose messages are meaningless without an
    /// agreed subprotocol.
    Reject,
    /// 101 without Sec-WebSocket-Protocol: the RFC's default, leaving it to the
    /// client to close if it cannot live without one.
    #[default]
    AcceptWithNone,
}

/// Handshake settings: limits, subprotocols and origin rules.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// Largest request head accepted, in bytes; bigger heads get 431 so a peer
    /// cannot make the server buffer without bound.
    pub max_head_size: usize,
    /// The server's subprotocols, in order of preference.
    pub subprotocols: Vec<String>,
    /// What to do when the client offers subprotocols but none is supported.
    pub no_matching_subprotocol: NoMatchingSubprotocol,
    /// Which Origin headers are accepted (browsers' cross-site protection).
    pub origins: OriginPolicy,
}

impl Default for HandshakeConfig {
    fn default() -> Self {
        Self {
            max_head_size: 8192,
            subprotocols: Vec::new(),
            no_matching_subprotocol: NoMatchingSubprotocol::default(),
            origins: OriginPolicy::default(),
        }
    }
}
