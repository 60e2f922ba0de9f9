#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Memory stays bounded whatever clients or the application do; shutdown is graceful.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;
use switchboard::protocol::frame::{encode_masked_frame, OpCode};
use switchboard::server::{Event, MessageKind};

#[test]
fn slow_reader_is_closed_at_its_limit_while_a_fast_reader_keeps_up() {
    let mut config = config();
    config.max_buffered(64 * 1024);
    let (_server, handle, addr) = start(&config);
    let slow = Client::connect(addr); // never reads
    let mut fast = Client::connect(addr);
    let events = collect_until(&handle, |events| {
        events.iter().filter(|e| open_id(e).is_some()).count() == 2
    });
    let fast_id = id_of(&events, &fast);
    let slow_id = id_of(&events, &slow);
    let payload = vec![b'x'; 16 * 1024];
    let mut received = 0;
    let started = Instant::now();
    // 16 MiB to each: far more than the socket buffers and the 64 KiB limit.
    for i in 0..1024 {
        handle
            .broadcast(MessageKind::Binary, &payload, None)
            .unwrap();
        handle.flush(); // this thread dispatched events: its commands are corked
        if i % 8 == 7 {
            while received < i + 1 {
                let frame = fast.recv_data();
                assert_eq!(frame.payload.len(), payload.len());
                received += 1;
            }
        }
    }
    while received < 1024 {
        fast.recv_data();
        received += 1;
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    // It never answers the close frame: it ends after the close timeout (2 s here).
    let Event::Close(close) = next_event(&handle, |e| matches!(e, Event::Close(_))) else {
        unreachable!()
    };
    assert_eq!((close.id, close.code, close.clean), (slow_id, 1008, false));
    let stats = handle.stats();
    assert_eq!(stats.closed_by.slow_consumer, 1, "{stats:?}");
    assert!(
        handle.info(fast_id).is_ok(),
        "the fast reader is unaffected"
    );
    assert!(
        handle.info(slow_id).is_err(),
        "the slow reader is gone for the application"
    );
}

#[test]
fn application_falling_behind_stops_reading_instead_of_growing() {
    let mut config = config();
    config.event_queue(64, 1 << 20);
    let (_server, handle, addr) = start(&config);
    let mut client = Client::connect(addr);
    next_event(&handle, |_| true);
    // 24 MiB: more than loopback socket buffers can absorb.
    const COUNT: usize = 24_000;
    let mut wire = Vec::new();
    for i in 0..COUNT {
        let mut payload = format!("{i:08}").into_bytes();
        payload.resize(1024, b'.');
        encode_masked_frame(&mut wire, true, OpCode::Binary, &payload, [9, 8, 7, 6]);
    }
    let mut writer = client.stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || writer.write_all(&wire).is_ok());
    // The application has not taken anything: the loops read at most the queue's
    // bound (64), one early-pushed batch (256 KiB) and one socket read (64 x 1 KiB) more.
    let read_so_far = settled(|| handle.stats().messages_in as usize);
    assert!(
        read_so_far <= 64 + 256 + 64 + 8,
        "read {read_so_far} messages while the application was stalled"
    );
    assert!(!sending.is_finished(), "TCP pushes back on the client");
    // Now the application catches up and every message arrives, in order.
    let mut next = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut events = Vec::new();
    while next < COUNT && Instant::now() < deadline {
        handle.wait(&mut events, 256, Some(Duration::from_millis(100)));
        for event in events.drain(..) {
            if let Event::Message { data, .. } = event {
                assert_eq!(&data[..8], format!("{next:08}").as_bytes());
                next += 1;
            }
        }
    }
    assert_eq!(next, COUNT);
    assert!(sending.join().unwrap());
    client.send_close(1000, "");
}

