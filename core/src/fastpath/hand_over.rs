//! Hands a batch of events to a `serve` handler one by one, giving each
//! message's buffer back to the pool after the call. A panic in the handler
//! puts the events not yet handled back at the front of the queue.

use std::panic::{self, AssertUnwindSafe};

use crate::bridge::event::{Event, Handler, Incoming};
use crate::bridge::event_queue::EventQueue;
use crate::fastpath::pool;

/// Hands events taken from the queue to `handler`, keeping their message
/// buffers for this thread's next sends. If the handler panics, the events
/// after that one go back to the front of the queue before the panic goes on.
pub(crate) fn hand_over(queue: &EventQueue, handler: Handler<'_>, events: &mut Vec<Event>) {
    let mut events = events.drain(..);
    while let Some(event) = events.next() {
        let handled = panic::catch_unwind(AssertUnwindSafe(|| handler(Incoming::from(&event))));
        if let Event::Message { data, .. } = event {
            pool::give(data);
        }
        if let Err(panic) = handled {
            queue.requeue(events.collect());
            panic::resume_unwind(panic);
        }
    }
}
