use std::time::Duration;

use super::*;
use crate::bridge::event::MessageKind;

fn conn(slot: usize) -> ConnId {
    ConnId::new(0, slot, 1)
}

fn msg(id: ConnId, n: u8) -> Event {
    Event::Message {
        id,
        kind: MessageKind::Binary,
        data: vec![n],
    }
}

fn name(event: &Event) -> String {
    match event {
        Event::Message { id, data, .. } => format!("{}:{}", id.slot(), data[0]),
        other => format!("{}:other", other.id().slot()),
    }
}

fn names(events: &[Event]) -> Vec<String> {
    events.iter().map(name).collect()
}

fn batch_of(events: impl IntoIterator<Item = Event>) -> Batch {
    let mut batch = Batch::default();
    for event in events {
        batch.push(event);
    }
    batch
}

fn queue(conn_events: usize) -> EventQueue {
    let bounds = ConnBounds {
        events: conn_events,
        bytes: usize::MAX,
    };
    EventQueue::with_conn_bounds(1 << 20, 1 << 30, bounds).unwrap()
}

const NOW: Option<Duration> = Some(Duration::ZERO);

#[test]
fn takes_give_connections_turns_and_release_barriers_on_the_next_take() {
    let (a, b) = (conn(1), conn(2));
    let queue = queue(1000);
    let mut batch = batch_of([msg(a, 1), msg(a, 2), msg(a, 3)]);
    batch.barrier(a);
    batch.push(msg(b, 1));
    queue.push_batch(&mut batch, true);
    let mut out = Vec::new();
    let taken = queue.take(&mut out, 3, NOW);
    assert_eq!(names(&out), ["1:1", "2:1", "1:2"]);
    assert_eq!((taken.count, taken.release.len()), (3, 0));
    out.clear();
    let taken = queue.take(&mut out, 3, NOW);
    assert_eq!(names(&out), ["1:3"]);
    assert!(
        taken.release.is_empty(),
        "passed now, released by the next take"
    );
    assert!(queue.has_passed_barriers());
    let taken = queue.take(&mut out, 3, NOW);
    assert_eq!((taken.count, taken.release), (0, vec![a]));
    assert!(queue.is_empty());
}

#[test]
fn a_push_reports_held_connections_and_a_take_the_ones_to_resume() {
    let (a, b) = (conn(1), conn(2));
    let queue = queue(4);
    let mut batch = batch_of((1..=5).map(|n| msg(a, n)).chain([msg(b, 1)]));
    queue.push_batch(&mut batch, true);
    assert_eq!(batch.take_held(), [a]);
    assert!(batch.take_held().is_empty(), "taken once");
    let mut out = Vec::new();
    let taken = queue.take(&mut out, 3, NOW); // a1 b1 a2: a has 3 left
    assert!(taken.resume_conns.is_empty());
    assert!(!taken.resume, "the overall bound was never reached");
    let taken = queue.take(&mut out, 1, NOW); // a3: 2 left, half of 4
    assert_eq!(taken.resume_conns, [a]);
    let taken = queue.take(&mut out, 10, NOW);
    assert!(taken.resume_conns.is_empty(), "reported once");
    // Held reports accumulate in the batch until the loop takes them.
    let mut batch = batch_of((1..=4).map(|n| msg(a, n)));
    queue.push_batch(&mut batch, false);
    let mut more = batch_of((1..=4).map(|n| msg(b, n)));
    more.push(msg(a, 5));
    std::mem::swap(&mut batch.events, &mut more.events);
    queue.push_batch(&mut batch, true);
    assert_eq!(batch.take_held(), [a, b]);
}

#[test]
fn requeued_events_come_back_first_and_a_newcomer_gets_the_next_turn() {
    let (flood, newcomer) = (conn(1), conn(2));
    let queue = queue(1000);
    queue.push_batch(&mut batch_of((0..100).map(|n| msg(flood, n))), true);
    let mut out = Vec::new();
    queue.take(&mut out, 50, NOW);
    // Ten handled, forty put back.
    queue.requeue(out.split_off(10));
    queue.push_batch(&mut batch_of([msg(newcomer, 0)]), true);
    out.clear();
    queue.take(&mut out, 3, NOW);
    assert_eq!(names(&out), ["1:10", "2:0", "1:11"]);
}

#[test]
fn push_and_take_swaps_a_batch_when_nothing_older_waits_and_interleaves_otherwise() {
    let (a, b) = (conn(1), conn(2));
    let queue = queue(1000);
    let mut out = Vec::new();
    let taken = queue.push_and_take(&mut batch_of([msg(a, 1), msg(a, 2)]), &mut out, 10);
    assert_eq!(
        (taken.count, names(&out)),
        (2, vec!["1:1".into(), "1:2".into()])
    );
    out.clear();
    // More than asked for: the rest waits, and takes turns with what comes next.
    let taken = queue.push_and_take(&mut batch_of((1..=4).map(|n| msg(a, n))), &mut out, 1);
    assert_eq!((taken.count, names(&out)), (1, vec!["1:1".into()]));
    out.clear();
    let mut batch = batch_of([msg(b, 1), msg(b, 2)]);
    let taken = queue.push_and_take(&mut batch, &mut out, 4);
    assert_eq!(taken.count, 4);
    assert_eq!(names(&out), ["1:2", "2:1", "1:3", "2:2"]);
}

#[test]
fn the_overall_bound_still_stops_every_read_until_half() {
    let queue = EventQueue::with_conn_bounds(4, 1 << 30, DEFAULT_CONN_BOUNDS).unwrap();
    let batch = (1..=4).map(|slot| msg(conn(slot), 0));
    queue.push_batch(&mut batch_of(batch), true);
    assert!(queue.is_full());
    let mut out = Vec::new();
    assert!(
        !queue.take(&mut out, 2, NOW).resume,
        "2 left: not under half"
    );
    assert!(queue.is_full());
    assert!(queue.take(&mut out, 1, NOW).resume);
    assert!(!queue.is_full());
}

#[test]
fn a_take_waits_for_a_push_from_another_thread() {
    let queue = std::sync::Arc::new(queue(1000));
    let pusher = std::sync::Arc::clone(&queue);
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        pusher.push_batch(&mut batch_of([msg(conn(1), 7)]), true);
    });
    let mut out = Vec::new();
    let taken = queue.take(&mut out, 10, Some(Duration::from_secs(10)));
    assert_eq!((taken.count, names(&out)), (1, vec!["1:7".into()]));
    thread.join().unwrap();
}

#[test]
fn default_conn_bounds_leave_room_for_many_flooding_connections() {
    // 256 connections at their bound fit under the default overall bounds.
    let overall_events = 65536;
    let overall_bytes = 64 << 20;
    assert!(256 * DEFAULT_CONN_BOUNDS.events <= overall_events);
    assert!(256 * DEFAULT_CONN_BOUNDS.bytes <= overall_bytes);
}
