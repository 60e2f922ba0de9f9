use proptest::prelude::*;

use super::*;
use crate::bridge::event::{Close, MessageKind};

/// What the tests queue: an event, or a barrier.
enum Queued {
    Event(Event),
    Barrier(ConnId),
}

fn push(queue: &mut FairQueue, item: Queued, bounds: ConnBounds, held: &mut Vec<ConnId>) {
    match item {
        Queued::Event(event) => {
            let (id, bytes) = (event.id(), event.weight());
            queue.push_events(id, std::iter::once(event), bytes, bounds, held)
        }
        Queued::Barrier(id) => queue.push_barrier(id),
    }
}

const ROOMY: ConnBounds = ConnBounds {
    events: usize::MAX,
    bytes: usize::MAX,
};

fn conn(slot: usize) -> ConnId {
    ConnId::new(0, slot, 1)
}

fn msg(id: ConnId, n: u8) -> Queued {
    Queued::Event(Event::Message {
        id,
        kind: MessageKind::Binary,
        data: vec![n],
    })
}

fn close(id: ConnId) -> Queued {
    Queued::Event(Event::Close(Close {
        id,
        code: 1000,
        reason: String::new(),
        clean: true,
    }))
}

/// `slot:n` for a message, `slot:close` for a close.
fn name(event: &Event) -> String {
    match event {
        Event::Message { id, data, .. } => format!("{}:{}", id.slot(), data[0]),
        Event::Close(c) => format!("{}:close", c.id.slot()),
        Event::Open(o) => format!("{}:open", o.id.slot()),
    }
}

fn push_all(queue: &mut FairQueue, items: Vec<Queued>, bounds: ConnBounds) -> Vec<ConnId> {
    let mut held = Vec::new();
    for item in items {
        push(queue, item, bounds, &mut held);
    }
    held
}

/// Pops everything: the events' names, the barriers passed, the resumed.
fn pop_all(queue: &mut FairQueue, bounds: ConnBounds) -> (Vec<String>, Vec<ConnId>, Vec<ConnId>) {
    let (mut names, mut passed, mut resumed) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(event) = queue.pop(bounds, &mut passed, &mut resumed) {
        names.push(name(&event));
    }
    (names, passed, resumed)
}

#[test]
fn connections_take_turns_and_keep_their_order() {
    let (a, b, c) = (conn(1), conn(2), conn(3));
    let mut queue = FairQueue::default();
    push_all(
        &mut queue,
        vec![
            msg(a, 1),
            msg(a, 2),
            msg(a, 3),
            msg(b, 1),
            msg(b, 2),
            msg(c, 1),
        ],
        ROOMY,
    );
    assert_eq!((queue.events(), queue.is_empty()), (6, false));
    let (names, _, _) = pop_all(&mut queue, ROOMY);
    assert_eq!(names, ["1:1", "2:1", "3:1", "1:2", "2:2", "1:3"]);
    assert_eq!(
        (queue.events(), queue.bytes(), queue.is_empty()),
        (0, 0, true)
    );
}

#[test]
fn a_newcomer_waits_one_turn_behind_a_flood() {
    let (flood, newcomer) = (conn(1), conn(2));
    let mut queue = FairQueue::default();
    let flood_items = (0..100).map(|n| msg(flood, n)).collect();
    push_all(&mut queue, flood_items, ROOMY);
    let (mut passed, mut resumed) = (Vec::new(), Vec::new());
    queue.pop(ROOMY, &mut passed, &mut resumed);
    push_all(&mut queue, vec![msg(newcomer, 0)], ROOMY);
    let next: Vec<String> = (0..2)
        .filter_map(|_| queue.pop(ROOMY, &mut passed, &mut resumed))
        .map(|e| name(&e))
        .collect();
    assert_eq!(next, ["1:1", "2:0"]);
}

#[test]
fn barriers_pass_once_the_events_before_them_are_taken() {
    let (a, b, c) = (conn(1), conn(2), conn(3));
    let mut queue = FairQueue::default();
    let items = vec![
        msg(a, 1),
        Queued::Barrier(a),
        msg(a, 2),
        Queued::Barrier(b),
        msg(b, 1),
        Queued::Barrier(c),
    ];
    push_all(&mut queue, items, ROOMY);
    let (mut passed, mut resumed) = (Vec::new(), Vec::new());
    // a's barrier follows its first message: taking that message passes it.
    let first = queue
        .pop(ROOMY, &mut passed, &mut resumed)
        .map(|e| name(&e));
    assert_eq!(first.as_deref(), Some("1:1"));
    assert_eq!(passed, [a]);
    // b's barrier comes before its message: passed on b's turn.
    let second = queue
        .pop(ROOMY, &mut passed, &mut resumed)
        .map(|e| name(&e));
    assert_eq!(second.as_deref(), Some("2:1"));
    assert_eq!(passed, [a, b]);
    // c has only a barrier: passed on its turn, which yields no event.
    let third = queue
        .pop(ROOMY, &mut passed, &mut resumed)
        .map(|e| name(&e));
    assert_eq!(third.as_deref(), Some("1:2"));
    assert_eq!(passed, [a, b, c]);
    assert!(queue.is_empty());
}

