//! One connection as its loop sees it: socket, phase, decoder and output queue.

use crate::bridge::outgoing::Framing;
use crate::reactor::static_files::FileBody;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bridge::id::ConnId;
use crate::bridge::registry::ConnMeta;
use crate::bridge::stats::CloseCause;
use crate::http::RequestParser;
use crate::protocol::close::CloseState;
use crate::protocol::decoder::Decoder;
use crate::protocol::frame::{encode_close, write_header, OpCode, MAX_SERVER_HEADER};
use crate::reactor::outbuf::{Flushed, OutBuf};
use crate::transport::tcp::Transport;

/// Where a connection is in its life.
pub(crate) enum Phase {
    /// Reading the HTTP request head (boxed: only handshaking connections pay).
    Handshake(Box<RequestParser>),
    /// The application decides; bytes the client sent early wait here.
    Pending(Box<Pending>),
    /// Upgraded: messages flow.
    Open,
    /// The peer broke the protocol; input is ignored and the close frame waits
    /// until the application has handled the messages before the error.
    Failing,
    /// We sent a close frame and wait for the peer's.
    Closing,
    /// Sending a static file's body, a chunk whenever the socket took the last;
    /// then `Draining`.
    Sending(Box<FileBody>),
    /// Flushing a last response or close frame; then FIN, and wait for the peer's EOF
    /// (a lingering close: the peer may still be sending, and closing a socket with
    /// unread input would reset the connection and lose what we sent).
    Draining { fin_sent: bool },
    /// Both close frames were exchanged: flush ours, then close the socket at once,
    /// as RFC 6455 §7.1.1 asks of servers (the server keeps the TIME_WAIT state).
    Closed,
}

/// A handshake waiting for the application's decision.
pub(crate) struct Pending {
    pub early: Vec<u8>,
    pub accept_key: String,
}

/// How the connection ended, for the `Close` event and the stats.
pub(crate) struct Outcome {
    pub code: u16,
    pub reason: String,
    pub clean: bool,
    pub cause: CloseCause,
}

pub(crate) struct Conn {
    pub socket: Transport,
    pub id: ConnId,
    pub peer: SocketAddr,
    pub phase: Phase,
    pub decoder: Decoder,
    pub out: OutBuf,
    pub close: CloseState,
    /// Set once the `Open` event was emitted: from then on a `Close` event is owed.
    pub meta: Option<Arc<ConnMeta>>,
    pub outcome: Option<Outcome>,
    pub topics: Vec<Arc<str>>,
    /// When the current phase began: accepted (handshake, pending), or the close
    /// frame or last response was queued (closing, draining).
    pub since: Instant,
    pub last_read: Instant,
    pub ping_sent: bool,
    pub write_interest: bool,
    pub dirty: bool,
    pub stalled: bool,
    /// Its turn's read budget ran out: it is read again next turn (see
    /// `fairness`), before anything else is read from it.
    pub ready: bool,
    /// Over its bound of unhandled events: not read until a `Command::Resume`.
    pub held: bool,
    /// The wheel tick this connection is scheduled at (u64::MAX: none).
    pub timer_tick: u64,
}

/// Timeouts a connection's deadlines derive from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub handshake: Duration,
    pub ping: Option<Duration>,
    pub idle: Duration,
    pub close: Duration,
}

impl Conn {
    pub(crate) fn new(
        socket: Transport,
        id: ConnId,
        peer: SocketAddr,
        parser: Box<RequestParser>,
        max_message: usize,
        now: Instant,
    ) -> Conn {
        Conn {
            socket,
            id,
            peer,
            phase: Phase::Handshake(parser),
            decoder: Decoder::new(max_message),
            out: OutBuf::default(),
            close: CloseState::Open,
            meta: None,
            outcome: None,
            topics: Vec::new(),
            since: now,
            last_read: now,
            ping_sent: false,
            write_interest: false,
            dirty: false,
            stalled: false,
            ready: false,
            held: false,
            timer_tick: u64::MAX,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open)
    }

    /// Whether application messages may still be queued: while open, and while a
    /// protocol failure waits for the replies to earlier messages.
    pub(crate) fn takes_messages(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Failing)
    }

    /// The next moment something must be checked.
    pub(crate) fn deadline(&self, t: &Timeouts) -> Instant {
        match self.phase {
            Phase::Handshake(_) | Phase::Pending(_) => self.since + t.handshake,
            Phase::Open => {
                let idle = self.last_read + t.idle;
                match t.ping {
                    Some(ping) if !self.ping_sent => idle.min(self.last_read + ping),
                    _ => idle,
                }
            }
            // A reader that takes a chunk within the idle timeout keeps the file coming.
            Phase::Sending(_) => self.since + t.idle,
            Phase::Failing | Phase::Closing | Phase::Draining { .. } | Phase::Closed => {
                self.since + t.close
            }
        }
    }

    /// How this connection frames its messages (see `Outgoing`): plain today;
    /// a negotiated extension would be looked up here.
    pub(crate) fn framing(&self) -> Framing {
        Framing::Plain
    }

    /// Writes the output of an open connection at once, unless the loop's
    /// flush is due for it anyway or its socket is known to be full. True if
    /// everything went: nothing is left for the flush. Otherwise the loop's
    /// flush takes over (write interest, errors, the buffered count).
    pub(crate) fn flush_now(&mut self) -> bool {
        self.is_open()
            && !self.dirty
            && !self.write_interest
            && matches!(self.out.flush_to(&mut self.socket), Ok(Flushed::All))
    }

    /// Queues a control or data frame built from its parts.
    pub(crate) fn push_frame(&mut self, opcode: OpCode, payload: &[u8]) {
        let mut header = [0u8; MAX_SERVER_HEADER];
        let n = write_header(&mut header, true, opcode, payload.len() as u64);
        self.out.push_bytes(&[&header[..n], payload]);
    }

    /// Starts a close we initiate: queues the close frame (once) and waits for the reply.
    pub(crate) fn start_close(&mut self, code: u16, reason: &str, cause: CloseCause, now: Instant) {
        if self.close.on_local_close() {
            let mut frame = Vec::with_capacity(4 + reason.len());
            encode_close(&mut frame, code, reason);
            self.out.push_bytes(&[&frame]);
            self.outcome = Some(Outcome {
                code,
                reason: reason.to_string(),
                clean: false,
                cause,
            });
            self.phase = Phase::Closing;
            self.since = now;
        }
    }

    /// Queues a final HTTP response or frame, then the connection ends.
    pub(crate) fn drain(&mut self, now: Instant) {
        self.phase = Phase::Draining { fin_sent: false };
        self.since = now;
    }

    /// The close handshake is complete: the connection ends once our frame is out.
    pub(crate) fn closed(&mut self, now: Instant) {
        self.phase = Phase::Closed;
        self.since = now;
    }
}

#[cfg(test)]
mod tests {
    /// Every open connection pays this much inside its loop: keep it small.
    #[test]
    fn connection_state_is_small() {
        let size = std::mem::size_of::<Option<super::Conn>>();
        // 320 until TLS: its state is one pointer, None for plain TCP.
        assert!(size <= 328, "Conn is {size} bytes");
    }
}
