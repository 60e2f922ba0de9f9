//! Subscribers: K connections that send nothing and count the messages the
//! server pushes to them, while another program makes the load (publishes
//! through the control socket, the HTTP endpoint, PHP-FPM...). Prints
//! `subscribed K` once they are open, then counts until `until_quiet` of
//! silence after the first message, or `duration` after opening. The rate is
//! taken from the first message to the last.

use std::io::Write;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::common::{read_messages, tls_note};
use crate::cli::Args;
use crate::client::close::close_all;
use crate::client::conn::Conn;
use crate::client::frame::{OP_BINARY, OP_CLOSE, OP_TEXT};
use crate::client::open::{open_all, OpenSpec};
use crate::client::socket::Sources;
use crate::meter::Meter;
use crate::procfs::Probe;
use crate::report::{Better, Report};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct SubscribersSpec {
    pub target: Target,
    pub connections: usize,
    /// Silence after the first message that ends the count.
    pub until_quiet: Duration,
    /// The longest count, from the moment the connections are open.
    pub duration: Duration,
    /// Messages each connection must receive, when known.
    pub expect: Option<u64>,
    pub max_message: usize,
    pub sources: u32,
}

impl SubscribersSpec {
    pub fn from_args(target: Target, a: &Args) -> Result<SubscribersSpec, String> {
        Ok(SubscribersSpec {
            target,
            connections: a.get("connections", 1000)?,
            until_quiet: super::common::seconds(a.get("until-quiet", 2.0)?)?,
            duration: super::common::seconds(a.get("duration", 60.0)?)?,
            expect: a.maybe("expect")?,
            max_message: a.get("max-message", 1 << 20)?,
            sources: a.get("sources", 64)?,
        })
    }
}

/// What the connections received.
struct Tally {
    counts: Vec<u64>,
    dead: Vec<bool>,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Tally {
    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// True once `quiet` has passed since the last message.
    fn quiet_for(&self, quiet: Duration, now: Instant) -> bool {
        self.last.is_some_and(|t| now.duration_since(t) >= quiet)
    }
}

pub fn run(spec: &SubscribersSpec, probe: Option<Probe>) -> Report {
    let mut report = Report::new("subscribers");
    let mut poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => return Report::failed("subscribers", format!("epoll: {e}")),
    };
    let opened = open_all(
        &mut poll,
        &OpenSpec {
            target: &spec.target,
            count: spec.connections,
            concurrency: 256,
            sources: Sources {
                spread: spec.sources,
                offset: 0,
            },
            chunk: 16 * 1024,
            max_message: spec.max_message,
            deadline: Instant::now() + Duration::from_secs(30),
            seed: 5,
        },
    );
    report.errors(opened.failed as u64, opened.first_error);
    let mut conns = opened.conns;
    if let Some(note) = conns.first().and_then(|c| tls_note(&spec.target, c)) {
        report.note(note);
    }
    // The signal for whoever makes the load: the subscribers are in place.
    let said = writeln!(std::io::stdout(), "subscribed {}", conns.len());
    if let Err(e) = said.and_then(|()| std::io::stdout().flush()) {
        report.error(format!("stdout: {e}"));
        return report;
    }
    let meter = Meter::start(probe);
    let mut tally = Tally {
        counts: vec![0; conns.len()],
        dead: vec![false; conns.len()],
        first: None,
        last: None,
    };
    count(&mut poll, &mut conns, &mut tally, spec, &mut report);
    let w = meter.stop();
    close_all(&mut poll, &mut conns, Duration::from_secs(1));
    figures(&mut report, &tally, spec);
    report.add(
        "server_cpu_s",
        "server CPU-s (whole count)",
        w.server_cpu,
        Better::Info,
    );
    report
}

/// Reads every connection until the count ends.
fn count(
    poll: &mut Poll,
    conns: &mut [Conn],
    tally: &mut Tally,
    spec: &SubscribersSpec,
    report: &mut Report,
) {
    let deadline = Instant::now() + spec.duration;
    let mut events = Events::with_capacity(1024);
    let mut again: Vec<usize> = Vec::new();
    loop {
        let now = Instant::now();
        if now >= deadline || tally.quiet_for(spec.until_quiet, now) {
            break;
        }
        let mut wait = deadline.duration_since(now).min(Duration::from_millis(50));
        if !again.is_empty() {
            wait = Duration::ZERO;
        }
        if poll.poll(&mut events, Some(wait)).is_err() {
            continue;
        }
        let ready = events
            .iter()
            .map(|e| e.token().0)
            .chain(std::mem::take(&mut again));
        for j in ready {
            let (Some(conn), Some(false)) = (conns.get_mut(j), tally.dead.get(j).copied()) else {
                continue;
            };
            let mut got = 0u64;
            let result = read_messages(conn, |_, m| match m.opcode {
                OP_TEXT | OP_BINARY => {
                    got += 1;
                    Ok(())
                }
                OP_CLOSE => Err(format!("server closed connection {j}")),
                op => Err(format!("opcode {op} on connection {j}")),
            })
            .and_then(|drained| {
                if conn.wants_write() {
                    conn.flush().map_err(|e| format!("write: {e}"))?;
                }
                if conn.eof {
                    return Err(format!("server closed connection {j}"));
                }
                Ok(drained)
            });
            if got > 0 {
                let t = Instant::now();
                tally.first.get_or_insert(t);
                tally.last = Some(t);
                tally.counts[j] += got;
            }
            match result {
                Ok(true) => {}
                Ok(false) => again.push(j),
                Err(e) => {
                    tally.dead[j] = true;
                    report.error(e);
                }
            }
        }
    }
}

fn figures(report: &mut Report, tally: &Tally, spec: &SubscribersSpec) {
    let total = tally.total();
    if total == 0 {
        report.error("no message arrived".into());
    }
    if let Some(want) = spec.expect {
        let wrong: Vec<(usize, u64)> = (tally.counts.iter().copied().enumerate())
            .filter(|&(_, n)| n != want)
            .collect();
        if let Some(&(j, n)) = wrong.first() {
            report.errors(
                wrong.len() as u64,
                Some(format!(
                    "{} connections did not get {want} messages (connection {j}: {n})",
                    wrong.len()
                )),
            );
        }
    }
    let window = tally
        .first
        .zip(tally.last)
        .map(|(a, b)| b.duration_since(a).as_secs_f64())
        .filter(|&s| s > 0.0);
    report.add("deliveries", "deliveries", Some(total as f64), Better::Info);
    report.add(
        "deliveries_per_s",
        "deliveries/s (first to last)",
        window.map(|s| total as f64 / s),
        Better::Higher,
    );
    report.add(
        "window_s",
        "first to last message (s)",
        window,
        Better::Info,
    );
    let min = tally.counts.iter().copied().min();
    let max = tally.counts.iter().copied().max();
    report.add(
        "min_per_conn",
        "fewest on a connection",
        min.map(|n| n as f64),
        Better::Info,
    );
    report.add(
        "max_per_conn",
        "most on a connection",
        max.map(|n| n as f64),
        Better::Info,
    );
    let alive = tally.dead.iter().filter(|d| !**d).count();
    report.add(
        "connections",
        "connections still open",
        Some(alive as f64),
        Better::Info,
    );
}
