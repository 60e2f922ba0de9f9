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
//! a lock per command. In per-loop serving each loop's thread does the same
//! for its own loop, and batches its commands for every other loop, handed
//! over with one lock and one wake per loop when its turn ends.

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
    /// The loop this thread drives (inline mode, per-loop serving), if any.
    own: Option<usize>,
    /// Loops with queued commands not yet woken (bit per loop index).
    pending: [u64; 4],
    count: usize,
    /// Commands for the loop this thread drives, in order.
    held: Vec<Command>,
    /// Per-loop serving: commands for each other loop, handed over in one
    /// piece (one lock, one wake) when this thread's turn ends.
    away: Vec<Vec<Command>>,
}

impl Cork {
    fn is_for(&self, shared: &Arc<Shared>) -> bool {
        std::ptr::eq(self.server.as_ptr(), Arc::as_ptr(shared))
    }

    fn take_pending(&mut self) -> [u64; 4] {
        self.count = 0;
        std::mem::take(&mut self.pending)
    }

    /// Hands everything held to the loops; returns the loops to wake.
    fn hand_over_all(&mut self, shared: &Shared) -> [u64; 4] {
        if let Some(own) = self.own {
            hand_over(shared, own, &mut self.held);
        }
        for (index, commands) in self.away.iter_mut().enumerate() {
            if !commands.is_empty() {
                shared.loops[index].push_all_quiet(commands);
            }
        }
        self.take_pending()
    }
}

impl Drop for Cork {
    /// The thread ends: what it still holds goes to the loops.
    fn drop(&mut self) {
        if let Some(shared) = self.server.upgrade() {
            let pending = self.hand_over_all(&shared);
            wake(&shared, pending);
        }
    }
}

/// Queues the command `make` builds for loop `index`, corked if this thread
/// dispatches `shared`.
pub(crate) fn deliver(shared: &Arc<Shared>, index: usize, make: impl FnOnce() -> Command) {
    let mut make = Some(make);
    let corked = CORK.with(|cork| {
        let mut cork = cork.borrow_mut();
        if !cork.is_for(shared) {
            return None; // not corked: `make` is still there
        }
        let make = make.take()?;
        let cork = &mut *cork;
        match cork.own {
            // The loop this thread runs takes them at its next turn.
            Some(own) if own == index => {
                push_in_place(&mut cork.held, make);
                direct::holding(true);
                let first = cork.held.len() == 1;
                if cork.held.len() >= MAX_CORKED {
                    hand_over(shared, own, &mut cork.held);
                }
                Some((first, false))
            }
            // Another loop's connection: batched per loop until the turn ends.
            Some(_) => {
                if cork.away.len() < shared.loops.len() {
                    cork.away.resize_with(shared.loops.len(), Vec::new);
                }
                let away = &mut cork.away[index];
                push_in_place(away, make);
                cork.pending[index / 64] |= 1 << (index % 64);
                if away.len() >= MAX_CORKED {
                    shared.loops[index].push_all_quiet(away);
                    shared.loops[index].wake();
                }
                Some((false, false))
            }
            None => {
                let first = cork.count == 0;
                cork.pending[index / 64] |= 1 << (index % 64);
                cork.count += 1;
                shared.loops[index].push_quiet(make());
                Some((first, cork.count >= MAX_CORKED))
            }
        }
    });
    match corked {
        Some((first, full)) => {
            if first {
                // A `poll`-driven program must come back to send them.
                shared.queue(index).poke();
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

/// Queues the held commands for the next turn of loop `own`, which this
/// thread drives (no wake needed).
fn hand_over(shared: &Shared, own: usize, held: &mut Vec<Command>) {
    if !held.is_empty() {
        shared.loops[own].push_all_quiet(held);
    }
    direct::holding(false);
}

/// Hands over what this thread holds and wakes every loop it queued commands for.
pub(crate) fn uncork(shared: &Arc<Shared>) {
    let pending = CORK.with(|cork| {
        let mut cork = cork.borrow_mut();
        if cork.is_for(shared) {
            cork.hand_over_all(shared)
        } else {
            [0; 4]
        }
    });
    wake(shared, pending);
}

/// Marks this thread as dispatching `shared`'s events, driving loop `own` if
/// given, and flushes a cork it held for another server (or loop).
pub(crate) fn dispatching(shared: &Arc<Shared>, own: Option<usize>) {
    let previous = CORK.with(|cork| {
        let mut cork = cork.borrow_mut();
        if cork.is_for(shared) && cork.own == own {
            return None;
        }
        let previous = cork.server.upgrade();
        let pending = match &previous {
            Some(previous) => cork.hand_over_all(previous),
            None => cork.take_pending(),
        };
        cork.held.clear();
        cork.away.clear();
        cork.server = Arc::downgrade(shared);
        cork.own = own;
        Some((previous, pending))
    });
    if let Some((Some(previous), pending)) = previous {
        wake(&previous, pending);
    }
}

fn wake(shared: &Shared, pending: [u64; 4]) {
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
