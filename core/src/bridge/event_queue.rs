//! The bounded queue from the I/O loops to the application, with a readiness fd.
//!
//! Loops push whole batches under one lock; the application takes events with
//! connections in turns (`fair_queue`), each connection's events in order.
//!
//! Two bounds keep it from growing, both enforced by not reading sockets (TCP
//! then pushes back on clients):
//!
//! - per connection (`ConnBounds`): a push that brings a connection to its
//!   bound reports the connection in `Batch::take_held`; its loop stops reading it.
//!   A take that brings it back to half reports it in `Taken::resume_conns`;
//!   the application side then asks its loop to read it again.
//! - overall (`max_events`, `max_bytes`): past either, `is_full` is true and the
//!   loops stop reading every open connection until a take brings the queue
//!   under half (`Taken::resume`). A safety net: the per-connection bounds
//!   normally act first.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::bridge::batch::{Batch, Sink};
use crate::bridge::event::Event;
use crate::bridge::fair_queue::FairQueue;
use crate::bridge::flag_fd::FlagFd;
use crate::bridge::id::ConnId;

pub(crate) use crate::bridge::fair_queue::ConnBounds;

/// Default per-connection bounds. 256 events: a pipeline deep enough that a
/// held connection, resumed at 128, is read again before the application has
/// run out of its events; 256 KiB: a few socket reads of 1 KiB messages, and a
/// larger message is taken alone. With the default overall bounds (65536
/// events, 64 MiB), 256 connections flooding at once fill their share before
/// the overall bound stops every connection.
#[cfg(test)]
pub(crate) const DEFAULT_CONN_BOUNDS: ConnBounds = ConnBounds {
    events: 256,
    bytes: 256 * 1024,
};

/// What one `take` produced.
pub(crate) struct Taken {
    pub count: usize,
    /// The queue left its full state: wake the loops so they read again.
    pub resume: bool,
    /// Barriers passed by earlier takes: their connections may now be closed.
    pub release: Vec<ConnId>,
    /// Connections reported held (`Batch::take_held`) that this take brought back
    /// to half their bounds: each one's loop (`ConnId::loop_index`) should read
    /// it again. An id may be of a connection that has closed meanwhile.
    // Until `Handle::settle` acts on it, only the tests read it.
    pub resume_conns: Vec<ConnId>,
}

pub(crate) struct EventQueue {
    inner: Mutex<Inner>,
    ready: Condvar,
    /// Readable (counter > 0) while events are queued.
    fd: FlagFd,
    max_events: usize,
    max_bytes: usize,
    conn_bounds: ConnBounds,
    /// Set while over the bound: loops check it before reading a socket.
    full: AtomicBool,
    /// Whether anyone asked for the fd; until then it is not kept up to date,
    /// which saves two system calls per batch.
    fd_used: AtomicBool,
}

struct Inner {
    queue: FairQueue,
    /// Barriers taken by the last call, released by the next.
    passed: Vec<ConnId>,
    /// Events arrived in an empty queue and nobody was woken yet.
    unnotified: bool,
    /// Application threads blocked in `take`.
    waiting: usize,
    /// No loop will push again (all have stopped).
    finished: bool,
}

impl EventQueue {
    /// A queue with the default per-connection bounds.
    #[cfg(test)]
    pub(crate) fn new(max_events: usize, max_bytes: usize) -> io::Result<EventQueue> {
        Self::with_conn_bounds(max_events, max_bytes, DEFAULT_CONN_BOUNDS)
    }

