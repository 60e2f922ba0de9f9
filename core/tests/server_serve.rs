#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! `Handle::serve`: events handed to a handler, borrowed. In inline mode the
//! loop calls it for each message as it decodes it, and replies to that
//! connection go straight into its output.

mod common;

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use switchboard::protocol::frame::{encode_masked_frame, OpCode};
use switchboard::server::{Config, Handle, Incoming, MessageKind, Server};

/// A server whose application thread runs `serve`, logging every event and
/// acting on the text messages it gets:
/// - `echo:X` sends X back, `owned:X` sends X back with `send_owned`;
/// - `mix` sends `1` back, broadcasts `2` (a command), then sends `3` back;
/// - `wait` calls `wait` from inside the handler and sends back what it got;
/// - `shutdown` shuts the server down from inside the handler;
/// - `panic` panics, as does the `Open` of a client on `/panic`.
struct ServeApp {
    handle: Handle,
    addr: std::net::SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ServeApp {
    fn start(config: &Config) -> ServeApp {
        let (server, handle, addr) = start(config);
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (app, app_log, stopping) = (handle.clone(), log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut server = Some(server);
            while !(stopping.load(Ordering::Relaxed) || app.is_finished()) {
                let served = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    serve_once(&app, &app_log, &mut server)
                }));
                if served.is_err() {
                    app_log.lock().unwrap().push("panicked".into());
                }
            }
            if let Some(server) = server {
                server.shutdown();
            }
        });
        ServeApp {
            handle,
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for ServeApp {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One `serve` call of the application thread (a handler may panic: see `act`).
fn serve_once(app: &Handle, app_log: &Mutex<Vec<String>>, server: &mut Option<Server>) {
    app.serve(Some(Duration::from_millis(50)), |event| {
        let mut log = app_log.lock().unwrap();
        match event {
            Incoming::Open(open) if open.request.path == "/panic" => {
                drop(log);
                panic!("a handler panics on open");
            }
            Incoming::Open(open) => log.push(format!("open:{}", open.id.as_u64())),
            Incoming::Close(close) => {
                log.push(format!("close:{}:{}", close.id.as_u64(), close.code))
            }
            Incoming::Message { id, data, .. } => {
                let text = std::str::from_utf8(data).unwrap().to_string();
                log.push(format!("msg:{}:{text}", id.as_u64()));
                drop(log);
                act(app, server, id, &text);
            }
        }
    });
}

fn act(app: &Handle, server: &mut Option<Server>, id: switchboard::server::ConnId, text: &str) {
    let text_kind = MessageKind::Text;
    if let Some(rest) = text.strip_prefix("echo:") {
        app.send(id, text_kind, rest.as_bytes()).unwrap();
    } else if let Some(rest) = text.strip_prefix("owned:") {
        app.send_owned(id, text_kind, rest.as_bytes().to_vec())
            .unwrap();
    } else if text == "mix" {
        app.send(id, text_kind, b"1").unwrap();
        app.broadcast(text_kind, b"2", None).unwrap();
        app.send(id, text_kind, b"3").unwrap();
    } else if text == "wait" {
        let mut events = Vec::new();
        let n = app.wait(&mut events, 10, Some(Duration::from_millis(10)));
        let m = app.serve(Some(Duration::from_millis(10)), |_| {});
        app.send(id, text_kind, format!("waited:{n}:{m}").as_bytes())
            .unwrap();
    } else if text == "panic" {
        panic!("a handler panics on a message");
    } else if text == "shutdown" {
        if let Some(server) = server.take() {
            server.shutdown();
        }
    }
}

fn inline_config() -> Config {
    let mut config = config();
    config.threads(0);
    config
}

fn texts(client: &mut Client, n: usize) -> Vec<String> {
    (0..n).map(|_| client.recv_data().text()).collect()
}

#[test]
fn messages_are_handled_in_place_and_replies_keep_their_order() {
    for threads in [0, 1] {
        let mut config = config();
        config.threads(threads);
        let app = ServeApp::start(&config);
        let mut clients: Vec<Client> = (0..3).map(|_| Client::connect(app.addr)).collect();
        for round in 0..30 {
            for (c, client) in clients.iter_mut().enumerate() {
                client.send(OpCode::Text, format!("echo:{c}-{round}").as_bytes());
                client.send(OpCode::Text, format!("owned:o{c}-{round}").as_bytes());
            }
            for (c, client) in clients.iter_mut().enumerate() {
                let expected = [format!("{c}-{round}"), format!("o{c}-{round}")];
                assert_eq!(texts(client, 2), expected, "threads {threads}");
            }
        }
        // A message assembled from fragments and reads is handled too.
        let big = "x".repeat(200_000);
        clients[0].send_frame(false, OpCode::Text, b"echo:");
        clients[0].send_frame(true, OpCode::Continuation, big.as_bytes());
        assert_eq!(clients[0].recv_data().text(), big);
        // A reply sent after a command waits for the command: 1, 2, 3.
        clients[1].send(OpCode::Text, b"mix");
        assert_eq!(texts(&mut clients[1], 3), ["1", "2", "3"]);
        assert_eq!(clients[0].recv_data().text(), "2");
        assert_eq!(clients[2].recv_data().text(), "2");
        let stats = app.handle.stats();
        assert_eq!(stats.messages_in, 30 * 6 + 2);
        assert_eq!(stats.messages_out, 30 * 6 + 1 + 2 + 3);
    }
}

#[test]
fn every_connection_sees_open_then_messages_then_close() {
    const CLIENTS: usize = 12;
    let app = ServeApp::start(&inline_config());
    // The handshake and the first frames arrive in one write: the Open event
    // waits in the turn's batch, and the messages behind it too.
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let mut request =
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                .to_vec();
        for m in 0..5 {
            let payload = format!("echo:{c}.{m}");
            encode_masked_frame(
                &mut request,
                true,
                OpCode::Text,
                payload.as_bytes(),
                [1, 2, 3, 4],
            );
        }
        let (stream, response, rest) = raw_request(app.addr, &request).unwrap();
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        let mut client = Client::from_parts(stream, rest);
        // More at once: these may be handled in place, while the replies to
        // the first five still wait to be sent. They must not overtake them.
        for m in 5..10 {
            client.send(OpCode::Text, format!("echo:{c}.{m}").as_bytes());
        }
        for m in 0..10 {
            assert_eq!(client.recv_data().text(), format!("{c}.{m}"));
        }
        clients.push(client);
    }
    for client in &mut clients {
        client.send_close(1000, "");
        assert!(client.wait_eof(Duration::from_secs(5)));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.log().iter().filter(|l| l.starts_with("close:")).count() < CLIENTS {
        assert!(Instant::now() < deadline, "closes missing: {:?}", app.log());
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = app.log();
    let ids: Vec<&str> = log.iter().filter_map(|l| l.strip_prefix("open:")).collect();
    assert_eq!(ids.len(), CLIENTS);
    for id in ids {
        let mine: Vec<&String> = log
            .iter()
            .filter(|l| l.split(':').nth(1) == Some(id))
            .collect();
        assert_eq!(mine.len(), 12, "{mine:?}");
        assert!(mine[0].starts_with("open:"));
        assert!(mine[1..11].iter().all(|l| l.starts_with("msg:")));
        assert_eq!(mine[11], &format!("close:{id}:1000"));
    }
}

#[test]
fn a_protocol_error_closes_after_the_replies_to_earlier_messages() {
    let app = ServeApp::start(&inline_config());
    let mut client = Client::connect(app.addr);
    let mut burst = Vec::new();
    encode_masked_frame(&mut burst, true, OpCode::Text, b"echo:first", [5, 6, 7, 8]);
    // Unmasked: a protocol error (1002).
    burst.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
    client.stream.write_all(&burst).unwrap();
    assert_eq!(client.recv_data().text(), "first");
    let close = client.recv(Duration::from_secs(5)).unwrap();
    assert_eq!(close.close_code(), Some(1002));
}

#[test]
fn wait_serve_and_shutdown_inside_a_handler_do_not_block() {
    let mut app = ServeApp::start(&inline_config());
    let mut client = Client::connect(app.addr);
    client.send(OpCode::Text, b"wait");
    assert_eq!(client.recv_data().text(), "waited:0:0");
    let mut other = Client::connect(app.addr);
    client.send(OpCode::Text, b"shutdown");
    // The shutdown ends the server: both clients get 1001 and the loop stops.
    for c in [&mut client, &mut other] {
        let frame = c.recv_data();
        assert_eq!(frame.close_code(), Some(1001));
        c.send_close(1001, "");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app.handle.is_finished() {
        assert!(Instant::now() < deadline, "the server did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    app.finish();
    assert_eq!(
        app.log().iter().filter(|l| l.starts_with("close:")).count(),
        2
    );
}

#[test]
fn a_panicking_handler_loses_no_event_and_leaves_the_loop_whole() {
    // The panics made on purpose stay quiet; any other is reported as usual.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
        if !text.starts_with("a handler panics") {
            report(info);
        }
    }));
    let app = ServeApp::start(&inline_config());
    let mut client = Client::connect(app.addr);
    // In one write: the panic is handled in place, between two echoes.
    let mut burst = Vec::new();
    for text in ["echo:a", "panic", "echo:b"] {
        encode_masked_frame(
            &mut burst,
            true,
            OpCode::Text,
            text.as_bytes(),
            [1, 2, 3, 4],
        );
    }
    client.stream.write_all(&burst).unwrap();
    assert_eq!(texts(&mut client, 2), ["a", "b"]);
    // A panic on an event handed over after the turn: the message behind it
    // in the same turn still comes.
    let mut request =
        b"GET /panic HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            .to_vec();
    encode_masked_frame(
        &mut request,
        true,
        OpCode::Text,
        b"echo:after",
        [1, 2, 3, 4],
    );
    let (stream, response, rest) = raw_request(app.addr, &request).unwrap();
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    let mut second = Client::from_parts(stream, rest);
    assert_eq!(second.recv_data().text(), "after");
    // Everything still works.
    for i in 0..20 {
        client.send(OpCode::Text, format!("echo:{i}").as_bytes());
        assert_eq!(client.recv_data().text(), i.to_string());
    }
    assert_eq!(app.log().iter().filter(|l| *l == "panicked").count(), 2);
}
