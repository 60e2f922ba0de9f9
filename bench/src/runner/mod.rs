//! `compare`: runs a suite of scenarios against several servers, one fresh
//! server process per scenario, each pinned to the same CPU with the load
//! generator on another, and prints a table of figures and ratios to the
//! baseline, then one JSON line. TLS scenarios use a self-signed certificate
//! made for the run; a server that cannot serve TLS gets "n/a" there. With
//! `--generators K` the echo and handshake loads run on K generator processes
//! (see `modes::fleet`) on the client CPUs.

mod server;
mod suite;
mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::Args;
use crate::modes::fleet::Fleet;
use crate::report::{Better, Report};
use crate::target::Target;
use server::{quote, ServerDef, TlsFiles};
use table::Outcome;

pub const REFERENCE: &str = "reference";

/// Runs the comparison; returns whether every run was free of errors.
pub fn main(a: &Args) -> Result<bool, String> {
    let suite_name = a.text("suite").unwrap_or_else(|| "quick".into());
    let server_cpu: usize = a.get("server-cpu", 0)?;
    let generators: usize = a.get("generators", 1)?;
    let fleet = match generators {
        0 => return Err("--generators: at least 1".into()),
        1 => Fleet {
            count: 1,
            cpus: Some(vec![a.get("client-cpu", 1)?]),
        },
        count => {
            let text = a.text("client-cpu").unwrap_or_else(|| "1".into());
            let cpus = crate::modes::fleet::cpus(&text, count)
                .map_err(|e| format!("--client-cpu: {e}"))?;
            Fleet {
                count,
                cpus: Some(cpus),
            }
        }
    };
    // The generator, or with several the coordinator (idle and broadcast run
    // here as one generator), on the first client CPU.
    let client_cpu = fleet
        .cpus
        .as_ref()
        .and_then(|c| c.first().copied())
        .unwrap_or(1);
    let only: Vec<String> = a
        .text("only")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let duration: Option<f64> = a.maybe("duration")?;
    let repeat: usize = a.get("repeat", 1)?;
    let quiet_wait = crate::modes::common::seconds(a.get("wait-quiet", 0.0)?)?;
    let servers = server_list(a)?;
    let baseline_name = a.text("baseline");
    a.finish()?;
    let baseline = match baseline_name {
        Some(name) => servers
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| format!("no server named {name:?} to use as the baseline"))?,
        None => servers
            .iter()
            .position(|s| s.name == REFERENCE)
            .unwrap_or(servers.len() - 1),
    };

    let (mut scenarios, mut timing) = suite::suite(&suite_name)?;
    if !only.is_empty() {
        scenarios.retain(|s| only.iter().any(|o| o == s.key));
        if scenarios.is_empty() {
            return Err(format!("--only {}: no such scenario", only.join(",")));
        }
    }
    if let Some(d) = duration {
        timing.duration = crate::modes::common::seconds(d)?;
    }
    let certificate = if scenarios.iter().any(|s| s.tls) {
        Some(crate::tls::SelfSigned::create()?)
    } else {
        None
    };
    let tls_files = certificate.as_ref().map(|c| TlsFiles {
        cert: &c.cert,
        key: &c.key,
    });
    crate::sys::pin_to_cpu(client_cpu)
        .map_err(|e| format!("cannot pin the generator to CPU {client_cpu}: {e}"))?;
    let (soft, _) = crate::sys::nofile_limit().map_err(|e| e.to_string())?;
    crate::sys::raise_nofile().map_err(|e| format!("cannot raise the open-file limit: {e}"))?;

    let mut outcomes = Vec::new();
    for scenario in scenarios {
        // Runs alternate between servers, so that a disturbance hits all alike.
        let mut runs: Vec<Vec<Report>> = servers.iter().map(|_| Vec::new()).collect();
        for round in 0..repeat.max(1) {
            for (def, runs) in servers.iter().zip(runs.iter_mut()) {
                eprintln!("-- {} on {} (run {})", scenario.title, def.name, round + 1);
                if !quiet_wait.is_zero() && !wait_quiet(quiet_wait) {
                    eprintln!("   the machine did not become quiet within {quiet_wait:?}");
                }
                let tls = if scenario.tls {
                    tls_files.as_ref()
                } else {
                    None
                };
                runs.push(run_one(
                    &scenario, &timing, &fleet, def, server_cpu, soft, tls,
                ));
            }
        }
        let reports = runs.into_iter().map(best_of).collect();
        outcomes.push(Outcome { scenario, reports });
    }
    let names: Vec<String> = servers.iter().map(|s| s.name.clone()).collect();
    println!();
    table::print_table(&names, baseline, &outcomes);
    let pairs: Vec<(String, String)> = servers.into_iter().map(|s| (s.name, s.cmd)).collect();
    println!(
        "{}",
        table::json_line(&suite_name, &pairs, baseline, &outcomes, fleet.count)
    );
    Ok(outcomes
        .iter()
        .all(|o| o.reports.iter().all(|r| r.errors == 0)))
}

