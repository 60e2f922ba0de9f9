//! Inline mode (`threads(0)`): no I/O thread. The one event loop runs inside
//! `Handle::wait`, on the thread that handles the events — the shape of a
//! single-threaded server such as uWebSockets or Workerman.
//!
//! With an I/O thread, every batch costs two thread switches (loop → application
//! → loop), which on a shared core is a large part of the work for small or few
//! messages. Inline mode saves them, at a price: while the application handles a
//! batch nothing is read, written or timed, so handlers must be quick and `wait`
//! must be called regularly (timers such as pings and timeouts advance only
//! inside it).

use std::os::fd::{AsRawFd, RawFd};
use std::panic;
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use mio::Events;

use crate::bridge::event::Event;
use crate::bridge::event::Handler;
use crate::bridge::event_queue::Taken;
use crate::fastpath::hand_over::hand_over;
use crate::reactor::event_loop::{EventLoop, QUEUE_READY};
use crate::reactor::shared::Shared;

/// The loop and its readiness list, shared by the threads that may drive it.
pub(crate) struct Inline {
    /// The loop's index, which is also its queue's (see `Shared::queue`).
    index: usize,
    driver: Mutex<Option<Driver>>,
    /// The loop's epoll fd: the readiness fd offered to `poll`-driven applications.
    poll_fd: RawFd,
}

struct Driver {
    event_loop: EventLoop,
    events: Events,
}

