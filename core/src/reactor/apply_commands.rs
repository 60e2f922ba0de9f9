//! Applying the application's commands inside the loop that owns the connection.

use std::sync::Arc;

use crate::bridge::command::{header, Command};
use crate::bridge::id::ConnId;
use crate::bridge::outgoing::{Joined, Outgoing};
use crate::bridge::stats::{bump, CloseCause};
use crate::fastpath::direct::Sent;
use crate::http::HandshakeError;
use crate::reactor::conn::{Conn, Phase};
use crate::reactor::event_loop::EventLoop;
use crate::reactor::outbuf::Flushed;

impl EventLoop {
    /// Takes this loop's whole command queue and applies it in order.
    pub(crate) fn run_commands(&mut self) {
        let mut commands = std::mem::take(&mut self.commands);
        self.me().take_commands(&mut commands);
        let mut queue = commands.drain(..).peekable();
        while let Some(command) = queue.next() {
            let Command::Publish {
                topic,
                message,
                except,
            } = command
            else {
                self.apply(command);
                continue;
            };
            // Publishes in a row to the same audience go out together: one pass
            // over the subscribers, and one write to each.
            let mut messages = vec![message];
            while let Some(Command::Publish {
                topic: next,
                except: also,
                ..
            }) = queue.peek()
            {
                if *also != except || !same_topic(next, &topic) {
                    break;
                }
                if let Some(Command::Publish { message, .. }) = queue.next() {
                    messages.push(message);
                }
            }
            self.publish(topic.as_deref(), &messages, except);
        }
        drop(queue);
        self.commands = commands;
    }

