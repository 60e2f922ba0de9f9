//! Several generator processes against one server (`--generators K`), so that
//! the load can grow with the cores a machine has. Each generator is this
//! program run as `generator`, with its share of the connections (or
//! connectors), pinned to its own CPU when CPUs are given. Each opens its
//! connections and says `ready`; once all are ready, the coordinator tells
//! them `go` at the same moment and each runs the usual timeline (warm-up,
//! window, drain). At the end each writes what it measured: its counts, its
//! latency histogram, its window and its own CPU time, its errors. The
//! coordinator measures the server's CPU time once, over the common window,
//! and adds the rest up: counts and rates are sums, latency quantiles are
//! those of the merged histograms, generator CPU is the sum of the
//! generators'.
//!
//! A generator's report, on its standard output:
//!
//! ```text
//! ready
//! result
//! window SECONDS OWN_CPU_SECONDS
//! counts N N ...
//! latency MAX BUCKET:COUNT,...
//! errors N
//! first-error TEXT
//! note TEXT
//! end
//! ```
//!
//! (`window`, `first-error` and `note` only when there is one.)

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::common::{Measured, Part, Timeline};
use super::echo::{self, EchoSpec};
use super::handshakes::{self, HandshakeSpec};
use crate::cli::Args;
use crate::histogram::Histogram;
use crate::meter::{Meter, Window};
use crate::procfs::Probe;
use crate::report::{Better, Report};
use crate::target::Target;

/// Generators get this long to open their connections and say `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(45);
/// After the window, generators get this long to drain, close and report.
const REPORT_TIMEOUT: Duration = Duration::from_secs(20);

/// How many generator processes a load runs, and the CPU of each (none:
/// not pinned).
#[derive(Debug, Clone)]
pub struct Fleet {
    pub count: usize,
    pub cpus: Option<Vec<usize>>,
}

/// The CPUs of `count` generators from a `--cpu` or `--client-cpu` value:
/// one CPU, where the first generator runs, the others on the CPUs after it;
/// or a comma-separated list with one CPU per generator (repeats allowed:
/// `1,1` puts two generators on CPU 1).
pub fn cpus(text: &str, count: usize) -> Result<Vec<usize>, String> {
    let list: Vec<usize> = text
        .split(',')
        .map(|c| {
            c.trim()
                .parse()
                .map_err(|_| format!("cannot read CPU {c:?} in {text:?}"))
        })
        .collect::<Result<_, _>>()?;
    let cpus: Vec<usize> = match list.as_slice() {
        [first] => (*first..first + count).collect(),
        _ if list.len() == count => list,
        _ => {
            return Err(format!(
                "{text:?}: give one CPU (the first generator's) or {count}, one per generator"
            ))
        }
    };
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    if let Some(&missing) = cpus
        .iter()
        .find(|&&c| online > 0 && c as i64 >= online as i64)
    {
        return Err(format!(
            "CPU {missing} does not exist ({online} CPUs); give one CPU per generator, \
             such as 1,1 for two generators on CPU 1"
        ));
    }
    Ok(cpus)
}

/// A load that can be shared between generators.
#[derive(Debug, Clone)]
pub enum Job {
    Echo(EchoSpec),
    Handshakes(HandshakeSpec),
}

