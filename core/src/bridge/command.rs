//! Commands from the application's threads to one I/O loop. Each loop takes its
//! queue whole once per iteration, so commands from one thread keep their order.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::bridge::id::ConnId;
use crate::protocol::frame::{write_header, OpCode, MAX_SERVER_HEADER};

use crate::bridge::event::MessageKind;

pub(crate) enum Command {
    /// A connection accepted by another loop, handed to this one.
    /// An accepted socket for another loop, and whether it came in on a TLS
    /// listener.
    Adopt(mio::net::TcpStream, SocketAddr, bool),
    /// An encoded frame for one connection.
    Send {
        id: ConnId,
        frame: Vec<u8>,
        payload: usize,
    },
    /// The caller's own payload buffer, queued without a copy behind its header.
    SendOwned {
        id: ConnId,
        kind: MessageKind,
        data: Vec<u8>,
    },
    /// The same shared frame to several connections of this loop (users).
    SendMany {
        ids: Vec<ConnId>,
        frame: Arc<[u8]>,
        payload: usize,
    },
    Close {
        id: ConnId,
        code: u16,
        reason: String,
    },
    /// One shared frame to a topic's subscribers, or to every open connection.
    Publish {
        topic: Option<Arc<str>>,
        frame: Arc<[u8]>,
        payload: usize,
        except: Option<ConnId>,
    },
    Subscribe {
        id: ConnId,
        topic: Arc<str>,
    },
    Unsubscribe {
        id: ConnId,
        topic: Arc<str>,
    },
    Accept {
        id: ConnId,
        subprotocol: Option<String>,
        headers: Vec<(String, String)>,
    },
    Reject {
        id: ConnId,
        status: u16,
        body: String,
    },
    /// The application has handled every event before a protocol error: close now.
    Release(ConnId),
    Shutdown,
}

/// The header of one unmasked, unfragmented server frame.
pub(crate) fn header(kind: MessageKind, len: usize) -> ([u8; MAX_SERVER_HEADER], u8) {
    let opcode = match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    };
    let mut header = [0u8; MAX_SERVER_HEADER];
    let n = write_header(&mut header, true, opcode, len as u64);
    (header, n as u8)
}
