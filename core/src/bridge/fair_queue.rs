//! The event queue's contents, taken fairly: each connection has its own queue
//! (its events and barriers in order), and connections take turns, one event
//! each, in a ring. A connection that floods the application therefore delays
//! every other one by at most one event per turn, and a connection with more
//! than its bound waiting is reported so that its loop stops reading it.
//!
//! No locking here: `EventQueue` holds this behind its mutex.

use std::collections::VecDeque;

use crate::bridge::event::Event;
use crate::bridge::id::ConnId;

/// How much one connection may have waiting for the application (events taken
/// off the queue no longer count) before its loop stops reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnBounds {
    /// Unhandled messages (and other events) of one connection.
    pub events: usize,
    /// Their bytes, counted as `Event::weight` (payload plus a fixed overhead).
    pub bytes: usize,
}

impl ConnBounds {
    fn reached(self, events: usize, bytes: usize) -> bool {
        events >= self.events || bytes >= self.bytes
    }

    /// Back at or under half of both bounds: the connection may be read again.
    /// (Half, so that a held connection is not resumed after every event.)
    fn cleared(self, events: usize, bytes: usize) -> bool {
        events <= self.events / 2 && bytes <= self.bytes / 2
    }
}

/// No entry for this slot.
const NONE: u32 = u32::MAX;

/// One connection's waiting events and barriers. An entry exists while it has
/// either; it is in the ring exactly then.
struct Entry {
    /// The connection the slot holds now. A slot's old connection can still
    /// have its last events here when a new one takes the slot: both share the
    /// entry, the old ones first (the loop queued them first).
    id: ConnId,
    /// Kept as they are (not wrapped with the barriers): moved in and out
    /// with plain copies.
    events: VecDeque<Event>,
    /// Each barrier with the count of this entry's events pushed before it;
    /// it passes once `taken` reaches that count.
    barriers: VecDeque<(u64, ConnId)>,
    pushed: u64,
    taken: u64,
    /// Weight of `events` (see `Event::weight`).
    bytes: usize,
    /// Reported as over its bound and not reported as resumed since.
    held: bool,
    /// Marks an entry already counted by the `requeue` in progress.
    entering: bool,
}

impl Entry {
    fn is_idle(&self) -> bool {
        self.events.is_empty() && self.barriers.is_empty()
    }

    /// Moves the barriers whose events are all taken to `passed`.
    fn pass_barriers(&mut self, passed: &mut Vec<ConnId>) {
        while let Some(&(before, id)) = self.barriers.front() {
            if before > self.taken {
                break;
            }
            passed.push(id);
            self.barriers.pop_front();
        }
    }
}

#[derive(Default)]
pub(crate) struct FairQueue {
    /// Entry index by loop, then by slot (`ConnId::loop_index`, `slot`):
    /// four bytes per slot, no hashing.
    index: Vec<Vec<u32>>,
    entries: Vec<Entry>,
    /// Idle entries, kept with their buffers for reuse.
    free: Vec<u32>,
    /// Entries with events or barriers, in turn order.
    ring: VecDeque<u32>,
    events: usize,
    bytes: usize,
}

/// An idle entry keeps at most this capacity for the next connection.
const KEPT_CAPACITY: usize = 64;

impl FairQueue {
    /// Events queued (barriers not counted).
    pub(crate) fn events(&self) -> usize {
        self.events
    }

    /// Weight of the events queued (see `Event::weight`).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when nothing is queued, not even a barrier.
    pub(crate) fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Appends consecutive events of connection `id` behind its others. When
    /// the connection reaches `bounds` with them, its id is pushed to `held`
    /// (once, until `pop_into` reports it as resumed).
    /// `bytes` is their weight (see `Event::weight`).
    pub(crate) fn push_events(
        &mut self,
        id: ConnId,
        events: impl Iterator<Item = Event>,
        bytes: usize,
        bounds: ConnBounds,
        held: &mut Vec<ConnId>,
    ) {
        let at = self.enter(id);
        let entry = &mut self.entries[at as usize];
        let before = entry.events.len();
        entry.events.extend(events);
        let count = entry.events.len() - before;
        entry.pushed += count as u64;
        entry.bytes += bytes;
        self.events += count;
        self.bytes += bytes;
        if !entry.held && bounds.reached(entry.events.len(), entry.bytes) {
            entry.held = true;
            held.push(id);
        }
    }

    /// Appends a barrier behind connection `id`'s events: it passes once they
    /// are all taken (see `Batch::barrier`).
    pub(crate) fn push_barrier(&mut self, id: ConnId) {
        let at = self.enter(id);
        let entry = &mut self.entries[at as usize];
        entry.barriers.push_back((entry.pushed, id));
    }

