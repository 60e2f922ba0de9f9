//! Server side of the WebSocket opening handshake (RFC 6455 section 4.2).
//!
//! Sans-IO: [`RequestParser`] (from `crate::http`) turns bytes into a [`Request`], [`validate`]
//! decides whether to upgrade, and the response builders produce the bytes to
//! write. Nothing here touches a socket, so every step is testable on its own.

mod accept;
mod config;
mod origin;
mod response;
mod validate;

// The generic HTTP parts live in `crate::http`; these names keep the
// handshake's own paths (`super::request`, ...) pointing at them.
use crate::http::{error, request, tokens};

pub use crate::http::error::HandshakeError;
pub use crate::http::parser::{RequestParser, MAX_HEADERS};
pub use crate::http::request::{ExtensionOffer, Request};
pub use crate::http::response::{http_response, reason_phrase};
pub use accept::{accept_key, WEBSOCKET_GUID};
pub use config::{HandshakeConfig, NoMatchingSubprotocol};
pub use origin::OriginPolicy;
pub use response::response_101;
pub use validate::{check_chosen_subprotocol, validate, Negotiated};
