//! What one loop shares with the application's threads: its command queue and
//! the waker that interrupts its poll, its registry of live connections, and
//! its counters.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::bridge::command::Command;
use crate::bridge::registry::Registry;
use crate::bridge::stats::LoopStats;

pub(crate) struct LoopShared {
    pub commands: Mutex<Vec<Command>>,
    /// Set while `commands` is not empty (changed under its lock), so that the
    /// loop can skip the lock when nothing was queued.
    pub queued: AtomicBool,
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
        self.queued.store(true, Ordering::Release);
        drop(queue);
        if was_empty {
            // A failed wake means the loop is gone (shut down); nothing to do.
            let _ = self.waker.wake();
        }
    }

    /// Queues a command without waking the loop (see `cork`).
    pub(crate) fn push_quiet(&self, command: Command) {
        let mut queue = self.lock_commands();
        queue.push(command);
        self.queued.store(true, Ordering::Release);
    }

    /// Queues a batch of commands (emptying `batch`) without waking the loop.
    pub(crate) fn push_all_quiet(&self, batch: &mut Vec<Command>) {
        let mut queue = self.lock_commands();
        if queue.is_empty() {
            // Trade buffers: the caller keeps an empty one with capacity.
            std::mem::swap(&mut *queue, batch);
        } else {
            queue.append(batch);
        }
        self.queued.store(true, Ordering::Release);
    }

    /// Takes every queued command, in order, leaving `into`'s buffer behind.
    pub(crate) fn take_commands(&self, into: &mut Vec<Command>) {
        if !self.queued.load(Ordering::Acquire) {
            return;
        }
        let mut queue = self.lock_commands();
        std::mem::swap(into, &mut *queue);
        self.queued.store(false, Ordering::Release);
    }

    pub(crate) fn wake(&self) {
        // A failed wake means the loop is gone (shut down); nothing to do.
        let _ = self.waker.wake();
    }

    pub(crate) fn lock_commands(&self) -> MutexGuard<'_, Vec<Command>> {
        self.commands.lock().unwrap_or_else(|e| e.into_inner())
    }
}