    /// Moves up to `max` events to `out`, one per connection per turn: each
    /// from the connection whose turn it is, which then goes to the back of the
    /// ring. Barriers passed on the way (every event before them taken) go to
    /// `passed`; held connections this brings back under half of `bounds` go
    /// to `resumed`. Returns how many events it moved.
    pub(crate) fn pop_into(
        &mut self,
        out: &mut Vec<Event>,
        max: usize,
        bounds: ConnBounds,
        passed: &mut Vec<ConnId>,
        resumed: &mut Vec<ConnId>,
    ) -> usize {
        let mut n = 0;
        while n < max {
            let Some(at) = self.ring.pop_front() else {
                break;
            };
            let entry = &mut self.entries[at as usize];
            // Weighed where it lies: reading a field of the moved copy right
            // after the move stalls on the copy's unaligned stores.
            let Some(weight) = entry.events.front().map(Event::weight) else {
                // Only barriers were left: every event before them is taken.
                entry.pass_barriers(passed);
                self.release(at);
                continue;
            };
            entry.taken += 1;
            entry.bytes -= weight;
            self.bytes -= weight;
            if !entry.barriers.is_empty() {
                entry.pass_barriers(passed);
            }
            if entry.held {
                let closed = entry.events.front().is_some_and(
                    |event| matches!(event, Event::Close(close) if close.id == entry.id),
                );
                if closed {
                    entry.held = false; // nothing left to read
                } else if bounds.cleared(entry.events.len() - 1, entry.bytes) {
                    entry.held = false;
                    resumed.push(entry.id);
                }
            }
            // Straight from the connection's queue into `out`.
            out.extend(entry.events.pop_front());
            let idle = entry.is_idle();
            n += 1;
            if idle {
                self.release(at);
            } else {
                self.ring.push_back(at);
            }
        }
        self.events -= n;
        n
    }

    /// One event (see `pop_into`), for the tests.
    #[cfg(test)]
    pub(crate) fn pop(
        &mut self,
        bounds: ConnBounds,
        passed: &mut Vec<ConnId>,
        resumed: &mut Vec<ConnId>,
    ) -> Option<Event> {
        let mut out = Vec::new();
        self.pop_into(&mut out, 1, bounds, passed, resumed);
        out.pop()
    }

    /// Puts events taken by `pop_into` and not handled back, in front of their
    /// connections' other events. `events` is in the order they were taken;
    /// connections that had nothing left take the first turns, in that order.
    pub(crate) fn requeue(&mut self, events: Vec<Event>) {
        // Which connections re-enter the ring, in order of their first event.
        let mut entering = Vec::new();
        for event in &events {
            let at = self.entry_for(event.id());
            let entry = &mut self.entries[at as usize];
            if entry.is_idle() && !entry.entering {
                entry.entering = true;
                entering.push(at);
            }
        }
        for event in events.into_iter().rev() {
            let at = self.entry_for(event.id());
            let entry = &mut self.entries[at as usize];
            let weight = event.weight();
            // Untaken again: barriers behind it wait for it again.
            entry.taken = entry.taken.saturating_sub(1);
            entry.bytes += weight;
            self.events += 1;
            self.bytes += weight;
            entry.events.push_front(event);
        }
        for at in entering.into_iter().rev() {
            self.entries[at as usize].entering = false;
            self.ring.push_front(at);
        }
    }

    /// The entry that items of `id` go to, in the ring.
    fn enter(&mut self, id: ConnId) -> u32 {
        let at = self.entry_for(id);
        let entry = &mut self.entries[at as usize];
        if entry.is_idle() {
            self.ring.push_back(at);
        }
        if entry.id != id {
            // The slot's previous connection is gone: its hold means nothing now.
            entry.id = id;
            entry.held = false;
        }
        at
    }

    /// The entry for `id`'s slot, made (idle) if there is none.
    fn entry_for(&mut self, id: ConnId) -> u32 {
        let (l, slot) = (id.loop_index(), id.slot());
        if self.index.len() <= l {
            self.index.resize_with(l + 1, Vec::new);
        }
        let slots = &mut self.index[l];
        if slots.len() <= slot {
            slots.resize(slot + 1, NONE);
        }
        if slots[slot] != NONE {
            return slots[slot];
        }
        let at = match self.free.pop() {
            Some(at) => {
                let entry = &mut self.entries[at as usize];
                entry.id = id;
                entry.held = false;
                entry.pushed = 0;
                entry.taken = 0;
                at
            }
            None => {
                self.entries.push(Entry {
                    id,
                    events: VecDeque::new(),
                    barriers: VecDeque::new(),
                    pushed: 0,
                    taken: 0,
                    bytes: 0,
                    held: false,
                    entering: false,
                });
                (self.entries.len() - 1) as u32
            }
        };
        slots[slot] = at;
        at
    }

    /// Frees an idle entry.
    fn release(&mut self, at: u32) {
        let entry = &mut self.entries[at as usize];
        debug_assert!(entry.is_idle() && entry.bytes == 0);
        entry.events.shrink_to(KEPT_CAPACITY);
        self.index[entry.id.loop_index()][entry.id.slot()] = NONE;
        self.free.push(at);
    }
}

#[cfg(test)]
mod tests;
