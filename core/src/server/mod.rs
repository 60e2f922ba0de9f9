//! The switchboard operator: mio event loops that own every connection, and the
//! thread-safe [`Handle`] applications drive.
//!
//! ```no_run
//! use switchboard::server::{Config, Event, Server};
//! let mut config = Config::new();
//! config.listen_str("127.0.0.1:9001").unwrap();
//! let server = Server::start(&config).unwrap();
//! let handle = server.handle();
//! let mut events = Vec::new();
//! loop {
//!     handle.wait(&mut events, 1024, None);
//!     for event in events.drain(..) {
//!         if let Event::Message { id, kind, data } = event {
//!             let _ = handle.send(id, kind, &data);
//!         }
//!     }
//! }
//! ```

mod batch;
mod command;
mod commands;
mod config;
mod conn;
mod cork;
mod direct;
mod error;
mod event;
mod event_loop;
mod event_queue;
mod handle;
mod id;
mod inline;
mod lifecycle;
mod live_ids;
mod outbuf;
mod pool;
mod registry;
#[allow(clippy::module_inception)]
mod server;
mod shared;
mod socket_writer;
mod static_files;
mod stats;
mod timer;

pub use config::{defaults, Config};
pub use error::Error;
pub use event::{Close, Event, Incoming, MessageKind, Open};
pub use handle::{Accept, ConnInfo, Handle};
pub use id::ConnId;
pub use server::Server;
pub use stats::{ClosedBy, Stats};

pub use crate::protocol::handshake::{NoMatchingSubprotocol, OriginPolicy, Request};
