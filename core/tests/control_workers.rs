#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Workers attached to a control socket handle the connections' events: a
//! pool shares them, a rolling restart loses no client and no message, a
//! worker that vanishes hands its connections (with their user and topics)
//! to another, and without workers events wait in a bounded backlog.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use switchboard::control::address::ControlAddress;
use switchboard::control::hub::BacklogLimits;
use switchboard::control::server::{ControlOptions, ControlServer};
use switchboard::control::wire::{
    decode_reply, encode_request, ErrorCode, Reply, Request, Role, ToWorker,
};
use switchboard::control::worker::Worker;
use switchboard::protocol::frame::OpCode;
use switchboard::server::{Config, Server};

struct Operator {
    server: Option<Server>,
    control: Option<ControlServer>,
    addr: std::net::SocketAddr,
    address: ControlAddress,
}

impl Operator {
    fn start(name: &str, limits: BacklogLimits, authorize: bool) -> Operator {
        Operator::start_with(name, limits, authorize, 2)
    }

    /// With `threads` 0 the control server's dispatcher runs the event loop itself.
    fn start_with(name: &str, limits: BacklogLimits, authorize: bool, threads: usize) -> Operator {
        let mut config: Config = config();
        config.authorize(authorize).threads(threads);
        let (server, handle, addr) = start(&config);
        let path: PathBuf =
            std::env::temp_dir().join(format!("sb-workers-{}-{name}.sock", std::process::id()));
        let address = ControlAddress::Unix(path);
        let options = ControlOptions {
            workers: Some(limits),
            ..ControlOptions::default()
        };
        let control = ControlServer::start(handle, &address, options).unwrap();
        Operator {
            server: Some(server),
            control: Some(control),
            addr,
            address,
        }
    }

