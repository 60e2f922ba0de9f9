//! Applying the application's commands inside the loop that owns the connection.

use crate::bridge::command::{header, Command};
use crate::bridge::id::ConnId;
use crate::bridge::stats::{bump, CloseCause};
use crate::http::HandshakeError;
use crate::reactor::conn::{Conn, Phase};
use crate::reactor::event_loop::EventLoop;

impl EventLoop {
    /// Takes this loop's whole command queue and applies it in order.
    pub(crate) fn run_commands(&mut self) {
        let mut commands = std::mem::take(&mut self.commands);
        self.me().take_commands(&mut commands);
        for command in commands.drain(..) {
            self.apply(command);
        }
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
                    self.enqueue(slot, push, len);
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
                            len,
                        ),
                        None => self.dropped(),
                    }
                }
            }
            Command::Publish {
                topic,
                message,
                except,
            } => {
                let targets: Vec<usize> = match &topic {
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
                let len = message.payload_len();
                for slot in targets {
                    self.enqueue(slot, |c| c.out.push_shared(message.frame(c.framing())), len);
                }
            }
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
