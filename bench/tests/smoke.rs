//! Every load mode, briefly, against the reference server: a correct peer must
//! produce figures, no error, and a non-zero count of what the mode exchanges.
//! The echo and handshake modes also run over TLS, with a certificate made here.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-bench");

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&["--listen", "127.0.0.1:0"], "ws")
    }

    fn start_with(args: &[&str], scheme: &str) -> Server {
        let mut child = Command::new(BIN)
            .arg("reference")
            .args(args)
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
            url: format!("{scheme}://{addr}/"),
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

/// The figures of each generator in a figures line's `per_generator` list.
fn per_generator(line: &str) -> Vec<String> {
    let Some(start) = line.find("\"per_generator\":[") else {
        return Vec::new();
    };
    line[start..]
        .split('{')
        .skip(1)
        .map(|part| part.split('}').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn echo_on_two_generator_processes_adds_up() {
    let server = Server::start();
    let pid = server.pid();
    let mut echo = vec!["echo", "--url", &server.url, "--pid", &pid];
    echo.extend(["--connections", "5", "--depth", "4", "--size", "64"]);
    echo.extend(["--duration", "0.5", "--warmup", "0.1", "--generators", "2"]);
    let line = exchanged(&echo, "messages");
    assert_eq!(figure(&line, "generators"), Some(2.0), "{line}");
    assert_eq!(figure(&line, "connections"), Some(5.0), "{line}");
    let parts = per_generator(&line);
    assert_eq!(parts.len(), 2, "{line}");
    let pids: Vec<Option<f64>> = parts.iter().map(|p| figure(p, "pid")).collect();
    assert!(
        pids.iter().all(Option::is_some) && pids[0] != pids[1],
        "{line}"
    );
    let each: Vec<f64> = parts
        .iter()
        .map(|p| figure(p, "messages").unwrap_or(0.0))
        .collect();
    assert!(each.iter().all(|&n| n > 0.0), "{line}");
    assert_eq!(figure(&line, "messages"), Some(each.iter().sum()), "{line}");
    let conns: f64 = parts.iter().filter_map(|p| figure(p, "connections")).sum();
    assert_eq!(conns, 5.0, "{line}");
    // The server's CPU time is measured once, by the coordinator.
    assert!(figure(&line, "msgs_per_cpu_s").is_some(), "{line}");
}

#[test]
fn refuses_targets_off_the_loopback_range() {
    let out = Command::new(BIN)
        .args(["echo", "--url", "ws://192.0.2.1:80/", "--duration", "0.1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn subscribers_count_what_another_client_publishes() {
    use std::io::Read;
    let server = Server::start();
    let url = server.url.as_str();
    let mut child = Command::new(BIN)
        .args(["subscribers", "--url", url, "--connections", "5"])
        .args(["--until-quiet", "0.5", "--duration", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("subscribers start");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    assert_eq!(first.trim(), "subscribed 5");
    // The broadcast mode's publishes reach every connection of the server.
    let mut fan = vec!["broadcast", "--url", url, "--subscribers", "1"];
    fan.extend(["--depth", "2", "--duration", "0.3", "--warmup", "0"]);
    exchanged(&fan, "deliveries_per_s");
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("the rest");
    let status = child.wait().expect("subscribers end");
    let last = rest.lines().last().unwrap_or_default();
    assert!(status.success() && last.contains("\"errors\":0"), "{rest}");
    let (min, max) = (figure(last, "min_per_conn"), figure(last, "max_per_conn"));
    assert!(min.is_some_and(|n| n > 0.0) && min == max, "{last}");
    assert_eq!(figure(last, "deliveries"), min.map(|n| n * 5.0), "{last}");
    // Nothing published: a failed count.
    let idle = Command::new(BIN)
        .args(["subscribers", "--url", url, "--connections", "2"])
        .args(["--duration", "0.3"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&idle.stdout);
    assert!(
        !idle.status.success() && text.contains("no message arrived"),
        "{text}"
    );
}

/// A self-signed certificate for 127.0.0.1 and localhost in a fresh
/// directory, removed on drop.
struct Certificate {
    dir: PathBuf,
    cert: String,
    key: String,
}

impl Certificate {
    fn make() -> Certificate {
        let made = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
        ])
        .expect("certificate");
        // Tests run in parallel in one process: a counter tells their files apart.
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bench-smoke-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, made.cert.pem()).expect("cert.pem");
        std::fs::write(&key, made.key_pair.serialize_pem()).expect("key.pem");
        Certificate {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            dir,
        }
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn tls_echo_and_handshakes_against_the_reference() {
    let made = Certificate::make();
    let server = Server::start_with(
        &[
            "--listen",
            "tls://127.0.0.1:0",
            "--tls-cert",
            &made.cert,
            "--tls-key",
            &made.key,
        ],
        "wss",
    );
    let pid = server.pid();
    let url = server.url.as_str();
    let short = ["--duration", "0.5", "--warmup", "0.1"];
    let mut echo = vec!["echo", "--url", url, "--ca", &made.cert, "--pid", &pid];
    echo.extend(["--connections", "4", "--depth", "4", "--size", "32"]);
    echo.extend(short);
    let line = exchanged(&echo, "msgs_per_s");
    assert!(figure(&line, "messages").is_some_and(|n| n > 0.0), "{line}");
    assert!(line.contains("ALPN http/1.1"), "{line}");
    // Large messages span several TLS records.
    let mut big = vec!["echo", "--url", url, "--ca", &made.cert];
    big.extend(["--connections", "2", "--depth", "2", "--size", "70000"]);
    big.extend(short);
    exchanged(&big, "messages");
    let mut hs = vec!["handshakes", "--url", url, "--ca", &made.cert];
    hs.extend(["--connectors", "2"]);
    hs.extend(short);
    let line = exchanged(&hs, "cycles");
    assert!(line.contains("no session resumption"), "{line}");
    // The same server by name, without --ca: accepted unchecked.
    let by_name = url.replace("127.0.0.1", "localhost");
    let mut unchecked = vec!["echo", "--url", &by_name, "--connections", "2"];
    unchecked.extend(short);
    let line = exchanged(&unchecked, "messages");
    assert!(line.contains("not verified"), "{line}");
}

#[test]
fn tls_refuses_a_certificate_it_does_not_trust() {
    let made = Certificate::make();
    let other = Certificate::make();
    let server = Server::start_with(
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &made.cert,
            "--tls-key",
            &made.key,
        ],
        "wss",
    );
    let out = Command::new(BIN)
        .args(["echo", "--url", &server.url, "--ca", &other.cert])
        .args(["--connections", "1", "--duration", "0.2", "--warmup", "0"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("certificate"), "{text}");
}
