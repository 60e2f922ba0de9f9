//! Echo load: C connections, each keeping D messages of S bytes in flight;
//! every reply is checked byte for byte and timed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::common::{read_messages, tls_note, Clock, Measured, Part, Timeline};
use crate::cli::Args;
use crate::client::close::close_all;
use crate::client::conn::Conn;
use crate::client::frame::{OP_BINARY, OP_CLOSE};
use crate::client::open::{open_all, OpenSpec};
use crate::client::socket::Sources;
use crate::histogram::Histogram;
use crate::meter::{Meter, Window};
use crate::payload::EchoPayload;
use crate::procfs::Probe;
use crate::report::{Better, Report};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct EchoSpec {
    pub target: Target,
    pub connections: usize,
    pub depth: usize,
    pub size: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub sources: u32,
}

impl EchoSpec {
    pub fn from_args(target: Target, a: &Args) -> Result<EchoSpec, String> {
        Ok(EchoSpec {
            target,
            connections: a.get("connections", 100)?,
            depth: a.get("depth", 16)?,
            size: a.get("size", 32)?,
            warmup: super::common::seconds(a.get("warmup", 0.5)?)?,
            duration: super::common::seconds(a.get("duration", 5.0)?)?,
            sources: a.get("sources", 64)?,
        })
    }
}

/// One connection's stream of numbered messages.
#[derive(Default)]
struct Flow {
    next_seq: u64,
    expect_seq: u64,
    /// Send times (ns) of the messages in flight, oldest first.
    sent: VecDeque<u64>,
    dead: bool,
}

/// Counters shared by every connection of a run.
#[derive(Default)]
struct Tally {
    received: u64,
    latency: Histogram,
    in_flight: usize,
}

/// What `measure` counts, in order.
pub const COUNTS: [&str; 2] = ["messages", "connections"];
const MESSAGES: usize = 0;
const CONNECTIONS: usize = 1;

pub fn run(spec: &EchoSpec, probe: Option<Probe>) -> Report {
    figures(spec, measure(spec, probe, Part::Whole))
}

/// Runs the load: opens the connections, then (once `part` says so) warms
/// up, measures and drains.
pub fn measure(spec: &EchoSpec, probe: Option<Probe>, part: Part) -> Measured {
    let mut measured = Measured::new("echo", COUNTS.len());
    let report = &mut measured.report;
    let mut poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => {
            report.error(format!("epoll: {e}"));
            return measured;
        }
    };
    let frame = spec.size + 14;
    let opened = open_all(
        &mut poll,
        &OpenSpec {
            target: &spec.target,
            count: spec.connections,
            concurrency: 256,
            sources: Sources {
                spread: spec.sources,
                offset: part.offset(),
            },
            chunk: (frame * spec.depth * 2).clamp(4096, 256 * 1024),
            max_message: spec.size.max(1024),
            deadline: Instant::now() + Duration::from_secs(30),
            seed: 1 + (part.offset() << 8),
        },
    );
    report.errors(opened.failed as u64, opened.first_error);
    let mut conns = opened.conns;
    if conns.is_empty() {
        report.error("no connection opened".into());
        return measured;
    }
    if let Some(note) = tls_note(&spec.target, &conns[0]) {
        report.note(note);
    }
    if let Err(e) = part.start() {
        report.error(e);
        close_all(&mut poll, &mut conns, Duration::from_secs(1));
        return measured;
    }
    let payload = EchoPayload::new(spec.size);
    let clock = Clock::new();
    let mut flows: Vec<Flow> = (0..conns.len()).map(|_| Flow::default()).collect();
    let mut tally = Tally::default();
    let t0 = clock.ns();
    for (i, (conn, flow)) in conns.iter_mut().zip(flows.iter_mut()).enumerate() {
        for _ in 0..spec.depth {
            send_next(conn, flow, &payload, i, t0, &mut tally);
        }
        if let Err(e) = conn.flush() {
            kill(flow, &mut tally, report, format!("write: {e}"));
        }
    }

    let timeline = Timeline::starting_now(spec.warmup, spec.duration, Duration::from_secs(3));
    let mut meter: Option<Meter> = None;
    let mut window: Option<Window> = None;
    let mut window_start_ns = u64::MAX;
    let mut events = Events::with_capacity(1024);
    let mut dirty: Vec<usize> = Vec::with_capacity(conns.len());
    let mut again: Vec<usize> = Vec::new();
    let mut is_dirty = vec![false; conns.len()];
    loop {
        let now = Instant::now();
        if meter.is_none() && now >= timeline.warmup_end {
            meter = Some(Meter::start(probe));
            window_start_ns = clock.ns();
        }
        if window.is_none() && now >= timeline.window_end {
            window = meter.as_ref().map(Meter::stop);
        }
        let sending = window.is_none();
        if (!sending && tally.in_flight == 0) || now >= timeline.drain_end {
            break;
        }
        let wait = if again.is_empty() {
            timeline.wait(now, Duration::from_millis(50))
        } else {
            Duration::ZERO
        };
        if poll.poll(&mut events, Some(wait)).is_err() {
            continue;
        }
        let t = clock.ns();
        let measuring = t >= window_start_ns && sending;
        let ready = events
            .iter()
            .map(|e| {
                (
                    e.token().0,
                    e.is_readable() || e.is_read_closed() || e.is_error(),
                )
            })
            .chain(std::mem::take(&mut again).into_iter().map(|i| (i, true)));
        for (i, readable) in ready {
            let (Some(conn), Some(flow)) = (conns.get_mut(i), flows.get_mut(i)) else {
                continue;
            };
            if flow.dead {
                continue;
            }
            if readable {
                let result = read_messages(conn, |conn, m| {
                    on_echo(
                        conn, m, flow, &payload, i, t, measuring, sending, &mut tally,
                    )
                });
                match result {
                    Ok(true) => {}
                    Ok(false) => again.push(i),
                    Err(e) => {
                        kill(flow, &mut tally, report, e);
                        continue;
                    }
                }
                if conn.eof {
                    kill(
                        flow,
                        &mut tally,
                        report,
                        "server closed the connection".into(),
                    );
                    continue;
                }
            }
            if conn.wants_write() && !is_dirty[i] {
                is_dirty[i] = true;
                dirty.push(i);
            }
        }
        for i in dirty.drain(..) {
            is_dirty[i] = false;
            if flows[i].dead {
                continue;
            }
            if let Err(e) = conns[i].flush() {
                kill(&mut flows[i], &mut tally, report, format!("write: {e}"));
            }
        }
    }
    if tally.in_flight > 0 {
        report.errors(
            tally.in_flight as u64,
            Some(format!("{} echoes not returned in time", tally.in_flight)),
        );
    }
    close_all(&mut poll, &mut conns, Duration::from_secs(1));
    if window.is_none() {
        report.error("the run ended before its measurement window".into());
    }
    measured.window = window;
    measured.counts[MESSAGES] = tally.received;
    measured.counts[CONNECTIONS] = flows.iter().filter(|f| !f.dead).count() as u64;
    measured.latency = tally.latency;
    measured
}

