//! Commands from the application's threads to one I/O loop. Each loop takes its
//! queue whole once per iteration, so commands from one thread keep their order.
//! Messages travel as kind and payload: the loop frames them for each
//! connection, as that connection speaks (`outgoing::Framing`).

use std::net::SocketAddr;
use std::sync::Arc;

use crate::bridge::id::ConnId;
use crate::bridge::outgoing::Outgoing;
use crate::protocol::frame::{write_header, OpCode, MAX_SERVER_HEADER};

use crate::bridge::event::MessageKind;

pub(crate) enum Command {
    /// A connection accepted by another loop, handed to this one.
    /// An accepted socket for another loop, and whether it came in on a TLS
    /// listener.
    Adopt(mio::net::TcpStream, SocketAddr, bool),
    /// One message for one connection; large payloads are queued without a
    /// copy behind the header the loop writes.
    Send {
        id: ConnId,
        kind: MessageKind,
        data: Vec<u8>,
    },
    /// One message to several connections of this loop (a user's tabs).
    SendMany {
        ids: Vec<ConnId>,
        message: Arc<Outgoing>,
    },
    Close {
        id: ConnId,
        code: u16,
        reason: String,
    },
    /// One message to a topic's subscribers, or to every open connection.
    Publish {
        topic: Option<Arc<str>>,
        message: Arc<Outgoing>,
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
    /// The application took a held connection's waiting events down to half
    /// its bound (see `EventQueue`): read it again.
    Resume(ConnId),
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