    pub(crate) fn apply(&mut self, command: Command) {
        match command {
            Command::Adopt(stream, peer, tls) => self.adopt(stream, peer, tls),
            Command::Send { id, kind, data } => match self.slot_of(id, true) {
                Some(slot) => {
                    // Framed here, for this connection.
                    let len = data.len();
                    let header = header(kind, len);
                    let push =
                        |c: &mut Conn| c.out.push_frame(&header.0[..header.1 as usize], data);
                    self.enqueue(slot, push, sent(1, len));
                }
                None => self.dropped(),
            },
            Command::SendMany { ids, message } => {
                let len = message.payload_len();
                for id in ids {
                    match self.slot_of(id, false) {
                        Some(slot) => self.enqueue(
                            slot,
                            |c| c.out.push_shared(message.frame(c.framing())),
                            sent(1, len),
                        ),
                        None => self.dropped(),
                    }
                }
            }
            Command::Publish {
                topic,
                message,
                except,
            } => self.publish(topic.as_deref(), &[message], except),
            Command::Subscribe { id, topic } => {
                let Some(conn) = self.conn_mut(id) else {
                    return;
                };
                if !conn.topics.contains(&topic) {
                    conn.topics.push(topic.clone());
                    self.topics.entry(topic).or_default().insert(id);
                }
            }
            Command::Unsubscribe { id, topic } => {
                let Some(conn) = self.conn_mut(id) else {
                    return;
                };
                conn.topics.retain(|t| *t != topic);
                if let Some(subscribers) = self.topics.get_mut(&topic) {
                    subscribers.remove(&id);
                    if subscribers.is_empty() {
                        self.topics.remove(&topic);
                    }
                }
            }
            Command::Close { id, code, reason } => {
                let Some(slot) = self.slot_of(id, true) else {
                    return;
                };
                let now = self.now;
                let Some(conn) = self.conns[slot].as_mut() else {
                    return;
                };
                match conn.phase {
                    Phase::Pending(_) => {
                        self.refuse(slot, &HandshakeError::new(403, reason));
                        return;
                    }
                    Phase::Open => conn.start_close(code, &reason, CloseCause::Application, now),
                    _ => return,
                }
                self.mark_dirty(slot);
                self.arm(slot);
            }
            Command::Accept {
                id,
                subprotocol,
                headers,
            } => {
                if let Some(slot) = self.slot_of(id, true) {
                    self.complete_accept(slot, subprotocol, &headers);
                }
            }
            Command::Reject { id, status, body } => {
                if let Some(slot) = self.slot_of(id, true) {
                    if matches!(
                        self.conns[slot].as_ref().map(|c| &c.phase),
                        Some(Phase::Pending(_))
                    ) {
                        self.refuse(slot, &HandshakeError::with_body(status, body));
                    }
                }
            }
            Command::Release(id) => {
                if self
                    .conns
                    .get(id.slot())
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.id == id)
                {
                    self.release(id.slot());
                }
            }
            Command::Resume(id) => {
                let slot = id.slot();
                let resumed = match self.conns.get_mut(slot).and_then(Option::as_mut) {
                    Some(conn) if conn.id == id && conn.held => {
                        conn.held = false;
                        true
                    }
                    _ => false,
                };
                // Edge-triggered polling may not report what waits in the socket.
                if resumed {
                    self.read(slot, &mut None);
                }
            }
            Command::Shutdown => self.begin_shutdown(),
        }
    }

    /// Sends `messages` to a topic's subscribers (`None`: every open
    /// connection), except `except`. A connection with nothing queued is
    /// written at once, without copying: only what its socket does not take is
    /// queued, and the loop's flush sees to that.
    fn publish(&mut self, topic: Option<&str>, messages: &[Arc<Outgoing>], except: Option<ConnId>) {
        let targets: Vec<usize> = match topic {
            Some(topic) => match self.topics.get(topic) {
                Some(subscribers) => subscribers
                    .iter()
                    .filter(|&&id| Some(id) != except)
                    .filter_map(|&id| self.slot_of(id, false))
                    .collect(),
                None => return,
            },
            None => (0..self.conns.len())
                .filter(|&slot| {
                    self.conns[slot]
                        .as_ref()
                        .is_some_and(|c| c.takes_messages() && Some(c.id) != except)
                })
                .collect(),
        };
        let mut joined = Joined::new(messages);
        let (count, bytes) = joined.counts();
        let each = sent(count, bytes as usize);
        let mut written = 0;
        for slot in targets {
            let Some(conn) = self.conns[slot].as_mut() else {
                continue;
            };
            if conn.out.len() > 0 || conn.write_interest {
                // Behind what waits: queued, with the slow-consumer check.
                self.enqueue(slot, |c| c.out.push_shared(joined.frame(c.framing())), each);
                continue;
            }
            let frame = joined.frame(conn.framing());
            let done = matches!(conn.out.send_now(&mut conn.socket, frame), Ok(Flushed::All));
            if let Some(meta) = conn.meta.as_deref() {
                bump(&meta.messages_out, count);
                bump(&meta.bytes_out, bytes);
            }
            written += 1;
            if !done {
                // Left queued, or the socket failed: the flush handles it.
                self.mark_dirty(slot);
            }
        }
        let stats = &self.me().stats;
        bump(&stats.messages_out, count * written);
        bump(&stats.bytes_out, bytes * written);
    }

    /// The slot of a live connection, if `id` still names it. Sending is allowed while
    /// open, and (`pending_ok`) while the handshake waits: the 101 is put in front.
    fn slot_of(&self, id: ConnId, pending_ok: bool) -> Option<usize> {
        let slot = id.slot();
        let conn = self.conns.get(slot)?.as_ref()?;
        let usable =
            conn.takes_messages() || (pending_ok && matches!(conn.phase, Phase::Pending(_)));
        (conn.id == id && usable).then_some(slot)
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.conns
            .get_mut(id.slot())?
            .as_mut()
            .filter(|c| c.id == id && c.meta.is_some())
    }

    fn dropped(&self) {
        bump(&self.me().stats.dropped, 1);
    }

    /// Stops accepting and starts closing every connection with 1001.
    fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        for mut listener in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        let now = self.now;
        for slot in 0..self.conns.len() {
            let Some(conn) = self.conns[slot].as_mut() else {
                continue;
            };
            match conn.phase {
                Phase::Handshake(_) => self.remove(slot),
                Phase::Pending(_) => {
                    self.refuse(slot, &HandshakeError::new(503, "server shutting down"))
                }
                Phase::Open => {
                    conn.start_close(
                        crate::protocol::close::code::GOING_AWAY,
                        "server shutting down",
                        CloseCause::Shutdown,
                        now,
                    );
                    self.mark_dirty(slot);
                    self.arm(slot);
                }
                Phase::Failing => self.release(slot),
                Phase::Closing | Phase::Sending(_) | Phase::Draining { .. } | Phase::Closed => {}
            }
        }
    }
}

/// Two publishes' audiences are the same topic (or both every connection).
fn same_topic(a: &Option<Arc<str>>, b: &Option<Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    }
}

/// What one enqueue adds to the counters.
fn sent(messages: u64, bytes: usize) -> Sent {
    Sent {
        messages,
        bytes: bytes as u64,
    }
}