impl Job {
    fn mode(&self) -> &'static str {
        match self {
            Job::Echo(_) => "echo",
            Job::Handshakes(_) => "handshakes",
        }
    }

    fn count_keys(&self) -> &'static [&'static str] {
        match self {
            Job::Echo(_) => &echo::COUNTS,
            Job::Handshakes(_) => &handshakes::COUNTS,
        }
    }

    /// The key of the rate each generator's first count makes.
    fn rate_key(&self) -> &'static str {
        match self {
            Job::Echo(_) => "msgs_per_s",
            Job::Handshakes(_) => "hs_per_s",
        }
    }

    /// Connections or connectors in all.
    fn total(&self) -> usize {
        match self {
            Job::Echo(s) => s.connections,
            Job::Handshakes(s) => s.connectors,
        }
    }

    fn timing(&self) -> (Duration, Duration) {
        match self {
            Job::Echo(s) => (s.warmup, s.duration),
            Job::Handshakes(s) => (s.warmup, s.duration),
        }
    }

    fn target(&self) -> &Target {
        match self {
            Job::Echo(s) => &s.target,
            Job::Handshakes(s) => &s.target,
        }
    }

    /// A generator's command line for `share` of the connections.
    fn args(&self, share: usize) -> Vec<String> {
        let secs = |d: Duration| d.as_secs_f64().to_string();
        let mut args = vec!["--mode".to_string(), self.mode().into()];
        args.extend(["--url".into(), self.target().url()]);
        if let Some(ca) = self.target().tls.as_ref().and_then(|t| t.ca.as_ref()) {
            args.extend(["--ca".into(), ca.display().to_string()]);
        }
        let (warmup, duration) = self.timing();
        args.extend(["--warmup".into(), secs(warmup)]);
        args.extend(["--duration".into(), secs(duration)]);
        match self {
            Job::Echo(s) => {
                args.extend(["--connections".into(), share.to_string()]);
                args.extend(["--depth".into(), s.depth.to_string()]);
                args.extend(["--size".into(), s.size.to_string()]);
                args.extend(["--sources".into(), s.sources.to_string()]);
            }
            Job::Handshakes(s) => {
                args.extend(["--connectors".into(), share.to_string()]);
                args.extend(["--sources".into(), s.sources.to_string()]);
            }
        }
        args
    }

    fn figures(&self, m: Measured) -> Report {
        match self {
            Job::Echo(s) => echo::figures(s, m),
            Job::Handshakes(_) => handshakes::figures(m),
        }
    }
}

/// The `generator` command: one generator of a fleet.
pub fn generator_main(a: &Args) -> Result<(), String> {
    let ca = a.text("ca");
    let target = Target::parse(&a.required("url")?, ca.as_deref().map(std::path::Path::new))?;
    let mode = a.required("mode")?;
    let offset: u64 = a.get("offset", 0)?;
    let cpu: Option<usize> = a.maybe("cpu")?;
    let part = Part::Share { offset };
    let measured = match mode.as_str() {
        "echo" => {
            let spec = EchoSpec::from_args(target, a)?;
            a.finish()?;
            prepare(cpu)?;
            echo::measure(&spec, None, part)
        }
        "handshakes" => {
            let spec = HandshakeSpec::from_args(target, a)?;
            a.finish()?;
            prepare(cpu)?;
            handshakes::measure(&spec, None, part)
        }
        other => return Err(format!("--mode {other:?}: echo or handshakes")),
    };
    say(&encode(&measured))
}

fn prepare(cpu: Option<usize>) -> Result<(), String> {
    if let Some(cpu) = cpu {
        crate::sys::pin_to_cpu(cpu).map_err(|e| format!("cannot pin to CPU {cpu}: {e}"))?;
    }
    crate::sys::raise_nofile().map_err(|e| format!("cannot raise the open-file limit: {e}"))?;
    Ok(())
}

/// In a generator: says `ready` and waits for `go`.
pub fn await_go() -> Result<(), String> {
    say("ready")?;
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(_) if line.trim() == "go" => Ok(()),
        _ => Err("the coordinator went away before the start".into()),
    }
}

fn say(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}

/// One line of text, whatever it held.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn encode(m: &Measured) -> String {
    let mut lines = vec!["result".to_string()];
    if let Some(w) = &m.window {
        lines.push(format!("window {} {}", w.seconds, w.own_cpu));
    }
    let counts: Vec<String> = m.counts.iter().map(u64::to_string).collect();
    lines.push(format!("counts {}", counts.join(" ")));
    lines.push(format!("latency {}", m.latency.encode()));
    lines.push(format!("errors {}", m.report.errors));
    if let Some(e) = &m.report.first_error {
        lines.push(format!("first-error {}", one_line(e)));
    }
    for n in &m.report.notes {
        lines.push(format!("note {}", one_line(n)));
    }
    lines.push("end".into());
    lines.join("\n")
}

