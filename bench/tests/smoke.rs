//! Every load mode, briefly, against the reference server: a correct peer must
//! produce figures, no error, and a non-zero count of what the mode exchanges.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-bench");

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(BIN)
            .args(["reference", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("reference server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_string();
        Server {
            child,
            url: format!("ws://{addr}/"),
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: kill on our own, not yet reaped child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one mode; it must succeed and end with a JSON figures line with no error.
/// Returns that line.
fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with('{') && last.contains("\"errors\":0"),
        "{last}"
    );
    last.to_string()
}

/// The number after `"key":` in a figures line; `None` when absent or not a number
/// (`null`: the figure is unknown).
fn figure(line: &str, key: &str) -> Option<f64> {
    let pattern = format!("\"{key}\":");
    let start = line.find(&pattern)? + pattern.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Runs one mode and checks that `key`, a count of what it exchanged, is above zero.
fn exchanged(args: &[&str], key: &str) -> String {
    let line = run(args);
    let n = figure(&line, key);
    assert!(
        n.is_some_and(|n| n > 0.0),
        "{args:?}: {key} is {n:?}: {line}"
    );
    line
}

#[test]
fn every_mode_against_the_reference() {
    let server = Server::start();
    let pid = server.pid();
    let url = server.url.as_str();
    let short = ["--duration", "0.5", "--warmup", "0.1"];
    let mut echo = vec!["echo", "--url", url, "--pid", &pid];
    echo.extend(["--connections", "4", "--depth", "4", "--size", "300"]);
    echo.extend(short);
    exchanged(&echo, "messages");
    let mut big = vec!["echo", "--url", url, "--connections", "2", "--depth", "1"];
    big.extend(["--size", "70000"]);
    big.extend(short);
    exchanged(&big, "messages");
    let mut hs = vec!["handshakes", "--url", url, "--connectors", "2"];
    hs.extend(short);
    exchanged(&hs, "cycles");
    let mut fan = vec![
        "broadcast",
        "--url",
        url,
        "--subscribers",
        "5",
        "--depth",
        "3",
    ];
    fan.extend(short);
    // Broadcast reports its deliveries as a rate only.
    exchanged(&fan, "deliveries_per_s");
    let idle = run(&[
        "idle",
        "--url",
        url,
        "--pid",
        &pid,
        "--connections",
        "30",
        "--per-process",
        "20",
        "--settle",
        "0.2",
    ]);
    assert_eq!(figure(&idle, "connections"), Some(30.0), "{idle}");
}

#[test]
fn refuses_targets_off_the_loopback_range() {
    let out = Command::new(BIN)
        .args(["echo", "--url", "ws://192.0.2.1:80/", "--duration", "0.1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
