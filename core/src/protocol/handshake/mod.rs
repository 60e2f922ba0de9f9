//! Server side of the WebSocket opening handshake (RFC 6455 section 4.2).
//!
//! Sans-IO: [`RequestParser`] turns bytes into a [`Request`], [`validate`]
//! decides whether to upgrade, and the response builders produce the bytes to
//! write. Nothing here touches a socket, so every step is testable on its own.

mod accept;
mod config;
mod error;
mod origin;
mod parser;
mod request;
mod response;
mod tokens;
mod validate;

pub use accept::{accept_key, WEBSOCKET_GUID};
pub use config::{HandshakeConfig, NoMatchingSubprotocol};
pub use error::HandshakeError;
pub use origin::OriginPolicy;
pub use parser::{RequestParser, MAX_HEADERS};
pub use request::{ExtensionOffer, Request};
pub use response::{http_response, reason_phrase, response_101};
pub use validate::{check_chosen_subprotocol, validate, Negotiated};
