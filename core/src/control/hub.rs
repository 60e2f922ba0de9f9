//! Which worker handles which connection. Every connection belongs to one
//! attached worker from its `Open` to its `Close`, so its events stay in order
//! and the worker may keep state for it. Events of connections that have no
//! worker (none attached yet, or theirs left) wait in a bounded backlog, and
//! go to the next worker, after a resumed `Open` carrying what the connection
//! had (request, user, topics).
//!
//! A worker that detaches gracefully keeps its connections until it has
//! handled everything it was sent and closed its control connection: only
//! then do they move, so replies of the old worker and the new never mix. A
//! worker that vanishes loses what it was sent and had not handled.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::api::handle::Handle;
use crate::bridge::event::{Event, Incoming};
use crate::control::outbox::Outbox;
use crate::control::wire::{encode_message_event, encode_to_worker, ToWorker, WorkerOpen};

/// Bytes waiting for one worker beyond which it gets no new events until
/// half of them are written: a worker that stops reading holds up only its
/// own connections, whose events wait in the (bounded) backlog meanwhile.
const BEHIND: usize = 16 << 20;

/// How long and how much the backlog keeps messages while no worker takes them.
#[derive(Debug, Clone, Copy)]
pub struct BacklogLimits {
    pub bytes: usize,
    pub age: Duration,
}

impl Default for BacklogLimits {
    fn default() -> BacklogLimits {
        BacklogLimits {
            bytes: 64 << 20,
            age: Duration::from_secs(30),
        }
    }
}

pub(crate) struct Hub {
    state: Mutex<State>,
    handle: Handle,
    limits: BacklogLimits,
}

#[derive(Default)]
struct State {
    workers: Vec<Worker>,
    conns: HashMap<u64, Conn, BuildHasherDefault<IdHasher>>,
    backlog: VecDeque<(Instant, Event)>,
    backlog_bytes: usize,
    /// Messages dropped because the backlog was full or too old.
    refused: u64,
}

struct Worker {
    key: u64,
    outbox: Arc<Outbox>,
    /// Frames encoded while the hub is locked, pushed to the outbox in one
    /// piece before it is unlocked (see `Hub::flush`).
    pending: Vec<u8>,
    /// It asked for no more events; it still owns its connections.
    detaching: bool,
    /// More than `BEHIND` bytes wait for it: its connections' events wait in
    /// the backlog until it has caught up to half.
    behind: bool,
    owned: usize,
}

struct Conn {
    owner: Option<u64>,
    /// What a worker is told when it takes the connection over.
    open: WorkerOpen,
    /// Some worker was given its `Open`: the next gets a resumed one.
    delivered: bool,
    /// Its events waiting in the backlog, which must go first.
    waiting: usize,
}

/// Counters of the hub, for `STATS`.
pub(crate) struct HubStats {
    pub workers: u64,
    pub backlog_events: u64,
    pub backlog_bytes: u64,
    pub refused: u64,
}