/// Reads the lines between `result` and `end`.
fn decode(mode: &'static str, counts: usize, lines: &[String]) -> Result<Measured, String> {
    let mut m = Measured::new(mode, counts);
    for line in lines {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        let bad = || format!("unreadable report line {line:?}");
        match key {
            "window" => {
                let mut v = rest.split(' ').map(str::parse::<f64>);
                let (Some(Ok(seconds)), Some(Ok(own_cpu))) = (v.next(), v.next()) else {
                    return Err(bad());
                };
                m.window = Some(Window {
                    seconds,
                    server_cpu: None,
                    own_cpu,
                    machine_cpu: None,
                });
            }
            "counts" => {
                let got: Vec<u64> = rest
                    .split(' ')
                    .filter(|c| !c.is_empty())
                    .map(|c| c.parse().map_err(|_| bad()))
                    .collect::<Result<_, _>>()?;
                if got.len() != counts {
                    return Err(bad());
                }
                m.counts = got;
            }
            "latency" => m.latency = Histogram::decode(rest)?,
            "errors" => m.report.errors = rest.parse().map_err(|_| bad())?,
            "first-error" => m.report.first_error = Some(rest.to_string()),
            "note" => m.report.notes.push(rest.to_string()),
            _ => return Err(bad()),
        }
    }
    Ok(m)
}

/// Where a generator is.
enum Stage {
    Starting,
    Ready,
    /// Between `result` and `end`.
    Reporting(Vec<String>),
    Done(Box<Measured>),
    Failed(String),
}

impl Stage {
    fn finished(&self) -> bool {
        matches!(self, Stage::Done(_) | Stage::Failed(_))
    }
}

struct Generator {
    child: Child,
    stdin: Option<ChildStdin>,
    cpu: Option<usize>,
    stage: Stage,
}

/// Runs `job` on `fleet.count` generator processes and adds up their figures;
/// the server's CPU time (from `probe`) is measured here, once.
pub fn run(job: &Job, fleet: &Fleet, probe: Option<Probe>) -> Report {
    let mode = job.mode();
    let k = fleet.count.max(1);
    if job.total() < k {
        return Report::failed(
            mode,
            format!(
                "{k} generators need at least {k} connections (or connectors); {} given",
                job.total()
            ),
        );
    }
    let (tx, rx) = mpsc::channel();
    let mut generators = Vec::new();
    let mut offset = 0usize;
    for g in 0..k {
        let share = job.total() / k + usize::from(g < job.total() % k);
        let cpu = fleet.cpus.as_ref().and_then(|c| c.get(g).copied());
        match spawn(job, g, share, offset, cpu, tx.clone()) {
            Ok(generator) => generators.push(generator),
            Err(e) => {
                stop(&mut generators, Instant::now());
                return Report::failed(mode, e);
            }
        }
        offset += share;
    }
    drop(tx);
    let counts = job.count_keys().len();
    let ready_by = Instant::now() + READY_TIMEOUT;
    follow(&rx, &mut generators, mode, counts, ready_by, |s| {
        !matches!(s, Stage::Starting)
    });
    // All at once: the generators' windows line up within the time these
    // writes take.
    let mut any = false;
    for g in generators.iter_mut() {
        if matches!(g.stage, Stage::Ready) {
            let sent = g
                .stdin
                .as_mut()
                .is_some_and(|s| s.write_all(b"go\n").and_then(|()| s.flush()).is_ok());
            any |= sent;
        }
    }
    let (warmup, duration) = job.timing();
    let timeline = Timeline::starting_now(warmup, duration, Duration::ZERO);
    let window = any.then(|| {
        sleep_until(timeline.warmup_end);
        let meter = Meter::start(probe);
        sleep_until(timeline.window_end);
        meter.stop()
    });
    let report_by = Instant::now() + REPORT_TIMEOUT;
    follow(
        &rx,
        &mut generators,
        mode,
        counts,
        report_by,
        Stage::finished,
    );
    stop(&mut generators, report_by);
    add_up(job, generators, window)
}

fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

fn spawn(
    job: &Job,
    g: usize,
    share: usize,
    offset: usize,
    cpu: Option<usize>,
    lines: mpsc::Sender<(usize, Option<String>)>,
) -> Result<Generator, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let mut command = Command::new(exe);
    command
        .arg("generator")
        .args(job.args(share))
        .args(["--offset", &offset.to_string()]);
    if let Some(cpu) = cpu {
        command.args(["--cpu", &cpu.to_string()]);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start generator {}: {e}", g + 1))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().ok_or("generator without stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send((g, Some(line))).is_err() {
                return;
            }
        }
        let _ = lines.send((g, None));
    });
    Ok(Generator {
        child,
        stdin,
        cpu,
        stage: Stage::Starting,
    })
}

/// Takes the generators' lines until every one satisfies `until` or the
/// deadline passes.
fn follow(
    rx: &mpsc::Receiver<(usize, Option<String>)>,
    generators: &mut [Generator],
    mode: &'static str,
    counts: usize,
    deadline: Instant,
    until: impl Fn(&Stage) -> bool,
) {
    while !generators.iter().all(|g| until(&g.stage)) {
        let wait = deadline.saturating_duration_since(Instant::now());
        let Ok((i, line)) = rx.recv_timeout(wait) else {
            break;
        };
        let Some(g) = generators.get_mut(i) else {
            continue;
        };
        let stage = std::mem::replace(&mut g.stage, Stage::Starting);
        g.stage = match (stage, line) {
            (done @ (Stage::Done(_) | Stage::Failed(_)), _) => done,
            (_, None) => Stage::Failed("exited without its figures (see its error above)".into()),
            (Stage::Reporting(lines), Some(l)) if l == "end" => decode(mode, counts, &lines)
                .map_or_else(Stage::Failed, |m| Stage::Done(Box::new(m))),
            (Stage::Reporting(mut lines), Some(l)) => {
                lines.push(l);
                Stage::Reporting(lines)
            }
            (_, Some(l)) if l == "result" => Stage::Reporting(Vec::new()),
            (Stage::Starting, Some(l)) if l == "ready" => Stage::Ready,
            (other, Some(_)) => other,
        };
    }
}

/// Lets every generator end (closing its input tells one still waiting to
/// start that there is no start), killing any still running at `deadline`.
fn stop(generators: &mut [Generator], deadline: Instant) {
    for g in generators.iter_mut() {
        drop(g.stdin.take());
    }
    for g in generators.iter_mut() {
        loop {
            match g.child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = g.child.kill();
                    let _ = g.child.wait();
                    if !g.stage.finished() {
                        g.stage = Stage::Failed("did not report in time; killed".into());
                    }
                    break;
                }
            }
        }
        if !g.stage.finished() {
            g.stage = Stage::Failed("ended without its figures".into());
        }
    }
}