#[test]
fn a_barrier_alone_keeps_the_queue_non_empty_until_passed() {
    let a = conn(1);
    let mut queue = FairQueue::default();
    push_all(&mut queue, vec![Queued::Barrier(a)], ROOMY);
    assert!(!queue.is_empty());
    assert_eq!(queue.events(), 0);
    let (names, passed, _) = pop_all(&mut queue, ROOMY);
    assert!(names.is_empty());
    assert_eq!(passed, [a]);
    assert!(queue.is_empty());
}

#[test]
fn a_connection_is_held_at_its_event_bound_and_resumed_at_half() {
    let bounds = ConnBounds {
        events: 4,
        bytes: usize::MAX,
    };
    let (a, b) = (conn(1), conn(2));
    let mut queue = FairQueue::default();
    let held = push_all(&mut queue, vec![msg(a, 1), msg(a, 2), msg(a, 3)], bounds);
    assert!(held.is_empty(), "3 of 4");
    let held = push_all(&mut queue, vec![msg(a, 4), msg(a, 5), msg(b, 1)], bounds);
    assert_eq!(held, [a], "reported once, when the bound is reached");
    let (mut passed, mut resumed) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        queue.pop(bounds, &mut passed, &mut resumed); // a1 b1 a2
    }
    assert!(resumed.is_empty(), "3 left, more than half of 4");
    queue.pop(bounds, &mut passed, &mut resumed); // a3
    assert_eq!(resumed, [a], "2 left: half");
    // Held again when it reaches the bound again.
    let held = push_all(&mut queue, vec![msg(a, 6), msg(a, 7)], bounds);
    assert_eq!(held, [a]);
}

#[test]
fn a_connection_is_held_at_its_byte_bound() {
    let a = conn(1);
    let big = |n| {
        Queued::Event(Event::Message {
            id: a,
            kind: MessageKind::Binary,
            data: vec![n; 1000],
        })
    };
    // Each weighs 1064 bytes: the third reaches 3000.
    let bounds = ConnBounds {
        events: usize::MAX,
        bytes: 3000,
    };
    let mut queue = FairQueue::default();
    assert!(push_all(&mut queue, vec![big(1), big(2)], bounds).is_empty());
    assert_eq!(push_all(&mut queue, vec![big(3)], bounds), [a]);
    assert_eq!(queue.bytes(), 3 * 1064);
    let (mut passed, mut resumed) = (Vec::new(), Vec::new());
    queue.pop(bounds, &mut passed, &mut resumed);
    assert!(resumed.is_empty(), "2128 bytes: more than half");
    queue.pop(bounds, &mut passed, &mut resumed);
    assert_eq!(resumed, [a], "1064 bytes: under half");
}

#[test]
fn a_single_message_over_the_byte_bound_holds_its_connection_until_taken() {
    let a = conn(1);
    let bounds = ConnBounds {
        events: 256,
        bytes: 100,
    };
    let mut queue = FairQueue::default();
    assert_eq!(push_all(&mut queue, vec![msg(a, 1)], ROOMY), []);
    let mut held = Vec::new();
    let item = Queued::Event(Event::Message {
        id: a,
        kind: MessageKind::Binary,
        data: vec![0; 500],
    });
    push(&mut queue, item, bounds, &mut held);
    assert_eq!(held, [a]);
    let (names, _, resumed) = pop_all(&mut queue, bounds);
    assert_eq!(names.len(), 2);
    assert_eq!(resumed, [a]);
}

#[test]
fn a_held_connection_that_closes_is_not_resumed() {
    let a = conn(1);
    // Held at 1 event, resumed at 0: the close is what brings it there.
    let bounds = ConnBounds {
        events: 1,
        bytes: usize::MAX,
    };
    let mut queue = FairQueue::default();
    let held = push_all(&mut queue, vec![msg(a, 1), close(a)], bounds);
    assert_eq!(held, [a]);
    let (names, _, resumed) = pop_all(&mut queue, bounds);
    assert_eq!(names, ["1:1", "1:close"]);
    assert!(resumed.is_empty(), "closed: nothing left to read");
    // Held at 2, resumed at 1: before its close is taken.
    let bounds = ConnBounds {
        events: 2,
        bytes: usize::MAX,
    };
    let held = push_all(&mut queue, vec![msg(a, 1), msg(a, 2), close(a)], bounds);
    assert_eq!(held, [a]);
    let (_, _, resumed) = pop_all(&mut queue, bounds);
    assert_eq!(resumed, [a]);
}

#[test]
fn requeued_events_go_back_in_front_of_their_connection() {
    let (a, b, c) = (conn(1), conn(2), conn(3));
    let mut queue = FairQueue::default();
    push_all(
        &mut queue,
        vec![msg(a, 1), msg(a, 2), msg(a, 3), msg(b, 1), msg(c, 1)],
        ROOMY,
    );
    let (mut passed, mut resumed) = (Vec::new(), Vec::new());
    let taken: Vec<Event> = (0..4)
        .filter_map(|_| queue.pop(ROOMY, &mut passed, &mut resumed))
        .collect();
    let names: Vec<String> = taken.iter().map(name).collect();
    assert_eq!(names, ["1:1", "2:1", "3:1", "1:2"]);
    // The first two were handled; c1 and a2 come back.
    let events_before = queue.events();
    queue.requeue(taken.into_iter().skip(2).collect());
    assert_eq!(queue.events(), events_before + 2);
    let (names, _, _) = pop_all(&mut queue, ROOMY);
    assert_eq!(names, ["3:1", "1:2", "1:3"]);
}

