#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Per-loop serving (`Config::per_loop`, `Handle::run`): every loop calls its
//! own handler on its own thread. Order per connection, direct replies,
//! commands across loops, panics, shutdown from any loop, and how accepted
//! connections are spread over the loops.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use switchboard::protocol::frame::OpCode;
use switchboard::server::{ConnId, Handle, Incoming, MessageKind, Server};

const LOOPS: usize = 3;

/// A per-loop server on `LOOPS` loops, its `run` on a thread of its own.
/// Every handler acts on the text messages it gets:
/// - `seq:N` and `echo:X` come back as sent (`echo:` stripped);
/// - `loop` answers the index of the loop that handles the connection;
/// - `pub:X` publishes X to the topic every client joins at open;
/// - `bcast:X` broadcasts X;
/// - `user:NAME:X` sends X to the user NAME and answers `n=COUNT`;
/// - `panic` panics; `shutdown` shuts the server down.
///
/// A client on path `/user/NAME` is bound to NAME at open.
struct App {
    handle: Handle,
    addr: SocketAddr,
    /// Each connection's loop, as its handlers saw it; a second loop for the
    /// same connection is recorded as a violation.
    seen: Arc<Mutex<HashMap<ConnId, usize>>>,
    violations: Arc<Mutex<Vec<String>>>,
    runner: Option<JoinHandle<()>>,
    server: Option<Server>,
}

impl App {
    fn start() -> App {
        let mut config = config();
        config.threads(LOOPS).per_loop(true);
        let (server, handle, addr) = start(&config);
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let violations = Arc::new(Mutex::new(Vec::new()));
        let (app, app_seen, app_violations) = (handle.clone(), seen.clone(), violations.clone());
        let runner = std::thread::spawn(move || {
            app.run(|index| {
                let (handle, seen, violations) =
                    (app.clone(), app_seen.clone(), app_violations.clone());
                move |event: Incoming<'_>| {
                    let id = match &event {
                        Incoming::Open(open) => open.id,
                        Incoming::Message { id, .. } => *id,
                        Incoming::Close(close) => close.id,
                    };
                    let first = *seen.lock().unwrap().entry(id).or_insert(index);
                    if first != index {
                        violations
                            .lock()
                            .unwrap()
                            .push(format!("{id:?} on loop {first}, then on {index}"));
                    }
                    act(&handle, index, event);
                }
            })
            .unwrap();
        });
        App {
            handle,
            addr,
            seen,
            violations,
            runner: Some(runner),
            server: Some(server),
        }
    }

    fn client(&self, path: &str) -> Client {
        let client = Client::connect_with(self.addr, path, &[]).expect("handshake");
        client
            .stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client
    }

    /// Waits (at most 10 s) for `run` to return.
    fn wait_for_run(&mut self) {
        let runner = self.runner.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !runner.is_finished() {
            assert!(Instant::now() < deadline, "run did not return");
            std::thread::sleep(Duration::from_millis(10));
        }
        runner.join().unwrap();
    }

    fn check_no_violation(&self) {
        assert!(
            self.violations.lock().unwrap().is_empty(),
            "{:?}",
            self.violations
        );
        assert!(!self.seen.lock().unwrap().is_empty());
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        if let Some(runner) = self.runner.take() {
            let _ = runner.join();
        }
    }
}

fn act(handle: &Handle, index: usize, event: Incoming<'_>) {
    let text = MessageKind::Text;
    match event {
        Incoming::Open(open) => {
            handle.subscribe(open.id, "all").unwrap();
            if let Some(user) = open.request.path.strip_prefix("/user/") {
                handle.bind_user(open.id, user).unwrap();
            }
        }
        Incoming::Message { id, data, .. } => {
            let message = std::str::from_utf8(data).unwrap();
            let (verb, rest) = message.split_once(':').unwrap_or((message, ""));
            match verb {
                "seq" => handle.send(id, text, data).unwrap(),
                "echo" => handle.send(id, text, rest.as_bytes()).unwrap(),
                "loop" => handle.send(id, text, index.to_string().as_bytes()).unwrap(),
                "pub" => handle.publish("all", text, rest.as_bytes(), None).unwrap(),
                "bcast" => handle.broadcast(text, rest.as_bytes(), None).unwrap(),
                "user" => {
                    let (user, payload) = rest.split_once(':').unwrap();
                    let n = handle.send_to_user(user, text, payload.as_bytes()).unwrap();
                    handle.send(id, text, format!("n={n}").as_bytes()).unwrap();
                }
                "panic" => panic!("a handler panics on loop {index}"),
                "shutdown" => handle.shutdown(),
                other => panic!("unknown verb {other}"),
            }
        }
        Incoming::Close(_) => {}
    }
}

fn ask(client: &mut Client, message: &str) -> String {
    client.send(OpCode::Text, message.as_bytes());
    client.recv_data().text()
}

/// The loop each client is served by.
fn loops_of(clients: &mut [Client]) -> Vec<usize> {
    clients
        .iter_mut()
        .map(|c| ask(c, "loop").parse().unwrap())
        .collect()
}

