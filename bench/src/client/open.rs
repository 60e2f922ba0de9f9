//! Opens many connections at once: connects and handshakes with bounded
//! concurrency and a deadline, retrying a failed attempt a few times.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use super::conn::Conn;
use super::socket::Sources;
use crate::target::Target;

const ATTEMPTS: u8 = 3;

pub struct OpenSpec<'a> {
    pub target: &'a Target,
    pub count: usize,
    /// Connections connecting or handshaking at the same time.
    pub concurrency: usize,
    pub sources: Sources,
    /// Free space per read, per connection.
    pub chunk: usize,
    pub max_message: usize,
    pub deadline: Instant,
    pub seed: u64,
}

pub struct Opened {
    /// Open connections; connection `i` is registered with `Token(i)`,
    /// readable and writable, edge-triggered.
    pub conns: Vec<Conn>,
    pub failed: usize,
    pub first_error: Option<String>,
}

pub fn open_all(poll: &mut Poll, spec: &OpenSpec) -> Opened {
    let mut slots: Vec<Option<Conn>> = (0..spec.count).map(|_| None).collect();
    let mut attempts = vec![0u8; spec.count];
    let mut queue: VecDeque<usize> = (0..spec.count).collect();
    let mut in_progress = 0usize;
    let mut opened = 0usize;
    let mut tally = Tally::default();
    let mut events = Events::with_capacity(1024);
    while opened + tally.failed < spec.count {
        let now = Instant::now();
        if now >= spec.deadline {
            break;
        }
        while in_progress < spec.concurrency.max(1) {
            let Some(i) = queue.pop_front() else { break };
            attempts[i] += 1;
            let source = spec.sources.for_index(spec.target.addr, i as u64);
            let seed = spec
                .seed
                .wrapping_add((i as u64) << 8 | u64::from(attempts[i]));
            let started = Conn::start(spec.target, source, seed, spec.chunk, spec.max_message)
                .and_then(|mut c| {
                    poll.registry().register(
                        &mut c.stream,
                        Token(i),
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    Ok(c)
                });
            match started {
                Ok(c) => {
                    slots[i] = Some(c);
                    in_progress += 1;
                }
                Err(e) => tally.retry_or_fail(i, format!("connect: {e}"), &mut queue, &attempts),
            }
        }
        let wait = spec
            .deadline
            .saturating_duration_since(now)
            .min(Duration::from_millis(100));
        if poll.poll(&mut events, Some(wait)).is_err() {
            continue;
        }
        for event in events.iter() {
            let i = event.token().0;
            let Some(conn) = slots.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            let was_open = conn.poll_handshake().unwrap_or(false);
            match drive(conn) {
                Ok(true) if !was_open => {
                    opened += 1;
                    in_progress -= 1;
                }
                Ok(_) => {}
                Err(e) => {
                    if let Some(mut c) = slots[i].take() {
                        let _ = poll.registry().deregister(&mut c.stream);
                    }
                    if was_open {
                        // Lost after opening: it will not be retried.
                        opened -= 1;
                        tally.failed += 1;
                        tally.first_error.get_or_insert(e);
                    } else {
                        in_progress -= 1;
                        tally.retry_or_fail(i, e, &mut queue, &attempts);
                    }
                }
            }
        }
    }
    // Whatever is still handshaking at the deadline has failed.
    for slot in slots.iter_mut() {
        if slot
            .as_ref()
            .is_some_and(|c| c.phase != super::conn::Phase::Open)
        {
            if let Some(mut c) = slot.take() {
                let _ = poll.registry().deregister(&mut c.stream);
            }
            tally.failed += 1;
            tally
                .first_error
                .get_or_insert_with(|| "handshake not done by the deadline".into());
        }
    }
    // Never started before the deadline.
    tally.failed += queue.len();
    let conns = compact(poll, slots);
    Opened {
        conns,
        failed: tally.failed,
        first_error: tally.first_error,
    }
}

#[derive(Default)]
struct Tally {
    failed: usize,
    first_error: Option<String>,
}

impl Tally {
    fn retry_or_fail(&mut self, i: usize, e: String, queue: &mut VecDeque<usize>, attempts: &[u8]) {
        if attempts[i] < ATTEMPTS {
            queue.push_back(i);
        } else {
            self.failed += 1;
            self.first_error.get_or_insert(e);
        }
    }
}

/// Writes the request, reads what arrived and checks the response. For an
/// open connection, reads are kept buffered for the caller to parse.
fn drive(conn: &mut Conn) -> Result<bool, String> {
    if conn.wants_write() {
        conn.flush().map_err(|e| format!("write: {e}"))?;
    }
    // Each read either fills the buffer's free space or drains the socket;
    // a handshake response is far smaller than a few reads.
    for _ in 0..64 {
        if conn.read_some().map_err(|e| format!("read: {e}"))? {
            break;
        }
    }
    conn.poll_handshake()
}

/// Gives the open connections consecutive tokens.
fn compact(poll: &mut Poll, slots: Vec<Option<Conn>>) -> Vec<Conn> {
    let mut conns = Vec::with_capacity(slots.len());
    let mut moved = false;
    for (i, slot) in slots.into_iter().enumerate() {
        let Some(mut c) = slot else {
            moved = true;
            continue;
        };
        if moved {
            let token = Token(conns.len());
            if poll
                .registry()
                .reregister(
                    &mut c.stream,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_err()
            {
                continue;
            }
        }
        debug_assert!(moved || i == conns.len());
        conns.push(c);
    }
    conns
}
