//! The public face of the engine: the mio event loops that own every connection,
//! and the thread-safe [`Handle`] applications drive. Everything here is
//! defined in the layers below (see `crate::api`) and re-exported.
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

pub use crate::api::{
    defaults, limits, Accept, Close, ClosedBy, Config, ConnId, ConnInfo, Error, Event, Handle,
    Incoming, MessageKind, NoMatchingSubprotocol, Open, OriginPolicy, Request, Server, Stats,
};
