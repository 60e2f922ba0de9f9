//! A worker's frames as the server's events, so that the bindings (C, PHP)
//! hand them to applications with the code they already have for `Server`
//! events. What a worker learns beyond an `Open` (resumed, user, topics)
//! stays in `WorkerOpen`.

use std::net::{Ipv4Addr, SocketAddr};

use crate::bridge::event::{Close, Event, Open};
use crate::bridge::id::ConnId;
use crate::control::wire::{ToWorker, WorkerOpen};
use crate::http::Request;

/// The event a frame carries; `None` for replies and `Detached`.
pub fn to_event(frame: ToWorker) -> Option<Event> {
    Some(match frame {
        ToWorker::Open(open) => Event::Open(Box::new(to_open(&open))),
        ToWorker::Message { id, kind, data } => Event::Message {
            id: ConnId::from_u64(id),
            kind,
            data,
        },
        ToWorker::Close {
            id,
            code,
            reason,
            clean,
        } => Event::Close(Close {
            id: ConnId::from_u64(id),
            code,
            reason,
            clean,
        }),
        ToWorker::Reply(_) | ToWorker::Detached => return None,
    })
}

/// The handshake as the server saw it. The operator only upgrades `GET`
/// requests over HTTP/1.1, so those are not carried.
pub fn to_open(open: &WorkerOpen) -> Open {
    Open {
        id: ConnId::from_u64(open.id),
        // The operator formats a socket address; anything else is not one.
        peer: open
            .peer
            .parse()
            .unwrap_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
        request: Request {
            method: "GET".into(),
            path: open.path.clone(),
            query: open.query.clone(),
            version: 1,
            headers: open.headers.clone(),
        },
        subprotocol: open.subprotocol.clone(),
        pending: open.pending,
    }
}
