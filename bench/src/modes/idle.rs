//! Idle memory: K open connections doing nothing, and what they cost the
//! server: (RSS after - RSS before) / K. The connections are held by worker
//! processes (this program run as `idle-worker`), each below the per-process
//! open-file limit, with source addresses spread over 127.0.0.0/8.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cli::Args;
use crate::procfs::Probe;
use crate::report::{Better, Report};
use crate::target::Target;

/// Worker processes get this long to open their connections.
const OPEN_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct IdleSpec {
    pub target: Target,
    pub connections: usize,
    pub per_process: usize,
    /// Pause between the last connection opening and the RSS reading.
    pub settle: Duration,
    pub sources: u32,
}

impl IdleSpec {
    pub fn from_args(target: Target, a: &Args) -> Result<IdleSpec, String> {
        Ok(IdleSpec {
            target,
            connections: a.get("connections", 10_000)?,
            per_process: a.get("per-process", 10_000)?,
            settle: super::common::seconds(a.get("settle", 1.0)?)?,
            sources: a.get("sources", 250)?,
        })
    }
}

struct Worker {
    child: Child,
    lines: mpsc::Receiver<String>,
}

pub fn run(spec: &IdleSpec, probe: Option<Probe>) -> Report {
    let Some(probe) = probe else {
        return Report::failed("idle", "idle mode needs the server's --pid".into());
    };
    let mut report = Report::new("idle");
    if let Some(tls) = &spec.target.tls {
        report.note(format!("connections over TLS; {}", tls.trust_note()));
    }
    let before = match probe.rss_bytes() {
        Ok(b) => b,
        Err(e) => return Report::failed("idle", format!("server RSS: {e}")),
    };
    let per = spec.per_process.max(1);
    let mut workers = Vec::new();
    let mut offset = 0usize;
    while offset < spec.connections {
        let n = per.min(spec.connections - offset);
        match spawn(spec, n, offset) {
            Ok(w) => workers.push(w),
            Err(e) => report.error(e),
        }
        offset += n;
    }
    let deadline = Instant::now() + OPEN_TIMEOUT;
    let mut opened = 0usize;
    for w in &workers {
        match next_line(w, deadline).as_deref().map(|l| l.split_once(' ')) {
            Some(Some(("ready", rest))) => {
                let mut parts = rest.splitn(3, ' ');
                let ok: usize = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let failed: u64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                opened += ok;
                let why = parts.next().map(str::to_string).filter(|s| !s.is_empty());
                report.errors(failed, why);
            }
            _ => report.error("a worker did not report its connections".into()),
        }
    }
    std::thread::sleep(spec.settle);
    let after = probe.rss_bytes();
    // Closing stdin tells the workers to report and exit.
    let mut alive = 0usize;
    let close_deadline = Instant::now() + Duration::from_secs(30);
    for w in &mut workers {
        drop(w.child.stdin.take());
    }
    for w in &mut workers {
        if let Some(Some(("alive", n))) = next_line(w, close_deadline)
            .as_deref()
            .map(|l| l.split_once(' '))
        {
            alive += n.parse::<usize>().unwrap_or(0);
        }
        reap(&mut w.child, close_deadline);
    }
    if alive < opened {
        report.errors(
            (opened - alive) as u64,
            Some(format!(
                "{} connections were closed while idle",
                opened - alive
            )),
        );
    }
    let after = match after {
        Ok(a) => a,
        Err(e) => {
            report.error(format!("server RSS: {e}"));
            return report;
        }
    };
    let per_conn = (opened > 0).then(|| (after as f64 - before as f64) / opened as f64);
    report.add(
        "bytes_per_conn",
        "RSS per idle conn (B)",
        per_conn,
        Better::Lower,
    );
    report.add(
        "rss_before_mib",
        "server RSS before (MiB)",
        Some(before as f64 / 1048576.0),
        Better::Info,
    );
    report.add(
        "rss_after_mib",
        "server RSS with conns (MiB)",
        Some(after as f64 / 1048576.0),
        Better::Info,
    );
    report.add(
        "connections",
        "connections open",
        Some(opened as f64),
        Better::Info,
    );
    report
}

fn spawn(spec: &IdleSpec, count: usize, offset: usize) -> Result<Worker, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let mut command = Command::new(exe);
    command
        .arg("idle-worker")
        .args(["--url", &spec.target.url()]);
    if let Some(ca) = spec.target.tls.as_ref().and_then(|t| t.ca.as_ref()) {
        command.arg("--ca").arg(ca);
    }
    let mut child = command
        .args(["--count", &count.to_string()])
        .args(["--offset", &offset.to_string()])
        .args(["--sources", &spec.sources.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    let stdout = child.stdout.take().ok_or("worker without stdout")?;
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(Worker { child, lines })
}

fn next_line(w: &Worker, deadline: Instant) -> Option<String> {
    w.lines
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// Waits for a worker to exit, killing it at the deadline.
fn reap(child: &mut Child, deadline: Instant) {
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}