/// The figures of what one or several generators measured.
pub fn figures(spec: &EchoSpec, m: Measured) -> Report {
    let (received, live) = (m.count(MESSAGES), m.count(CONNECTIONS));
    let mut report = m.report;
    let Some(w) = m.window else {
        return report;
    };
    report.add(
        "msgs_per_s",
        "echo msg/s",
        Some(w.rate(received)),
        Better::Higher,
    );
    report.add(
        "mb_per_s",
        "echo MB/s (payload)",
        Some(w.rate(received) * spec.size as f64 / 1e6),
        Better::Higher,
    );
    report.add(
        "msgs_per_cpu_s",
        "msg per server CPU-s",
        w.per_server_cpu(received),
        Better::Higher,
    );
    report.add_latency(&["RTT p50 us", "RTT p99 us", "RTT p99.9 us"], &m.latency);
    report.add_cpu(&w);
    report.add(
        "connections",
        "connections open",
        Some(live as f64),
        Better::Info,
    );
    report.add(
        "messages",
        "echoes in window",
        Some(received as f64),
        Better::Info,
    );
    report
}

fn send_next(
    conn: &mut Conn,
    flow: &mut Flow,
    payload: &EchoPayload,
    i: usize,
    t: u64,
    tally: &mut Tally,
) {
    payload.queue(&mut conn.out, i as u32, flow.next_seq);
    flow.sent.push_back(t);
    flow.next_seq += 1;
    tally.in_flight += 1;
}

#[allow(clippy::too_many_arguments)]
fn on_echo(
    conn: &mut Conn,
    m: crate::client::conn::Message,
    flow: &mut Flow,
    payload: &EchoPayload,
    i: usize,
    t: u64,
    measuring: bool,
    sending: bool,
    tally: &mut Tally,
) -> Result<(), String> {
    if m.opcode == OP_CLOSE {
        return Err(format!("server closed connection {i}"));
    }
    if m.opcode != OP_BINARY {
        return Err(format!("echo with opcode {} on connection {i}", m.opcode));
    }
    let Some(sent_at) = flow.sent.pop_front() else {
        return Err(format!("unexpected message on connection {i}"));
    };
    tally.in_flight -= 1;
    let (data, _) = conn.split(&m);
    if !payload.matches(data, i as u32, flow.expect_seq) {
        return Err(format!(
            "echo mismatch on connection {i}, message {} ({} bytes)",
            flow.expect_seq,
            data.len()
        ));
    }
    flow.expect_seq += 1;
    if measuring {
        tally.received += 1;
        tally.latency.record(t.saturating_sub(sent_at));
    }
    if sending {
        send_next(conn, flow, payload, i, t, tally);
    }
    Ok(())
}

/// Stops using a connection after an error; its messages in flight are
/// written off with it.
fn kill(flow: &mut Flow, tally: &mut Tally, report: &mut Report, why: String) {
    if !flow.dead {
        flow.dead = true;
        tally.in_flight -= flow.sent.len();
        flow.sent.clear();
        report.error(why);
    }
}