/// The sum of the generators' measurements, with the server's CPU time from
/// the coordinator's `window` (scaled to the generators' window length).
fn add_up(job: &Job, generators: Vec<Generator>, window: Option<Window>) -> Report {
    let keys = job.count_keys();
    let k = generators.len();
    let mut total = Measured::new(job.mode(), keys.len());
    let mut parts = Vec::new();
    let (mut seconds, mut own_cpu, mut windows) = (0.0, 0.0, 0usize);
    for (i, g) in generators.into_iter().enumerate() {
        let mut part: Vec<(&'static str, Option<f64>)> = vec![
            ("generator", Some((i + 1) as f64)),
            ("pid", Some(f64::from(g.child.id()))),
            ("cpu", g.cpu.map(|c| c as f64)),
        ];
        match g.stage {
            Stage::Done(m) => {
                let m = *m;
                let first = m.count(0);
                for (sum, n) in total.counts.iter_mut().zip(&m.counts) {
                    *sum += n;
                }
                total.latency.merge(&m.latency);
                total.report.errors += m.report.errors;
                if let Some(e) = m.report.first_error {
                    total
                        .report
                        .first_error
                        .get_or_insert(format!("generator {}: {e}", i + 1));
                }
                for n in m.report.notes {
                    if !total.report.notes.contains(&n) {
                        total.report.notes.push(n);
                    }
                }
                for (key, n) in keys.iter().zip(&m.counts) {
                    part.push((key, Some(*n as f64)));
                }
                if let Some(w) = m.window {
                    seconds += w.seconds;
                    own_cpu += w.own_cpu;
                    windows += 1;
                    part.push((job.rate_key(), Some(w.rate(first))));
                    part.push(("gen_cpu_pct", Some(w.own_cpu_pct())));
                }
                part.push(("errors", Some(m.report.errors as f64)));
            }
            Stage::Failed(why) => {
                total.report.error(format!("generator {}: {why}", i + 1));
                part.push(("errors", Some(1.0)));
            }
            _ => {}
        }
        parts.push(part);
    }
    if let (Some(w), true) = (window, windows > 0) {
        let mean = seconds / windows as f64;
        let scale = mean / w.seconds.max(1e-9);
        total.window = Some(Window {
            seconds: mean,
            server_cpu: w.server_cpu.map(|c| c * scale),
            own_cpu,
            machine_cpu: w.machine_cpu.map(|c| c * scale),
        });
    } else if total.report.errors == 0 {
        total
            .report
            .error("no generator reached its measurement window".into());
    }
    let mut report = job.figures(total);
    report.add(
        "generators",
        "generator processes",
        Some(k as f64),
        Better::Info,
    );
    report.parts = parts;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpus("0", 2), Ok(vec![0, 1]));
        assert_eq!(cpus("1,1", 2), Ok(vec![1, 1]));
        assert_eq!(cpus("0, 1", 2), Ok(vec![0, 1]));
        assert!(cpus("0,1,0", 2).is_err());
        assert!(cpus("x", 2).is_err());
        assert!(cpus("100000", 1).is_err());
    }

    #[test]
    fn reports_travel_whole() {
        let mut m = Measured::new("echo", 2);
        m.counts = vec![1234, 50];
        m.window = Some(Window {
            seconds: 2.5,
            server_cpu: Some(9.0),
            own_cpu: 2.25,
            machine_cpu: Some(9.0),
        });
        for v in [10u64, 2000, 30_000] {
            m.latency.record(v);
        }
        m.report.error("first\nsecond line".into());
        m.report.note("TLS: a note".into());
        let text = encode(&m);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert_eq!(lines.first().map(String::as_str), Some("result"));
        assert_eq!(lines.pop().as_deref(), Some("end"));
        let back = decode("echo", 2, &lines[1..]).expect("decodes");
        assert_eq!(back.counts, vec![1234, 50]);
        let w = back.window.expect("a window");
        assert_eq!((w.seconds, w.own_cpu, w.server_cpu), (2.5, 2.25, None));
        assert_eq!(back.latency.count(), 3);
        for q in [0.5, 1.0] {
            assert_eq!(back.latency.quantile(q), m.latency.quantile(q));
        }
        assert_eq!(back.report.errors, 1);
        assert_eq!(
            back.report.first_error.as_deref(),
            Some("first second line")
        );
        assert_eq!(back.report.notes, vec!["TLS: a note".to_string()]);
        assert!(decode("echo", 2, &["counts 1".to_string()]).is_err());
        assert!(decode("echo", 2, &["what 1".to_string()]).is_err());
    }
}
