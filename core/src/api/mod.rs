//! What applications (and the C and PHP bindings) use: [`Server`], [`Handle`],
//! [`Config`], the events, errors and stats. The types that lower layers
//! produce (connection ids, events, counters) are defined there and
//! re-exported here. Public under the name [`crate::server`].

pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod handle;
pub(crate) mod joined;
pub(crate) mod pubsub;
#[allow(clippy::module_inception)]
pub(crate) mod server;

pub use crate::bridge::event::{Close, Event, Incoming, MessageKind, Open};
pub use crate::bridge::id::ConnId;
pub use crate::bridge::stats::{ClosedBy, Stats};
pub use crate::http::Request;
pub use crate::protocol::handshake::{NoMatchingSubprotocol, OriginPolicy};
pub use config::{defaults, limits, Config};
pub use error::Error;
pub use handle::{Accept, ConnInfo, Handle};
pub use server::Server;
