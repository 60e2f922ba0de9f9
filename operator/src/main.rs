//! `switchboard`, the operator: holds every WebSocket connection (handshakes,
//! pings, framing, buffering, slow readers) on all cores, and hands the
//! connections' events to the workers attached to its control socket; any
//! process may publish through that socket too. See docs/deploy.md.
//!
//! Prints `listening on ADDR...` and then `control on ADDR` first;
//! SIGINT/SIGTERM shut it down gracefully (clients receive 1001); SIGHUP reads
//! the TLS certificate and key again.

mod args;
mod http_publish;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard::control::server::{ControlOptions, ControlServer};
use switchboard::server::Server;

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("switchboard: {message}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    if let Err(e) = on_signals() {
        eprintln!("switchboard: cannot install signal handling: {e}");
        return ExitCode::FAILURE;
    }
    let server = match Server::start(&args.config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let handle = server.handle();
    let options = ControlOptions {
        secret: args.secret,
        workers: Some(args.backlog),
        ..ControlOptions::default()
    };
    let control = match ControlServer::start(handle.clone(), &args.control, options) {
        Ok(control) => control,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::FAILURE;
        }
    };
    let http = match &args.http_publish {
        Some((addr, _)) => match http_publish::bind(addr) {
            Ok(bound) => Some(bound),
            Err(e) => {
                eprintln!("switchboard: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let addrs: Vec<String> = server.local_addrs().iter().map(|a| a.to_string()).collect();
    println!("listening on {}", addrs.join(" "));
    println!("control on {}", control.address());
    if let (Some((listener, local)), Some((_, key))) = (http, args.http_publish) {
        println!("http publish on {local}");
        let handle = handle.clone();
        let started = std::thread::Builder::new()
            .name("switchboard-http".into())
            .spawn(move || http_publish::serve(listener, handle, key));
        if let Err(e) = started {
            eprintln!("switchboard: starting the HTTP publish endpoint: {e}");
            return ExitCode::FAILURE;
        }
    }
    while !STOP.load(Ordering::Relaxed) {
        if RELOAD.swap(false, Ordering::Relaxed) {
            match handle.reload_tls() {
                Ok(()) => eprintln!("switchboard: TLS certificate reloaded"),
                Err(e) => eprintln!("switchboard: {e}"),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Clients get 1001 (the dispatcher goes on routing their closes); once
    // every event was routed, the workers learn that none follows (their
    // `run()` returns) and the control socket closes.
    server.shutdown();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !handle.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    control.stop();
    ExitCode::SUCCESS
}

/// Set by SIGINT and SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);
/// Set by SIGHUP.
static RELOAD: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int) {
    // async-signal-safe: one atomic store
    match signal {
        libc::SIGHUP => RELOAD.store(true, Ordering::Relaxed),
        _ => STOP.store(true, Ordering::Relaxed),
    }
}

fn on_signals() -> std::io::Result<()> {
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
    Ok(())
}