    /// A queue of at most `max_events` events and `max_bytes` bytes, and at
    /// most `conn_bounds` of them for one connection (see the module's notes).
    pub(crate) fn with_conn_bounds(
        max_events: usize,
        max_bytes: usize,
        conn_bounds: ConnBounds,
    ) -> io::Result<EventQueue> {
        let fd = FlagFd::new()?;
        Ok(EventQueue {
            inner: Mutex::new(Inner {
                queue: FairQueue::default(),
                passed: Vec::new(),
                unnotified: false,
                waiting: 0,
                finished: false,
            }),
            ready: Condvar::new(),
            fd,
            max_events,
            max_bytes,
            conn_bounds,
            full: AtomicBool::new(false),
            fd_used: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked while holding it; the
        // queue itself is still consistent (every mutation is a single push or pop).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True while the loops should not read more from sockets.
    pub(crate) fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Appends a batch (never drops: the bounds are enforced by not reading
    /// further). Connections that reach their bound with it are added to
    /// `batch.held` (see `Batch::take_held`). With `notify` false the
    /// application is not woken yet: a loop hands over large batches
    /// mid-iteration, and wakes the application once at its end.
    pub(crate) fn push_batch(&self, batch: &mut Batch, notify: bool) {
        if batch.is_empty() && !notify {
            return;
        }
        let mut inner = self.lock();
        self.append(&mut inner, batch);
        if notify && inner.unnotified {
            inner.unnotified = false;
            self.poke();
            if inner.waiting > 0 {
                self.ready.notify_all();
            }
        }
    }

    fn append(&self, inner: &mut Inner, batch: &mut Batch) {
        let was_empty = inner.queue.is_empty();
        let queue = &mut inner.queue;
        batch.drain_into(&mut Appending {
            queue,
            bounds: self.conn_bounds,
        });
        if queue.events() >= self.max_events || queue.bytes() >= self.max_bytes {
            self.full.store(true, Ordering::Relaxed);
        }
        inner.unnotified |= was_empty && !inner.queue.is_empty();
    }

    /// Makes the readiness fd readable so a `poll`-driven application calls `wait`
    /// again (to flush corked commands).
    pub(crate) fn poke(&self) {
        if self.fd_used.load(Ordering::Relaxed) {
            self.fd.raise();
        }
    }

    /// Marks that no more events will come, waking every waiter.
    pub(crate) fn finish(&self) {
        let mut inner = self.lock();
        inner.finished = true;
        self.poke();
        self.ready.notify_all();
    }

    /// Moves up to `max` events into `out`, waiting up to `timeout` (None: until an
    /// event arrives or the server has stopped).
    pub(crate) fn take(
        &self,
        out: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Taken {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inner = self.lock();
        let release = std::mem::take(&mut inner.passed);
        while inner.queue.is_empty() && !inner.finished && release.is_empty() {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            inner.waiting += 1;
            inner = match deadline {
                None => self.ready.wait(inner).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let waited = self.ready.wait_timeout(inner, deadline - now);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
            };
            inner.waiting -= 1;
        }
        let mut resume_conns = Vec::new();
        let n = self.pop_into(&mut inner, out, max, &mut resume_conns);
        self.after_take(&mut inner, n, release, resume_conns)
    }

    /// Inline mode: `push_batch` and a `take` that does not wait, under one lock
    /// (held connections go to `batch.held` as with `push_batch`). While nothing
    /// older is queued and `out` is empty, the batch's events become `out` by a
    /// swap of vectors.
    pub(crate) fn push_and_take(
        &self,
        batch: &mut Batch,
        out: &mut Vec<Event>,
        max: usize,
    ) -> Taken {
        let mut inner = self.lock();
        let release = std::mem::take(&mut inner.passed);
        let mut resume_conns = Vec::new();
        let n = if inner.queue.is_empty() && out.is_empty() && batch.events.len() <= max {
            inner.passed.extend(batch.swap_into(out));
            out.len()
        } else {
            // Older events wait, or more than asked for: through the queue, so
            // that the batch's connections take turns with the waiting ones.
            self.append(&mut inner, batch);
            self.pop_into(&mut inner, out, max, &mut resume_conns)
        };
        if inner.unnotified || !inner.passed.is_empty() {
            // Left over for the next call: a poll-driven caller must come back.
            inner.unnotified = false;
            self.poke();
        }
        self.after_take(&mut inner, n, release, resume_conns)
    }

    /// Moves up to `max` queued events into `out`, connections taking turns,
    /// noting the barriers passed and the connections to resume.
    fn pop_into(
        &self,
        inner: &mut Inner,
        out: &mut Vec<Event>,
        max: usize,
        resume_conns: &mut Vec<ConnId>,
    ) -> usize {
        inner
            .queue
            .pop_into(out, max, self.conn_bounds, &mut inner.passed, resume_conns)
    }

    fn after_take(
        &self,
        inner: &mut Inner,
        count: usize,
        release: Vec<ConnId>,
        resume_conns: Vec<ConnId>,
    ) -> Taken {
        // Passed barriers keep the fd readable: the next call releases them.
        if inner.queue.is_empty()
            && !inner.finished
            && inner.passed.is_empty()
            && self.fd_used.load(Ordering::Relaxed)
        {
            self.fd.lower();
        }
        let mut resume = false;
        if self.full.load(Ordering::Relaxed)
            && inner.queue.events() < self.max_events / 2
            && inner.queue.bytes() < self.max_bytes / 2
        {
            self.full.store(false, Ordering::Relaxed);
            resume = true;
        }
        Taken {
            count,
            resume,
            release,
            resume_conns,
        }
    }

    /// Puts events that were taken but not handled back, each in front of its
    /// connection's queued events, in the order they were taken.
    pub(crate) fn requeue(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let mut inner = self.lock();
        inner.queue.requeue(events);
        // A `poll`-driven caller must come back for them.
        self.poke();
    }

    /// True when no event (nor barrier) is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.lock().queue.is_empty()
    }

    /// True when barriers were passed that the next take releases.
    pub(crate) fn has_passed_barriers(&self) -> bool {
        !self.lock().passed.is_empty()
    }

    /// True when the loops have stopped and every event has been taken.
    pub(crate) fn is_drained(&self) -> bool {
        let inner = self.lock();
        inner.finished && inner.queue.is_empty()
    }

    /// The readiness fd, without switching its upkeep on (see `raw_fd`).
    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd_used.store(true, Ordering::Relaxed);
        self.fd.as_raw_fd()
    }
}

/// A batch going into the queue.
struct Appending<'q> {
    queue: &'q mut FairQueue,
    bounds: ConnBounds,
}

impl Sink for Appending<'_> {
    fn barrier(&mut self, id: ConnId) {
        self.queue.push_barrier(id);
    }

    fn events(
        &mut self,
        id: ConnId,
        events: impl Iterator<Item = Event>,
        bytes: usize,
        held: &mut Vec<ConnId>,
    ) {
        self.queue.push_events(id, events, bytes, self.bounds, held);
    }
}

#[cfg(test)]
mod tests;
