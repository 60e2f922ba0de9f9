//! A deliberately slow echo server, for the fairness test (tests/fairness): each
//! message is answered after 2 ms of "work" (a sleep), so that clients sending
//! as fast as they can overload it. Prints `listening on ADDR` first; stops on
//! SIGTERM (the default action: the test needs no graceful shutdown).
//!
//! slow_echo --listen 127.0.0.1:0 --threads N [--per-loop 1]   (0: inline mode)

use std::process::ExitCode;
use std::time::Duration;

use switchboard::server::{Config, Incoming, Server};

const USAGE: &str = "usage: slow_echo --listen ADDR [--threads N] [--per-loop 1] [--work-ms MS]";

fn main() -> ExitCode {
    let (config, work) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("slow_echo: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match Server::start(&config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("slow_echo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs: Vec<String> = server.local_addrs().iter().map(|a| a.to_string()).collect();
    println!("listening on {}", addrs.join(" "));
    let handle = server.handle();
    // Inline and per-loop: the loops call the handler; with I/O threads, this thread does.
    let served = handle.run(|_loop| {
        let handle = handle.clone();
        move |event| {
            if let Incoming::Message { id, kind, data } = event {
                std::thread::sleep(work);
                // Fails only for a connection that closed meanwhile.
                let _ = handle.send(id, kind, data);
            }
        }
    });
    if let Err(e) = served {
        eprintln!("slow_echo: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(Config, Duration), String> {
    let mut config = Config::new();
    let mut work = Duration::from_millis(2);
    let mut listen = false;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => {
                config.listen_str(&value).map_err(|e| e.to_string())?;
                listen = true;
            }
            "--threads" => {
                let n = value
                    .parse()
                    .map_err(|_| format!("bad --threads: {value}"))?;
                config.threads(n);
            }
            "--per-loop" => {
                config.per_loop(value == "1");
            }
            "--work-ms" => {
                let ms = value
                    .parse()
                    .map_err(|_| format!("bad --work-ms: {value}"))?;
                work = Duration::from_millis(ms);
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if !listen {
        return Err("--listen is required".into());
    }
    Ok((config, work))
}
