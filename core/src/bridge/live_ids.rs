//! Which connection holds each slot, readable from any thread without a lock:
//! the send path checks liveness on every message.
//!
//! Slots are grouped in chunks allocated on first use and kept until the table
//! is dropped, so a reader never sees a chunk disappear. Only the owning I/O
//! loop writes.

use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use crate::bridge::id::ConnId;
use crate::bridge::id::MAX_SLOTS;

const CHUNK_SLOTS: usize = 4096;
type Chunk = [AtomicU64; CHUNK_SLOTS];

pub(crate) struct LiveIds {
    chunks: Box<[AtomicPtr<Chunk>]>,
}

impl Default for LiveIds {
    fn default() -> Self {
        let chunks = (0..MAX_SLOTS / CHUNK_SLOTS)
            .map(|_| AtomicPtr::new(null_mut()))
            .collect();
        LiveIds { chunks }
    }
}

impl LiveIds {
    /// Whether `id` is the connection in its slot now.
    pub(crate) fn contains(&self, id: ConnId) -> bool {
        let slot = id.slot();
        let Some(entry) = self.chunks.get(slot / CHUNK_SLOTS) else {
            return false;
        };
        let chunk = entry.load(Ordering::Acquire);
        if chunk.is_null() {
            return false;
        }
        // SAFETY: a non-null chunk was fully initialized before it was published
        // (Release/Acquire) and is freed only when the table is dropped.
        let current = unsafe { &(*chunk)[slot % CHUNK_SLOTS] };
        current.load(Ordering::Acquire) == id.as_u64()
    }

    /// Records `id` in its slot (`live`), or clears the slot if it still holds `id`.
    /// Called only by the loop that owns the slots.
    pub(crate) fn set(&self, id: ConnId, live: bool) {
        let slot = id.slot();
        let Some(entry) = self.chunks.get(slot / CHUNK_SLOTS) else {
            return;
        };
        let mut chunk = entry.load(Ordering::Acquire);
        if chunk.is_null() {
            let fresh: Box<Chunk> = Box::new(std::array::from_fn(|_| AtomicU64::new(0)));
            chunk = Box::into_raw(fresh);
            entry.store(chunk, Ordering::Release);
        }
        // SAFETY: as in `contains`; this loop is the only writer.
        let current = unsafe { &(*chunk)[slot % CHUNK_SLOTS] };
        if live {
            current.store(id.as_u64(), Ordering::Release);
        } else if current.load(Ordering::Relaxed) == id.as_u64() {
            current.store(0, Ordering::Release);
        }
    }
}

impl Drop for LiveIds {
    fn drop(&mut self) {
        for entry in self.chunks.iter() {
            let chunk = entry.load(Ordering::Acquire);
            if !chunk.is_null() {
                // SAFETY: allocated by `set` with Box::into_raw; no reader remains
                // once the table itself is being dropped.
                drop(unsafe { Box::from_raw(chunk) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_ids_per_slot_and_generation() {
        let table = LiveIds::default();
        let a = ConnId::new(0, 5000, 1);
        let a_later = ConnId::new(0, 5000, 2);
        assert!(!table.contains(a));
        table.set(a, true);
        assert!(table.contains(a) && !table.contains(a_later));
        table.set(a_later, false); // not its slot's holder: no effect
        assert!(table.contains(a));
        table.set(a, false);
        assert!(!table.contains(a));
        let last = ConnId::new(0, MAX_SLOTS - 1, 7);
        table.set(last, true);
        assert!(table.contains(last));
    }
}
