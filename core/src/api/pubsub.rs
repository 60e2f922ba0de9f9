//! Publish and subscribe: topics (a connection's subscriptions, kept by its
//! loop) and users (a name bound to any number of connections). All of it is
//! reached through these methods of [`Handle`], the interface a backplane
//! that spreads topics and users over several processes would implement.

use crate::bridge::outgoing::Outgoing;
use std::sync::Arc;

use crate::api::error::Error;
use crate::api::handle::{check_payload, Handle};
use crate::bridge::command::Command;
use crate::bridge::event::MessageKind;
use crate::bridge::id::ConnId;
use crate::bridge::registry::ConnMeta;

impl Handle {
    /// Adds the connection to a topic.
    pub fn subscribe(&self, id: ConnId, topic: &str) -> Result<(), Error> {
        self.check_live(id)?;
        self.to_loop(id, || Command::Subscribe {
            id,
            topic: topic.into(),
        })
    }

    /// Removes the connection from a topic (no error if it was not subscribed).
    pub fn unsubscribe(&self, id: ConnId, topic: &str) -> Result<(), Error> {
        self.check_live(id)?;
        self.to_loop(id, || Command::Unsubscribe {
            id,
            topic: topic.into(),
        })
    }

    /// Sends one message to every subscriber of `topic`, except `except`. It is
    /// framed once per framing the subscribers speak, and the same bytes are
    /// queued for every one of them.
    pub fn publish(
        &self,
        topic: &str,
        kind: MessageKind,
        data: &[u8],
        except: Option<ConnId>,
    ) -> Result<(), Error> {
        self.fan_out(Some(topic.into()), kind, data, except)
    }

    /// Hands one shared message to every loop, for a topic's subscribers or
    /// (`None`) for every open connection.
    pub(super) fn fan_out(
        &self,
        topic: Option<Arc<str>>,
        kind: MessageKind,
        data: &[u8],
        except: Option<ConnId>,
    ) -> Result<(), Error> {
        check_payload(kind, data)?;
        self.check_running()?;
        let message = Outgoing::new(kind, data);
        for index in 0..self.shared.loops.len() {
            let command = Command::Publish {
                topic: topic.clone(),
                message: message.clone(),
                except,
            };
            self.deliver(index, command);
        }
        Ok(())
    }

    /// Binds the connection to `user` (replacing an earlier binding). A user may have
    /// many connections (tabs); the binding ends when the connection closes.
    pub fn bind_user(&self, id: ConnId, user: &str) -> Result<(), Error> {
        let meta = self.live(id)?;
        self.bind(&meta, user);
        Ok(())
    }

    /// Removes the connection's user binding (no error if it had none).
    pub fn unbind_user(&self, id: ConnId) -> Result<(), Error> {
        let meta = self.live(id)?;
        if let Some(old) = meta.set_user(None) {
            self.shared.unbind(id, &old);
        }
        Ok(())
    }

    /// Sends one message to every connection bound to `user`; returns how many.
    pub fn send_to_user(&self, user: &str, kind: MessageKind, data: &[u8]) -> Result<usize, Error> {
        check_payload(kind, data)?;
        self.check_running()?;
        let ids = self.user_connections(user);
        if ids.is_empty() {
            return Ok(0);
        }
        let message = Outgoing::new(kind, data);
        for index in 0..self.shared.loops.len() {
            let mine: Vec<ConnId> = ids
                .iter()
                .copied()
                .filter(|id| id.loop_index() == index)
                .collect();
            if !mine.is_empty() {
                self.deliver(
                    index,
                    Command::SendMany {
                        ids: mine,
                        message: message.clone(),
                    },
                );
            }
        }
        Ok(ids.len())
    }

    /// The open connections bound to `user`.
    pub fn user_connections(&self, user: &str) -> Vec<ConnId> {
        self.shared
            .lock_users()
            .get(user)
            .cloned()
            .unwrap_or_default()
    }

    pub(super) fn bind(&self, meta: &ConnMeta, user: &str) {
        let user: Arc<str> = user.into();
        let mut users = self.shared.lock_users();
        if let Some(old) = meta.set_user(Some(user.clone())) {
            if let Some(ids) = users.get_mut(&old) {
                ids.retain(|&other| other != meta.id);
                if ids.is_empty() {
                    users.remove(&old);
                }
            }
        }
        let ids = users.entry(user).or_default();
        if !ids.contains(&meta.id) {
            ids.push(meta.id);
        }
    }
}
