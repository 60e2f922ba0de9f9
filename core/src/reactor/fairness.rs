//! Taking turns when handlers are slower than the traffic.
//!
//! A loop reads every ready connection once per turn. With quick handlers a
//! connection reads until its socket is empty, which is the fastest way to
//! serve. When the handlers are slow (inline mode and per-loop serving call
//! them inside the turn), that would let a flooding client fill the turn with
//! its messages while a newcomer's handshake waits for seconds. So each turn
//! measures the work done since the last poll returned; once a turn takes
//! longer than `BUSY_TURN`, each connection may read only about `SHARE` worth
//! of handler time per turn (in bytes, from the turn's average message), and
//! what is left stays in its socket (TCP pushes back on the client) until
//! its next turn. Quick turns double the budget back to no limit.
//!
//! Cost when nothing is slow: one clock read per turn, and one per full
//! scratch buffer read from a connection.

use std::time::{Duration, Instant};

/// A turn longer than this makes the loop share its turns out.
const BUSY_TURN: Duration = Duration::from_millis(10);
/// Handler time each connection should get per turn when the loop is busy.
const SHARE: Duration = Duration::from_millis(1);
/// The smallest read budget: a frame header and a short message.
const MIN_BUDGET: usize = 64;
/// Budgets above this mean no limit.
const UNLIMITED_ABOVE: usize = 16 << 20;

pub(crate) struct Fairness {
    /// Bytes one connection may read per turn (`usize::MAX`: no limit).
    pub budget: usize,
    /// Messages decoded and bytes read in this turn.
    pub messages: u64,
    pub bytes: u64,
    /// When the last poll returned.
    turn_start: Instant,
}

impl Fairness {
    pub(crate) fn new(now: Instant) -> Fairness {
        Fairness {
            budget: usize::MAX,
            messages: 0,
            bytes: 0,
            turn_start: now,
        }
    }

    /// Just before the loop polls: the work since the last poll returned (reads,
    /// handlers, and what the application did before it came back) sets the
    /// next turn's budget.
    pub(crate) fn before_poll(&mut self, now: Instant) {
        let work = now.saturating_duration_since(self.turn_start);
        if work > BUSY_TURN && self.messages > 0 {
            let per_message = (work.as_nanos() / u128::from(self.messages)).max(1);
            let share = (SHARE.as_nanos() / per_message).max(1);
            let message_bytes = (self.bytes / self.messages).max(1);
            let budget = share.saturating_mul(u128::from(message_bytes));
            self.budget = usize::try_from(budget)
                .unwrap_or(usize::MAX)
                .max(MIN_BUDGET);
        } else if work < BUSY_TURN / 2 && self.budget != usize::MAX {
            self.budget = self.budget.saturating_mul(2);
            if self.budget > UNLIMITED_ABOVE {
                self.budget = usize::MAX;
            }
        }
        self.messages = 0;
        self.bytes = 0;
    }

    /// The poll returned: a turn starts.
    pub(crate) fn after_poll(&mut self, now: Instant) {
        self.turn_start = now;
    }

    /// True once this turn has run longer than a busy turn: a connection that
    /// still has input then waits for the next turn, even before the budget
    /// has adapted (a client that refills its socket as fast as its messages
    /// are handled would otherwise keep the first slow turn going for ever).
    pub(crate) fn turn_is_long(&self) -> bool {
        self.turn_start.elapsed() > BUSY_TURN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(f: &mut Fairness, work: Duration, messages: u64, bytes: u64) {
        let start = f.turn_start;
        f.messages = messages;
        f.bytes = bytes;
        f.before_poll(start + work);
        f.after_poll(start + work);
    }

    #[test]
    fn quick_turns_read_without_limit() {
        let mut f = Fairness::new(Instant::now());
        turn(&mut f, Duration::from_millis(2), 10_000, 320_000);
        assert_eq!(f.budget, usize::MAX);
    }

    #[test]
    fn slow_handlers_share_the_turn_and_quick_ones_take_it_back() {
        let mut f = Fairness::new(Instant::now());
        // 50 messages of 1 KiB at 2 ms each: about one message per connection.
        turn(&mut f, Duration::from_millis(100), 50, 50 * 1030);
        assert_eq!(f.budget, 1030);
        // Tiny slow messages: never below a header and a short payload.
        turn(&mut f, Duration::from_millis(100), 50, 50 * 8);
        assert_eq!(f.budget, MIN_BUDGET);
        // Quick again: doubles until there is no limit.
        for _ in 0..30 {
            turn(&mut f, Duration::from_millis(1), 100, 3200);
        }
        assert_eq!(f.budget, usize::MAX);
    }
}
