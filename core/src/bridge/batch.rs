//! One loop turn's output for the application: its events in order, and the
//! barriers among them. Keeping the events in a plain `Vec<Event>` lets an
//! inline `wait` hand the whole batch to the caller by swapping vectors. What
//! comes back from the queue for the loop: the connections to stop reading.

use crate::bridge::event::Event;
use crate::bridge::fair_queue::Queued;
use crate::bridge::id::ConnId;

#[derive(Default)]
pub(crate) struct Batch {
    pub events: Vec<Event>,
    /// Each barrier with the number of events before it.
    barriers: Vec<(usize, ConnId)>,
    /// Connections that reached their bound of unhandled events when the
    /// batch was queued (see `event_queue`), not yet taken by the loop.
    held: Vec<ConnId>,
}

impl Batch {
    pub(crate) fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Marks that `id` may be closed once the application has handled the
    /// events pushed so far (see `Queued::Barrier`).
    pub(crate) fn barrier(&mut self, id: ConnId) {
        self.barriers.push((self.events.len(), id));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty() && self.barriers.is_empty()
    }

    /// Connections the queue reported as over their bound since the last
    /// call: the loop must stop reading each until the application asks it to
    /// resume (`Taken::resume_conns`). Call after every push of the batch.
    // Until the loops act on it, only the tests read it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn take_held(&mut self) -> Vec<ConnId> {
        std::mem::take(&mut self.held)
    }

    /// Empties the batch into `sink`, barriers in their places among the
    /// events; `sink` may report held connections into its second argument.
    pub(crate) fn drain_into(&mut self, mut sink: impl FnMut(Queued, &mut Vec<ConnId>)) {
        let held = &mut self.held;
        let mut barriers = self.barriers.drain(..).peekable();
        for (i, event) in self.events.drain(..).enumerate() {
            while let Some((_, id)) = barriers.next_if(|&(before, _)| before <= i) {
                sink(Queued::Barrier(id), held);
            }
            sink(Queued::Event(event), held);
        }
        for (_, id) in barriers {
            sink(Queued::Barrier(id), held);
        }
    }

    /// Swaps the events into an empty `out`, returning the barriers' connections.
    pub(crate) fn swap_into(&mut self, out: &mut Vec<Event>) -> impl Iterator<Item = ConnId> + '_ {
        debug_assert!(out.is_empty());
        std::mem::swap(out, &mut self.events);
        self.barriers.drain(..).map(|(_, id)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::event::Close;

    fn close(id: ConnId) -> Event {
        Event::Close(Close {
            id,
            code: 1000,
            reason: String::new(),
            clean: true,
        })
    }

    #[test]
    fn barriers_keep_their_places() {
        let (a, b) = (ConnId::from_u64(1), ConnId::from_u64(2));
        let mut batch = Batch::default();
        batch.barrier(a);
        batch.push(close(a));
        batch.push(close(b));
        batch.barrier(b);
        batch.barrier(a);
        batch.push(close(b));
        batch.barrier(b);
        let mut order = Vec::new();
        batch.drain_into(|q, _| {
            order.push(match q {
                Queued::Event(e) => format!("e{}", e.id().as_u64()),
                Queued::Barrier(id) => format!("b{}", id.as_u64()),
            })
        });
        assert_eq!(order, ["b1", "e1", "e2", "b2", "b1", "e2", "b2"]);
        assert!(batch.is_empty());
    }
}
