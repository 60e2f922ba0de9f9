//! Switchboard: a WebSocket server engine.
//!
//! - [`protocol`]: sans-IO RFC 6455 — handshake, frames, masking, UTF-8, close codes.
//! - [`server`]: the mio event loops that own every socket, and the thread-safe
//!   [`server::Handle`] applications (and the C and PHP bindings) drive.

pub mod http;
pub mod protocol;
pub mod server;
