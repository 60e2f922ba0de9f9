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

/// What the loops queue: events, and barriers. A barrier marks the point after
/// which a connection that broke the protocol may be closed: once the
/// application asks for more events, it has handled every message before it,
/// so the replies it sent go out before the close frame.
pub(crate) enum Queued {
    Event(Event),
    Barrier(ConnId),
}

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

/// One connection's waiting items. An entry exists while it has items; it is
/// in the ring exactly then.
struct Entry {
    /// The connection the slot holds now. A slot's old connection can still
    /// have its last events here when a new one takes the slot: both share the
    /// entry, the old ones first (the loop queued them first).
    id: ConnId,
    items: VecDeque<Queued>,
    events: usize,
    bytes: usize,
    /// Reported as over its bound and not reported as resumed since.
    held: bool,
    /// Marks an entry already counted by the `requeue` in progress.
    entering: bool,
}

#[derive(Default)]
pub(crate) struct FairQueue {
    /// Entry index by loop, then by slot (`ConnId::loop_index`, `slot`):
    /// four bytes per slot, no hashing.
    index: Vec<Vec<u32>>,
    entries: Vec<Entry>,
    /// Entries without items, kept with their buffers for reuse.
    free: Vec<u32>,
    /// Connections with items, in turn order.
    ring: VecDeque<u32>,
    events: usize,
    bytes: usize,
}

/// An emptied connection queue keeps at most this capacity for the next one.
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

    /// Appends an item behind its connection's others. When the connection
    /// reaches `bounds` with it, its id is pushed to `held` (once, until it is
    /// reported as resumed by `pop`).
    pub(crate) fn push(&mut self, item: Queued, bounds: ConnBounds, held: &mut Vec<ConnId>) {
        let id = match &item {
            Queued::Event(event) => event.id(),
            Queued::Barrier(id) => *id,
        };
        let at = self.entry_for(id);
        let entry = &mut self.entries[at as usize];
        if entry.items.is_empty() {
            self.ring.push_back(at);
        }
        if entry.id != id {
            // The slot's previous connection is gone: its hold means nothing now.
            entry.id = id;
            entry.held = false;
        }
        if let Queued::Event(event) = &item {
            let weight = event.weight();
            entry.events += 1;
            entry.bytes += weight;
            self.events += 1;
            self.bytes += weight;
            if !entry.held && bounds.reached(entry.events, entry.bytes) {
                entry.held = true;
                held.push(id);
            }
        }
        entry.items.push_back(item);
    }

    /// Takes the next event in turn: the first of the connection whose turn it
    /// is, which then goes to the back of the ring. Barriers passed on the way
    /// (every event before them taken) go to `passed`; a held connection that
    /// this brings back under half of `bounds` goes to `resumed`.
    pub(crate) fn pop(
        &mut self,
        bounds: ConnBounds,
        passed: &mut Vec<ConnId>,
        resumed: &mut Vec<ConnId>,
    ) -> Option<Event> {
        while let Some(at) = self.ring.pop_front() {
            let entry = &mut self.entries[at as usize];
            pass_barriers(&mut entry.items, passed);
            let Some(Queued::Event(event)) = entry.items.pop_front() else {
                // Only barriers were left.
                self.release(at);
                continue;
            };
            let weight = event.weight();
            entry.events -= 1;
            entry.bytes -= weight;
            self.events -= 1;
            self.bytes -= weight;
            pass_barriers(&mut entry.items, passed);
            if entry.held {
                if matches!(&event, Event::Close(close) if close.id == entry.id) {
                    entry.held = false; // closed: nothing left to read
                } else if bounds.cleared(entry.events, entry.bytes) {
                    entry.held = false;
                    resumed.push(entry.id);
                }
            }
            if entry.items.is_empty() {
                self.release(at);
            } else {
                self.ring.push_back(at);
            }
            return Some(event);
        }
        None
    }

    /// Puts events taken by `pop` and not handled back, in front of their
    /// connections' other items. `events` is in the order `pop` gave them;
    /// connections that had nothing left take the first turns, in that order.
    pub(crate) fn requeue(&mut self, events: Vec<Event>) {
        // Which connections re-enter the ring, in order of their first event.
        let mut entering = Vec::new();
        for event in &events {
            let at = self.entry_for(event.id());
            let entry = &mut self.entries[at as usize];
            if entry.items.is_empty() && !entry.entering {
                entry.entering = true;
                entering.push(at);
            }
        }
        for event in events.into_iter().rev() {
            let at = self.entry_for(event.id());
            let entry = &mut self.entries[at as usize];
            let weight = event.weight();
            entry.events += 1;
            entry.bytes += weight;
            self.events += 1;
            self.bytes += weight;
            entry.items.push_front(Queued::Event(event));
        }
        for at in entering.into_iter().rev() {
            self.entries[at as usize].entering = false;
            self.ring.push_front(at);
        }
    }

    /// The entry for `id`'s slot, made (without items) if there is none.
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
                at
            }
            None => {
                self.entries.push(Entry {
                    id,
                    items: VecDeque::new(),
                    events: 0,
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

    /// Frees an entry whose items are all taken.
    fn release(&mut self, at: u32) {
        let entry = &mut self.entries[at as usize];
        debug_assert!(entry.items.is_empty() && entry.events == 0);
        entry.items.shrink_to(KEPT_CAPACITY);
        self.index[entry.id.loop_index()][entry.id.slot()] = NONE;
        self.free.push(at);
    }
}

fn pass_barriers(items: &mut VecDeque<Queued>, passed: &mut Vec<ConnId>) {
    while let Some(Queued::Barrier(id)) = items.front() {
        passed.push(*id);
        items.pop_front();
    }
}

#[cfg(test)]
mod tests;