#[test]
fn shutdown_delivers_queued_messages_then_1001() {
    let mut config = config();
    config.close_timeout(Duration::from_secs(30));
    let (server, handle, addr) = start(&config);
    let mut clients: Vec<Client> = (0..5).map(|_| Client::connect(addr)).collect();
    let ids: Vec<_> = collect_until(&handle, |events| {
        events.iter().filter(|e| open_id(e).is_some()).count() == 5
    })
    .iter()
    .filter_map(open_id)
    .collect();
    assert_eq!(ids.len(), 5);
    for i in 0..100 {
        for id in &ids {
            handle
                .send(*id, MessageKind::Text, format!("n{i}").as_bytes())
                .unwrap();
        }
    }
    // Each client answers the close once it has read everything.
    let readers: Vec<_> = clients
        .drain(..)
        .map(|mut c| {
            std::thread::spawn(move || {
                let mut texts = 0;
                loop {
                    let frame = c.recv(Duration::from_secs(5)).expect("frame");
                    if frame.opcode == 8 {
                        c.send_close(1001, "");
                        return (texts, frame.close_code());
                    }
                    assert_eq!(frame.text(), format!("n{texts}"));
                    texts += 1;
                }
            })
        })
        .collect();
    let started = Instant::now();
    server.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "replies end the wait before the 30 s close timeout"
    );
    for r in readers {
        assert_eq!(r.join().unwrap(), (100, Some(1001)));
    }
    let closes = closes(&collect_until(&handle, |events| closes(events).len() == 5));
    assert!(closes.iter().all(|c| c.code == 1001 && c.clean));
    assert!(handle.is_finished());
    assert!(matches!(
        handle.send(ids[0], MessageKind::Text, b"late"),
        Err(switchboard::server::Error::ShutDown)
    ));
}

