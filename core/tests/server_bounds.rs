#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Memory stays bounded whatever clients or the application do; shutdown is graceful.

mod common;

use std::io::Write;
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
    let events = events_for(&handle, Duration::from_millis(200));
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
    std::thread::sleep(Duration::from_millis(500));
    // The application has not taken anything: the loops read at most the queue's
    // bound (64), one early-pushed batch (256) and one socket read (64 x 1 KiB) more.
    let read_so_far = handle.stats().messages_in as usize;
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
    let (server, handle, addr) = start(&config());
    let mut clients: Vec<Client> = (0..5).map(|_| Client::connect(addr)).collect();
    let ids: Vec<_> = events_for(&handle, Duration::from_millis(200))
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
        started.elapsed() < Duration::from_secs(2),
        "replies end the wait early"
    );
    for r in readers {
        assert_eq!(r.join().unwrap(), (100, Some(1001)));
    }
    let closes = closes(&events_for(&handle, Duration::from_millis(100)));
    assert_eq!(closes.len(), 5);
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
    let (_, head, body) = raw_request(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/html"),
        "{head}"
    );
    assert_eq!(body, b"<h1>demo</h1>");
    let (_, head, _) =
        raw_request(addr, b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    // WebSocket upgrades still work on the same port.
    let _ws = Client::connect(addr);
    std::fs::remove_dir_all(&dir).unwrap();
}
