//! The mio event loops: accepting, readiness, connection slots with
//! generations, each connection's session (handshake, then WebSocket), output
//! buffers, timers and static files. A loop never calls application code on
//! its own: it takes commands from the bridge and queues events back.
//!
//! - `event_loop`: one loop, its poll, accept, reads and writes;
//! - `lifecycle`: a connection's life inside it (handshake, messages,
//!   deadlines, removal); `apply_commands`: the application's commands;
//! - `fairness`: each connection's share of a turn when handlers are slow;
//! - `conn`, `outbuf`, `timer`, `static_files`: what a connection holds;
//! - `shared`: the state every loop and handle shares; `settings`: the
//!   configuration the loops act on.

pub(crate) mod apply_commands;
pub(crate) mod conn;
pub(crate) mod event_loop;
pub(crate) mod fairness;
pub(crate) mod lifecycle;
pub(crate) mod outbuf;
pub(crate) mod settings;
pub(crate) mod shared;
pub(crate) mod static_files;
pub(crate) mod timer;