#[test]
fn requeue_keeps_the_order_of_first_turns() {
    let (a, b, c) = (conn(1), conn(2), conn(3));
    let mut queue = FairQueue::default();
    push_all(
        &mut queue,
        vec![msg(a, 1), msg(b, 1), msg(a, 2), msg(c, 1)],
        ROOMY,
    );
    let (names, _, _) = pop_all(&mut queue, ROOMY);
    assert_eq!(names, ["1:1", "2:1", "3:1", "1:2"]);
    let events = [msg(a, 1), msg(b, 1), msg(c, 1), msg(a, 2)]
        .into_iter()
        .map(|q| match q {
            Queued::Event(e) => e,
            Queued::Barrier(_) => unreachable!(),
        })
        .collect();
    queue.requeue(events);
    let (names, _, _) = pop_all(&mut queue, ROOMY);
    assert_eq!(names, ["1:1", "2:1", "3:1", "1:2"]);
}

#[test]
fn a_reused_slot_delivers_the_old_connection_first_and_drops_its_hold() {
    let bounds = ConnBounds {
        events: 2,
        bytes: usize::MAX,
    };
    let old = ConnId::new(0, 5, 1);
    let new = ConnId::new(0, 5, 2);
    let other = ConnId::new(1, 5, 1); // same slot, another loop
    let mut queue = FairQueue::default();
    let held = push_all(
        &mut queue,
        vec![msg(old, 1), msg(old, 2), close(old)],
        bounds,
    );
    assert_eq!(held, [old]);
    let held = push_all(&mut queue, vec![msg(other, 1), msg(new, 1)], bounds);
    assert_eq!(
        held,
        [new],
        "the slot's count carries over, reported for the new id"
    );
    let mut order = Vec::new();
    let (mut passed, mut resumed) = (Vec::new(), Vec::new());
    while let Some(e) = queue.pop(bounds, &mut passed, &mut resumed) {
        order.push((e.id(), name(&e)));
    }
    let for_slot: Vec<_> = order
        .iter()
        .filter(|(id, _)| id.loop_index() == 0)
        .collect();
    assert_eq!(
        for_slot.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        ["5:1", "5:2", "5:close", "5:1"]
    );
    assert_eq!(for_slot[3].0, new);
    assert_eq!(resumed, [new], "never the old id");
}

#[test]
fn emptied_entries_are_reused() {
    let mut queue = FairQueue::default();
    for round in 0..100u8 {
        let items = (0..10).map(|slot| msg(ConnId::new(0, slot, 1 + u32::from(round)), round));
        push_all(&mut queue, items.collect(), ROOMY);
        pop_all(&mut queue, ROOMY);
    }
    assert_eq!(queue.entries.len(), 10);
}

proptest! {
    /// Random pushes and pops on a few connections: each connection's events
    /// come out in order, none is lost, and while a connection is waiting no
    /// other takes two turns before it takes one.
    #[test]
    fn order_and_turns_hold(ops in prop::collection::vec((0usize..5, 0usize..4), 1..400)) {
        let mut queue = FairQueue::default();
        let mut sent = [0u32; 5];
        let mut received = [0u32; 5];
        // Turns each connection saw others take since its own last turn.
        let mut others_since: Vec<std::collections::HashMap<usize, u32>> =
            vec![Default::default(); 5];
        let (mut passed, mut resumed, mut held) = (Vec::new(), Vec::new(), Vec::new());
        for (slot, action) in ops {
            if action < 2 {
                let id = conn(slot + 1);
                let data = sent[slot].to_le_bytes().to_vec();
                sent[slot] += 1;
                let event = Event::Message { id, kind: MessageKind::Binary, data };
                let bytes = event.weight();
                queue.push_events(id, std::iter::once(event), bytes, ROOMY, &mut held);
            } else {
                let Some(event) = queue.pop(ROOMY, &mut passed, &mut resumed) else {
                    prop_assert!(queue.is_empty());
                    continue;
                };
                let Event::Message { id, data, .. } = &event else { unreachable!() };
                let s = id.slot() - 1;
                let n = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                prop_assert_eq!(n, received[s]);
                received[s] += 1;
                others_since[s].clear();
                for (other, seen) in others_since.iter_mut().enumerate() {
                    if other != s && received[other] < sent[other] {
                        let turns = seen.entry(s).or_insert(0);
                        *turns += 1;
                        prop_assert!(*turns <= 1, "{} took two turns while {} waited", s, other);
                    }
                }
            }
            let waiting: u32 = sent.iter().zip(&received).map(|(s, r)| s - r).sum();
            prop_assert_eq!(queue.events(), waiting as usize);
        }
    }
}