    /// A control client's view of the counters.
    fn stat(&self, name: &str) -> u64 {
        let ControlAddress::Unix(path) = &self.address else {
            panic!()
        };
        let mut stream = std::os::unix::net::UnixStream::connect(path).unwrap();
        let mut out = Vec::new();
        encode_request(
            &Request::Hello {
                role: Role::Client,
                secret: String::new(),
            },
            false,
            &mut out,
        );
        encode_request(&Request::Stats, false, &mut out);
        stream.write_all(&out).unwrap();
        let mut input = Vec::new();
        let mut replies = Vec::new();
        while replies.len() < 2 {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0);
            input.extend_from_slice(&chunk[..n]);
            while let Some((reply, used)) = decode_reply(&input, 1 << 20).unwrap() {
                replies.push(reply);
                input.drain(..used);
            }
        }
        let Reply::Stats(stats) = &replies[1] else {
            panic!("{replies:?}")
        };
        stats
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .unwrap()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        drop(self.control.take());
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

/// What every worker saw, for the checks.
#[derive(Default)]
struct Seen {
    opens: Vec<(u64, bool, Option<String>, Vec<String>)>,
    messages: u64,
}

/// An echo worker on a thread: on open it binds the user named by the path
/// (`/ann`) and subscribes to "news"; messages come back. `stop` makes it
/// detach and finish what it was sent; `vanish` makes it drop the connection.
struct EchoWorker {
    stop: Arc<AtomicBool>,
    vanish: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EchoWorker {
    fn start(address: &ControlAddress, seen: Arc<Mutex<Seen>>) -> EchoWorker {
        let mut worker = Worker::connect(address, None).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let vanish = Arc::new(AtomicBool::new(false));
        let (stopping, vanishing) = (stop.clone(), vanish.clone());
        let thread = std::thread::spawn(move || {
            let mut events = Vec::new();
            let mut detaching = false;
            loop {
                if vanishing.load(Ordering::Relaxed) {
                    return; // the connection drops without a detach
                }
                if stopping.load(Ordering::Relaxed) && !detaching {
                    worker.detach();
                    detaching = true;
                }
                worker
                    .poll(&mut events, 1024, Some(Duration::from_millis(20)))
                    .unwrap();
                for event in events.drain(..) {
                    match event {
                        ToWorker::Open(open) => {
                            let user = open.path.trim_start_matches('/').to_string();
                            if !open.resumed {
                                worker.command(&Request::BindUser { id: open.id, user });
                                worker.command(&Request::Subscribe {
                                    id: open.id,
                                    topic: "news".into(),
                                });
                            }
                            seen.lock().unwrap().opens.push((
                                open.id,
                                open.resumed,
                                open.user,
                                open.topics,
                            ));
                        }
                        ToWorker::Message { id, kind, data } => {
                            seen.lock().unwrap().messages += 1;
                            worker.send(id, kind, &data);
                        }
                        ToWorker::Detached => {
                            worker.flush().unwrap();
                            return;
                        }
                        _ => {}
                    }
                }
            }
        });
        EchoWorker {
            stop,
            vanish,
            thread: Some(thread),
        }
    }

    /// Detaches gracefully and waits until it has finished.
    fn restart_out(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
    }

    fn vanish(mut self) {
        self.vanish.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
    }
}

impl Drop for EchoWorker {
    fn drop(&mut self) {
        self.vanish.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_rolling_restart_of_the_pool_loses_no_client_and_no_message() {
    rolling_restart(2);
}

#[test]
fn a_rolling_restart_loses_nothing_when_the_dispatcher_runs_the_loop_inline() {
    rolling_restart(0);
}

fn rolling_restart(threads: usize) {
    const CLIENTS: usize = 200;
    let name = format!("rolling-{threads}");
    let operator = Operator::start_with(&name, BacklogLimits::default(), false, threads);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut pool = vec![
        EchoWorker::start(&operator.address, seen.clone()),
        EchoWorker::start(&operator.address, seen.clone()),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let echoed = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|k| {
            let mut client = Client::connect_with(operator.addr, &format!("/u{k}"), &[]).unwrap();
            let (stop, echoed) = (stop.clone(), echoed.clone());
            std::thread::spawn(move || {
                // One message in flight: each echo must be the one just sent.
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let message = format!("{k}:{i}");
                    client.send(OpCode::Text, message.as_bytes());
                    let frame = client.recv(Duration::from_secs(10)).unwrap();
                    assert_eq!(frame.opcode, 1, "client {k}: {frame:?}");
                    assert_eq!(frame.text(), message, "client {k}");
                    echoed.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                i
            })
        })
        .collect();
    // Each worker is restarted twice, one at a time, under traffic.
    for round in 0..4 {
        std::thread::sleep(Duration::from_millis(300));
        let before = echoed.load(Ordering::Relaxed);
        let old = pool.remove(0);
        old.restart_out();
        pool.push(EchoWorker::start(&operator.address, seen.clone()));
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            echoed.load(Ordering::Relaxed) > before,
            "traffic flows in round {round}"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        operator.stat("connections"),
        CLIENTS as u64,
        "no client was closed"
    );
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for client in clients {
        total += client.join().unwrap();
    }
    assert_eq!(total, echoed.load(Ordering::Relaxed));
    assert_eq!(
        seen.lock().unwrap().messages,
        total,
        "every message handled once"
    );
    let resumed = seen.lock().unwrap().opens.iter().filter(|o| o.1).count();
    assert!(resumed > 0, "connections moved between workers");
}

#[test]
fn a_worker_that_vanishes_hands_its_connections_over_with_user_and_topics() {
    let operator = Operator::start("vanish", BacklogLimits::default(), false);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let first = EchoWorker::start(&operator.address, seen.clone());
    let mut ann = Client::connect_with(operator.addr, "/ann", &[]).unwrap();
    ann.send(OpCode::Text, b"one");
    assert_eq!(ann.recv_data().text(), "one");
    first.vanish();
    // (What a vanished worker was sent is lost: wait until the operator knows.)
    let deadline = Instant::now() + Duration::from_secs(5);
    while operator.stat("workers") > 0 {
        assert!(
            Instant::now() < deadline,
            "the vanished worker is still attached"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Without a worker the message waits; the next worker gets it, in order.
    ann.send(OpCode::Text, b"two");
    let _second = EchoWorker::start(&operator.address, seen.clone());
    assert_eq!(ann.recv_data().text(), "two");
    let opens = seen.lock().unwrap().opens.clone();
    let resumed = opens.iter().find(|o| o.1).expect("a resumed open");
    assert_eq!(resumed.2.as_deref(), Some("ann"));
    assert_eq!(resumed.3, ["news"]);
}

#[test]
fn without_workers_events_wait_within_bounds_then_go_in_order() {
    let limits = BacklogLimits {
        bytes: 4000,
        age: Duration::from_secs(30),
    };
    let operator = Operator::start("backlog", limits, false);
    let mut client = Client::connect(operator.addr);
    for i in 0..5u8 {
        client.send(OpCode::Binary, &[i; 1000]);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while operator.stat("backlog_refused") < 1 {
        assert!(
            Instant::now() < deadline,
            "the fifth message was not refused"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        operator.stat("backlog_events"),
        5,
        "the open and four messages wait"
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let _worker = EchoWorker::start(&operator.address, seen);
    for i in 0..4u8 {
        let frame = client.recv_data();
        assert_eq!(frame.payload, vec![i; 1000]);
    }
    client.send(OpCode::Text, b"after");
    assert_eq!(
        client.recv_data().text(),
        "after",
        "nothing else came first"
    );
}

#[test]
fn handshakes_needing_authorization_get_503_without_a_worker() {
    for threads in [2, 0] {
        let name = format!("authorize-{threads}");
        let operator = Operator::start_with(&name, BacklogLimits::default(), true, threads);
        let refused = Client::connect_with(operator.addr, "/", &[]).err().unwrap();
        assert!(
            refused.starts_with("HTTP/1.1 503"),
            "threads {threads}: {refused}"
        );
    }
}

#[test]
fn a_worker_asks_a_question_and_keeps_the_events_that_came_first() {
    let operator = Operator::start("ask", BacklogLimits::default(), false);
    let mut worker = Worker::connect(&operator.address, None).unwrap();
    let mut ann = Client::connect_with(operator.addr, "/ann", &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut events = Vec::new();
    let id = loop {
        worker
            .poll(&mut events, 1024, Some(Duration::from_millis(50)))
            .unwrap();
        if let Some(ToWorker::Open(open)) = events.first() {
            break open.id;
        }
        assert!(Instant::now() < deadline, "no open");
    };
    events.clear();
    worker.command(&Request::BindUser {
        id,
        user: "ann".into(),
    });
    ann.send(OpCode::Text, b"first");
    std::thread::sleep(Duration::from_millis(100)); // so that it comes before the reply
    let question = Request::SendToUser {
        user: "ann".into(),
        kind: switchboard::server::MessageKind::Text,
        data: b"hi".to_vec(),
    };
    let reply = worker.ask(&question).unwrap();
    assert_eq!(reply, Reply::Ok { count: 1 });
    assert_eq!(ann.recv_data().text(), "hi");
    // The message read while waiting for the reply comes with the next poll.
    worker
        .poll(&mut events, 1024, Some(Duration::ZERO))
        .unwrap();
    assert!(
        matches!(&events[..], [ToWorker::Message { data, .. }] if data == b"first"),
        "{events:?}"
    );
    // A question after `Detached` is answered too.
    worker.detach();
    events.clear();
    while events.last() != Some(&ToWorker::Detached) {
        worker
            .poll(&mut events, 1024, Some(Duration::from_millis(50)))
            .unwrap();
        assert!(Instant::now() < deadline, "no Detached");
    }
    let reply = worker.ask(&question).unwrap();
    assert_eq!(reply, Reply::Ok { count: 1 });
}

/// Whether `fd` is readable now.
fn readable(fd: std::os::fd::RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the call.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n == 1 && pfd.revents & libc::POLLIN != 0
}

#[test]
fn the_readiness_fd_is_readable_while_poll_has_events_to_hand_out() {
    let operator = Operator::start("readiness", BacklogLimits::default(), false);
    let mut worker = Worker::connect(&operator.address, None).unwrap();
    let fd = worker.readiness_fd().unwrap();
    let mut ann = Client::connect_with(operator.addr, "/ann", &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The open arrives: the descriptor turns readable, and poll(0) takes it.
    while !readable(fd) {
        assert!(
            Instant::now() < deadline,
            "the open never made the fd readable"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut events = Vec::new();
    worker
        .poll(&mut events, 1024, Some(Duration::ZERO))
        .unwrap();
    let Some(ToWorker::Open(open)) = events.first() else {
        panic!("expected an open, got {events:?}");
    };
    let id = open.id;
    assert!(!readable(fd), "nothing left, yet readable");
    // A queued command makes it readable too: the next poll writes it.
    worker.command(&Request::BindUser {
        id,
        user: "ann".into(),
    });
    assert!(readable(fd), "a command waits, yet not readable");
    worker
        .poll(&mut events, 1024, Some(Duration::ZERO))
        .unwrap();
    assert!(!readable(fd), "the command was written, yet readable");
    // Three messages, taken two at most per poll: readable until all are out.
    for text in ["one", "two", "three"] {
        ann.send(OpCode::Text, text.as_bytes());
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        assert!(Instant::now() < deadline, "got only {got:?}");
        if !readable(fd) {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        events.clear();
        let n = worker.poll(&mut events, 2, Some(Duration::ZERO)).unwrap();
        assert!(n <= 2, "{n} events for a max of 2");
        for event in events.drain(..) {
            if let ToWorker::Message { data, .. } = event {
                got.push(String::from_utf8(data).unwrap());
            }
        }
    }
    assert_eq!(got, ["one", "two", "three"]);
    assert!(!readable(fd));
    // A message read while a question waits for its reply: the socket is
    // empty afterwards, but the descriptor stays readable until poll takes it.
    ann.send(OpCode::Text, b"early");
    while !readable(fd) {
        assert!(Instant::now() < deadline, "the message never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let question = Request::SendToUser {
        user: "ann".into(),
        kind: switchboard::server::MessageKind::Text,
        data: b"hi".to_vec(),
    };
    assert_eq!(worker.ask(&question).unwrap(), Reply::Ok { count: 1 });
    assert!(
        readable(fd),
        "an event waits in the worker, yet not readable"
    );
    // INFO tells what the operator knows of the connection.
    let Reply::Info(facts) = worker.ask(&Request::Info { id }).unwrap() else {
        panic!("INFO got no facts");
    };
    assert_eq!((facts.id, facts.path.as_str()), (id, "/ann"));
    assert_eq!(facts.user.as_deref(), Some("ann"));
    assert!(
        facts.messages_in >= 4 && facts.peer.starts_with("127.0.0.1:"),
        "{facts:?}"
    );
    let unknown = worker.ask(&Request::Info { id: id + 1000 }).unwrap();
    assert!(
        matches!(
            unknown,
            Reply::Error {
                code: ErrorCode::UnknownConnection,
                ..
            }
        ),
        "{unknown:?}"
    );
    worker
        .poll(&mut events, 1024, Some(Duration::ZERO))
        .unwrap();
    assert!(
        matches!(&events[..], [ToWorker::Message { data, .. }] if data == b"early"),
        "{events:?}"
    );
    assert!(!readable(fd));
}

#[test]
fn a_worker_that_stops_reading_holds_up_only_its_own_connections() {
    const MESSAGES: usize = 400; // 400 × 64 KiB: past the 16 MiB a worker may be behind
    for threads in [2, 0] {
        let name = format!("behind-{threads}");
        let operator = Operator::start_with(&name, BacklogLimits::default(), false, threads);
        // The stalled worker takes the first connection; the echo worker the second.
        let mut stalled = Worker::connect(&operator.address, None).unwrap();
        let mut flooder = Client::connect_with(operator.addr, "/flood", &[]).unwrap();
        let mut events = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !events.iter().any(|e| matches!(e, ToWorker::Open(_))) {
            assert!(Instant::now() < deadline, "no open for the stalled worker");
            stalled
                .poll(&mut events, 1024, Some(Duration::from_millis(20)))
                .unwrap();
        }
        let seen = Arc::new(Mutex::new(Seen::default()));
        let _echo = EchoWorker::start(&operator.address, seen);
        let mut other = Client::connect_with(operator.addr, "/other", &[]).unwrap();
        let payload = |i: usize| {
            let mut data = vec![b'.'; 64 * 1024];
            data[..8].copy_from_slice(&(i as u64).to_be_bytes());
            data
        };
        for i in 0..MESSAGES {
            flooder.send(OpCode::Binary, &payload(i));
        }
        // The stalled worker reads nothing; the other client is still served.
        let deadline = Instant::now() + Duration::from_secs(20);
        while operator.stat("backlog_events") == 0 {
            assert!(
                Instant::now() < deadline,
                "the stalled worker never fell behind"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        for round in 0..3 {
            let text = format!("still served {round}");
            other.send(OpCode::Text, text.as_bytes());
            let echo = other.recv(Duration::from_secs(5)).unwrap();
            assert_eq!(echo.text(), text, "threads {threads}");
        }
        // It reads again: every message comes, in order, none twice.
        let mut next = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while next < MESSAGES {
            assert!(Instant::now() < deadline, "only {next} of {MESSAGES} came");
            events.clear();
            stalled
                .poll(&mut events, 1024, Some(Duration::from_millis(20)))
                .unwrap();
            for event in events.drain(..) {
                if let ToWorker::Message { data, .. } = event {
                    let mut index = [0u8; 8];
                    index.copy_from_slice(&data[..8]);
                    assert_eq!(u64::from_be_bytes(index), next as u64, "threads {threads}");
                    next += 1;
                }
            }
        }
        assert_eq!(operator.stat("backlog_refused"), 0);
    }
}
