//! The control socket: how processes other than the server's own (a PHP-FPM
//! request, a cron job, a worker) tell it what to send. `wire` is the
//! protocol's frames (sans-IO), `server` serves control connections against a
//! [`crate::server::Handle`], `client` is the Rust client the C and PHP
//! bindings wrap. The protocol is documented in docs/control-protocol.md, so
//! that other languages can speak it.

pub mod address;
pub mod check;
pub mod client;
pub mod hub;
pub(crate) mod outbox;
pub(crate) mod readiness;
pub mod server;
pub mod wire;
pub mod worker;
pub mod worker_event;
