//! One I/O thread: a `mio::Poll` that owns its connections' sockets, timers and
//! buffers. It never calls application code: it only queues events.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::net::Shutdown;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use crate::bridge::batch::Batch;
use crate::bridge::command::Command;
use crate::bridge::event::{Handler, HandlerPanic};
use crate::bridge::id::ConnId;
use crate::bridge::loop_shared::LoopShared;
use crate::bridge::stats::{bump, CloseCause};
use crate::http::RequestParser;
use crate::protocol::handshake::HandshakeConfig;
use crate::reactor::conn::{Conn, Phase};
use crate::reactor::fairness::Fairness;
use crate::reactor::shared::Shared;
use crate::reactor::timer::{TimerKey, TimerWheel};
use crate::transport::tcp::Transport;

pub(crate) const WAKER: Token = Token(usize::MAX);
const LISTENER_BASE: usize = usize::MAX - 1024;
/// The event queue's readiness fd, polled by an inline loop (see `inline`).
pub(crate) const QUEUE_READY: Token = Token(LISTENER_BASE - 1);
/// Per-thread read buffer: connections keep only the leftovers of partial frames.
const SCRATCH: usize = 64 * 1024;
/// Events gathered while reading before they are handed to the queue mid-iteration
/// (so that the queue's bound is seen in time).
const EARLY_PUSH: usize = 1024;
/// Bytes read into the batch before it is handed over likewise: a thousand large
/// messages must not pile up past the queue's byte bound.
const EARLY_PUSH_BYTES: usize = 256 * 1024;
/// How long accepting pauses when the process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

pub(crate) fn listener_token(i: usize) -> Token {
    Token(LISTENER_BASE + i)
}

pub(crate) struct EventLoop {
    pub(crate) index: usize,
    pub(crate) poll: Poll,
    pub(crate) shared: Arc<Shared>,
    pub(crate) listeners: Vec<TcpListener>,
    pub(crate) conns: Vec<Option<Conn>>,
    pub(crate) generations: Vec<u32>,
    pub(crate) free: Vec<usize>,
    pub(crate) live: usize,
    pub(crate) timers: TimerWheel,
    pub(crate) timeouts: crate::reactor::conn::Timeouts,
    pub(crate) handshake: HandshakeConfig,
    pub(crate) topics: HashMap<Arc<str>, HashSet<ConnId>>,
    pub(crate) scratch: Vec<u8>,
    pub(crate) batch: Batch,
    /// Bytes read since the batch was last empty (see `EARLY_PUSH_BYTES`).
    pub(crate) unqueued: usize,
    /// During a turn with a handler: messages may go to it as they are decoded
    /// (nothing older waits in the queue).
    pub(crate) direct: bool,
    /// Messages handed to the handler in the current turn.
    pub(crate) delivered: usize,
    /// The handler panicked during the turn (see `direct::open`).
    pub(crate) handler_panic: Option<HandlerPanic>,
    pub(crate) dirty: Vec<usize>,
    pub(crate) stalled: Vec<usize>,
    /// Connections to read again next turn, their budget spent (see `fairness`).
    pub(crate) ready: Vec<usize>,
    pub(crate) fairness: Fairness,
    pub(crate) commands: Vec<Command>,
    pub(crate) next_loop: usize,
    pub(crate) accept_paused_until: Option<Instant>,
    pub(crate) shutting_down: bool,
    pub(crate) now: Instant,
}

impl EventLoop {
    pub(crate) fn new(
        index: usize,
        poll: Poll,
        shared: Arc<Shared>,
        listeners: Vec<TcpListener>,
    ) -> EventLoop {
        let now = Instant::now();
        let timeouts = shared.settings.timeouts;
        let handshake = shared.settings.handshake.clone();
        EventLoop {
            index,
            poll,
            listeners,
            conns: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            live: 0,
            timers: TimerWheel::new(now),
            timeouts,
            handshake,
            topics: HashMap::new(),
            scratch: vec![0; SCRATCH],
            batch: Batch::default(),
            unqueued: 0,
            direct: false,
            delivered: 0,
            handler_panic: None,
            dirty: Vec::new(),
            stalled: Vec::new(),
            ready: Vec::new(),
            fairness: Fairness::new(now),
            commands: Vec::new(),
            next_loop: index,
            accept_paused_until: None,
            shutting_down: false,
            now,
            shared,
        }
    }

    pub(crate) fn me(&self) -> &LoopShared {
        &self.shared.loops[self.index]
    }