#[test]
fn plain_http_gets_426_and_static_files_are_served() {
    let dir = std::env::temp_dir().join(format!("sb-static-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>demo</h1>").unwrap();
    let (_plain, _h1, plain_addr) = start(&config());
    let (_, head, _) = raw_request(plain_addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 426"), "{head}");
    let mut config = config();
    config.static_dir(Some(dir.clone()));
    let (_server, _handle, addr) = start(&config);
    let (mut stream, head, mut body) =
        raw_request(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/html"),
        "{head}"
    );
    stream.read_to_end(&mut body).unwrap();
    assert_eq!(body, b"<h1>demo</h1>");
    let (_, head, _) =
        raw_request(addr, b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    // WebSocket upgrades still work on the same port.
    let _ws = Client::connect(addr);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A client socket whose receive buffer is fixed small before it connects, so
/// the kernel takes little of what the server sends it once it stops reading.
fn connect_small_window(addr: std::net::SocketAddr) -> Client {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&addr.into()).unwrap();
    Client::handshake_on(socket.into())
}

#[test]
fn slow_reader_is_closed_once_its_backlog_passes_max_buffered() {
    const LIMIT: usize = 1 << 20;
    const MESSAGE: usize = 16 * 1024;
    let mut config = config();
    config.max_buffered(LIMIT).threads(1);
    let (_server, handle, addr) = start(&config);
    let mut slow = connect_small_window(addr); // never reads until the end
    let id = open_id(&next_event(&handle, |e| matches!(e, Event::Open(_)))).unwrap();
    let payload = vec![b'x'; MESSAGE];
    // Send until the server gives up on the reader (at most 64 MiB): it must do
    // so once what it holds for the reader passes the limit, not later.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    while handle.stats().dropped == 0 {
        assert!(
            sent < 64 << 20,
            "64 MiB sent and the reader was never closed"
        );
        assert!(Instant::now() < deadline, "the reader was never closed");
        handle.send(id, MessageKind::Binary, &payload).unwrap();
        sent += MESSAGE;
        if sent % (256 * 1024) == 0 {
            // Let the loop catch up, so it judges the backlog as it grows.
            handle.flush();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // Everything the server accepted for this reader before it judged it slow:
    // its own buffer (the limit, plus the message that passed it) and what the
    // kernel took (a 4 KiB receive window and a send buffer that a window that
    // never opens does not let grow).
    let queued = handle.stats().bytes_out as usize;
    assert!(
        queued > LIMIT,
        "closed after {queued} bytes, before its backlog passed the {LIMIT}-byte limit"
    );
    let kernel = max_send_buffer() + 256 * 1024;
    assert!(
        queued <= LIMIT + MESSAGE + kernel,
        "{queued} bytes queued for a reader that stopped: the limit is {LIMIT}"
    );
    // The reader gets what the kernel held, then the 1008 close frame.
    let close = loop {
        let frame = slow.recv(Duration::from_secs(10)).unwrap();
        if frame.opcode == 8 {
            break frame;
        }
        assert_eq!(frame.payload, payload, "whole messages only");
    };
    assert_eq!(close.close_code(), Some(1008));
    slow.send_close(1008, "");
    let Event::Close(closed) = next_event(&handle, |e| matches!(e, Event::Close(_))) else {
        unreachable!()
    };
    assert_eq!((closed.id, closed.code), (id, 1008));
    let stats = handle.stats();
    assert_eq!(stats.closed_by.slow_consumer, 1, "{stats:?}");
    assert!(stats.dropped >= 1, "{stats:?}");
}

/// The most the kernel lets a TCP send buffer grow to (its autotuning limit).
fn max_send_buffer() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

#[test]
fn a_message_larger_than_max_buffered_reaches_a_reader_that_keeps_up() {
    const LIMIT: usize = 64 * 1024;
    let mut config = config();
    config.max_buffered(LIMIT);
    let (_server, handle, addr) = start(&config);
    let mut reader = Client::connect(addr);
    let id = open_id(&next_event(&handle, |e| matches!(e, Event::Open(_)))).unwrap();
    for round in 0..4u8 {
        let payload = vec![round; 16 * LIMIT];
        handle.send(id, MessageKind::Binary, &payload).unwrap();
        let frame = reader.recv_data();
        assert_eq!(
            (frame.opcode, frame.payload.len()),
            (2, payload.len()),
            "round {round}"
        );
        assert!(frame.payload == payload, "round {round}: payload differs");
    }
    let stats = handle.stats();
    assert_eq!((stats.dropped, stats.closed_by.slow_consumer), (0, 0));
    assert!(handle.info(id).is_ok(), "the reader is still connected");
}

#[test]
fn messages_for_a_closing_connection_are_dropped_and_counted() {
    let (_server, handle, addr) = start(&config());
    let mut client = Client::connect(addr);
    let id = open_id(&next_event(&handle, |e| matches!(e, Event::Open(_)))).unwrap();
    handle.send(id, MessageKind::Text, b"before").unwrap();
    handle.close(id, 4000, "done").unwrap();
    // Still known to the application until the close handshake ends, so these
    // are accepted here, and dropped by the loop: the close went first.
    for _ in 0..3 {
        handle.send(id, MessageKind::Text, b"after").unwrap();
    }
    handle.flush();
    assert_eq!(client.recv_data().text(), "before");
    let close = client.recv(Duration::from_secs(5)).unwrap();
    assert_eq!(close.close_code(), Some(4000));
    client.send_close(4000, "");
    assert!(client.wait_eof(Duration::from_secs(5)));
    let stats = handle.stats();
    assert_eq!((stats.dropped, stats.messages_out), (3, 1), "{stats:?}");
}

#[test]
fn event_queue_byte_bound_stops_reading_until_drained_below_half() {
    byte_bound_holds(1024, 1);
}

#[test]
fn event_queue_byte_bound_holds_for_many_senders_of_large_messages() {
    byte_bound_holds(64 * 1024, 32);
}

/// `clients` send `size`-byte messages while the application
/// takes nothing; then it drains the queue a few events at a time. The bound
/// must hold when the loop first fills the queue, and again when it resumes
/// with every sender's socket full.
fn byte_bound_holds(size: usize, clients: usize) {
    const BYTES: usize = 1 << 20;
    let weight = size + 64; // a message event's weight in the queue
    let mut config = config();
    // Many events allowed, and no per-connection bound: only the queue's byte
    // bound can stop the loop.
    config.event_queue(1_000_000, BYTES).threads(1);
    config.max_unhandled(usize::MAX, usize::MAX);
    let (_server, handle, addr) = start(&config);
    let mut senders = Vec::new();
    // More than loopback buffers absorb: 16 MiB in all, 1 MiB each at least.
    let per_client = ((16 << 20) / size / clients).max((1 << 20) / size);
    for c in 0..clients {
        let client = Client::connect(addr);
        let mut wire = Vec::new();
        for i in 0..per_client {
            let mut payload = format!("{c:04}{i:08}").into_bytes();
            payload.resize(size, b'.');
            encode_masked_frame(&mut wire, true, OpCode::Binary, &payload, [9, 8, 7, 6]);
        }
        let mut writer = client.stream.try_clone().unwrap();
        let sending = std::thread::spawn(move || writer.write_all(&wire).is_ok());
        senders.push((client, sending));
    }
    let total = per_client * clients;
    // The application takes nothing: the loop reads until the queue holds the
    // bound, then stops. It sees the bound when it hands a batch over: at most
    // 256 KiB read, and one socket read of 64 KiB, may pass it.
    let stalled = settled(|| handle.stats().messages_in as usize);
    let most = (BYTES + 256 * 1024 + 64 * 1024) / weight + 1;
    assert!(
        stalled >= BYTES / weight && stalled <= most,
        "read {stalled} messages of {size} bytes from {clients} clients while the \
         application was stalled (bound: {BYTES} bytes)"
    );
    if clients == 1 {
        // 16 MiB is more than the kernel holds: the writer waits for the server.
        assert!(!senders[0].1.is_finished(), "TCP pushes back on the client");
    }
    // Take events a few at a time: reading must not resume while the queue
    // still holds half the bound or more. Each client's messages come in order.
    let mut taken = 0;
    let mut next = vec![0usize; clients];
    let mut events = Vec::new();
    let mut take = |n: usize, taken: &mut usize| {
        handle.wait(&mut events, n, Some(Duration::from_secs(5)));
        for event in events.drain(..) {
            match event {
                Event::Message { data, .. } => {
                    let c: usize = std::str::from_utf8(&data[..4]).unwrap().parse().unwrap();
                    assert_eq!(&data[4..12], format!("{:08}", next[c]).as_bytes());
                    next[c] += 1;
                    *taken += 1;
                }
                Event::Open(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    while (stalled - taken) * weight >= BYTES / 2 + 8 * weight {
        take(8, &mut taken);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            handle.stats().messages_in as usize,
            stalled,
            "reading resumed with {} bytes still queued",
            (stalled - taken) * weight
        );
    }
    // Below half: the loop reads again, and every message arrives in order.
    while (stalled - taken) * weight >= BYTES / 2 {
        take(1, &mut taken);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.stats().messages_in as usize == stalled {
        assert!(Instant::now() < deadline, "reading never resumed");
        std::thread::sleep(Duration::from_millis(5));
    }
    let queued = settled(|| handle.stats().messages_in as usize) - taken;
    assert!(
        queued <= most,
        "{queued} messages of {size} bytes queued after reading resumed (bound: {BYTES} bytes)"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while taken < total {
        assert!(
            Instant::now() < deadline,
            "{taken} of {total} messages arrived"
        );
        take(256, &mut taken);
    }
    for (mut client, sending) in senders {
        assert!(sending.join().unwrap());
        client.send_close(1000, "");
    }
}

/// Waits until `read` returns the same value for 200 ms (at most 10 s), and
/// returns it: for counters that stop growing when a bound is reached.
fn settled(read: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = read();
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_millis(200) {
        assert!(Instant::now() < deadline, "still changing: {last}");
        std::thread::sleep(Duration::from_millis(10));
        let now = read();
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    last
}

#[test]
fn shutdown_returns_within_the_close_timeout_when_clients_never_answer() {
    let mut config = config();
    config.close_timeout(Duration::from_secs(1));
    let (server, handle, addr) = start(&config);
    // Clients that never answer the close: one reads, one reads nothing at all.
    let mut silent = Client::connect(addr);
    let _deaf = connect_small_window(addr);
    let opened = collect_until(&handle, |events| {
        events.iter().filter(|e| open_id(e).is_some()).count() == 2
    });
    assert_eq!(opened.len(), 2);
    let started = Instant::now();
    let stopping = std::thread::spawn(move || server.shutdown());
    let close = silent.recv(Duration::from_secs(10)).unwrap();
    assert_eq!(close.close_code(), Some(1001));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stopping.is_finished() {
        assert!(Instant::now() < deadline, "shutdown did not return");
        std::thread::sleep(Duration::from_millis(10));
    }
    stopping.join().unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1),
        "returned after {took:?}, before the close timeout, with no client answering"
    );
    assert!(
        silent.wait_eof(Duration::from_secs(5)),
        "sockets are released"
    );
    let closes = closes(&collect_until(&handle, |events| closes(events).len() == 2));
    assert!(
        closes.iter().all(|c| c.code == 1001 && !c.clean),
        "{closes:?}"
    );
    assert!(handle.is_finished());
}

#[test]
fn static_files_never_follow_a_symlink_out_of_the_directory() {
    let base = std::env::temp_dir().join(format!("sb-static-links-{}", std::process::id()));
    let dir = base.join("public");
    std::fs::create_dir_all(dir.join("inner")).unwrap();
    std::fs::write(base.join("secret.txt"), "secret").unwrap();
    std::fs::write(dir.join("inner/page.txt"), "inside").unwrap();
    use std::os::unix::fs::symlink;
    symlink(base.join("secret.txt"), dir.join("leak.txt")).unwrap();
    symlink(&base, dir.join("up")).unwrap();
    symlink(dir.join("inner/page.txt"), dir.join("alias.txt")).unwrap();
    let mut config = config();
    config.static_dir(Some(dir.clone()));
    let (_server, _handle, addr) = start(&config);
    let get = |path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let (mut stream, head, mut body) = raw_request(addr, request.as_bytes()).unwrap();
        let _ = stream.read_to_end(&mut body);
        (head.lines().next().unwrap_or_default().to_string(), body)
    };
    for outside in ["/leak.txt", "/up/secret.txt"] {
        let (status, body) = get(outside);
        assert!(status.contains(" 404 "), "{outside}: {status}");
        assert!(!body.windows(6).any(|w| w == b"secret"), "{outside}");
    }
    // A link that stays inside is served, as is the file itself.
    for inside in ["/alias.txt", "/inner/page.txt"] {
        let (status, body) = get(inside);
        assert!(status.contains(" 200 "), "{inside}: {status}");
        assert_eq!(body, b"inside", "{inside}");
    }
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_large_static_file_streams_while_other_clients_are_served() {
    let dir = std::env::temp_dir().join(format!("sb-static-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big: Vec<u8> = (0..24u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("big.bin"), &big).unwrap();
    let mut config = config();
    config.static_dir(Some(dir.clone())).threads(1);
    let (_server, handle, addr) = start(&config);
    let mut bystander = Client::connect(addr);
    let id = open_id(&next_event(&handle, |e| matches!(e, Event::Open(_)))).unwrap();
    let (mut stream, head, mut body) =
        raw_request(addr, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", big.len())),
        "{head}"
    );
    // Read it slowly; the loop serves the bystander between the chunks.
    let mut chunk = vec![0u8; 1 << 20];
    let mut rounds = 0;
    while body.len() < big.len() {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the body ended after {} bytes", body.len());
        body.extend_from_slice(&chunk[..n]);
        rounds += 1;
        if rounds % 8 == 0 {
            handle.send(id, MessageKind::Text, b"still served").unwrap();
            assert_eq!(bystander.recv_data().text(), "still served");
        }
    }
    assert!(body == big, "the body differs");
    assert_eq!(
        stream.read(&mut chunk).unwrap_or(0),
        0,
        "then the server closes"
    );
    // HEAD: the length, no body.
    let (mut stream, head, rest) =
        raw_request(addr, b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", big.len())),
        "{head}"
    );
    let mut after = Vec::new();
    let _ = stream.read_to_end(&mut after);
    assert!(rest.is_empty() && after.is_empty(), "HEAD sent a body");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A connection that floods while the application takes nothing is no longer
/// read past its bound of unhandled messages (TCP pushes back on it alone),
/// while another connection's message still comes through; once the
/// application catches up, every message arrives, in order.
#[test]
fn a_flooding_connection_is_held_at_its_own_bound() {
    const COUNT: usize = 24_000;
    let mut config = config();
    config.threads(1).max_unhandled(256, 1 << 30);
    let (_server, handle, addr) = start(&config);
    let flooder = Client::connect(addr);
    let flooder_id = open_id(&next_event(&handle, |e| open_id(e).is_some())).unwrap();
    let mut wire = Vec::new();
    for i in 0..COUNT {
        let mut payload = format!("{i:08}").into_bytes();
        payload.resize(1024, b'.');
        encode_masked_frame(&mut wire, true, OpCode::Binary, &payload, [9, 8, 7, 6]);
    }
    let mut writer = flooder.stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || writer.write_all(&wire).is_ok());
    // The loop stops at the bound (and what one early hand-over reads past it).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = 0;
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_millis(300) {
        assert!(Instant::now() < deadline, "still reading: {last}");
        std::thread::sleep(Duration::from_millis(10));
        let now = handle.stats().messages_in;
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    assert!(
        (256..2000).contains(&last),
        "read {last} messages while nothing was taken"
    );
    // Another client's message is read meanwhile, and comes in the first round.
    let mut other = Client::connect(addr);
    other.send(OpCode::Text, b"me too");
    let mut next = 0;
    let mut seen_other = false;
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while next < COUNT && Instant::now() < deadline {
        handle.wait(&mut events, 100, Some(Duration::from_millis(100)));
        for event in events.drain(..) {
            match event {
                Event::Message { id, data, .. } if id == flooder_id => {
                    assert_eq!(&data[..8], format!("{next:08}").as_bytes());
                    next += 1;
                }
                Event::Message { data, .. } => {
                    assert_eq!(data, b"me too");
                    assert!(
                        next < 1000,
                        "the other client waited behind {next} messages"
                    );
                    seen_other = true;
                }
                _ => {}
            }
        }
    }
    assert_eq!(next, COUNT, "every message, in order");
    assert!(seen_other);
    assert!(sending.join().unwrap());
}
