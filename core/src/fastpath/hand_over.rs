//! Hands a batch of events to a `serve` handler one by one, giving each
//! message's buffer back to the pool after the call. A panic in the handler
//! puts the events not yet handled back at the front of the queue, and so does
//! a batch that has taken longer than `BUDGET`: with a slow handler, a take of
//! a thousand events would otherwise run for seconds in the order of that
//! take, and a connection whose first event arrived meanwhile would wait for
//! all of them. Requeued, they take turns again with the newcomers.

use std::panic::{self, AssertUnwindSafe};

use crate::bridge::event::{Event, Handler, Incoming};
use crate::bridge::event_queue::EventQueue;
use crate::fastpath::pool;

/// How long one batch may keep the handler busy before the rest goes back to
/// the queue. Short against the 250 ms a waiting connection may be kept
/// waiting under overload, long against one handler call.
const BUDGET_NS: u64 = 20_000_000;

/// The clock is read after every this many events: a coarse read costs a few
/// nanoseconds, against a few hundred for the cheapest handled event.
const CHECK_EVERY: usize = 4;

/// Hands events taken from the queue to `handler`, keeping their message
/// buffers for this thread's next sends. If the handler panics, or the batch
/// has run past its budget, the events left go back to the front of the queue
/// (before the panic goes on). Returns how many were handled.
pub(crate) fn hand_over(
    queue: &EventQueue,
    handler: Handler<'_>,
    events: &mut Vec<Event>,
) -> usize {
    let started = coarse_now_ns();
    let mut events = events.drain(..);
    let mut handled = 0;
    while let Some(event) = events.next() {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| handler(Incoming::from(&event))));
        if let Event::Message { data, .. } = event {
            pool::give(data);
        }
        if let Err(panic) = outcome {
            queue.requeue(events.collect());
            panic::resume_unwind(panic);
        }
        handled += 1;
        if handled % CHECK_EVERY == 0
            && events.len() > 0
            && coarse_now_ns().saturating_sub(started) > BUDGET_NS
        {
            queue.requeue(events.collect());
            break;
        }
    }
    handled
}

/// `CLOCK_MONOTONIC_COARSE` in nanoseconds: the last timer tick (a few ms of
/// resolution), read without touching the hardware clock, which is all a budget
/// of tens of milliseconds needs.
fn coarse_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec into a valid, owned value. It cannot fail for
    // this clock on Linux; if it did, `ts` stays 0 and the budget never expires.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::bridge::batch::Batch;
    use crate::bridge::event::MessageKind;
    use crate::bridge::id::ConnId;

    #[test]
    fn a_slow_handler_gives_the_rest_back_after_its_budget() {
        let queue = EventQueue::new(1 << 20, 1 << 30).unwrap();
        let id = ConnId::new(0, 1, 1);
        let mut batch = Batch::default();
        for n in 0..200u8 {
            batch.push(Event::Message {
                id,
                kind: MessageKind::Binary,
                data: vec![n],
            });
        }
        queue.push_batch(&mut batch, true);
        let mut events = Vec::new();
        queue.take(&mut events, 200, Some(Duration::ZERO));
        let mut seen = Vec::new();
        let started = Instant::now();
        let handled = hand_over(
            &queue,
            &mut |incoming| {
                if let Incoming::Message { data, .. } = incoming {
                    seen.push(data[0]);
                }
                std::thread::sleep(Duration::from_millis(1));
            },
            &mut events,
        );
        let took = started.elapsed();
        // 20 ms of budget, a few ms of clock resolution, at most 4 events past it.
        assert!(
            (10..100).contains(&handled),
            "handled {handled} in {took:?}"
        );
        assert_eq!(handled, seen.len());
        assert!(events.is_empty());
        // The rest is queued again, in order.
        queue.take(&mut events, 1000, Some(Duration::ZERO));
        let rest: Vec<u8> = events
            .iter()
            .map(|e| match e {
                Event::Message { data, .. } => data[0],
                _ => unreachable!(),
            })
            .collect();
        seen.extend(rest);
        assert_eq!(seen, (0..200).collect::<Vec<u8>>());
    }

    #[test]
    fn a_quick_batch_is_handled_whole() {
        let queue = EventQueue::new(1 << 20, 1 << 30).unwrap();
        let mut events: Vec<Event> = (0..1000u32)
            .map(|n| Event::Message {
                id: ConnId::new(0, 1 + n as usize % 7, 1),
                kind: MessageKind::Binary,
                data: vec![0; 8],
            })
            .collect();
        let handled = hand_over(&queue, &mut |_| {}, &mut events);
        assert_eq!(handled, 1000);
        assert!(queue.is_empty());
    }
}
