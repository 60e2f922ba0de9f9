//! switchboard-bench: a WebSocket load generator (echo throughput and
//! latency, handshake rate, idle memory, fan-out), the tokio-tungstenite
//! reference server, and a runner comparing servers side by side.

mod cli;
mod client;
mod histogram;
mod json;
mod meter;
mod modes;
mod payload;
mod procfs;
mod reference;
mod report;
mod runner;
mod sys;
mod target;
mod tls;

use std::path::Path;
use std::process::ExitCode;

use cli::Args;
use procfs::Probe;
use report::Report;
use target::Target;

const USAGE: &str = "\
usage: switchboard-bench COMMAND [OPTIONS]

Load modes (against any ws:// or wss:// URL on 127.0.0.0/8; --pid PID adds the
server's CPU time and memory; --cpu N pins the generator to CPU N; for wss://,
--ca FILE trusts the PEM certificates in FILE, without it the server's
certificate is not checked; echo and handshakes take --generators K: K
generator processes sharing the connections, started together, figures
summed; with it --cpu N puts them on CPUs N, N+1, ... and --cpu A,B,... one
on each CPU listed):
  echo        --url URL [--connections 100] [--depth 16] [--size 32]
              [--duration 5] [--warmup 0.5] [--sources 64] [--generators 1]
  handshakes  --url URL [--connectors 32] [--duration 5] [--warmup 0.5]
              [--generators 1]
  idle        --url URL --pid PID [--connections 10000] [--per-process 10000]
              [--settle 1] [--sources 250]
  broadcast   --url URL [--subscribers 1000] [--depth 16] [--size 32]
              [--duration 5] [--warmup 0.5]
  subscribers --url URL [--connections 1000] [--until-quiet 2]
              [--duration 60] [--expect N] [--max-message 1048576]
              [--sources 64]
              sends nothing: counts what another program has published,
              prints `subscribed K` once open, ends after --until-quiet
              seconds of silence (or --duration); --expect N: messages
              each connection must get

Servers:
  reference   [--listen 127.0.0.1:9002] [--flush-each]
              [--tls-cert FILE --tls-key FILE]  (wss://; --listen may say tls://)
  compare     [--suite quick|full] [--server NAME=CMD]... [--server-cmd CMD
              [--server-name NAME]] [--no-reference] [--baseline NAME]
              [--only SCENARIO,...] [--duration SECS] [--repeat N]
              [--wait-quiet SECS] [--server-cpu 0]
              [--client-cpu 1] [--generators 1]
              CMD is run by sh with {addr} (or {port}) replaced; in TLS
              scenarios (full suite) {addr} becomes tls://ADDR and
              --tls-cert FILE --tls-key FILE are added.";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let parsed = match Args::parse(args, &["flush-each", "no-reference"]) {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let result = match command.as_str() {
        "echo" | "handshakes" | "idle" | "broadcast" | "subscribers" => load(&command, &parsed),
        "idle-worker" => modes::idle_worker::main(&parsed).map(|()| true),
        "generator" => modes::fleet::generator_main(&parsed).map(|()| true),
        "reference" => reference::main(&parsed).map(|()| true),
        "compare" => runner::main(&parsed),
        "" | "help" | "-h" | "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => return usage(&format!("unknown command {other:?}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("switchboard-bench {command}: {e}");
            ExitCode::from(2)
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("switchboard-bench: {why}\n\n{USAGE}");
    ExitCode::from(2)
}

/// Runs one load mode; Ok(false) when the run found errors.
fn load(mode: &str, a: &Args) -> Result<bool, String> {
    let ca = a.text("ca");
    let target = Target::parse(&a.required("url")?, ca.as_deref().map(Path::new))?;
    let probe = a.maybe::<u32>("pid")?.map(|pid| Probe { pid });
    let generators: usize = a.get("generators", 1)?;
    if generators == 0 {
        return Err("--generators: at least 1".into());
    }
    if generators > 1 {
        return several(mode, a, target, probe, generators);
    }
    if let Some(cpu) = a.maybe::<usize>("cpu")? {
        sys::pin_to_cpu(cpu).map_err(|e| format!("cannot pin to CPU {cpu}: {e}"))?;
    }
    sys::raise_nofile().map_err(|e| format!("cannot raise the open-file limit: {e}"))?;
    let report: Report = match mode {
        "echo" => {
            let spec = modes::echo::EchoSpec::from_args(target, a)?;
            a.finish()?;
            modes::echo::run(&spec, probe)
        }
        "handshakes" => {
            let spec = modes::handshakes::HandshakeSpec::from_args(target, a)?;
            a.finish()?;
            modes::handshakes::run(&spec, probe)
        }
        "idle" => {
            let spec = modes::idle::IdleSpec::from_args(target, a)?;
            a.finish()?;
            modes::idle::run(&spec, probe)
        }
        "subscribers" => {
            let spec = modes::subscribers::SubscribersSpec::from_args(target, a)?;
            a.finish()?;
            modes::subscribers::run(&spec, probe)
        }
        _ => {
            let spec = modes::broadcast::BroadcastSpec::from_args(target, a)?;
            a.finish()?;
            modes::broadcast::run(&spec, probe)
        }
    };
    report.print_text();
    println!("{}", report.to_json());
    Ok(report.errors == 0)
}

/// Runs one load mode on several generator processes.
fn several(
    mode: &str,
    a: &Args,
    target: Target,
    probe: Option<Probe>,
    count: usize,
) -> Result<bool, String> {
    use modes::fleet::{Fleet, Job};
    let cpus = match a.text("cpu") {
        Some(text) => Some(modes::fleet::cpus(&text, count).map_err(|e| format!("--cpu: {e}"))?),
        None => None,
    };
    let job = match mode {
        "echo" => Job::Echo(modes::echo::EchoSpec::from_args(target, a)?),
        "handshakes" => Job::Handshakes(modes::handshakes::HandshakeSpec::from_args(target, a)?),
        "idle" => {
            return Err(
                "--generators: idle spreads its connections over worker processes already \
                 (--per-process)"
                    .into(),
            )
        }
        "subscribers" => return Err("--generators: subscribers runs as one generator".into()),
        _ => {
            return Err(
                "--generators: broadcast runs as one generator (its one publisher checks \
                 that every connection receives each publish)"
                    .into(),
            )
        }
    };
    a.finish()?;
    let report = modes::fleet::run(&job, &Fleet { count, cpus }, probe);
    report.print_text();
    println!("{}", report.to_json());
    Ok(report.errors == 0)
}
