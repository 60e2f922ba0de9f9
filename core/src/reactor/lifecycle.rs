//! A connection's life inside its loop: handshake, messages, deadlines, removal.

use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::bridge::batch::Batch;
use crate::bridge::event::Event;
use crate::bridge::event::{Close, Handler, Incoming, MessageKind, Open};
use crate::bridge::registry::ConnMeta;
use crate::bridge::stats::{bump, CloseCause, LoopStats};
use crate::fastpath::direct;
use crate::fastpath::pool;
use crate::http::router::{route, upgrade_required, Route};
use crate::http::{HandshakeError, Request};
use crate::protocol::close::code;
use crate::protocol::decoder::Message;
use crate::protocol::frame::{encode_close, OpCode};
use crate::protocol::handshake::{response_101, validate, Negotiated};
use crate::reactor::conn::{Conn, Outcome, Pending, Phase};
use crate::reactor::event_loop::EventLoop;
use crate::reactor::static_files::{self, FileBody};

impl EventLoop {
    /// Bytes arrived for `slot`.
    pub(crate) fn on_bytes(
        &mut self,
        slot: usize,
        input: &mut [u8],
        handler: &mut Option<Handler<'_>>,
    ) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        match &mut conn.phase {
            Phase::Handshake(parser) => match parser.feed(input) {
                Ok(None) => {}
                Ok(Some((request, used))) => self.on_request(slot, request, &mut input[used..]),
                Err(e) => self.refuse(slot, &e),
            },
            Phase::Pending(pending) => {
                // A client may pipeline frames after its head; keep a bounded amount.
                if pending.early.len() + input.len() > self.handshake.max_head_size {
                    self.abort(slot, "too much data before the handshake completed");
                } else {
                    pending.early.extend_from_slice(input);
                }
            }
            Phase::Open | Phase::Closing => self.decode(slot, input, handler),
            Phase::Failing | Phase::Sending(_) | Phase::Draining { .. } | Phase::Closed => {} // discarded: we are closing
        }
    }

    /// A complete request head: plain HTTP, a refusal, or a new WebSocket.
    fn on_request(&mut self, slot: usize, request: Request, early: &mut [u8]) {
        let response = match route(&request, self.shared.settings.static_dir.is_some()) {
            Route::Upgrade => None,
            Route::StaticFile => match &self.shared.settings.static_dir {
                Some(dir) => {
                    let (head, body) = static_files::respond(dir, &request.method, &request.path);
                    return self.respond_with_file(slot, head, body);
                }
                None => Some(upgrade_required()),
            },
            Route::UpgradeRequired => Some(upgrade_required()),
        };
        if let Some(response) = response {
            return self.respond_and_close(slot, response);
        }
        let negotiated = match validate(&request, &self.handshake) {
            Ok(n) => n,
            Err(e) => return self.refuse(slot, &e),
        };
        let max = self.shared.settings.max_connections;
        if self.shared.open.fetch_add(1, Ordering::AcqRel) >= max {
            self.shared.open.fetch_sub(1, Ordering::AcqRel);
            return self.refuse(slot, &HandshakeError::new(503, "too many connections"));
        }
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let authorize = self.shared.settings.authorize;
        let meta = Arc::new(ConnMeta {
            id: conn.id,
            peer: conn.peer,
            path: request.path.clone(),
            query: request.query.clone(),
            offered_subprotocols: request.offered_subprotocols(),
            subprotocol: Mutex::new(negotiated.subprotocol.clone()),
            user: Mutex::new(None),
            pending: AtomicBool::new(authorize),
            opened_at: self.now,
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            buffered: AtomicUsize::new(0),
        });
        conn.meta = Some(meta.clone());
        self.shared.loops[self.index].registry.insert(meta);
        bump(&self.shared.loops[self.index].stats.connections, 1);
        let open = Open {
            id: conn.id,
            peer: conn.peer,
            request,
            subprotocol: negotiated.subprotocol.clone(),
            pending: authorize,
        };
        if authorize {
            conn.phase = Phase::Pending(Box::new(Pending {
                early: early.to_vec(),
                accept_key: negotiated.accept_key,
            }));
            self.batch.push(Event::Open(Box::new(open)));
            return;
        }
        match response_101(&negotiated, &[]) {
            Ok(response) => conn.out.push_vec(response),
            Err(e) => return self.refuse(slot, &e),
        }
        conn.phase = Phase::Open;
        self.batch.push(Event::Open(Box::new(open)));
        self.mark_dirty(slot);
        self.arm(slot);
        if !early.is_empty() {
            self.decode(slot, early, &mut None);
        }
    }

    /// Completes a pending handshake the application accepted.
    pub(crate) fn complete_accept(
        &mut self,
        slot: usize,
        subprotocol: Option<String>,
        headers: &[(String, String)],
    ) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Phase::Pending(pending) = std::mem::replace(&mut conn.phase, Phase::Open) else {
            return;
        };
        let Pending { early, accept_key } = *pending;
        let negotiated = Negotiated {
            accept_key,
            subprotocol,
        };
        match response_101(&negotiated, headers) {
            Ok(response) => conn.out.push_front(response),
            Err(e) => return self.refuse(slot, &e),
        }
        self.mark_dirty(slot);
        self.arm(slot);
        let mut early = early;
        if !early.is_empty() {
            self.decode(slot, &mut early, &mut None);
        }
    }

    /// Answers a handshake with an HTTP error and closes.
    pub(crate) fn refuse(&mut self, slot: usize, error: &HandshakeError) {
        bump(&self.shared.loops[self.index].stats.handshakes_failed, 1);
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            conn.out.clear();
            if conn.meta.is_some() && conn.outcome.is_none() {
                conn.outcome = Some(Outcome {
                    code: code::ABNORMAL,
                    reason: format!("handshake refused with HTTP {}", error.status),
                    clean: false,
                    cause: CloseCause::Application,
                });
            }
        }
        self.respond_and_close(slot, error.to_response());
    }

    /// A static file's head, then its body in chunks as the socket takes them.
    fn respond_with_file(&mut self, slot: usize, head: Vec<u8>, body: Option<FileBody>) {
        let Some(body) = body else {
            return self.respond_and_close(slot, head);
        };
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        conn.out.push_vec(head);
        conn.phase = Phase::Sending(Box::new(body));
        conn.since = self.now;
        self.mark_dirty(slot);
        self.arm(slot);
    }

    fn respond_and_close(&mut self, slot: usize, response: Vec<u8>) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        conn.out.push_vec(response);
        conn.drain(self.now);
        self.mark_dirty(slot);
        self.arm(slot);
        self.finish(slot);
    }

    /// Runs the frame decoder over new bytes of an upgraded connection.
    fn decode(&mut self, slot: usize, mut input: &mut [u8], handler: &mut Option<Handler<'_>>) {
        let stats = &self.shared.loops[self.index].stats;
        let max_buffered = self.shared.settings.max_buffered;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let mut wrote = false;
        loop {
            let input_range = input.as_ptr_range();
            let (used, message) = match conn.decoder.decode(input) {
                Ok((used, Some(message))) => {
                    self.fairness.messages += 1;
                    let direct = self.direct
                        && self.batch.is_empty()
                        && matches!(conn.phase, Phase::Open)
                        && conn.out.len() <= max_buffered;
                    if let (true, Some(handler), Some((kind, data))) =
                        (direct, handler.as_mut(), data_of(&message))
                    {
                        // Handled here and now, borrowed from the read buffer.
                        count_in(stats, conn.meta.as_deref(), data.len());
                        let id = conn.id;
                        let (sent, panic) = direct::open(&self.shared, id, &mut conn.out, || {
                            handler(Incoming::Message { id, kind, data })
                        });
                        if panic.is_some() {
                            // The rest of the turn goes to the queue; `serve` resumes
                            // the panic once the turn is over.
                            self.handler_panic = panic;
                            self.direct = false;
                        }
                        if sent.messages > 0 {
                            count_out(stats, conn.meta.as_deref(), sent);
                            wrote = true;
                        }
                        self.delivered += 1;
                        input = &mut input[used..];
                        continue;
                    }
                    (used, Decoded::new(message, input_range))
                }
                Ok((_, None)) => break,
                Err(e) => {
                    wrote = fail(conn, e.code, e.reason, self.now, &mut self.batch);
                    break;
                }
            };
            // A message assembled inside the decoder is moved out, not copied.
            let message = match message {
                Decoded::Assembled(kind) => {
                    Decoded::Data(kind, conn.decoder.take_assembled().unwrap_or_default())
                }
                other => other,
            };
            let done = on_message(conn, message, stats, &mut self.batch, self.now);
            wrote |= done.wrote;
            if done.stop {
                break;
            }
            input = &mut input[used..];
        }
        if wrote {
            // Replies go out now, while the socket is hot, and leave no buffer behind.
            if !self.conns[slot].as_mut().is_some_and(Conn::flush_now) {
                self.mark_dirty(slot);
            }
            self.arm(slot);
        }
        if matches!(
            self.conns[slot].as_ref().map(|c| &c.phase),
            Some(Phase::Sending(_) | Phase::Draining { .. } | Phase::Closed)
        ) {
            self.finish(slot);
        }
    }

    /// A deadline of this connection may have passed.
    pub(crate) fn check_deadlines(&mut self, slot: usize) {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if now < conn.deadline(&self.timeouts) {
            return;
        }
        match conn.phase {
            Phase::Handshake(_) => {
                bump(&self.shared.loops[self.index].stats.handshakes_failed, 1);
                self.remove(slot);
            }
            Phase::Pending(_) => {
                self.refuse(
                    slot,
                    &HandshakeError::new(503, "the application did not answer in time"),
                );
            }
            Phase::Open => {
                if now >= conn.last_read + self.timeouts.idle {
                    // The peer is gone or stuck: tell it (best effort) and drop TCP.
                    let mut frame = Vec::new();
                    encode_close(&mut frame, code::GOING_AWAY, "idle timeout");
                    conn.out.push_bytes(&[&frame]);
                    let _ = conn.out.flush_to(&mut conn.socket);
                    conn.outcome = Some(Outcome {
                        code: code::ABNORMAL,
                        reason: "idle timeout".into(),
                        clean: false,
                        cause: CloseCause::IdleTimeout,
                    });
                    self.remove(slot);
                } else {
                    conn.ping_sent = true;
                    conn.push_frame(OpCode::Ping, b"");
                    self.mark_dirty(slot);
                }
            }
            Phase::Failing
            | Phase::Closing
            | Phase::Sending(_)
            | Phase::Draining { .. }
            | Phase::Closed => self.remove(slot),
        }
    }

    /// Sends the close frame of a connection that broke the protocol.
    pub(crate) fn release(&mut self, slot: usize) {
        let now = self.now;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if !matches!(conn.phase, Phase::Failing) {
            return;
        }
        if conn.close.on_local_close() {
            if let Some(outcome) = &conn.outcome {
                let mut frame = Vec::with_capacity(4 + outcome.reason.len());
                encode_close(&mut frame, outcome.code, &outcome.reason);
                conn.out.push_bytes(&[&frame]);
            }
        }
        conn.drain(now);
        self.mark_dirty(slot);
        self.arm(slot);
        self.finish(slot);
    }

    /// Ends the application's view of a connection: registry, user, topics, and the
    /// `Close` event owed for every `Open`. The socket may linger to drain.
    pub(crate) fn finish(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Some(meta) = conn.meta.take() else { return };
        let me = &self.shared.loops[self.index];
        me.registry.remove(conn.id);
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        bump(&me.stats.connections, u64::MAX); // minus one: single writer, wrapping
        if let Some(user) = meta.user() {
            self.shared.unbind(conn.id, &user);
        }
        for topic in std::mem::take(&mut conn.topics) {
            if let Some(subscribers) = self.topics.get_mut(&topic) {
                subscribers.remove(&conn.id);
                if subscribers.is_empty() {
                    self.topics.remove(&topic);
                }
            }
        }
        let outcome = conn.outcome.take().unwrap_or(Outcome {
            code: code::ABNORMAL,
            reason: String::new(),
            clean: false,
            cause: CloseCause::Abnormal,
        });
        me.stats.closed(outcome.cause);
        self.batch.push(Event::Close(Close {
            id: conn.id,
            code: outcome.code,
            reason: outcome.reason,
            clean: outcome.clean,
        }));
    }

    /// Forgets a connection entirely: finishes it, then releases its socket and slot.
    pub(crate) fn remove(&mut self, slot: usize) {
        self.finish(slot);
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.socket);
        let _ = conn.socket.shutdown(Shutdown::Both);
        self.live -= 1;
        self.free.push(slot);
    }

    /// Queues an encoded frame for `slot`, closing a consumer that stopped reading.
    pub(crate) fn enqueue(
        &mut self,
        slot: usize,
        push: impl FnOnce(&mut Conn),
        sent: direct::Sent,
    ) {
        let max_buffered = self.shared.settings.max_buffered;
        let me = &self.shared.loops[self.index];
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        // Slow means: what was queued before this message is still over the limit,
        // so one message larger than the limit can still go to a reader that keeps up.
        let mut backlog = conn.out.len();
        if backlog > max_buffered {
            // Over the limit only because of this loop iteration's burst? Let the
            // socket take what it can before judging the reader.
            let _ = conn.out.flush_to(&mut conn.socket);
            backlog = conn.out.len();
        }
        push(conn);
        count_out(&me.stats, conn.meta.as_deref(), sent);
        if backlog > max_buffered && conn.is_open() {
            // A slow reader: drop what it has not taken and close it with 1008.
            conn.out.discard_unsent();
            bump(&me.stats.dropped, 1);
            conn.start_close(
                code::POLICY_VIOLATION,
                "slow consumer: too much data buffered",
                CloseCause::SlowConsumer,
                self.now,
            );
            self.arm(slot);
        }
        self.mark_dirty(slot);
    }
}