#[test]
fn every_loop_serves_its_connections_in_order() {
    let app = App::start();
    let mut clients: Vec<Client> = (0..2 * LOOPS).map(|_| app.client("/")).collect();
    let mut loops = loops_of(&mut clients);
    loops.sort_unstable();
    loops.dedup();
    assert_eq!(
        loops,
        (0..LOOPS).collect::<Vec<_>>(),
        "every loop has clients"
    );
    // Pipelined: each client sends everything first, then reads it all back.
    let writers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            std::thread::spawn(move || {
                for i in 0..500 {
                    client.send(OpCode::Text, format!("seq:{i}").as_bytes());
                }
                for i in 0..500 {
                    assert_eq!(client.recv_data().text(), format!("seq:{i}"));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    app.check_no_violation();
}

/// Sends `marker` through `client`'s own loop and reads up to it: every frame
/// before it must be exactly `want`.
fn expect_then_marker(client: &mut Client, want: &[&str]) {
    client.send(OpCode::Text, b"echo:marker");
    let mut got = Vec::new();
    loop {
        let frame = client.recv_data().text();
        if frame == "marker" {
            break;
        }
        got.push(frame);
    }
    assert_eq!(got, want);
}

#[test]
fn publish_broadcast_and_users_reach_every_loop_once() {
    let app = App::start();
    let mut clients: Vec<Client> = (0..LOOPS).map(|_| app.client("/user/ann")).collect();
    clients.extend((0..LOOPS).map(|_| app.client("/")));
    let loops = loops_of(&mut clients);
    let mut ann_loops = loops[..LOOPS].to_vec();
    ann_loops.sort_unstable();
    assert_eq!(
        ann_loops,
        (0..LOOPS).collect::<Vec<_>>(),
        "ann is on every loop"
    );

    // From a client on each loop in turn.
    for (sender, loop_index) in loops.iter().enumerate().skip(LOOPS) {
        let message = format!("from loop {loop_index}");
        clients[sender].send(OpCode::Text, format!("pub:{message}").as_bytes());
        for client in clients.iter_mut() {
            assert_eq!(client.recv_data().text(), message);
        }
        clients[sender].send(OpCode::Text, format!("bcast:{message}").as_bytes());
        for client in clients.iter_mut() {
            assert_eq!(client.recv_data().text(), message);
        }
        assert_eq!(ask(&mut clients[sender], "user:ann:hi"), "n=3");
        for ann in clients.iter_mut().take(LOOPS) {
            assert_eq!(ann.recv_data().text(), "hi");
        }
    }
    // Nothing came twice.
    for client in clients.iter_mut() {
        expect_then_marker(client, &[]);
    }
    assert_eq!(ask(&mut clients[LOOPS], "user:nobody:x"), "n=0");
    app.check_no_violation();
}

#[test]
fn a_panic_on_one_loop_leaves_every_loop_serving() {
    let app = App::start();
    let mut clients: Vec<Client> = (0..LOOPS).map(|_| app.client("/")).collect();
    let loops = loops_of(&mut clients);
    let victim = loops.iter().position(|&l| l == 1).unwrap();
    clients[victim].send(OpCode::Text, b"panic");
    for client in clients.iter_mut() {
        assert_eq!(ask(client, "echo:still here"), "still here");
    }
    // New clients, spread over every loop, are served too.
    let mut more: Vec<Client> = (0..LOOPS).map(|_| app.client("/")).collect();
    for client in more.iter_mut() {
        assert_eq!(ask(client, "echo:new"), "new");
    }
    assert_eq!(app.handle.stats().connections, 2 * LOOPS as u64);
    app.check_no_violation();
}

#[test]
fn a_handler_on_any_loop_can_shut_the_server_down() {
    for target in 0..LOOPS {
        let mut app = App::start();
        let mut clients: Vec<Client> = (0..LOOPS).map(|_| app.client("/")).collect();
        let loops = loops_of(&mut clients);
        let from = loops.iter().position(|&l| l == target).unwrap();
        clients[from].send(OpCode::Text, b"shutdown");
        for client in clients.iter_mut() {
            let frame = client.recv(Duration::from_secs(5)).unwrap();
            assert_eq!(frame.close_code(), Some(1001), "loop {target}");
            client.send_close(1001, "");
        }
        app.wait_for_run();
        assert!(app.handle.is_finished());
        app.check_no_violation();
    }
}

#[test]
fn accepted_connections_are_spread_evenly_over_the_loops() {
    let app = App::start();
    // 1,000 short-lived connections at about 1,000 a second.
    let start = Instant::now();
    for i in 0..1000u32 {
        let due = start + Duration::from_millis(u64::from(i));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let mut client = app.client("/");
        client.send_close(1000, "");
        let _ = client.wait_eof(Duration::from_secs(5));
    }
    let accepted: Vec<u64> = app.handle.loop_stats().iter().map(|s| s.accepted).collect();
    assert_eq!(accepted.len(), LOOPS);
    let total: u64 = accepted.iter().sum();
    assert_eq!(total, 1000, "{accepted:?}");
    let mean = total as f64 / LOOPS as f64;
    for &n in &accepted {
        assert!(n as f64 <= 1.5 * mean, "uneven: {accepted:?}");
    }
    app.check_no_violation();
}
