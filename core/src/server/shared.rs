//! State shared by the loops and every application handle.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};

use super::command::Command;
use super::event_queue::EventQueue;
use super::registry::Registry;
use super::stats::LoopStats;
use super::{Config, ConnId};

pub(crate) struct Shared {
    pub config: Config,
    pub loops: Vec<LoopShared>,
    pub events: EventQueue,
    /// user → its connections, for `send_to_user`.
    pub users: Mutex<HashMap<Arc<str>, Vec<ConnId>>>,
    /// Open WebSocket connections over all loops, for `max_connections`.
    pub open: AtomicUsize,
    pub shutting_down: AtomicBool,
    pub local_addrs: Vec<SocketAddr>,
}

pub(crate) struct LoopShared {
    pub commands: Mutex<Vec<Command>>,
    pub waker: mio::Waker,
    pub registry: Registry,
    pub stats: LoopStats,
}

impl LoopShared {
    /// Queues a command and wakes the loop if it may be sleeping.
    pub(crate) fn push(&self, command: Command) {
        let mut queue = self.lock_commands();
        let was_empty = queue.is_empty();
        queue.push(command);
        drop(queue);
        if was_empty {
            // A failed wake means the loop is gone (shut down); nothing to do.
            let _ = self.waker.wake();
        }
    }

    /// Queues a command without waking the loop (see `cork`).
    pub(crate) fn push_quiet(&self, command: Command) {
        self.lock_commands().push(command);
    }

    pub(crate) fn wake(&self) {
        // A failed wake means the loop is gone (shut down); nothing to do.
        let _ = self.waker.wake();
    }

    pub(crate) fn lock_commands(&self) -> MutexGuard<'_, Vec<Command>> {
        self.commands.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Shared {
    pub(crate) fn loop_of(&self, id: ConnId) -> Option<&LoopShared> {
        self.loops.get(id.loop_index())
    }

    pub(crate) fn lock_users(&self) -> MutexGuard<'_, HashMap<Arc<str>, Vec<ConnId>>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets a closed connection's user binding.
    pub(crate) fn unbind(&self, id: ConnId, user: &Arc<str>) {
        let mut users = self.lock_users();
        if let Some(ids) = users.get_mut(user) {
            ids.retain(|&other| other != id);
            if ids.is_empty() {
                users.remove(user);
            }
        }
    }
}
