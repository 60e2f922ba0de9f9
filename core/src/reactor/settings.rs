//! What the loops are told: the limits and rules of `Config` that the reactor
//! acts on, as plain data. `Config` (in the API layer) builds it at start, so
//! the reactor never looks up at the API.

use std::path::PathBuf;

use crate::protocol::handshake::HandshakeConfig;
use crate::reactor::conn::Timeouts;

pub(crate) struct Settings {
    /// WebSocket connections beyond this get `503` at handshake.
    pub max_connections: usize,
    pub max_message_size: usize,
    /// Outbound bytes one client may have queued (see `Config::max_buffered`).
    pub max_buffered: usize,
    /// Handshakes wait for the application's `accept` or `reject`.
    pub authorize: bool,
    /// Plain `GET`s are served from here; without it they get `426`.
    pub static_dir: Option<PathBuf>,
    pub timeouts: Timeouts,
    pub handshake: HandshakeConfig,
    /// Per listener, in `Config`'s order: whether it speaks TLS.
    pub tls_listeners: Vec<bool>,
}
