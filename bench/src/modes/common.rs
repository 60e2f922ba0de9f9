//! Pieces every mode shares: the timeline of a run and reading a connection
//! until its socket is drained.

use std::time::{Duration, Instant};

use crate::client::conn::Conn;
use crate::target::Target;

/// Reads per readiness event before a connection waits for the next round.
pub const READS_PER_EVENT: usize = 64;

/// Nanoseconds since a fixed start: cheap timestamps for latencies.
#[derive(Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Clock {
        Clock(Instant::now())
    }

    pub fn ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// Warm-up, then the measured window, then a bounded drain.
pub struct Timeline {
    pub warmup_end: Instant,
    pub window_end: Instant,
    pub drain_end: Instant,
}

impl Timeline {
    pub fn starting_now(warmup: Duration, duration: Duration, drain: Duration) -> Timeline {
        let now = Instant::now();
        let warmup_end = now + warmup;
        let window_end = warmup_end + duration;
        Timeline {
            warmup_end,
            window_end,
            drain_end: window_end + drain,
        }
    }

    /// How long a poll may wait before the next boundary (at most `cap`).
    pub fn wait(&self, now: Instant, cap: Duration) -> Duration {
        [self.warmup_end, self.window_end, self.drain_end]
            .into_iter()
            .filter(|&t| t > now)
            .map(|t| t - now)
            .min()
            .unwrap_or(Duration::ZERO)
            .min(cap)
    }
}

/// Reads a connection until drained (or the per-event bound), handing each
/// complete message to `on_message`. Returns Ok(true) when drained.
pub fn read_messages(
    conn: &mut Conn,
    mut on_message: impl FnMut(&mut Conn, crate::client::conn::Message) -> Result<(), String>,
) -> Result<bool, String> {
    for _ in 0..READS_PER_EVENT {
        let drained = conn.read_some().map_err(|e| format!("read: {e}"))?;
        while let Some(m) = conn.next_message()? {
            on_message(conn, m)?;
        }
        if drained {
            return Ok(true);
        }
    }
    Ok(false)
}

/// For a `wss://` run: the session's parameters, as seen on `conn`, and how
/// the certificate was checked.
pub fn tls_note(target: &Target, conn: &Conn) -> Option<String> {
    let tls = target.tls.as_ref()?;
    let session = conn.tls_summary()?;
    Some(format!("TLS: {session}; {}", tls.trust_note()))
}

pub fn seconds(s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s).map_err(|_| format!("{s} is not a number of seconds"))
}
