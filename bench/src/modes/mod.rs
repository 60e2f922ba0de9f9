//! The load modes: each opens its own connections, measures over a window
//! and returns a report.

pub mod broadcast;
pub mod common;
pub mod echo;
pub mod fleet;
pub mod handshakes;
pub mod idle;
pub mod idle_worker;
pub mod subscribers;
