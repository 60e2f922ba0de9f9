//! Switchboard: a WebSocket server engine.
//!
//! The folders are the layers, each importing only those below it:
//!
//! - [`http`]: sans-IO HTTP/1.1 — request heads, plain responses, routing.
//! - [`protocol`]: sans-IO RFC 6455 — handshake, frames, masking, UTF-8, close codes.
//! - `transport`: the byte stream under a connection (plain TCP).
//! - `bridge`: what crosses threads — commands in, events out, live ids, counters.
//! - `reactor`: the mio event loops that own every socket.
//! - `fastpath`: the speed paths that reach across layers (inline mode, direct
//!   replies, corking, buffer pools).
//! - `api`, public as [`server`]: [`server::Server`], [`server::Handle`],
//!   [`server::Config`], events, errors, stats.
//! - [`control`]: the control socket through which other processes publish
//!   and send (its protocol, server and client).

mod api;
mod bridge;
pub mod control;
mod fastpath;
pub mod http;
pub mod protocol;
mod reactor;
pub mod server;
mod transport;
