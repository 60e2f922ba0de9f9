//! Pieces every mode shares: the timeline of a run, reading a connection
//! until its socket is drained, and what a load measured before it becomes
//! figures.

use std::time::{Duration, Instant};

use crate::client::conn::Conn;
use crate::histogram::Histogram;
use crate::meter::Window;
use crate::report::Report;
use crate::target::Target;

/// Which part of a run a generator makes.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// The only generator: it starts as soon as it is ready.
    Whole,
    /// One of several generator processes. `offset` is the number of its
    /// first connection among all of the run's (its source addresses continue
    /// the round robin there); it starts its timeline when its coordinator
    /// says so.
    Share { offset: u64 },
}

impl Part {
    pub fn offset(self) -> u64 {
        match self {
            Part::Whole => 0,
            Part::Share { offset } => offset,
        }
    }

    /// Called once the generator is ready to load the server: returns when
    /// its timeline starts.
    pub fn start(self) -> Result<(), String> {
        match self {
            Part::Whole => Ok(()),
            Part::Share { .. } => super::fleet::await_go(),
        }
    }
}

/// What a load measured, before it becomes figures: errors and notes (in
/// `report`, which has no metrics yet), counts in the order the mode defines,
/// latency recordings and the measurement window (none when the run did not
/// reach it). The measurements of several generators add up.
pub struct Measured {
    pub report: Report,
    pub window: Option<Window>,
    pub counts: Vec<u64>,
    pub latency: Histogram,
}

impl Measured {
    pub fn new(mode: &'static str, counts: usize) -> Measured {
        Measured {
            report: Report::new(mode),
            window: None,
            counts: vec![0; counts],
            latency: Histogram::default(),
        }
    }

    /// Count number `i` (0 when the mode has no such count).
    pub fn count(&self, i: usize) -> u64 {
        self.counts.get(i).copied().unwrap_or(0)
    }
}

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
