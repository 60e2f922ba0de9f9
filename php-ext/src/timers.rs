//! `every()` and `after()` timers, fired on the PHP thread by `run()`.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use std::cell::RefCell;

use crate::callback::Callback;
use crate::convert::long;
use crate::handlers::Handlers;
use crate::report::{finish, Flow};

struct Timer {
    due: Instant,
    interval: Option<Duration>,
    callback: Callback,
}

/// The longest uninterrupted wait of `run()` and `poll()`: how soon signals,
/// `stop()` and a `poll()` deadline are noticed.
pub const SLICE: Duration = Duration::from_millis(50);

/// How long to wait for events now: until the next timer is due or
/// `deadline` has passed, and at most `SLICE`.
pub fn wait_slice(timers: &RefCell<Timers>, deadline: Option<Instant>) -> Duration {
    let now = Instant::now();
    let mut slice = SLICE;
    for at in [deadline, timers.borrow().next_due()].into_iter().flatten() {
        slice = slice.min(at.saturating_duration_since(now));
    }
    slice
}

/// Timers by id and by due time. Ids start at 1 and are never reused.
#[derive(Default)]
pub struct Timers {
    next_id: i64,
    by_due: BTreeSet<(Instant, i64)>,
    timers: HashMap<i64, Timer>,
}

/// Turns PHP seconds into a delay: finite, 0 to a year, at least 1 ms for a
/// repeating timer.
pub fn delay(seconds: f64, repeating: bool) -> Option<Duration> {
    if !(0.0..=365.0 * 86400.0).contains(&seconds) || (repeating && seconds < 0.001) {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

impl Timers {
    /// Adds a timer first due after `delay`; repeats every `delay` if `repeat`.
    pub fn add(&mut self, delay: Duration, repeat: bool, callback: Callback) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        let due = Instant::now() + delay;
        self.by_due.insert((due, id));
        let interval = repeat.then_some(delay);
        self.timers.insert(
            id,
            Timer {
                due,
                interval,
                callback,
            },
        );
        id
    }

    /// Removes a timer, handing back its callback (for the caller to release
    /// outside any borrow); `None` if there was no timer with this id.
    pub fn cancel(&mut self, id: i64) -> Option<Callback> {
        let timer = self.timers.remove(&id)?;
        self.by_due.remove(&(timer.due, id));
        Some(timer.callback)
    }

    /// When the next timer is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.by_due.first().map(|&(due, _)| due)
    }

    /// Takes one timer due at `now` or earlier: a one-shot timer is removed, a
    /// repeating one is rescheduled first (so the callback may cancel it). A timer
    /// late by more than its interval is not fired again to catch up.
    pub fn take_due(&mut self, now: Instant) -> Option<(i64, Callback)> {
        let &(due, id) = self.by_due.first().filter(|(due, _)| *due <= now)?;
        self.by_due.remove(&(due, id));
        let timer = self.timers.get_mut(&id)?;
        match timer.interval {
            Some(interval) => {
                let mut next = due + interval;
                if next <= now {
                    next = now + interval;
                }
                timer.due = next;
                self.by_due.insert((next, id));
                Some((id, timer.callback.clone()))
            }
            None => self.timers.remove(&id).map(|t| (id, t.callback)),
        }
    }
}

/// Fires the timers due now, calling `after_each` after each one (to deliver
/// what its callback made due, such as the `open` of an accepted handshake).
pub fn fire_due(
    timers: &RefCell<Timers>,
    handlers: &Handlers,
    after_each: impl Fn() -> Flow,
) -> Flow {
    let now = Instant::now();
    loop {
        let due = timers.borrow_mut().take_due(now);
        let Some((id, callback)) = due else {
            return Flow::Continue;
        };
        let result = callback.call(&mut [long(id)]);
        if finish(handlers, result, "timer", None) == Flow::Exit || after_each() == Flow::Exit {
            return Flow::Exit;
        }
    }
}
