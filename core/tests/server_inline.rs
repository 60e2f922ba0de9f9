#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Inline mode (`threads(0)`): the loop runs inside `wait` on the application's
//! thread. Clients talk to the server only while that thread waits.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;
use switchboard::protocol::frame::{encode_masked_frame, OpCode};
use switchboard::server::{Config, Event, Handle, MessageKind, Server};

fn inline_config() -> Config {
    let mut config = config();
    config.threads(0);
    config
}

/// An inline server whose application thread echoes every message and keeps
/// the other events.
struct EchoApp {
    server: Option<Server>,
    handle: Handle,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Event>>>,
}

impl EchoApp {
    fn start(config: &Config, slice: Option<Duration>) -> EchoApp {
        let (server, handle, addr) = start(config);
        let stop = Arc::new(AtomicBool::new(false));
        let app = handle.clone();
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut events = Vec::new();
            while !(stopping.load(Ordering::Relaxed) || app.is_finished()) {
                app.wait(&mut events, 64, slice);
                for event in events.drain(..) {
                    match event {
                        Event::Message { id, kind, data } => {
                            let _ = app.send_owned(id, kind, data);
                        }
                        other => kept.push(other),
                    }
                }
            }
            kept
        });
        EchoApp {
            server: Some(server),
            handle,
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// Shuts the server down while the application thread keeps waiting, and
    /// returns the events it kept.
    fn shutdown(mut self) -> Vec<Event> {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        self.finish()
    }

    fn finish(&mut self) -> Vec<Event> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for EchoApp {
    fn drop(&mut self) {
        // After a failed assertion too: the thread may be waiting without a
        // timeout, and only the shutdown ends its wait.
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        self.finish();
    }
}

fn io_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("switchboard-io"))
        .count()
}

#[test]
fn echoes_in_order_without_an_io_thread() {
    let app = EchoApp::start(&inline_config(), Some(Duration::from_millis(200)));
    assert_eq!(io_threads(), 0, "inline mode starts no I/O thread");
    let mut clients: Vec<Client> = (0..4).map(|_| Client::connect(app.addr)).collect();
    let sizes = [0usize, 1, 125, 126, 4000, 65535, 65536, 200_000];
    for round in 0..20 {
        for (c, client) in clients.iter_mut().enumerate() {
            let size = sizes[(round + c) % sizes.len()];
            let payload: Vec<u8> = (0..size).map(|i| (i * 31 + round + c) as u8).collect();
            client.send(OpCode::Binary, &payload);
        }
        for (c, client) in clients.iter_mut().enumerate() {
            let size = sizes[(round + c) % sizes.len()];
            let expected: Vec<u8> = (0..size).map(|i| (i * 31 + round + c) as u8).collect();
            let frame = client.recv_data();
            assert_eq!(frame.opcode, 2);
            assert!(frame.payload == expected, "round {round} client {c}");
        }
    }
    // A fragmented text message comes back whole.
    clients[0].send_frame(false, OpCode::Text, b"frag");
    clients[0].send_frame(true, OpCode::Continuation, b"mented");
    assert_eq!(clients[0].recv_data().text(), "fragmented");
    clients[1].send_close(1000, "bye");
    let reply = clients[1].recv(Duration::from_secs(5)).unwrap();
    assert_eq!(reply.close_code(), Some(1000));
    let kept = app.shutdown();
    let closes = closes(&kept);
    assert_eq!(
        closes.len(),
        4,
        "every client's Close reached the application"
    );
    assert_eq!(closes.iter().filter(|c| c.code == 1000).count(), 1);
    assert_eq!(closes.iter().filter(|c| c.code == 1001).count(), 3);
}

/// Takes of every size, into a vector that is sometimes still holding events:
/// each connection's messages still come whole and in order, whether a turn's
/// events go to the caller directly or through the queue.
#[test]
fn small_and_partial_takes_keep_every_connection_in_order() {
    let (server, handle, addr) = start(&inline_config());
    const CLIENTS: usize = 6;
    const MESSAGES: usize = 300;
    let writer = std::thread::spawn(move || {
        let mut clients: Vec<Client> = (0..CLIENTS).map(|_| Client::connect(addr)).collect();
        for (c, client) in clients.iter_mut().enumerate() {
            let mut burst = Vec::new();
            for m in 0..MESSAGES {
                let payload = format!("{c}:{m}");
                encode_masked_frame(
                    &mut burst,
                    true,
                    OpCode::Text,
                    payload.as_bytes(),
                    [9, 8, 7, 6],
                );
            }
            client.stream.write_all(&burst).unwrap();
        }
        clients
    });
    let mut seen: Vec<Vec<usize>> = Vec::new();
    let mut ids = Vec::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut round = 0usize;
    while seen.iter().map(Vec::len).sum::<usize>() < CLIENTS * MESSAGES {
        assert!(Instant::now() < deadline, "messages missing");
        round += 1;
        handle.wait(&mut events, 1 + round % 7, Some(Duration::from_millis(50)));
        // Every third round leaves the events in place for the next take.
        if round % 3 == 0 {
            continue;
        }
        for event in events.drain(..) {
            match event {
                Event::Open(open) => {
                    ids.push(open.id);
                    seen.push(Vec::new());
                }
                Event::Message { id, data, .. } => {
                    let text = String::from_utf8(data).unwrap();
                    let (c, m) = text.split_once(':').unwrap();
                    let conn = ids.iter().position(|&i| i == id).unwrap();
                    seen[conn].push(m.parse().unwrap());
                    assert!(c.parse::<usize>().unwrap() < CLIENTS);
                }
                Event::Close(close) => panic!("unexpected {close:?}"),
            }
        }
    }
    for messages in &seen {
        assert_eq!(messages, &(0..MESSAGES).collect::<Vec<_>>());
    }
    drop(writer.join().unwrap());
    server.shutdown();
}

