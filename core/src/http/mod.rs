//! Sans-IO HTTP/1.1: the request head, plain responses, and the router that
//! decides what a request is for. Nothing here touches a socket, and nothing
//! here knows WebSocket framing: the upgrade itself is `crate::protocol`'s.

pub mod error;
pub mod parser;
pub mod request;
pub mod response;
pub mod router;
pub(crate) mod tokens;

pub use error::HandshakeError;
pub use parser::{RequestParser, MAX_HEADERS};
pub use request::{ExtensionOffer, Request};
pub use response::{http_response, reason_phrase};
pub use router::{route, Route};