impl Inline {
    /// Wraps the loop. The event queue's eventfd is added to the
    /// loop's epoll set level-triggered, so the epoll fd stays readable while
    /// events are queued.
    pub(crate) fn new(event_loop: EventLoop) -> std::io::Result<Inline> {
        let poll_fd = event_loop.poll.as_raw_fd();
        let index = event_loop.index;
        let queue_fd = event_loop.shared.queue(index).fd();
        let mut interest = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: QUEUE_READY.0 as u64,
        };
        // SAFETY: both descriptors are open; `interest` is a valid epoll_event.
        if unsafe { libc::epoll_ctl(poll_fd, libc::EPOLL_CTL_ADD, queue_fd, &mut interest) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Inline {
            index,
            driver: Mutex::new(Some(Driver {
                event_loop,
                events: Events::with_capacity(1024),
            })),
            poll_fd,
        })
    }

    pub(crate) fn poll_fd(&self) -> RawFd {
        self.poll_fd
    }

    fn lock(&self) -> MutexGuard<'_, Option<Driver>> {
        self.driver.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one turn of the loop, waiting up to `limit` (messages go to
    /// `handler` if given, see `EventLoop::turn_with`), then `finish`es with the
    /// loop (its batch of new events, the count of messages handled). `None`
    /// once the loop is gone (stopped, or its poll failed).
    fn turn<R>(
        &self,
        shared: &Shared,
        limit: Option<Duration>,
        handler: Option<Handler<'_>>,
        finish: impl FnOnce(&mut EventLoop) -> R,
    ) -> Option<R> {
        let mut guard = self.lock();
        let driver = guard.as_mut()?;
        let event_loop = &mut driver.event_loop;
        if event_loop.turn_with(&mut driver.events, limit, handler) && !event_loop.is_done() {
            return Some(finish(event_loop));
        }
        // Polling failed for good, or a shutdown asked for inside the loop has
        // closed every connection: the server cannot serve any more.
        shared
            .queue(self.index)
            .push_batch(&mut event_loop.batch, true);
        *guard = None;
        shared.queue(self.index).finish();
        None
    }

    /// Sends what is queued now if no other thread is running the loop; else
    /// wakes that thread's poll, which then sends it.
    pub(crate) fn flush(&self, shared: &Shared) {
        match self.driver.try_lock() {
            Ok(mut guard) => {
                if let Some(driver) = guard.as_mut() {
                    let event_loop = &mut driver.event_loop;
                    event_loop.turn(&mut driver.events, Some(Duration::ZERO));
                    shared
                        .queue(self.index)
                        .push_batch(&mut event_loop.batch, true);
                }
            }
            Err(TryLockError::Poisoned(_)) => {}
            Err(TryLockError::WouldBlock) => shared.loops[self.index].wake(),
        }
    }

    /// Runs the loop until it produced events for `out` (at most `max`) or
    /// `timeout` has passed; `settle` finishes each take (see `Handle`).
    pub(crate) fn wait(
        &self,
        shared: &Shared,
        out: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
        settle: impl Fn(Taken) -> usize,
    ) -> usize {
        self.drive(shared, timeout, |limit, left| {
            let taken = self.turn(shared, limit, None, |event_loop| {
                shared
                    .queue(self.index)
                    .push_and_take(&mut event_loop.batch, out, max)
            });
            match taken {
                Some(taken) => (settle(taken), false),
                // Stopped: what is left comes from the queue.
                None => (settle(shared.queue(self.index).take(out, max, left)), true),
            }
        })
    }

    /// `wait`, handing each event to `handler`: messages as the loop decodes
    /// them, while no older event waits; everything else after the turn.
    /// Returns how many events were handled.
    pub(crate) fn serve(
        &self,
        shared: &Shared,
        timeout: Option<Duration>,
        handler: Handler<'_>,
        settle: impl Fn(Taken) -> usize,
    ) -> usize {
        let mut owned = Vec::new();
        self.drive(shared, timeout, |limit, left| {
            let turned = self.turn(shared, limit, Some(&mut *handler), |event_loop| {
                if let Some(panic) = event_loop.handler_panic.take() {
                    // The rest of the turn waits in the queue for the next call.
                    shared
                        .queue(self.index)
                        .push_batch(&mut event_loop.batch, true);
                    return Err(panic);
                }
                let batch = &mut event_loop.batch;
                let taken = shared
                    .queue(self.index)
                    .push_and_take(batch, &mut owned, usize::MAX);
                Ok((event_loop.delivered, taken))
            });
            let handled = match turned {
                Some(Ok((delivered, taken))) => (delivered + settle(taken), false),
                // The loop is consistent again: the handler's panic goes on.
                Some(Err(panic)) => panic::resume_unwind(panic),
                None => (
                    settle(shared.queue(self.index).take(&mut owned, usize::MAX, left)),
                    true,
                ),
            };
            hand_over(shared.queue(self.index), handler, &mut owned);
            handled
        })
    }

    /// Runs `turn` (given how long it may wait, and how long is left of
    /// `timeout`) until it handled events, says the loop stopped, or `timeout`
    /// has passed. Returns the count of the last turn.
    fn drive(
        &self,
        shared: &Shared,
        timeout: Option<Duration>,
        mut turn: impl FnMut(Option<Duration>, Option<Duration>) -> (usize, bool),
    ) -> usize {
        let deadline = timeout.map(|t| Instant::now() + t);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        // The first turn does not block: replies to the last batch go out and
        // sockets already readable are read.
        let mut limit = Some(Duration::ZERO);
        loop {
            let (n, stopped) = turn(limit, left());
            if n > 0 || stopped || shared.queue(self.index).is_drained() {
                return n;
            }
            if shared.queue(self.index).has_passed_barriers() {
                // Only barriers came: release them at once, without waiting.
                limit = Some(Duration::ZERO);
                continue;
            }
            limit = left();
            if limit == Some(Duration::ZERO) {
                return 0;
            }
        }
    }

    /// Shutdown: runs the loop on this thread until every client is closed.
    pub(crate) fn stop(&self) {
        let Some(mut driver) = self.lock().take() else {
            return;
        };
        // Nobody takes events meanwhile: a level-triggered queue fd would spin.
        // SAFETY: both descriptors are open; DEL ignores the event argument.
        unsafe {
            libc::epoll_ctl(
                self.poll_fd,
                libc::EPOLL_CTL_DEL,
                driver.event_loop.shared.queue(self.index).fd(),
                std::ptr::null_mut(),
            )
        };
        let event_loop = &mut driver.event_loop;
        while !event_loop.is_done() {
            let polled = event_loop.turn(&mut driver.events, None);
            let queue = event_loop.shared.queue(self.index);
            queue.push_batch(&mut event_loop.batch, true);
            if !polled {
                break;
            }
        }
    }
}