/// The kind and bytes of a data message.
fn data_of<'m>(message: &Message<'m>) -> Option<(MessageKind, &'m [u8])> {
    match *message {
        Message::Text(text) => Some((MessageKind::Text, text.as_bytes())),
        Message::Binary(bytes) => Some((MessageKind::Binary, bytes)),
        _ => None,
    }
}

fn count_in(stats: &LoopStats, meta: Option<&ConnMeta>, bytes: usize) {
    bump(&stats.messages_in, 1);
    bump(&stats.bytes_in, bytes as u64);
    if let Some(meta) = meta {
        bump(&meta.messages_in, 1);
        bump(&meta.bytes_in, bytes as u64);
    }
}

/// Counts messages queued to a connection. Only the connection's own loop
/// writes these counters (see `stats::bump`).
fn count_out(stats: &LoopStats, meta: Option<&ConnMeta>, sent: direct::Sent) {
    bump(&stats.messages_out, sent.messages);
    bump(&stats.bytes_out, sent.bytes);
    if let Some(meta) = meta {
        bump(&meta.messages_out, sent.messages);
        bump(&meta.bytes_out, sent.bytes);
    }
}

/// What handling one decoded message did.
struct Handled {
    wrote: bool,
    stop: bool,
}

/// A decoded message detached from the read buffer, so the connection can be
/// updated while handling it. Data is copied once, into the event.
enum Decoded {
    Data(MessageKind, Vec<u8>),
    /// A data message whose bytes are still in the decoder's buffer.
    Assembled(MessageKind),
    Ping(Vec<u8>),
    Pong,
    Close(Option<(u16, String)>),
}

