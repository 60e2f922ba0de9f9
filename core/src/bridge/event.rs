//! What the application receives, in batches, in per-connection order.

use std::any::Any;
use std::net::SocketAddr;

use crate::bridge::id::ConnId;
use crate::http::Request;

/// Text or binary, as the frame's opcode said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Text,
    Binary,
}

/// A connection completed its handshake (or, when authorizing, is waiting for a decision).
#[derive(Debug, Clone)]
pub struct Open {
    pub id: ConnId,
    pub peer: SocketAddr,
    /// The client's request: path, query, headers (cookies, tokens). Delivered once, here.
    pub request: Request,
    /// The subprotocol the server's rules chose (when authorizing: the proposal, which
    /// `accept` may override).
    pub subprotocol: Option<String>,
    /// True when the server authorizes handshakes: no `101` has been sent yet and the
    /// application must call `accept` or `reject`.
    pub pending: bool,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub id: ConnId,
    /// The close code: the peer's (1005 when its close frame had none), the one the
    /// server sent, or 1006 when the TCP connection ended without a close handshake.
    pub code: u16,
    pub reason: String,
    /// True when both close frames were exchanged.
    pub clean: bool,
}

/// One event. Every `Open` is followed by exactly one `Close` for the same id.
#[derive(Debug, Clone)]
pub enum Event {
    Open(Box<Open>),
    Message {
        id: ConnId,
        kind: MessageKind,
        data: Vec<u8>,
    },
    Close(Close),
}

impl Event {
    /// The connection this event is about.
    pub fn id(&self) -> ConnId {
        match self {
            Event::Open(open) => open.id,
            Event::Message { id, .. } => *id,
            Event::Close(close) => close.id,
        }
    }

    /// Bytes this event holds, for the queue's byte bound.
    pub(crate) fn weight(&self) -> usize {
        match self {
            Event::Message { data, .. } => data.len() + 64,
            Event::Open(_) => 512,
            Event::Close(c) => c.reason.len() + 64,
        }
    }
}

/// An event as [`Handle::serve`](crate::server::Handle::serve) hands it to its handler:
/// borrowed, and valid only during the call. A message's bytes may lie in the
/// server's read buffer: copy them to keep them.
#[derive(Debug, Clone, Copy)]
pub enum Incoming<'a> {
    Open(&'a Open),
    Message {
        id: ConnId,
        kind: MessageKind,
        data: &'a [u8],
    },
    Close(&'a Close),
}

impl Incoming<'_> {
    /// The connection this event is about.
    pub fn id(&self) -> ConnId {
        match self {
            Incoming::Open(open) => open.id,
            Incoming::Message { id, .. } => *id,
            Incoming::Close(close) => close.id,
        }
    }

    /// An owned copy, to keep past the borrow.
    pub fn to_event(&self) -> Event {
        match *self {
            Incoming::Open(open) => Event::Open(Box::new(open.clone())),
            Incoming::Message { id, kind, data } => Event::Message {
                id,
                kind,
                data: data.to_vec(),
            },
            Incoming::Close(close) => Event::Close(close.clone()),
        }
    }
}

impl<'a> From<&'a Event> for Incoming<'a> {
    fn from(event: &'a Event) -> Incoming<'a> {
        match event {
            Event::Open(open) => Incoming::Open(open),
            Event::Message { id, kind, data } => Incoming::Message {
                id: *id,
                kind: *kind,
                data,
            },
            Event::Close(close) => Incoming::Close(close),
        }
    }
}

/// Where a loop turn run by `serve` delivers messages as it decodes them.
pub(crate) type Handler<'h> = &'h mut dyn FnMut(Incoming<'_>);

/// A handler's panic, held until the loop's turn is over.
pub(crate) type HandlerPanic = Box<dyn Any + Send>;
