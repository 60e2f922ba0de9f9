//! One loop turn's output for the application: its events in order, and the
//! barriers among them. Keeping the events in a plain `Vec<Event>` lets an
//! inline `wait` hand the whole batch to the caller by swapping vectors.

use crate::bridge::event::Event;
use crate::bridge::event_queue::Queued;
use crate::bridge::id::ConnId;

#[derive(Default)]
pub(crate) struct Batch {
    pub events: Vec<Event>,
    /// Each barrier with the number of events before it.
    barriers: Vec<(usize, ConnId)>,
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

    /// Empties the batch into `sink`, barriers in their places among the events.
    pub(crate) fn drain_into(&mut self, mut sink: impl FnMut(Queued)) {
        let mut barriers = self.barriers.drain(..).peekable();
        for (i, event) in self.events.drain(..).enumerate() {
            while let Some((_, id)) = barriers.next_if(|&(before, _)| before <= i) {
                sink(Queued::Barrier(id));
            }
            sink(Queued::Event(event));
        }
        for (_, id) in barriers {
            sink(Queued::Barrier(id));
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
        batch.drain_into(|q| {
            order.push(match q {
                Queued::Event(e) => format!("e{}", e.id().as_u64()),
                Queued::Barrier(id) => format!("b{}", id.as_u64()),
            })
        });
        assert_eq!(order, ["b1", "e1", "e2", "b2", "b1", "e2", "b2"]);
        assert!(batch.is_empty());
    }
}