    /// Runs until shutdown has closed every connection.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        while !self.is_done() {
            if !self.turn(&mut events, None) {
                // The poll itself is broken; nothing more can be served here.
                break;
            }
            self.shared
                .queue(self.index)
                .push_batch(&mut self.batch, true);
            self.hold_reported();
        }
    }

    /// Stops reading the connections the queue reported over their bound of
    /// unhandled events (until a `Command::Resume`).
    pub(crate) fn hold_reported(&mut self) {
        for id in self.batch.take_held() {
            if let Some(conn) = self.conns.get_mut(id.slot()).and_then(Option::as_mut) {
                if conn.id == id {
                    conn.held = true;
                }
            }
        }
    }

    /// True once shutdown has closed every connection.
    pub(crate) fn is_done(&self) -> bool {
        self.shutting_down && self.live == 0
    }

    /// One iteration: waits for readiness (up to `limit`, or the next timer),
    /// reads, applies commands, fires timers and writes. The events it produced
    /// are left in `batch` for the caller to hand over. False if polling failed
    /// for good.
    pub(crate) fn turn(&mut self, events: &mut Events, limit: Option<Duration>) -> bool {
        self.turn_with(events, limit, None)
    }

    /// `turn`, handing messages to `handler` as they are decoded for as long as
    /// no other event is waiting (in the batch or the queue), so that each
    /// connection's events stay in order; the rest is left in `batch`.
    /// `delivered` counts the messages handed over.
    pub(crate) fn turn_with(
        &mut self,
        events: &mut Events,
        limit: Option<Duration>,
        mut handler: Option<Handler<'_>>,
    ) -> bool {
        let mut timeout = match (self.poll_timeout(), limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let ready = std::mem::take(&mut self.ready);
        if !ready.is_empty() {
            timeout = Some(Duration::ZERO); // they have input waiting
        }
        self.fairness.before_poll(Instant::now());
        if let Err(e) = self.poll.poll(events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return false;
            }
        }
        self.now = Instant::now();
        self.fairness.after_poll(self.now);
        self.hold_reported(); // what the driver's last push reported
        self.delivered = 0;
        if handler.is_some() {
            // Replies to events handled before this turn go out ahead of the
            // handler's direct ones.
            self.run_commands();
            self.direct = self.shared.queue(self.index).is_empty();
        }
        for event in events.iter() {
            match event.token() {
                WAKER | QUEUE_READY => {}
                Token(t) if t >= LISTENER_BASE => self.accept_all(t - LISTENER_BASE),
                Token(slot) => {
                    if event.is_writable() {
                        self.mark_dirty(slot);
                    }
                    let input = event.is_readable() || event.is_read_closed() || event.is_error();
                    if input && !self.is_ready(slot) {
                        self.read(slot, &mut handler);
                    }
                }
            }
        }
        // Then the connections that had more input than their last turn's
        // budget, after the ones with news: each gets one share again.
        for &slot in &ready {
            if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                if conn.ready {
                    conn.ready = false;
                    self.read(slot, &mut handler);
                }
            }
        }
        if self.ready.is_empty() {
            self.ready = ready; // keep the allocation
            self.ready.clear();
        }
        self.direct = false;
        self.run_commands();
        self.retry_accept();
        self.resume_stalled();
        self.run_timers();
        self.flush_dirty();
        true
    }

    fn poll_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let timer = self.timers.timeout(now);
        let accept = self
            .accept_paused_until
            .map(|t| t.saturating_duration_since(now));
        match (timer, accept) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn accept_all(&mut self, listener: usize) {
        if self.accept_paused_until.is_some() || self.shutting_down {
            return;
        }
        loop {
            let Some(l) = self.listeners.get(listener) else {
                return;
            };
            match l.accept() {
                Ok((stream, peer)) => {
                    let tls = self.shared.settings.tls_listeners.get(listener) == Some(&true);
                    let target = self.next_loop % self.shared.loops.len();
                    self.next_loop = self.next_loop.wrapping_add(1);
                    if target == self.index {
                        self.adopt(stream, peer, tls);
                    } else {
                        self.shared.loops[target].push(Command::Adopt(stream, peer, tls));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_resource_limit(&e) => {
                    // Out of descriptors or memory: pending clients wait in the
                    // backlog until we retry.
                    self.accept_paused_until = Some(self.now + ACCEPT_BACKOFF);
                    return;
                }
                // The client gave up before we accepted it (ECONNABORTED...).
                Err(_) => continue,
            }
        }
    }

    fn retry_accept(&mut self) {
        if let Some(until) = self.accept_paused_until {
            if self.now >= until {
                self.accept_paused_until = None;
                for i in 0..self.listeners.len() {
                    self.accept_all(i);
                }
            }
        }
    }

    /// Takes ownership of an accepted socket (`tls`: from a TLS listener).
    pub(crate) fn adopt(&mut self, mut stream: TcpStream, peer: std::net::SocketAddr, tls: bool) {
        bump(&self.me().stats.accepted, 1);
        if self.shutting_down {
            return;
        }
        let tls = match (tls, &self.shared.tls) {
            (false, _) => None,
            (true, Some(files)) => match rustls::ServerConnection::new(files.current()) {
                Ok(conn) => Some(conn),
                Err(_) => return,
            },
            (true, None) => return,
        };
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None if self.conns.len() < crate::bridge::id::MAX_SLOTS => {
                self.conns.push(None);
                self.generations.push(0);
                self.conns.len() - 1
            }
            None => return,
        };
        let generation = self.generations[slot].wrapping_add(1).max(1);
        self.generations[slot] = generation;
        if self
            .poll
            .registry()
            .register(&mut stream, Token(slot), Interest::READABLE)
            .is_err()
        {
            self.free.push(slot);
            return;
        }
        // Small frames go out at once; batching is done by our own corking.
        let _ = stream.set_nodelay(true);
        let id = ConnId::new(self.index, slot, generation);
        let parser = Box::new(RequestParser::new(self.handshake.max_head_size));
        let max_message = self.shared.settings.max_message_size;
        let transport = match tls {
            Some(conn) => Transport::with_tls(stream, conn),
            None => Transport::new(stream),
        };
        self.conns[slot] = Some(Conn::new(
            transport,
            id,
            peer,
            parser,
            max_message,
            self.now,
        ));
        self.live += 1;
        self.arm(slot);
    }

    /// True while the connection waits in the ready list for its next share.
    fn is_ready(&self, slot: usize) -> bool {
        self.conns
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.ready)
    }

    /// Reads until the socket is empty, the turn's budget for the connection
    /// is spent (see `fairness`), the queue to the application is full, or the
    /// connection ends.
    pub(crate) fn read(&mut self, slot: usize, handler: &mut Option<Handler<'_>>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut budget = self.fairness.budget;
        loop {
            if self.batch.events.is_empty() {
                self.unqueued = 0; // what was read went to a handler or the queue
            } else if self.batch.events.len() >= EARLY_PUSH || self.unqueued >= EARLY_PUSH_BYTES {
                // Hand a large batch over now, so the queue's bound is seen in time.
                self.shared
                    .queue(self.index)
                    .push_batch(&mut self.batch, false);
                self.hold_reported();
                self.unqueued = 0;
                self.direct = false; // older events now wait in the queue
            }
            let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
                break;
            };
            let accepting_messages = matches!(conn.phase, Phase::Open);
            if accepting_messages && conn.held && !self.shutting_down {
                break; // its events wait for the application (see `hold_reported`)
            }
            if accepting_messages && !self.shutting_down && self.shared.queue(self.index).is_full()
            {
                if !conn.stalled {
                    conn.stalled = true;
                    self.stalled.push(slot);
                }
                break;
            }
            let want = scratch.len().min(budget);
            match conn.socket.read(&mut scratch[..want]) {
                Ok(0) => {
                    self.peer_eof(slot);
                    break;
                }
                Ok(n) => {
                    self.unqueued += n;
                    self.fairness.bytes += n as u64;
                    budget -= n;
                    conn.last_read = self.now;
                    conn.ping_sent = false;
                    self.on_bytes(slot, &mut scratch[..n], handler);
                    if budget == 0 || (n == want && self.fairness.turn_is_long()) {
                        // Its share is spent (or the turn is long already); more
                        // may wait in the socket, which edge-triggered polling
                        // will not report again.
                        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                            conn.ready = true;
                            self.ready.push(slot);
                        }
                        break;
                    }
                    // A short read emptied the socket; edge-triggered polling reports new data.
                    if n < want {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.abort(slot, "connection reset");
                    break;
                }
            }
        }
        // TLS may have records to send that no output of ours asked for: its
        // handshake, a key update, an alert.
        if self
            .conns
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.socket.wants_write())
        {
            self.mark_dirty(slot);
        }
        self.scratch = scratch;
    }

    /// The peer closed its side of TCP.
    fn peer_eof(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        match conn.phase {
            // Our FIN was sent and the peer answered: the lingering close is done.
            Phase::Draining { fin_sent: true } => self.remove(slot),
            // Output still pending: flush it, then finish.
            Phase::Sending(_) | Phase::Draining { fin_sent: false } | Phase::Closed => {
                let _ = conn.socket.shutdown(Shutdown::Read);
                self.mark_dirty(slot);
            }
            _ => self.abort(slot, "connection closed without a close frame"),
        }
    }

    /// Ends a connection whose TCP is gone or unusable: no close handshake.
    pub(crate) fn abort(&mut self, slot: usize, why: &str) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            if conn.outcome.is_none() {
                conn.outcome = Some(crate::reactor::conn::Outcome {
                    code: crate::protocol::close::code::ABNORMAL,
                    reason: why.to_string(),
                    clean: false,
                    cause: CloseCause::Abnormal,
                });
            }
        }
        self.remove(slot);
    }

    pub(crate) fn mark_dirty(&mut self, slot: usize) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            if !conn.dirty {
                conn.dirty = true;
                self.dirty.push(slot);
            }
        }
    }

    /// Writes every connection that has output: one vectored write per connection
    /// per loop iteration, however many messages were queued.
    fn flush_dirty(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        for &slot in &dirty {
            self.flush(slot);
        }
        dirty.clear();
        // Keep the list's allocation unless it grew large.
        if self.dirty.is_empty() && dirty.capacity() <= 4096 {
            self.dirty = dirty;
        }
    }

    fn flush(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        conn.dirty = false;
        let mut result = conn.out.flush_to(&mut conn.socket);
        // A static file: the next chunk each time the socket took the last, until
        // the socket is full (a writable event brings us back) or the file ends.
        while let (Ok(crate::reactor::outbuf::Flushed::All), Phase::Sending(body)) =
            (&result, &mut conn.phase)
        {
            match body.next_chunk() {
                Ok(Some(chunk)) => {
                    conn.out.push_vec(chunk);
                    conn.since = self.now;
                    result = conn.out.flush_to(&mut conn.socket);
                }
                Ok(None) => conn.drain(self.now),
                Err(_) => return self.abort(slot, "static file read failed"),
            }
        }
        if let Some(meta) = &conn.meta {
            meta.buffered.store(conn.out.len(), Ordering::Relaxed);
        }
        match result {
            Ok(crate::reactor::outbuf::Flushed::All) => {
                if conn.write_interest {
                    conn.write_interest = false;
                    let _ = self.poll.registry().reregister(
                        &mut conn.socket,
                        Token(slot),
                        Interest::READABLE,
                    );
                }
                match &mut conn.phase {
                    Phase::Draining { fin_sent } if !*fin_sent => {
                        *fin_sent = true;
                        // FIN after the last byte; the peer then closes and we see EOF.
                        if conn.socket.shutdown(Shutdown::Write).is_err() {
                            self.remove(slot);
                        }
                    }
                    Phase::Closed => self.remove(slot),
                    _ => {}
                }
            }
            Ok(crate::reactor::outbuf::Flushed::WouldBlock) => {
                if !conn.write_interest {
                    conn.write_interest = true;
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    let _ =
                        self.poll
                            .registry()
                            .reregister(&mut conn.socket, Token(slot), interest);
                }
            }
            Err(_) => self.abort(slot, "write failed"),
        }
    }

    fn resume_stalled(&mut self) {
        if self.stalled.is_empty() || self.shared.queue(self.index).is_full() {
            return;
        }
        for slot in std::mem::take(&mut self.stalled) {
            if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                conn.stalled = false;
                self.read(slot, &mut None);
            }
        }
    }

    /// Schedules the connection's next deadline if it is earlier than the one armed.
    pub(crate) fn arm(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let tick = self.timers.tick_of(conn.deadline(&self.timeouts));
        if tick < conn.timer_tick {
            conn.timer_tick = tick;
            self.timers
                .schedule(tick, (slot as u32, conn.id.generation()));
        }
    }

    fn run_timers(&mut self) {
        let mut due: Vec<(u64, TimerKey)> = Vec::new();
        self.timers.expire(self.now, &mut due);
        for (tick, (slot, generation)) in due {
            let slot = slot as usize;
            let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            if conn.id.generation() != generation || conn.timer_tick != tick {
                continue; // stale entry: the slot was reused or rescheduled earlier
            }
            conn.timer_tick = u64::MAX;
            self.check_deadlines(slot);
            self.arm(slot);
        }
    }
}

fn is_resource_limit(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