fn run_one(
    scenario: &suite::Scenario,
    timing: &suite::Timing,
    fleet: &Fleet,
    def: &ServerDef,
    cpu: usize,
    nofile_soft: u64,
    tls: Option<&TlsFiles>,
) -> Report {
    let running = match server::start(def, cpu, nofile_soft, tls) {
        Ok(r) => r,
        // A server that does not start with a TLS listener does not do TLS.
        Err(e) if tls.is_some() => {
            eprintln!("   n/a: {e}");
            return Report::not_applicable("compare", e);
        }
        Err(e) => return Report::failed("server", e),
    };
    let mut report = match Target::from_addr(running.addr, tls.map(|t| t.cert)) {
        Ok(target) => suite::run(scenario, timing, fleet, target, running.probe()),
        Err(e) => Report::failed("server", e),
    };
    if let Some(note) = running.stop() {
        eprintln!("   note: {} {note}", def.name);
    }
    if let Some(e) = &report.first_error {
        eprintln!("   {} error(s): {e}", report.errors);
    }
    report.mode = "compare";
    report
}

/// Waits (at most `max`) until the machine's CPUs are nearly idle, so that a
/// run starts undisturbed. Returns whether they were.
fn wait_quiet(max: Duration) -> bool {
    let deadline = Instant::now() + max;
    let sample = Duration::from_millis(250);
    while Instant::now() < deadline {
        let (Some(before), t0) = (crate::meter::machine_busy_seconds(), Instant::now()) else {
            return false;
        };
        std::thread::sleep(sample);
        let Some(after) = crate::meter::machine_busy_seconds() else {
            return false;
        };
        let busy = (after - before) / t0.elapsed().as_secs_f64();
        if busy < QUIET_BUSY {
            return true;
        }
    }
    false
}

/// Machine busy time (in cores) below which the machine counts as quiet.
const QUIET_BUSY: f64 = 0.15;

/// The best of several runs of one server: among those without errors, the
/// one with the best headline (first ranked) metric.
fn best_of(runs: Vec<Report>) -> Report {
    let score = |r: &Report| -> f64 {
        let head = r.metrics.iter().find(|m| m.better != Better::Info);
        match head.and_then(|m| m.value.map(|v| (m.better, v))) {
            Some((Better::Lower, v)) => -v,
            Some((_, v)) => v,
            None => f64::NEG_INFINITY,
        }
    };
    let mut best: Option<Report> = None;
    for r in runs {
        let better = match &best {
            None => true,
            Some(b) if r.na.is_some() != b.na.is_some() => r.na.is_none(),
            Some(b) => {
                (r.errors == 0 && b.errors > 0)
                    || ((r.errors == 0) == (b.errors == 0) && score(&r) > score(b))
            }
        };
        if better {
            best = Some(r);
        }
    }
    best.unwrap_or_else(|| Report::failed("compare", "no run".into()))
}

/// The servers to compare: `--server NAME=CMD` (repeatable) or `--server-cmd
/// CMD` (named by `--server-name`), Switchboard's echo example when neither
/// is given, and the reference unless `--no-reference`.
fn server_list(a: &Args) -> Result<Vec<ServerDef>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let mut servers = Vec::new();
    for spec in a.all("server") {
        let (name, cmd) = spec
            .split_once('=')
            .ok_or_else(|| format!("--server {spec:?}: expected NAME=COMMAND"))?;
        servers.push(ServerDef {
            name: name.to_string(),
            cmd: cmd.to_string(),
        });
    }
    if let Some(cmd) = a.text("server-cmd") {
        servers.push(ServerDef {
            name: a.text("server-name").unwrap_or_else(|| "server".into()),
            cmd,
        });
    }
    if servers.is_empty() {
        // Inline mode: one thread on one core, like the reference's runtime.
        servers.push(ServerDef {
            name: "switchboard".into(),
            cmd: format!(
                "{} --listen {{addr}} --threads 0",
                quote(&switchboard_echo(&exe)?)
            ),
        });
    }
    if !a.flag("no-reference") {
        servers.push(ServerDef {
            name: REFERENCE.into(),
            cmd: format!("{} reference --listen {{addr}}", quote(&exe)),
        });
    }
    for (i, s) in servers.iter().enumerate() {
        if servers[..i].iter().any(|t| t.name == s.name) {
            return Err(format!("two servers are named {:?}", s.name));
        }
    }
    Ok(servers)
}

/// The echo example built next to this binary (target/release/examples/echo).
fn switchboard_echo(exe: &Path) -> Result<PathBuf, String> {
    let path = exe
        .parent()
        .map(|dir| dir.join("examples").join("echo"))
        .filter(|p| p.is_file())
        .ok_or_else(|| {
            "Switchboard's echo example was not found next to this binary; build it with \
             `cargo build --release -p switchboard --example echo`, or pass --server-cmd"
                .to_string()
        })?;
    Ok(path)
}
