#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! The operator program as a real process: a worker attached to its control
//! socket subscribes clients, `POST /publish` reaches them (once each), bad
//! requests get the right status, and SIGTERM closes clients with 1001.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchboard::control::address::ControlAddress;
use switchboard::control::wire::{Request, ToWorker};
use switchboard::control::worker::Worker;
use tungstenite::Message;

struct Operator {
    child: Child,
    ws: String,
    control: ControlAddress,
    http: String,
}

impl Operator {
    fn start(name: &str) -> Operator {
        let sock = std::env::temp_dir().join(format!("sb-op-{}-{name}.sock", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--threads",
                "2",
                "--close-timeout",
                "1",
            ])
            .args(["--control", &format!("unix:{}", sock.display())])
            .args(["--http-publish", "127.0.0.1:0", "--http-key", "k3y"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = |prefix: &str| {
            let line = lines.next().unwrap().unwrap();
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{line}"))
                .to_string()
        };
        let ws = next("listening on ");
        let control = ControlAddress::parse(&next("control on ")).unwrap();
        let http = next("http publish on ");
        Operator {
            child,
            ws,
            control,
            http,
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: sends a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A worker that subscribes every connection to "news" and binds it to the
/// user its path names; it stops when `stop` is set.
fn subscriber(address: &ControlAddress, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let mut worker = Worker::connect(address, None).unwrap();
    std::thread::spawn(move || {
        let mut events = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if worker
                .poll(&mut events, 1024, Some(Duration::from_millis(20)))
                .is_err()
            {
                return; // the operator is gone
            }
            for event in events.drain(..) {
                if let ToWorker::Open(open) = event {
                    let user = open.path.trim_start_matches('/').to_string();
                    worker.command(&Request::Subscribe {
                        id: open.id,
                        topic: "news".into(),
                    });
                    worker.command(&Request::BindUser { id: open.id, user });
                    worker.send(open.id, switchboard::server::MessageKind::Text, b"ready");
                }
            }
        }
    })
}

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>;

fn client(op: &Operator, path: &str) -> Ws {
    let (mut ws, _) = tungstenite::connect(format!("ws://{}{path}", op.ws)).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_mut() {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    assert_eq!(text(&mut ws), "ready");
    ws
}

fn text(ws: &mut Ws) -> String {
    match ws.read().unwrap() {
        Message::Text(t) => t.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// POSTs `body` with `key` to `path`; the status and the body of the answer.
fn post(op: &Operator, path: &str, key: &str, body: &str) -> (u16, String) {
    post_as(op, "HTTP/1.1", path, key, body)
}

/// `post` with the request line's HTTP version.
fn post_as(op: &Operator, version: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(&op.http).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "POST {path} {version}\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn http_publish_reaches_subscribers_and_users_once() {
    let op = Operator::start("publish");
    let stop = Arc::new(AtomicBool::new(false));
    let worker = subscriber(&op.control, stop.clone());
    let mut ann = client(&op, "/ann");
    let mut bob = client(&op, "/bob");

    let (status, body) = post(
        &op,
        "/publish",
        "k3y",
        r#"{"topic": "news", "data": "hello"}"#,
    );
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"results":[{"count":0,"ok":true}]}"#)
    );
    assert_eq!(text(&mut ann), "hello");
    assert_eq!(text(&mut bob), "hello");

    let batch = r#"[{"user": "ann", "data": "for ann"}, {"user": "nobody", "data": "x"},
        {"broadcast": true, "data_base64": "AAE="}, {"data": "no target"}]"#;
    let (status, body) = post(&op, "/publish", "k3y", batch);
    assert_eq!(status, 200);
    let results: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(results["results"][0]["count"], 1);
    assert_eq!(results["results"][1]["count"], 0);
    assert_eq!(results["results"][2]["ok"], true);
    assert_eq!(results["results"][3]["ok"], false);
    assert_eq!(text(&mut ann), "for ann");
    for ws in [&mut ann, &mut bob] {
        assert_eq!(ws.read().unwrap(), Message::Binary(vec![0, 1].into()));
    }
    // Nothing came twice: the next message is the one published now.
    post(
        &op,
        "/publish",
        "k3y",
        r#"{"topic": "news", "data": "end"}"#,
    );
    assert_eq!(text(&mut ann), "end");
    assert_eq!(text(&mut bob), "end");
    // HTTP/1.0 clients (ab, curl -0) are served too.
    let one = r#"{"topic": "news", "data": "from 1.0"}"#;
    assert_eq!(post_as(&op, "HTTP/1.0", "/publish", "k3y", one).0, 200);
    assert_eq!(text(&mut ann), "from 1.0");
    assert_eq!(post_as(&op, "HTTP/2.0", "/publish", "k3y", one).0, 505);

    assert_eq!(post(&op, "/publish", "wrong", "{}").0, 401);
    assert_eq!(post(&op, "/other", "k3y", "{}").0, 404);
    assert_eq!(post(&op, "/publish", "k3y", "not json").0, 400);
    assert_eq!(post(&op, "/publish", "k3y", "[]").0, 400);
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
}

#[test]
fn sigterm_closes_clients_with_1001_and_exits_cleanly() {
    let mut op = Operator::start("sigterm");
    let stop = Arc::new(AtomicBool::new(false));
    let worker = subscriber(&op.control, stop.clone());
    let mut ann = client(&op, "/ann");
    let status = op.terminate();
    assert!(status.success(), "{status}");
    match ann.read() {
        Ok(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    stop.store(true, Ordering::Relaxed);
    let _ = worker.join();
}

#[test]
fn sigterm_ends_the_operator_even_when_its_socket_file_is_gone() {
    let mut op = Operator::start("socket-gone");
    let ControlAddress::Unix(path) = &op.control else {
        panic!("a unix control socket was asked for");
    };
    std::fs::remove_file(path).unwrap();
    // SAFETY: sends a signal to our own child process.
    unsafe { libc::kill(op.child.id() as i32, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = op.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}
