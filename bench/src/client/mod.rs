//! The client side of WebSocket the load generator needs, on mio.

pub mod close;
pub mod conn;
pub mod frame;
pub mod handshake;
pub mod open;
pub mod socket;
pub mod tls;
pub mod writer;
