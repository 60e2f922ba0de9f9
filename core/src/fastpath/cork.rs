//! Corking: commands issued by the thread that dispatches events are queued
//! without waking the I/O loops, which are woken once when that thread asks
//! for more events (or after a burst). On a busy core this turns one thread
//! switch per reply into one per batch.
//!
//! Nothing is lost if the thread never comes back: the readiness fd turns
//! readable (so a `poll`-driven program calls `wait` again), a burst of
//! `MAX_CORKED` commands wakes the loops, and a loop also takes its queue on
//! its next timer tick (every 50 ms while it has connections).
//!
//! In inline mode the loop runs only inside `wait`, so there is nobody to
//! wake: the commands are held in the thread itself and handed over in one
//! piece at the next `wait` (or `flush`, or when the thread ends), which saves
//! a lock per command.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::bridge::command::Command;
use crate::fastpath::direct;
use crate::reactor::shared::Shared;

/// Corked commands after which the loops are woken anyway.
const MAX_CORKED: usize = 256;

thread_local! {
    static CORK: RefCell<Cork> = RefCell::new(Cork::default());
}

#[derive(Default)]
struct Cork {
    /// The server whose events this thread dispatches.
    server: Weak<Shared>,
    /// Loops with queued commands not yet woken (bit per loop index).
    pending: [u64; 4],
    count: usize,
    /// Inline mode: the commands themselves, in order.
    held: Vec<Command>,
}

impl Cork {
    fn is_for(&self, shared: &Arc<Shared>) -> bool {
        std::ptr::eq(self.server.as_ptr(), Arc::as_ptr(shared))
    }

    fn take_pending(&mut self) -> [u64; 4] {
        self.count = 0;
        std::mem::take(&mut self.pending)
    }
}

impl Drop for Cork {
    /// The thread ends: what it still holds goes to the loop.
    fn drop(&mut self) {
        if let Some(shared) = self.server.upgrade() {
            hand_over(&shared, &mut self.held);
        }
    }
}

/// Queues the command `make` builds for loop `index`, corked if this thread
/// dispatches `shared`.
pub(crate) fn deliver(shared: &Arc<Shared>, index: usize, make: impl FnOnce() -> Command) {
    let inline = shared.inline.get().is_some();
    let mut make = Some(make);
    let corked = CORK.with(|cork| {
        let mut cork = cork.borrow_mut();
        if !cork.is_for(shared) {
            return None; // not corked: `make` is still there
        }
        let make = make.take()?;
        let first = cork.count == 0;
        cork.pending[index / 64] |= 1 << (index % 64);
        cork.count += 1;
        if inline {
            push_in_place(&mut cork.held, make);
            direct::holding(true);
            if cork.held.len() >= MAX_CORKED {
                hand_over(shared, &mut cork.held);
            }
            return Some((first, false));
        }
        shared.loops[index].push_quiet(make());
        Some((first, cork.count >= MAX_CORKED))
    });
    match corked {
        Some((first, full)) => {
            if first {
                shared.events.poke();
            }
            if full {
                uncork(shared);
            }
        }
        None => {
            if let Some(make) = make {
                shared.loops[index].push(make());
            }
        }
    }
}

/// Pushes the command `make` builds straight into its slot: built on the stack
/// and then moved, it is read back before its stores have landed, which
/// stalls on every command.
#[inline(always)]
fn push_in_place(held: &mut Vec<Command>, make: impl FnOnce() -> Command) {
    held.reserve(1);
    let len = held.len();
    held.spare_capacity_mut()[0].write(make());
    // SAFETY: the slot at `len` was reserved and has just been written.
    unsafe { held.set_len(len + 1) };
}

/// Inline mode: queues the held commands for the loop's next turn.
fn hand_over(shared: &Shared, held: &mut Vec<Command>) {
    if !held.is_empty() {
        shared.loops[0].push_all_quiet(held);
    }
    direct::holding(false);
}

/// Wakes every loop this thread queued commands for.
pub(crate) fn uncork(shared: &Arc<Shared>) {
    let pending = CORK.with(|cork| {
        let mut cork = cork.borrow_mut();
        if cork.is_for(shared) {
            hand_over(shared, &mut cork.held);
            cork.take_pending()
        } else {
            [0; 4]
        }
    });
    wake(shared, pending);
}

/// Marks this thread as dispatching `shared`'s events, flushing a cork it held
/// for another server.
pub(crate) fn dispatching(shared: &Arc<Shared>) {
    let previous = CORK.with(|cork| {
        let mut cork = cork.borrow_mut();
        if cork.is_for(shared) {
            return None;
        }
        let pending = cork.take_pending();
        let held = std::mem::take(&mut cork.held);
        let previous = std::mem::replace(&mut cork.server, Arc::downgrade(shared));
        Some((previous, pending, held))
    });
    if let Some((previous, pending, mut held)) = previous {
        if let Some(previous) = previous.upgrade() {
            hand_over(&previous, &mut held);
            wake(&previous, pending);
        }
    }
}

fn wake(shared: &Shared, pending: [u64; 4]) {
    if shared.inline.get().is_some() {
        // Inline: the corking thread runs the loop itself at its next `wait`.
        return;
    }
    for (word, bits) in pending.iter().enumerate() {
        let mut bits = *bits;
        while bits != 0 {
            let index = word * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(l) = shared.loops.get(index) {
                l.wake();
            }
        }
    }
}
