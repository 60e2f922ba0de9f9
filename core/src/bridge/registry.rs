//! What other threads may know about a loop's connections: which ids are alive,
//! and the small facts `info()` reports. The loop writes it on open and close; the
//! application handle only reads it, so a command for a gone id is refused at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::bridge::id::ConnId;
use crate::bridge::live_ids::LiveIds;

/// Facts about one open connection, shared between its loop and the application.
#[derive(Debug)]
pub(crate) struct ConnMeta {
    pub id: ConnId,
    pub peer: SocketAddr,
    pub path: String,
    pub query: String,
    pub offered_subprotocols: Vec<String>,
    pub subprotocol: Mutex<Option<String>>,
    pub user: Mutex<Option<Arc<str>>>,
    pub pending: AtomicBool,
    pub opened_at: Instant,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub buffered: AtomicUsize,
}

impl ConnMeta {
    pub(crate) fn user(&self) -> Option<Arc<str>> {
        self.user.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_user(&self, user: Option<Arc<str>>) -> Option<Arc<str>> {
        std::mem::replace(
            &mut *self.user.lock().unwrap_or_else(|e| e.into_inner()),
            user,
        )
    }

    pub(crate) fn subprotocol(&self) -> Option<String> {
        self.subprotocol
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_subprotocol(&self, p: Option<String>) {
        *self.subprotocol.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }
}

/// One loop's live connections, indexed by slot.
#[derive(Default)]
pub(crate) struct Registry {
    slots: RwLock<Vec<Option<Arc<ConnMeta>>>>,
    live: LiveIds,
}

impl Registry {
    /// The connection if `id` is still alive (same slot, same generation).
    pub(crate) fn get(&self, id: ConnId) -> Option<Arc<ConnMeta>> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        match slots.get(id.slot()) {
            Some(Some(meta)) if meta.id == id => Some(meta.clone()),
            _ => None,
        }
    }

    /// Whether `id` is still alive, without taking a reference (the send path).
    pub(crate) fn is_live(&self, id: ConnId) -> bool {
        self.live.contains(id)
    }

    pub(crate) fn insert(&self, meta: Arc<ConnMeta>) {
        let slot = meta.id.slot();
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        if slots.len() <= slot {
            slots.resize(slot + 1, None);
        }
        self.live.set(meta.id, true);
        slots[slot] = Some(meta);
    }

    pub(crate) fn remove(&self, id: ConnId) {
        self.live.set(id, false);
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = slots.get_mut(id.slot()) {
            if entry.as_ref().is_some_and(|m| m.id == id) {
                *entry = None;
            }
        }
    }
}
