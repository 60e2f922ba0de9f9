//! One loop turn's output for the application: its events in order, and the
//! barriers among them. Keeping the events in a plain `Vec<Event>` lets an
//! inline `wait` hand the whole batch to the caller by swapping vectors. What
//! comes back from the queue for the loop: the connections to stop reading.

use crate::bridge::event::Event;
use crate::bridge::id::ConnId;

/// Where `Batch::drain_into` puts a batch: the event queue.
pub(crate) trait Sink {
    fn barrier(&mut self, id: ConnId);
    /// Consecutive events of one connection, weighing `bytes` (see
    /// `Event::weight`); a connection that reaches its bound with them goes
    /// to `held`.
    fn events(
        &mut self,
        id: ConnId,
        events: impl Iterator<Item = Event>,
        bytes: usize,
        held: &mut Vec<ConnId>,
    );
}

#[derive(Default)]
pub(crate) struct Batch {
    pub events: Vec<Event>,
    /// Each barrier with the number of events before it.
    barriers: Vec<(usize, ConnId)>,
    /// Connections that reached their bound of unhandled events when the
    /// batch was queued (see `event_queue`), not yet taken by the loop.
    held: Vec<ConnId>,
    /// `drain_into`'s scratch: each run of one connection's events, with its
    /// length and weight.
    runs: Vec<(ConnId, usize, usize)>,
}

impl Batch {
    pub(crate) fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Marks that `id` may be closed once the application has handled the
    /// events pushed so far. A barrier marks the point after which a
    /// connection that broke the protocol may be closed: once the application
    /// asks for more events after taking every event of `id` before it, it has
    /// handled them, so the replies it sent go out before the close frame.
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
    pub(crate) fn take_held(&mut self) -> Vec<ConnId> {
        std::mem::take(&mut self.held)
    }

    /// Empties the batch into `sink`, barriers in their places among the
    /// events, consecutive events of one connection as one run.
    pub(crate) fn drain_into(&mut self, sink: &mut impl Sink) {
        // The runs first, by reference: events are then moved once, run by
        // run, and never read after a move (which would stall on the copy).
        let mut runs = std::mem::take(&mut self.runs);
        runs.clear();
        let mut barriers = self.barriers.iter().map(|&(before, _)| before).peekable();
        let mut last = None;
        for (at, event) in self.events.iter().enumerate() {
            let id = event.id();
            let after_barrier = barriers.next_if(|&before| before <= at).is_some();
            while barriers.next_if(|&before| before <= at).is_some() {}
            let weight = event.weight();
            match runs.last_mut() {
                Some((_, len, bytes)) if last == Some(id) && !after_barrier => {
                    *len += 1;
                    *bytes += weight;
                }
                _ => runs.push((id, 1, weight)),
            }
            last = Some(id);
        }
        let held = &mut self.held;
        let mut barriers = self.barriers.drain(..).peekable();
        let mut events = self.events.drain(..);
        let mut at = 0;
        for &(id, len, bytes) in &runs {
            while let Some((_, barrier)) = barriers.next_if(|&(before, _)| before <= at) {
                sink.barrier(barrier);
            }
            sink.events(id, events.by_ref().take(len), bytes, held);
            at += len;
        }
        for (_, id) in barriers {
            sink.barrier(id);
        }
        self.runs = runs;
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

    /// Writes what it is given as `e<slot>` for events, `b<slot>` for
    /// barriers, and `|` between runs.
    #[derive(Default)]
    struct Record(Vec<String>);

    impl Sink for Record {
        fn barrier(&mut self, id: ConnId) {
            self.0.push(format!("b{}", id.as_u64()));
        }
        fn events(
            &mut self,
            _: ConnId,
            events: impl Iterator<Item = Event>,
            _: usize,
            _: &mut Vec<ConnId>,
        ) {
            self.0.push("|".into());
            self.0
                .extend(events.map(|e| format!("e{}", e.id().as_u64())));
        }
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
        let mut order = Record::default();
        batch.drain_into(&mut order);
        assert_eq!(
            order.0,
            ["b1", "|", "e1", "|", "e2", "b2", "b1", "|", "e2", "b2"]
        );
        assert!(batch.is_empty());
    }

    #[test]
    fn runs_end_at_another_connection_or_a_barrier() {
        let (a, b) = (ConnId::from_u64(1), ConnId::from_u64(2));
        let mut batch = Batch::default();
        for id in [a, a, a, b, b, a] {
            batch.push(close(id));
        }
        batch.barrier(a);
        batch.push(close(a));
        batch.push(close(a));
        let mut order = Record::default();
        batch.drain_into(&mut order);
        let expected = [
            "|", "e1", "e1", "e1", "|", "e2", "e2", "|", "e1", "b1", "|", "e1", "e1",
        ];
        assert_eq!(order.0, expected);
    }
}
