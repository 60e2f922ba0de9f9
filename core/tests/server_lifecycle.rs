#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Connection lifecycle against real sockets: ordering, closes, pings, timeouts.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use switchboard::protocol::frame::OpCode;
use switchboard::server::{ConnId, Error, Event, Handle, MessageKind};

#[test]
fn open_messages_and_peer_close_arrive_in_order() {
    let (_server, handle, addr) = start(&config());
    let mut client =
        Client::connect_with(addr, "/room/7?token=abc", &[("Cookie", "session=s1")]).unwrap();
    let open = next_event(&handle, |_| true);
    let Event::Open(open) = open else {
        panic!("first event must be Open, got {open:?}")
    };
    assert_eq!(open.request.path, "/room/7");
    assert_eq!(open.request.query, "token=abc");
    assert_eq!(open.request.cookie("session"), Some("s1"));
    assert!(!open.pending);
    for i in 0..50 {
        client.send(OpCode::Text, format!("m{i}").as_bytes());
    }
    client.send(OpCode::Binary, &[0, 255, 128]);
    client.send_close(4000, "bye");
    let echoed = client.recv(Duration::from_secs(5)).unwrap();
    assert_eq!(
        echoed.close_code(),
        Some(4000),
        "the server echoes the peer's close code"
    );
    assert!(
        client.wait_eof(Duration::from_secs(5)),
        "the server closes TCP after the close handshake"
    );

    let events = collect_until(&handle, |events| !closes(events).is_empty());
    let mut texts = Vec::new();
    for event in &events[..50] {
        match event {
            Event::Message {
                id,
                kind: MessageKind::Text,
                data,
            } if *id == open.id => texts.push(String::from_utf8(data.clone()).unwrap()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(texts, (0..50).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert!(
        matches!(&events[50], Event::Message { kind: MessageKind::Binary, data, .. } if data == &[0, 255, 128])
    );
    match &events[51] {
        Event::Close(close) => {
            assert_eq!(
                (close.id, close.code, close.reason.as_str(), close.clean),
                (open.id, 4000, "bye", true)
            );
        }
        other => panic!("expected Close, got {other:?}"),
    }
    assert_eq!(events.len(), 52);
    let stats = handle.stats();
    assert_eq!(stats.messages_in, 51);
    assert_eq!(stats.closed_by.peer, 1);
    assert_eq!(stats.connections, 0);
}

#[test]
fn server_initiated_close_completes_the_handshake() {
    let (_server, handle, addr) = start(&config());
    let mut client = Client::connect(addr);
    let id = open_id(&next_event(&handle, |_| true)).unwrap();
    handle.close(id, 4001, "go away").unwrap();
    let frame = client.recv(Duration::from_secs(5)).unwrap();
    assert_eq!(frame.close_code(), Some(4001));
    assert_eq!(&frame.payload[2..], b"go away");
    client.send_close(4001, "");
    assert!(client.wait_eof(Duration::from_secs(5)));
    let Event::Close(close) = next_event(&handle, |e| matches!(e, Event::Close(_))) else {
        unreachable!()
    };
    assert_eq!((close.code, close.clean), (4001, true));
    assert_eq!(handle.stats().closed_by.application, 1);
    // The id is gone: commands are refused, never delivered to someone else.
    assert!(matches!(
        handle.send(id, MessageKind::Text, b"x"),
        Err(Error::UnknownConnection(_))
    ));
    assert!(matches!(
        handle.close(id, 1000, ""),
        Err(Error::UnknownConnection(_))
    ));
    assert!(matches!(handle.info(id), Err(Error::UnknownConnection(_))));
}

/// RFC 6455 §7.1.1: once both close frames are exchanged, the server closes the
/// TCP connection at once, without waiting for the client's FIN. A socket the
/// server still held open would take the client's bytes; a closed one resets.
#[test]
fn the_server_closes_tcp_as_soon_as_the_close_handshake_is_done() {
    for server_starts in [false, true] {
        let mut config = config();
        config.close_timeout(Duration::from_secs(30));
        let (_server, handle, addr) = start(&config);
        let mut client = Client::connect(addr);
        let id = open_id(&next_event(&handle, |_| true)).unwrap();
        if server_starts {
            handle.close(id, 4002, "").unwrap();
            let frame = client.recv(Duration::from_secs(5)).unwrap();
            assert_eq!(frame.close_code(), Some(4002));
            client.send_close(4002, "");
        } else {
            client.send_close(1000, "");
            let frame = client.recv(Duration::from_secs(5)).unwrap();
            assert_eq!(frame.close_code(), Some(1000));
        }
        assert!(client.wait_eof(Duration::from_secs(5)));
        // Our side stays open. Bytes sent now draw a reset from a closed socket.
        let mut reset = false;
        for _ in 0..250 {
            if client.stream.write_all(b"late").is_err() {
                reset = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            reset,
            "the server kept the socket open after the close handshake (server_starts: {server_starts})"
        );
    }
}

#[test]
fn invalid_commands_are_errors() {
    let (_server, handle, addr) = start(&config());
    let _client = Client::connect(addr);
    let id = open_id(&next_event(&handle, |_| true)).unwrap();
    assert!(matches!(
        handle.send(id, MessageKind::Text, b"\xff"),
        Err(Error::InvalidUtf8)
    ));
    assert!(matches!(
        handle.close(id, 1005, ""),
        Err(Error::InvalidCloseCode(1005))
    ));
    assert!(matches!(
        handle.close(id, 999, ""),
        Err(Error::InvalidCloseCode(999))
    ));
    assert!(matches!(
        handle.close(id, 1000, &"x".repeat(124)),
        Err(Error::ReasonTooLong(124))
    ));
    assert!(matches!(
        handle.send(ConnId::from_u64(0), MessageKind::Text, b""),
        Err(Error::UnknownConnection(_))
    ));
    assert!(matches!(
        handle.send(ConnId::from_u64(u64::MAX), MessageKind::Text, b""),
        Err(Error::UnknownConnection(_))
    ));
    assert!(matches!(
        handle.accept(id, Default::default()),
        Err(Error::NotPending(_))
    ));
}

#[test]
fn ping_gets_pong_and_protocol_errors_close_with_rfc_codes() {
    let (_server, handle, addr) = start(&config());
    let mut client = Client::connect(addr);
    client.send(OpCode::Ping, b"abc");
    let pong = client.recv(Duration::from_secs(5)).unwrap();
    assert_eq!((pong.opcode, pong.payload.as_slice()), (10, &b"abc"[..]));

    client.send(OpCode::Text, b"\xce\xba\xff");
    // The close waits until the application has taken the events before the error.
    let mut events = Vec::new();
    let close = close_while_taking(&handle, &mut client, &mut events);
    assert_eq!(close.close_code(), Some(1007));

    let mut unmasked = Client::connect(addr);
    use std::io::Write;
    unmasked
        .stream
        .write_all(&[0x81, 0x02, b'h', b'i'])
        .unwrap();
    let close = close_while_taking(&handle, &mut unmasked, &mut events);
    assert_eq!(close.close_code(), Some(1002));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while closes(&events).len() < 2 {
        assert!(std::time::Instant::now() < deadline, "{events:?}");
        events.extend(events_for(&handle, Duration::from_millis(50)));
    }
    let codes: Vec<u16> = closes(&events).iter().map(|c| c.code).collect();
    assert!(codes.contains(&1007) && codes.contains(&1002), "{codes:?}");
}

#[test]
fn silent_peer_is_pinged_then_dropped_but_a_live_one_survives() {
    let mut config = config();
    config
        .ping_interval(Some(Duration::from_millis(300)))
        .idle_timeout(Duration::from_secs(2));
    let (_server, handle, addr) = start(&config);
    let mut silent = Client::connect(addr);
    let live = Client::connect(addr);
    let live_addr = live.stream.local_addr().unwrap();
    let ping = silent.recv(Duration::from_secs(10)).unwrap();
    assert_eq!(ping.opcode, 9, "a silent peer is pinged");
    // The live client answers every ping, on its own thread, until told to stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let answering = std::thread::spawn(move || {
        let mut live = live;
        while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(frame) = live.recv(Duration::from_millis(20)) {
                assert_eq!(frame.opcode, 9, "only pings come");
                live.send(OpCode::Pong, &frame.payload);
            }
        }
        live
    });
    assert!(
        silent.wait_eof(Duration::from_secs(20)),
        "the silent peer is dropped"
    );
    let events = collect_until(&handle, |events| !closes(events).is_empty());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut live = answering.join().unwrap();
    let live_id = events
        .iter()
        .find_map(|e| match e {
            Event::Open(open) if open.peer == live_addr => Some(open.id),
            _ => None,
        })
        .unwrap();
    let closes = closes(&events);
    assert_eq!(closes.len(), 1);
    assert_eq!(
        (closes[0].code, closes[0].reason.as_str()),
        (1006, "idle timeout")
    );
    assert_ne!(closes[0].id, live_id);
    handle
        .send(live_id, MessageKind::Text, b"still here")
        .unwrap();
    assert_eq!(live.recv_data().payload, b"still here");
    assert_eq!(handle.stats().closed_by.idle_timeout, 1);
}

#[test]
fn slowloris_is_dropped_after_the_handshake_timeout() {
    let mut config = config();
    config.handshake_timeout(Duration::from_millis(400));
    let (_server, handle, addr) = start(&config);
    // Taken before connecting: the server's handshake clock starts later.
    let started = std::time::Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).unwrap_or(0);
    let took = started.elapsed();
    assert_eq!(n, 0, "dropped without a response");
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(8),
        "dropped after {took:?}, with a 400 ms handshake timeout"
    );
    assert_eq!(handle.stats().handshakes_failed, 1);
}

#[test]
fn connections_beyond_the_maximum_get_503() {
    let mut config = config();
    config.max_connections(2);
    let (_server, _handle, addr) = start(&config);
    let _a = Client::connect(addr);
    let _b = Client::connect(addr);
    let refused = Client::connect_with(addr, "/", &[]).err().unwrap();
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
}

#[test]
fn ids_are_never_reused() {
    let (_server, handle, addr) = start(&config());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..40 {
        let mut c = Client::connect(addr);
        let id = open_id(&next_event(&handle, |e| matches!(e, Event::Open(_)))).unwrap();
        assert!(seen.insert(id), "id {id} reused");
        c.send_close(1000, "");
        assert!(c.wait_eof(Duration::from_secs(5)));
    }
}

/// The next frame for `client` (10 s at most), while the application keeps
/// taking events into `events`, as a close after a protocol error needs.
fn close_while_taking(handle: &Handle, client: &mut Client, events: &mut Vec<Event>) -> Frame {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        assert!(std::time::Instant::now() < deadline, "no frame came");
        events.extend(events_for(handle, Duration::from_millis(20)));
        if let Ok(frame) = client.recv(Duration::from_millis(20)) {
            return frame;
        }
    }
}
