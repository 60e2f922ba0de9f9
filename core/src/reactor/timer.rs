//! A hashed timer wheel: O(1) to schedule, and each tick looks only at the
//! entries due in that tick, never at every connection.
//!
//! Entries are not cancelled: a connection re-checks its own deadlines when an
//! entry fires, and entries for a slot that was reused carry an old generation.

use std::time::{Duration, Instant};

/// Wheel resolution. Timeouts are seconds-scale, so 50 ms is precise enough.
pub(crate) const TICK: Duration = Duration::from_millis(50);
const BUCKETS: usize = 512;

/// (slot, generation) of a connection.
pub(crate) type TimerKey = (u32, u32);

pub(crate) struct TimerWheel {
    start: Instant,
    /// The next tick not yet processed.
    current: u64,
    buckets: Vec<Vec<(u64, TimerKey)>>,
    len: usize,
}

impl TimerWheel {
    pub(crate) fn new(now: Instant) -> TimerWheel {
        TimerWheel {
            start: now,
            current: 0,
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            len: 0,
        }
    }

    /// The tick at which `at` is due (rounded up, never in the past).
    pub(crate) fn tick_of(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.start);
        let tick = since.as_nanos().div_ceil(TICK.as_nanos()) as u64;
        tick.max(self.current)
    }

    /// Schedules `key` at `tick`; returns the tick.
    pub(crate) fn schedule(&mut self, tick: u64, key: TimerKey) -> u64 {
        self.buckets[(tick % BUCKETS as u64) as usize].push((tick, key));
        self.len += 1;
        tick
    }

    /// Moves every entry due by `now` into `due` as (tick, key).
    pub(crate) fn expire(&mut self, now: Instant, due: &mut Vec<(u64, TimerKey)>) {
        let now_tick =
            (now.saturating_duration_since(self.start).as_nanos() / TICK.as_nanos()) as u64;
        while self.current <= now_tick {
            let bucket = &mut self.buckets[(self.current % BUCKETS as u64) as usize];
            let current = self.current;
            let before = bucket.len();
            // Entries for later turns of the wheel stay.
            bucket.retain(|&(tick, key)| {
                if tick <= current {
                    due.push((tick, key));
                    false
                } else {
                    true
                }
            });
            self.len -= before - bucket.len();
            // A burst of short-lived connections must not pin memory forever.
            if bucket.capacity() > 256 && bucket.len() * 4 < bucket.capacity() {
                bucket.shrink_to(bucket.len() * 2);
            }
            self.current += 1;
            if self.len == 0 {
                self.current = self.current.max(now_tick + 1);
                break;
            }
        }
    }

    /// How long the loop may sleep before the next tick needs processing.
    pub(crate) fn timeout(&self, now: Instant) -> Option<Duration> {
        if self.len == 0 {
            return None;
        }
        let next = self.start + TICK * (self.current as u32);
        Some(next.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_at_or_after_the_deadline_only() {
        let t0 = Instant::now();
        let mut wheel = TimerWheel::new(t0);
        let tick = wheel.tick_of(t0 + Duration::from_millis(120));
        wheel.schedule(tick, (1, 1));
        let far = wheel.tick_of(t0 + Duration::from_secs(60));
        wheel.schedule(far, (2, 1));
        let mut due = Vec::new();
        wheel.expire(t0 + Duration::from_millis(100), &mut due);
        assert!(due.is_empty());
        wheel.expire(t0 + Duration::from_millis(160), &mut due);
        assert_eq!(due, vec![(tick, (1, 1))]);
        due.clear();
        // A full turn of the wheel later, the far entry is still not due.
        wheel.expire(t0 + TICK * (BUCKETS as u32 + 3), &mut due);
        assert!(due.is_empty());
        wheel.expire(t0 + Duration::from_secs(61), &mut due);
        assert_eq!(due, vec![(far, (2, 1))]);
        assert_eq!(wheel.timeout(t0), None);
    }
}
