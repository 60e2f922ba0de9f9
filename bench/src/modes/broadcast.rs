//! Fan-out: one publisher sends `B:`-prefixed text messages, which the server
//! delivers to every connection (the publisher included); K subscribers check
//! every delivery, in order and byte for byte. At most `depth` publishes are in
//! flight: a publish is complete once every connection has received it.

use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::common::{read_messages, tls_note, Clock, Timeline};
use crate::cli::Args;
use crate::client::close::close_all;
use crate::client::conn::{Conn, Message};
use crate::client::frame::{OP_CLOSE, OP_TEXT};
use crate::client::open::{open_all, OpenSpec};
use crate::client::socket::Sources;
use crate::histogram::Histogram;
use crate::meter::{Meter, Window};
use crate::procfs::Probe;
use crate::report::{Better, Report};
use crate::target::Target;

/// "B:" + 16 hex digits of the sequence number + ":".
const PREFIX: usize = 19;

#[derive(Debug, Clone)]
pub struct BroadcastSpec {
    pub target: Target,
    pub subscribers: usize,
    pub depth: usize,
    pub size: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub sources: u32,
}

impl BroadcastSpec {
    pub fn from_args(target: Target, a: &Args) -> Result<BroadcastSpec, String> {
        Ok(BroadcastSpec {
            target,
            subscribers: a.get("subscribers", 1000)?,
            depth: a.get("depth", 16)?,
            size: a.get("size", 32)?,
            warmup: super::common::seconds(a.get("warmup", 0.5)?)?,
            duration: super::common::seconds(a.get("duration", 5.0)?)?,
            sources: a.get("sources", 64)?,
        })
    }
}

/// A publish in flight.
#[derive(Default)]
struct Publish {
    seq: u64,
    payload: Vec<u8>,
    remaining: usize,
    sent_ns: u64,
}

/// The publishes in flight, indexed by `seq % depth`.
struct Ring {
    slots: Vec<Publish>,
    next_seq: u64,
    completed: u64,
    receivers: usize,
    size: usize,
}

impl Ring {
    fn slot(&mut self, seq: u64) -> &mut Publish {
        let n = self.slots.len() as u64;
        &mut self.slots[(seq % n) as usize]
    }

    fn in_flight(&self) -> u64 {
        self.next_seq - self.completed
    }

    /// Builds and queues the next publish on the publisher's connection.
    fn publish(&mut self, publisher: &mut Conn, t: u64) {
        let seq = self.next_seq;
        let (size, receivers) = (self.size, self.receivers);
        let p = self.slot(seq);
        p.seq = seq;
        p.remaining = receivers;
        p.sent_ns = t;
        p.payload.clear();
        p.payload
            .extend_from_slice(format!("B:{seq:016x}:").as_bytes());
        let fill = size.saturating_sub(PREFIX);
        p.payload
            .extend((0..fill).map(|i| b'a' + ((i as u64 * 7 + seq) % 26) as u8));
        publisher.out.queue(OP_TEXT, &[&p.payload]);
        self.next_seq += 1;
    }

    /// Retires completed publishes, oldest first, recording their latency.
    fn retire(&mut self, t: u64, measuring: bool, latency: &mut Histogram) {
        while self.completed < self.next_seq {
            let seq = self.completed;
            let p = self.slot(seq);
            if p.remaining > 0 {
                break;
            }
            if measuring {
                latency.record(t.saturating_sub(p.sent_ns));
            }
            self.completed += 1;
        }
    }

    /// A receiver stopped: it will not take the publishes it still expected.
    fn write_off(&mut self, from_seq: u64) {
        for seq in from_seq.max(self.completed)..self.next_seq {
            let p = self.slot(seq);
            p.remaining = p.remaining.saturating_sub(1);
        }
        self.receivers = self.receivers.saturating_sub(1);
    }
}

