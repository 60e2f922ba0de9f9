//! The seam for WebSocket extensions (RFC 6455 §9), such as permessage-deflate.
//!
//! An extension has two parts:
//!
//! - negotiation, during the handshake: the client's `Sec-WebSocket-Extensions`
//!   offers (`crate::http::Request::offered_extensions`) go in, and the accepted
//!   extension with its response parameters (echoed in the 101) comes out;
//! - a per-message transform: the payload of each inbound message whose first
//!   frame has RSV1 set is decoded after the decoder reassembles it, and each
//!   outbound payload is encoded before its frame header is written.
//!
//! None is implemented: [`negotiate`] declines every offer, which is what the
//! handshake does today (the 101 never echoes an extension, and the decoder
//! refuses RSV bits).

use super::frame::ProtocolError;
use crate::http::request::ExtensionOffer;

/// One negotiated extension's per-message transform, owned by one connection.
pub trait Extension: Send {
    /// The extension's name, as in `Sec-WebSocket-Extensions`.
    fn name(&self) -> &str;

    /// Inbound: turns the payload of a message whose first frame had RSV1 set
    /// into the application's bytes, appended to `out`.
    fn decode(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), ProtocolError>;

    /// Outbound: turns the application's bytes into a message payload,
    /// appended to `out`. Returns whether the frame must carry RSV1.
    fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool;
}

/// The server's answer to a client's offers.
pub struct Accepted {
    pub extension: Box<dyn Extension>,
    /// The `Sec-WebSocket-Extensions` value of the 101.
    pub response: String,
}

/// Picks at most one of `offers`. No extension is implemented yet, so every
/// offer is declined.
pub fn negotiate(offers: &[ExtensionOffer]) -> Option<Accepted> {
    let _ = offers;
    None
}
