//! Echo server: every message comes back with its opcode, except that a text
//! message starting with `B:` is broadcast unchanged to every client (the sender
//! included): by `broadcast`, or with `--publish` by `publish` to the topic
//! "all", which every client joins. Prints `listening on ADDR...` first;
//! SIGINT/SIGTERM shut it down gracefully (clients receive 1001). A listen
//! address `tls://IP:PORT` speaks TLS with `--tls-cert` and `--tls-key`;
//! SIGHUP reads those files again (certificate renewal without a restart).
//!
//! With `--threads 0` the one event loop runs on the main thread (inline mode);
//! with `--threads N` (default: one per core) every one of the N loops calls the
//! handler itself, on its own thread (per-loop serving, `Handle::run`).
//!
//! cargo run --release -p switchboard --example echo -- --listen 127.0.0.1:9001

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard::server::{Config, Handle, Incoming, MessageKind, Server};

const USAGE: &str = "usage: echo [--listen ADDR]... [--threads N] [--max-message-size BYTES] \
[--max-buffered BYTES] [--handshake-timeout SECS] [--idle-timeout SECS] [--ping-interval SECS] \
[--close-timeout SECS] [--subprotocol NAME]... [--allow-origin PATTERN]... [--max-connections N] \
[--static-dir DIR] [--reuse-port] [--publish] [--tls-cert FILE --tls-key FILE] \
(ADDR: IP:PORT, or tls://IP:PORT for TLS)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let publish = args.iter().any(|a| a == "--publish");
    let (config, inline) = match parse_args(args.into_iter().filter(|a| a != "--publish")) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("echo: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let stop = match stop_on_signals() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("echo: cannot install signal handling: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match Server::start(&config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("echo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs: Vec<String> = server.local_addrs().iter().map(|a| a.to_string()).collect();
    println!("listening on {}", addrs.join(" "));
    let handle = server.handle();
    // Per-loop serving runs on threads of its own; this one watches the signals.
    let runner = (!inline).then(|| {
        let handle = handle.clone();
        std::thread::spawn(move || {
            handle.run(|_loop| {
                let handle = handle.clone();
                move |event| echo(&handle, publish, event)
            })
        })
    });
    while !stop.load(Ordering::Relaxed) {
        if RELOAD.swap(false, Ordering::Relaxed) {
            match handle.reload_tls() {
                Ok(()) => eprintln!("echo: TLS certificate reloaded"),
                Err(e) => eprintln!("echo: {e}"),
            }
        }
        if runner.is_some() {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        // Each event is handled where the server has it; the echo of a message
        // goes straight into its connection's output (see `Handle::serve`).
        handle.serve(Some(Duration::from_millis(100)), |event| {
            echo(&handle, publish, event)
        });
    }
    handle.shutdown();
    if let Some(runner) = runner {
        match runner.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("echo: {e}"),
            Err(_) => eprintln!("echo: the serving thread panicked"),
        }
    }
    server.shutdown();
    ExitCode::SUCCESS
}

/// Echoes a message with its opcode; a text starting with `B:` goes to every
/// client instead. A command can only fail for a connection that closed
/// meanwhile, which needs no answer.
fn echo(handle: &Handle, publish: bool, event: Incoming<'_>) {
    match event {
        Incoming::Open(open) if publish => {
            let _ = handle.subscribe(open.id, "all");
        }
        Incoming::Message { kind, data, .. }
            if kind == MessageKind::Text && data.starts_with(b"B:") =>
        {
            let _ = if publish {
                handle.publish("all", kind, data, None)
            } else {
                handle.broadcast(kind, data, None)
            };
        }
        Incoming::Message { id, kind, data } => {
            let _ = handle.send(id, kind, data);
        }
        _ => {}
    }
}

/// The configuration, and whether it is inline mode (`--threads 0`).
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(Config, bool), String> {
    let mut config = Config::new();
    config.per_loop(true);
    let mut inline = false;
    let mut listen = false;
    let (mut cert, mut key) = (None, None);
    while let Some(flag) = args.next() {
        if flag == "--reuse-port" {
            config.reuse_port(true);
            continue;
        }
        if flag == "-h" || flag == "--help" {
            return Err("help".into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => {
                config.listen_str(&value).map_err(|e| e.to_string())?;
                listen = true;
            }
            "--threads" => {
                let threads = number(&flag, &value)?;
                inline = threads == 0;
                config.threads(threads);
            }
            "--max-message-size" => {
                config.max_message_size(number(&flag, &value)?);
            }
            "--max-buffered" => {
                config.max_buffered(number(&flag, &value)?);
            }
            "--max-connections" => {
                config.max_connections(number(&flag, &value)?);
            }
            "--handshake-timeout" => {
                config.handshake_timeout(seconds(&flag, &value)?);
            }
            "--idle-timeout" => {
                config.idle_timeout(seconds(&flag, &value)?);
            }
            "--close-timeout" => {
                config.close_timeout(seconds(&flag, &value)?);
            }
            "--ping-interval" => {
                let t = seconds(&flag, &value)?;
                config.ping_interval((!t.is_zero()).then_some(t));
            }
            "--subprotocol" => {
                config.subprotocol(&value);
            }
            "--allow-origin" => {
                config.allow_origin(&value);
            }
            "--static-dir" => {
                config.static_dir(Some(value.into()));
            }
            "--tls-cert" => cert = Some(value),
            "--tls-key" => key = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    match (cert, key) {
        (Some(cert), Some(key)) => {
            config.tls(cert, key);
        }
        (None, None) => {}
        _ => return Err("--tls-cert and --tls-key go together".into()),
    }
    if !listen {
        config
            .listen_str("127.0.0.1:9001")
            .map_err(|e| e.to_string())?;
    }
    Ok((config, inline))
}

fn number(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a whole number"))
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag}: {value:?} is not a number of seconds"))
}

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);
/// Set by SIGHUP: read the TLS files again.
static RELOAD: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int) {
    // async-signal-safe: one atomic store
    match signal {
        libc::SIGHUP => RELOAD.store(true, Ordering::Relaxed),
        _ => STOP.store(true, Ordering::Relaxed),
    }
}

/// A handler, not a thread waiting for the signals: in a single-threaded process
/// libc's socket calls skip their thread-cancellation bookkeeping, which in
/// inline mode is 1-2% of the time at 32 B. The loop notices within 100 ms.
fn stop_on_signals() -> std::io::Result<&'static AtomicBool> {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction with a handler that only does an atomic store.
        let failed = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut()) != 0
        };
        if failed {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(&STOP)
}
