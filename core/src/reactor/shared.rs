//! State shared by the loops and every application handle.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::bridge::event_queue::EventQueue;
use crate::bridge::id::ConnId;
use crate::bridge::loop_shared::LoopShared;
use crate::fastpath::inline::Inline;
use crate::reactor::settings::Settings;
use crate::transport::tls_config::TlsFiles;

pub(crate) struct Shared {
    pub settings: Settings,
    pub loops: Vec<LoopShared>,
    /// The events towards the application: one queue that every loop feeds,
    /// or, in per-loop serving, one per loop (see `queue`).
    pub queues: Vec<EventQueue>,
    /// user → its connections, for `send_to_user`.
    pub users: Mutex<HashMap<Arc<str>, Vec<ConnId>>>,
    /// Open WebSocket connections over all loops, for `max_connections`.
    pub open: AtomicUsize,
    pub shutting_down: AtomicBool,
    pub local_addrs: Vec<SocketAddr>,
    /// The loops the application's threads drive: one in inline mode
    /// (`threads(0)`), every loop in per-loop serving, none with I/O threads.
    pub drivers: std::sync::OnceLock<Vec<Inline>>,
    /// The certificate and key for TLS listeners (reloadable).
    pub tls: Option<TlsFiles>,
}

impl Shared {
    /// The queue loop `index` hands its events to.
    pub(crate) fn queue(&self, index: usize) -> &EventQueue {
        &self.queues[index.min(self.queues.len() - 1)]
    }

    /// The loops driven by application threads (empty with I/O threads).
    pub(crate) fn drivers(&self) -> &[Inline] {
        self.drivers.get().map_or(&[], Vec::as_slice)
    }

    /// True when a loop runs on the application's thread (inline or per-loop):
    /// its commands are held by that thread, not woken for.
    pub(crate) fn is_driven(&self) -> bool {
        self.drivers.get().is_some()
    }

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