impl Hub {
    pub(crate) fn new(handle: Handle, limits: BacklogLimits) -> Hub {
        Hub {
            state: Mutex::new(State::default()),
            handle,
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker attached: it takes waiting connections and new ones.
    pub(crate) fn attach(&self, key: u64, outbox: Arc<Outbox>) {
        let mut state = self.lock();
        state.workers.push(Worker {
            key,
            outbox,
            pending: Vec::new(),
            detaching: false,
            behind: false,
            owned: 0,
        });
        self.drain_backlog(&mut state);
        flush(&mut state);
    }

    /// The worker asked to detach: no more events for it, and the end marker.
    pub(crate) fn detach(&self, key: u64) {
        self.end_events(|w| w.key == key);
    }

    /// The server has finished: every worker gets `Detached` after the last
    /// event it was sent (its connections' closes), so that it ends as after
    /// a detach of its own.
    pub(crate) fn end_all(&self) {
        self.end_events(|w| !w.detaching);
    }

    /// Sends the chosen workers no more events, and the end marker.
    fn end_events(&self, chosen: impl Fn(&Worker) -> bool) {
        let mut state = self.lock();
        for w in state.workers.iter_mut().filter(|w| chosen(w)) {
            w.detaching = true;
            encode_to_worker(&ToWorker::Detached, &mut w.pending);
        }
        flush(&mut state);
    }

    /// The worker's control connection ended: its connections wait for another.
    pub(crate) fn gone(&self, key: u64) {
        let mut state = self.lock();
        if let Some(at) = state.workers.iter().position(|w| w.key == key) {
            let worker = state.workers.remove(at);
            worker.outbox.close();
        }
        for conn in state.conns.values_mut() {
            if conn.owner == Some(key) {
                conn.owner = None;
            }
        }
        self.drain_backlog(&mut state);
        flush(&mut state);
    }

    /// Routes one event as the server hands it over (borrowed: a message's
    /// bytes go from the read buffer into the worker's frames, copied once).
    /// What is encoded goes out at the next `flush`.
    pub(crate) fn route(&self, event: Incoming<'_>) {
        let mut state = self.lock();
        self.route_one(&mut state, event);
    }

    /// Hands the workers what `route` encoded for them, notes which fell
    /// behind and which caught up (the backlog then goes to them), and drops
    /// what waited in the backlog for too long.
    pub(crate) fn flush(&self) {
        let mut state = self.lock();
        self.expire(&mut state);
        flush(&mut state);
        let mut caught_up = false;
        for w in &mut state.workers {
            let waiting = w.outbox.backlog();
            if w.behind && waiting <= BEHIND / 2 {
                w.behind = false;
                caught_up = true;
            } else if !w.behind && waiting > BEHIND {
                w.behind = true;
            }
        }
        if caught_up {
            self.drain_backlog(&mut state);
            flush(&mut state);
        }
    }

    /// The outboxes of the workers, to wait for slow ones (backpressure).
    pub(crate) fn outboxes(&self) -> Vec<Arc<Outbox>> {
        self.lock()
            .workers
            .iter()
            .map(|w| w.outbox.clone())
            .collect()
    }

    /// Notes what a worker's command changed of a connection, for a resume.
    pub(crate) fn note(&self, id: u64, change: impl FnOnce(&mut WorkerOpen)) {
        if let Some(conn) = self.lock().conns.get_mut(&id) {
            change(&mut conn.open);
        }
    }

    pub(crate) fn stats(&self) -> HubStats {
        let state = self.lock();
        HubStats {
            workers: state.workers.len() as u64,
            backlog_events: state.backlog.len() as u64,
            backlog_bytes: state.backlog_bytes as u64,
            refused: state.refused,
        }
    }

    fn route_one(&self, state: &mut State, event: Incoming<'_>) {
        let id = event.id().as_u64();
        if let Incoming::Open(open) = &event {
            let conn = Conn {
                owner: None,
                open: WorkerOpen {
                    id,
                    peer: open.peer.to_string(),
                    path: open.request.path.clone(),
                    query: open.request.query.clone(),
                    headers: open.request.headers.clone(),
                    subprotocol: open.subprotocol.clone(),
                    pending: open.pending,
                    ..WorkerOpen::default()
                },
                delivered: false,
                waiting: 0,
            };
            if open.pending && !state.workers.iter().any(|w| !w.detaching) {
                // Nobody can authorize it now; waiting would only delay the answer.
                let _ = self.handle.reject(open.id, 503, "no worker is available");
                return;
            }
            state.conns.insert(id, conn);
        }
        let Some(conn) = state.conns.get(&id) else {
            return; // a close after a refused handshake
        };
        let waiting = conn.waiting;
        let owner = conn.owner;
        let target = match owner {
            Some(key) if waiting == 0 => state
                .workers
                .iter()
                .find(|w| w.key == key && takes_events(w))
                .map(|w| w.key),
            None if waiting == 0 => assign(state, id),
            _ => None,
        };
        match target {
            Some(key) => deliver(state, key, event),
            None => self.wait(state, event.to_event()),
        }
    }

    /// Keeps an event for later, within the backlog's bounds (messages only:
    /// opens and closes are small and bounded by the connections).
    fn wait(&self, state: &mut State, event: Event) {
        let weight = match &event {
            Event::Message { data, .. } => data.len(),
            _ => 0,
        };
        if weight > 0 && state.backlog_bytes + weight > self.limits.bytes {
            state.refused += 1;
            return;
        }
        if let Some(conn) = state.conns.get_mut(&event.id().as_u64()) {
            conn.waiting += 1;
        }
        state.backlog_bytes += weight;
        state.backlog.push_back((Instant::now(), event));
    }

    /// Drops messages that waited longer than the backlog's age.
    fn expire(&self, state: &mut State) {
        let Some(oldest) = Instant::now().checked_sub(self.limits.age) else {
            return;
        };
        if state.backlog.front().is_none_or(|(at, _)| *at >= oldest) {
            return;
        }
        let backlog = std::mem::take(&mut state.backlog);
        for (at, event) in backlog {
            if at < oldest {
                if let Event::Message { id, data, .. } = &event {
                    state.backlog_bytes -= data.len();
                    state.refused += 1;
                    if let Some(conn) = state.conns.get_mut(&id.as_u64()) {
                        conn.waiting -= 1;
                    }
                    continue;
                }
            }
            state.backlog.push_back((at, event));
        }
    }

    /// Hands waiting events, and connections left without a worker, to the
    /// workers that take new ones, in order.
    fn drain_backlog(&self, state: &mut State) {
        if !state.workers.iter().any(takes_events) {
            return;
        }
        let backlog = std::mem::take(&mut state.backlog);
        state.backlog_bytes = 0;
        for (_, event) in backlog {
            let id = event.id().as_u64();
            if let Some(conn) = state.conns.get_mut(&id) {
                conn.waiting -= 1;
            }
            let target = match state.conns.get(&id).map(|c| c.owner) {
                // Its worker is detaching (it waits until that one is gone)
                // or behind (until it caught up).
                Some(Some(key)) => state
                    .workers
                    .iter()
                    .find(|w| w.key == key && takes_events(w))
                    .map(|w| w.key),
                Some(None) => assign(state, id),
                None => None, // closed and gone: nothing to deliver
            };
            match target {
                Some(key) => deliver(state, key, Incoming::from(&event)),
                None if state.conns.contains_key(&id) => self.wait(state, event),
                None => {}
            }
        }
        let orphans: Vec<u64> = state
            .conns
            .iter()
            .filter(|(_, c)| c.owner.is_none() && c.delivered)
            .map(|(id, _)| *id)
            .collect();
        for id in orphans {
            assign(state, id);
        }
    }
}

/// Whether a worker is given events now: it is staying, and not behind.
fn takes_events(w: &Worker) -> bool {
    !w.detaching && !w.behind
}

/// Gives the connection to the worker with the fewest, telling it with an
/// `Open` (resumed if another had it). None while no worker takes new ones.
fn assign(state: &mut State, id: u64) -> Option<u64> {
    let worker = state
        .workers
        .iter_mut()
        .filter(|w| takes_events(w))
        .min_by_key(|w| w.owned)?;
    let conn = state.conns.get_mut(&id)?;
    worker.owned += 1;
    conn.owner = Some(worker.key);
    if conn.delivered {
        let mut open = conn.open.clone();
        open.resumed = true;
        encode_to_worker(&ToWorker::Open(Box::new(open)), &mut worker.pending);
    }
    Some(worker.key)
}

/// Writes the event into its worker's outbox.
fn deliver(state: &mut State, key: u64, event: Incoming<'_>) {
    let id = event.id().as_u64();
    let frame = match event {
        Incoming::Message { kind, data, .. } => {
            if let Some(w) = state.workers.iter_mut().find(|w| w.key == key) {
                encode_message_event(id, kind, data, &mut w.pending);
            }
            return;
        }
        Incoming::Open(_) => {
            let Some(conn) = state.conns.get_mut(&id) else {
                return;
            };
            if conn.delivered {
                return; // already told with a resumed open
            }
            conn.delivered = true;
            ToWorker::Open(Box::new(conn.open.clone()))
        }
        Incoming::Close(close) => {
            if let Some(conn) = state.conns.remove(&id) {
                if let Some(w) = state.workers.iter_mut().find(|w| Some(w.key) == conn.owner) {
                    w.owned = w.owned.saturating_sub(1);
                }
            }
            ToWorker::Close {
                id,
                code: close.code,
                reason: close.reason.clone(),
                clean: close.clean,
            }
        }
    };
    if let Some(w) = state.workers.iter_mut().find(|w| w.key == key) {
        encode_to_worker(&frame, &mut w.pending);
    }
}

/// Hashes connection ids, which the server hands out (no client chooses
/// them): one multiply spreads them, where SipHash costs a lookup per event.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Hands each worker what was encoded for it, one push (one lock, at most one
/// wake) per worker rather than per event.
fn flush(state: &mut State) {
    for w in &mut state.workers {
        if !w.pending.is_empty() {
            w.outbox.push(|out| out.append(&mut w.pending));
        }
    }
}
