//! Handshake rate: C connectors, each repeatedly connecting, completing the
//! opening handshake, exchanging close frames and disconnecting. Over
//! `wss://` every cycle also makes a full TLS handshake: the client never
//! resumes a session.

use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use super::common::{read_messages, tls_note, Clock, Measured, Part, Timeline};
use crate::cli::Args;
use crate::client::conn::Conn;
use crate::client::frame::OP_CLOSE;
use crate::client::socket::Sources;
use crate::histogram::Histogram;
use crate::meter::{Meter, Window};
use crate::procfs::Probe;
use crate::report::{Better, Report};
use crate::target::Target;

/// A cycle not finished in this time counts as an error.
const CYCLE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct HandshakeSpec {
    pub target: Target,
    pub connectors: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub sources: u32,
}

impl HandshakeSpec {
    pub fn from_args(target: Target, a: &Args) -> Result<HandshakeSpec, String> {
        Ok(HandshakeSpec {
            target,
            connectors: a.get("connectors", 32)?,
            warmup: super::common::seconds(a.get("warmup", 0.5)?)?,
            duration: super::common::seconds(a.get("duration", 5.0)?)?,
            sources: a.get("sources", 64)?,
        })
    }
}

struct Cycle {
    conn: Conn,
    started_ns: u64,
    started: Instant,
}

/// What `measure` counts, in order.
pub const COUNTS: [&str; 1] = ["cycles"];
const CYCLES: usize = 0;

pub fn run(spec: &HandshakeSpec, probe: Option<Probe>) -> Report {
    figures(measure(spec, probe, Part::Whole))
}

/// Runs the load (from when `part` says so): warm-up, then the window.
pub fn measure(spec: &HandshakeSpec, probe: Option<Probe>, part: Part) -> Measured {
    let mut measured = Measured::new("handshakes", COUNTS.len());
    let report = &mut measured.report;
    let mut poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => {
            report.error(format!("epoll: {e}"));
            return measured;
        }
    };
    let sources = Sources {
        spread: spec.sources,
        offset: part.offset(),
    };
    if let Err(e) = part.start() {
        report.error(e);
        return measured;
    }
    let clock = Clock::new();
    let mut slots: Vec<Option<Cycle>> = (0..spec.connectors).map(|_| None).collect();
    let mut started = 0u64;
    let mut completed = 0u64;
    let mut latency = Histogram::default();
    let timeline = Timeline::starting_now(spec.warmup, spec.duration, Duration::ZERO);
    let mut meter: Option<Meter> = None;
    let mut window_start_ns = u64::MAX;
    let mut events = Events::with_capacity(1024);
    let mut last_sweep = Instant::now();
    let mut session: Option<String> = None;
    let window: Option<Window> = loop {
        let now = Instant::now();
        if meter.is_none() && now >= timeline.warmup_end {
            meter = Some(Meter::start(probe));
            window_start_ns = clock.ns();
        }
        if now >= timeline.window_end {
            break meter.as_ref().map(Meter::stop);
        }
        for (i, slot) in slots.iter_mut().enumerate() {
            if slot.is_some() {
                continue;
            }
            let source = sources.for_index(spec.target.addr, started);
            started += 1;
            match Conn::start(&spec.target, source, started, 1024, 1024).and_then(|mut conn| {
                poll.registry().register(
                    &mut conn.stream,
                    Token(i),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
                Ok(conn)
            }) {
                Ok(conn) => {
                    *slot = Some(Cycle {
                        conn,
                        started_ns: clock.ns(),
                        started: now,
                    })
                }
                Err(e) => report.error(format!("connect: {e}")),
            }
        }
        if poll
            .poll(
                &mut events,
                Some(timeline.wait(now, Duration::from_millis(50))),
            )
            .is_err()
        {
            continue;
        }
        let t = clock.ns();
        let measuring = t >= window_start_ns;
        for event in events.iter() {
            let i = event.token().0;
            let Some(cycle) = slots.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            match step(cycle) {
                Ok(step) => {
                    if step.opened && measuring {
                        latency.record(t.saturating_sub(cycle.started_ns));
                    }
                    if step.opened && session.is_none() {
                        session = tls_note(&spec.target, &cycle.conn);
                    }
                    if step.done {
                        if measuring {
                            completed += 1;
                        }
                        slots[i] = None;
                    }
                }
                Err(e) => {
                    report.error(e);
                    slots[i] = None;
                }
            }
        }
        if now.duration_since(last_sweep) > Duration::from_millis(100) {
            last_sweep = now;
            for slot in slots.iter_mut() {
                if slot
                    .as_ref()
                    .is_some_and(|c| now.duration_since(c.started) > CYCLE_TIMEOUT)
                {
                    *slot = None;
                    report.error("handshake cycle timed out".into());
                }
            }
        }
    };
    if spec.target.tls.is_some() {
        report.note(
            "each cycle: new TCP connection, full TLS handshake (no session resumption), \
             upgrade, close frames both ways, disconnect"
                .into(),
        );
        report.notes.extend(session);
    }
    if window.is_none() {
        report.error("the run ended before its measurement window".into());
    }
    measured.window = window;
    measured.counts[CYCLES] = completed;
    measured.latency = latency;
    measured
}

/// The figures of what one or several generators measured.
pub fn figures(m: Measured) -> Report {
    let completed = m.count(CYCLES);
    let mut report = m.report;
    let Some(w) = m.window else {
        return report;
    };
    report.add(
        "hs_per_s",
        "handshakes/s",
        Some(w.rate(completed)),
        Better::Higher,
    );
    report.add(
        "hs_per_cpu_s",
        "handshakes per server CPU-s",
        w.per_server_cpu(completed),
        Better::Higher,
    );
    report.add_latency(
        &["handshake p50 us", "handshake p99 us", "handshake p99.9 us"],
        &m.latency,
    );
    report.add_cpu(&w);
    report.add(
        "cycles",
        "cycles in window",
        Some(completed as f64),
        Better::Info,
    );
    report
}

/// What one step of a cycle reached.
struct Step {
    opened: bool,
    done: bool,
}

/// Advances one cycle: request out, 101 in, close out, close in.
fn step(cycle: &mut Cycle) -> Result<Step, String> {
    let conn = &mut cycle.conn;
    if conn.wants_write() {
        conn.flush().map_err(|e| format!("write: {e}"))?;
    }
    let mut opened = false;
    if !conn.poll_handshake()? {
        for _ in 0..super::common::READS_PER_EVENT {
            if conn.read_some().map_err(|e| format!("read: {e}"))? {
                break;
            }
        }
        if !conn.poll_handshake()? {
            return Ok(Step {
                opened: false,
                done: false,
            });
        }
        // Open: ask to close right away.
        opened = true;
        conn.send_close(1000);
        conn.flush().map_err(|e| format!("write: {e}"))?;
    }
    let mut closed = false;
    read_messages(conn, |_, m| {
        closed |= m.opcode == OP_CLOSE;
        Ok(())
    })?;
    if !closed && conn.eof {
        return Err("connection ended without a close frame".into());
    }
    Ok(Step {
        opened,
        done: closed,
    })
}