impl Decoded {
    /// Detaches `message`; data borrowed from the read buffer (`input`) is copied.
    fn new(message: Message<'_>, input: std::ops::Range<*const u8>) -> Decoded {
        let data = |kind, bytes: &[u8]| {
            if bytes.is_empty() || input.contains(&bytes.as_ptr()) {
                Decoded::Data(kind, pool::copy_of(bytes))
            } else {
                Decoded::Assembled(kind)
            }
        };
        match message {
            Message::Text(text) => data(MessageKind::Text, text.as_bytes()),
            Message::Binary(bytes) => data(MessageKind::Binary, bytes),
            Message::Ping(payload) => Decoded::Ping(payload.to_vec()),
            Message::Pong(_) => Decoded::Pong,
            Message::Close(close) => Decoded::Close(close.map(|(c, r)| (c, r.to_string()))),
        }
    }
}

fn on_message(
    conn: &mut Conn,
    message: Decoded,
    stats: &LoopStats,
    batch: &mut Batch,
    now: std::time::Instant,
) -> Handled {
    let open = conn.is_open();
    match message {
        // After our close frame, data is ignored (RFC 6455 section 5.5.1).
        Decoded::Data(kind, data) if open => {
            count_in(stats, conn.meta.as_deref(), data.len());
            // Room first, then the event built in its slot: `push` would build it
            // on the stack and copy it over, which stalls on every message.
            let events = &mut batch.events;
            events.reserve(1);
            let len = events.len();
            events.spare_capacity_mut()[0].write(Event::Message {
                id: conn.id,
                kind,
                data,
            });
            // SAFETY: the slot at `len` was reserved and has just been written.
            unsafe { events.set_len(len + 1) };
        }
        Decoded::Ping(payload) if open => {
            conn.push_frame(OpCode::Pong, &payload);
            return Handled {
                wrote: true,
                stop: false,
            };
        }
        Decoded::Close(close) => {
            if conn.close.on_peer_close() {
                // The peer started: echo its code (or an empty close), then end.
                let (code, reason) = close.unwrap_or((code::NO_STATUS, String::new()));
                let mut frame = Vec::with_capacity(4);
                encode_close(&mut frame, code, "");
                conn.out.push_bytes(&[&frame]);
                conn.outcome = Some(Outcome {
                    code,
                    reason,
                    clean: true,
                    cause: CloseCause::Peer,
                });
            } else if let Some(outcome) = &mut conn.outcome {
                outcome.clean = true; // the reply to our close
            }
            conn.closed(now);
            return Handled {
                wrote: true,
                stop: true,
            };
        }
        _ => {}
    }
    Handled {
        wrote: false,
        stop: false,
    }
}

/// The peer broke the protocol: stop reading, and close with the RFC's code once
/// the application has handled the messages before the error (a barrier in the
/// event queue). Returns whether output was queued now.
fn fail(
    conn: &mut Conn,
    close_code: u16,
    reason: &str,
    now: std::time::Instant,
    batch: &mut Batch,
) -> bool {
    if !conn.is_open() {
        // Our close frame is already out: just end.
        conn.drain(now);
        return false;
    }
    conn.outcome = Some(Outcome {
        code: close_code,
        reason: reason.to_string(),
        clean: false,
        cause: CloseCause::ProtocolError,
    });
    conn.phase = Phase::Failing;
    conn.since = now;
    batch.barrier(conn.id);
    true
}
