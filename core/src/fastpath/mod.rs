//! The speed paths, kept in one place because they must reach across layers.
//!
//! Each of them skips a hop that the layered path would take, and so touches
//! both the application's side (`api`) and the loop's internals (`reactor`):
//!
//! - `inline`: inline mode (`threads(0)`), where the application's thread
//!   drives the loop itself: no thread switch per batch;
//! - `direct`: a reply from a `serve` handler goes straight into the
//!   connection's output buffer while the loop is reading that connection;
//! - `cork`: commands from the dispatching thread are queued without waking
//!   the loops, which are woken once per batch instead of once per reply;
//! - `pool`: per-thread buffer pools shared by message payloads, frames and
//!   output chunks, so buffers travel between the layers without allocation;
//! - `hand_over`: events handed to a `serve` handler one by one.
//!
//! This is the one place where two layers import each other: the reactor calls
//! `direct`, `pool` and holds the `inline` driver, and `fastpath` drives the
//! reactor's loop. Everything else imports only the layers below it.

pub(crate) mod cork;
pub(crate) mod direct;
pub(crate) mod hand_over;
pub(crate) mod inline;
pub(crate) mod pool;