/// The median of `trials` latencies measured by `once`. Without a wake-up, an
/// inline loop waiting without a timeout only notices work at its next timer
/// tick, which comes 0 to 50 ms later (25 ms at the median); with one, within
/// a fraction of a millisecond. A median well under 25 ms tells them apart
/// however loaded the machine is now and then, where a single timing would not.
fn median_latency(trials: usize, mut once: impl FnMut() -> Duration) -> Duration {
    let mut all: Vec<Duration> = (0..trials).map(|_| once()).collect();
    all.sort();
    all[trials / 2]
}

#[test]
fn commands_from_another_thread_wake_the_waiting_application() {
    // The application waits without a timeout: only a wake gets the broadcast
    // out before the loop's next timer tick.
    let app = EchoApp::start(&inline_config(), None);
    let mut client = Client::connect(app.addr);
    client.send(OpCode::Text, b"hello");
    assert_eq!(client.recv_data().text(), "hello");
    let median = median_latency(21, || {
        // Give the application time to block in `wait` again.
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        app.handle
            .broadcast(MessageKind::Text, b"from elsewhere", None)
            .unwrap();
        assert_eq!(client.recv_data().text(), "from elsewhere");
        started.elapsed()
    });
    assert!(
        median < Duration::from_millis(10),
        "median {median:?}: the broadcast waited for a timer tick"
    );
    app.shutdown();
}

#[test]
fn timers_run_inside_wait() {
    let mut config = inline_config();
    config
        .ping_interval(Some(Duration::from_millis(200)))
        .handshake_timeout(Duration::from_millis(300));
    let app = EchoApp::start(&config, Some(Duration::from_millis(50)));
    let mut client = Client::connect(app.addr);
    let ping = client.recv(Duration::from_secs(10)).unwrap();
    assert_eq!(ping.opcode, 9, "a silent client is pinged");
    // Taken before connecting: the server's handshake clock starts later.
    let started = Instant::now();
    let mut silent = TcpStream::connect(app.addr).unwrap();
    silent.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    // EOF (or a reset) when the server drops it; a timeout is an error.
    let ended = match silent.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(ended, "the handshake timed out and the socket was closed");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "dropped before the handshake timeout"
    );
    app.shutdown();
}

#[test]
fn protocol_error_closes_after_the_replies_to_earlier_messages() {
    let app = EchoApp::start(&inline_config(), Some(Duration::from_millis(200)));
    let mut client = Client::connect(app.addr);
    let mut bytes = Vec::new();
    switchboard::protocol::frame::encode_masked_frame(
        &mut bytes,
        true,
        OpCode::Text,
        b"before",
        [9, 8, 7, 6],
    );
    bytes.extend_from_slice(&[0x81, 0x02, b'h', b'i']); // unmasked: 1002
    client.stream.write_all(&bytes).unwrap();
    assert_eq!(client.recv_data().text(), "before");
    let close = client.recv(Duration::from_secs(5)).unwrap();
    assert_eq!(close.close_code(), Some(1002));
    app.shutdown();
}

#[test]
fn readiness_fd_drives_a_poll_loop() {
    let (server, handle, addr) = start(&inline_config());
    let fd = handle.event_fd();
    let client = std::thread::spawn(move || {
        let mut client = Client::connect(addr);
        for i in 0..50 {
            let text = format!("message {i}");
            client.send(OpCode::Text, text.as_bytes());
            assert_eq!(client.recv_data().text(), text);
        }
        client.send_close(1000, "");
        client.wait_eof(Duration::from_secs(5))
    });
    // The application flushes its replies at once and then only polls the fd,
    // for up to 5 s at a time: a poll that times out means the fd did not
    // turn readable for a message that was waiting.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events = Vec::new();
    let (mut wakeups, mut timeouts) = (0, 0);
    let mut closed = false;
    while !closed {
        assert!(Instant::now() < deadline, "the poll loop stalled");
        let mut pollfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pollfd, 1, 5000) } > 0 {
            wakeups += 1;
        } else {
            timeouts += 1;
        }
        handle.wait(&mut events, 16, Some(Duration::ZERO));
        for event in events.drain(..) {
            match event {
                Event::Message { id, kind, data } => handle.send_owned(id, kind, data).unwrap(),
                Event::Close(_) => closed = true,
                _ => {}
            }
        }
        handle.flush();
    }
    assert!(client.join().unwrap(), "the client saw the close complete");
    assert_eq!(timeouts, 0, "the fd stayed unreadable while work waited");
    assert!(
        wakeups >= 50,
        "the fd woke the loop for the messages ({wakeups})"
    );
    // Quiet now: the fd stays unreadable.
    handle.wait(&mut events, 16, Some(Duration::ZERO));
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    assert_eq!(unsafe { libc::poll(&mut pollfd, 1, 100) }, 0);
    server.shutdown();
    assert!(handle.is_finished());
}

#[test]
fn a_protocol_error_alone_closes_while_the_application_waits_without_timeout() {
    let app = EchoApp::start(&inline_config(), None);
    let median = median_latency(21, || {
        let mut client = Client::connect(app.addr);
        client.send(OpCode::Text, b"first");
        assert_eq!(client.recv_data().text(), "first");
        let started = Instant::now();
        client.stream.write_all(&[0x81, 0x02, b'h', b'i']).unwrap(); // unmasked: 1002
        let close = client.recv(Duration::from_secs(10)).unwrap();
        assert_eq!(close.close_code(), Some(1002));
        started.elapsed()
    });
    // At once, not at the next timer tick.
    assert!(
        median < Duration::from_millis(10),
        "median {median:?}: the close waited for a timer tick"
    );
    app.shutdown();
}