pub fn run(spec: &BroadcastSpec, probe: Option<Probe>) -> Report {
    let mut report = Report::new("broadcast");
    let mut poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => return Report::failed("broadcast", format!("epoll: {e}")),
    };
    let size = spec.size.max(PREFIX);
    let opened = open_all(
        &mut poll,
        &OpenSpec {
            target: &spec.target,
            count: spec.subscribers + 1,
            concurrency: 256,
            sources: Sources {
                spread: spec.sources,
                offset: 0,
            },
            chunk: ((size + 14) * spec.depth * 2).clamp(4096, 256 * 1024),
            max_message: size.max(1024),
            deadline: Instant::now() + Duration::from_secs(30),
            seed: 3,
        },
    );
    report.errors(opened.failed as u64, opened.first_error);
    let mut conns = opened.conns;
    if conns.len() < 2 {
        report.error("too few connections opened".into());
        return report;
    }
    if let Some(note) = tls_note(&spec.target, &conns[0]) {
        report.note(note);
    }
    let n = conns.len();
    let mut ring = Ring {
        slots: (0..spec.depth.max(1)).map(|_| Publish::default()).collect(),
        next_seq: 0,
        completed: 0,
        receivers: n,
        size,
    };
    let mut expect = vec![0u64; n];
    let mut dead = vec![false; n];
    let mut deliveries = 0u64;
    let mut latency = Histogram::default();
    let clock = Clock::new();
    let timeline = Timeline::starting_now(spec.warmup, spec.duration, Duration::from_secs(3));
    let mut meter: Option<Meter> = None;
    let mut window: Option<Window> = None;
    let mut window_start_ns = u64::MAX;
    let mut events = Events::with_capacity(1024);
    let mut again: Vec<usize> = Vec::new();
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
        if (!sending && ring.in_flight() == 0) || now >= timeline.drain_end || dead[0] {
            break;
        }
        let t = clock.ns();
        let measuring = t >= window_start_ns && sending;
        if sending {
            while ring.in_flight() < ring.slots.len() as u64 {
                ring.publish(&mut conns[0], t);
            }
            if let Err(e) = conns[0].flush() {
                dead[0] = true;
                report.error(format!("publisher write: {e}"));
                continue;
            }
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
        let ready = events
            .iter()
            .map(|e| {
                (
                    e.token().0,
                    e.is_readable() || e.is_read_closed() || e.is_error(),
                )
            })
            .chain(std::mem::take(&mut again).into_iter().map(|i| (i, true)));
        for (j, readable) in ready {
            let Some(conn) = conns.get_mut(j) else {
                continue;
            };
            if dead[j] {
                continue;
            }
            let mut result = Ok(true);
            if readable {
                result = read_messages(conn, |conn, m| {
                    check_delivery(conn, m, &mut expect[j], &mut ring, j)?;
                    if measuring {
                        deliveries += 1;
                    }
                    Ok(())
                });
            }
            let result = result.and_then(|drained| {
                if conn.wants_write() {
                    conn.flush().map_err(|e| format!("write: {e}"))?;
                }
                if conn.eof {
                    return Err(format!("server closed connection {j}"));
                }
                Ok(drained)
            });
            match result {
                Ok(true) => {}
                Ok(false) => again.push(j),
                Err(e) => {
                    dead[j] = true;
                    ring.write_off(expect[j]);
                    report.error(e);
                }
            }
        }
        ring.retire(t, measuring, &mut latency);
    }
    if ring.in_flight() > 0 {
        report.errors(
            ring.in_flight(),
            Some(format!(
                "{} publishes not delivered to everyone in time",
                ring.in_flight()
            )),
        );
    }
    close_all(&mut poll, &mut conns, Duration::from_secs(1));
    let Some(w) = window else {
        report.error("the run ended before its measurement window".into());
        return report;
    };
    let receivers = dead.iter().filter(|d| !**d).count();
    report.add(
        "deliveries_per_s",
        "deliveries/s",
        Some(w.rate(deliveries)),
        Better::Higher,
    );
    report.add(
        "deliveries_per_cpu_s",
        "deliveries per server CPU-s",
        w.per_server_cpu(deliveries),
        Better::Higher,
    );
    report.add_latency(
        &["fan-out p50 us", "fan-out p99 us", "fan-out p99.9 us"],
        &latency,
    );
    report.add_cpu(&w);
    report.add(
        "receivers",
        "receiving connections",
        Some(receivers as f64),
        Better::Info,
    );
    report
}

/// Checks that `m` is, byte for byte, the publish connection `j` expects next.
fn check_delivery(
    conn: &mut Conn,
    m: Message,
    expect: &mut u64,
    ring: &mut Ring,
    j: usize,
) -> Result<(), String> {
    if m.opcode == OP_CLOSE {
        return Err(format!("server closed connection {j}"));
    }
    if m.opcode != OP_TEXT {
        return Err(format!(
            "delivery with opcode {} on connection {j}",
            m.opcode
        ));
    }
    let seq = *expect;
    if seq >= ring.next_seq {
        return Err(format!(
            "connection {j} got a message that was never published"
        ));
    }
    let (data, _) = conn.split(&m);
    let p = ring.slot(seq);
    if p.seq != seq || data != p.payload.as_slice() {
        return Err(format!(
            "delivery mismatch on connection {j}: expected publish {seq} ({} bytes), got {} bytes",
            p.payload.len(),
            data.len()
        ));
    }
    p.remaining = p.remaining.saturating_sub(1);
    *expect += 1;
    Ok(())
}
