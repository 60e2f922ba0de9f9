#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! The application handle: authorization, topics, users, info, stats, readiness fd.

mod common;

use std::time::Duration;

use common::*;
use switchboard::protocol::frame::OpCode;
use switchboard::server::{Accept, Error, Event, MessageKind, Server};

#[test]
fn authorized_handshake_can_be_accepted_with_subprotocol_and_headers() {
    let mut config = config();
    config.authorize(true).subprotocol("chat");
    let (_server, handle, addr) = start(&config);
    let connecting = std::thread::spawn(move || {
        Client::connect_with(
            addr,
            "/chat",
            &[
                ("Cookie", "token=t1"),
                ("Sec-WebSocket-Protocol", "superchat, chat"),
            ],
        )
    });
    let Event::Open(open) = next_event(&handle, |_| true) else {
        panic!("expected Open")
    };
    assert!(open.pending);
    assert_eq!(open.request.cookie("token"), Some("t1"));
    assert_eq!(
        open.subprotocol.as_deref(),
        Some("chat"),
        "the configured rules propose"
    );
    let not_offered = Accept {
        subprotocol: Some("mqtt".into()),
        ..Default::default()
    };
    assert!(matches!(
        handle.accept(open.id, not_offered),
        Err(Error::SubprotocolNotOffered(_))
    ));
    let injected = Accept {
        headers: vec![("X-Evil".into(), "a\r\nb: c".into())],
        ..Default::default()
    };
    assert!(matches!(
        handle.accept(open.id, injected),
        Err(Error::InvalidHeader(_))
    ));
    let accept = Accept {
        subprotocol: Some("superchat".into()),
        headers: vec![("Set-Cookie".into(), "seen=1".into())],
        user: Some("alice".into()),
    };
    handle.accept(open.id, accept).unwrap();
    // Sent right after accept: must arrive after the 101.
    handle.send(open.id, MessageKind::Text, b"welcome").unwrap();
    assert!(matches!(
        handle.accept(open.id, Accept::default()),
        Err(Error::NotPending(_))
    ));
    let mut client = connecting.join().unwrap().unwrap();
    assert!(
        client
            .response
            .contains("Sec-WebSocket-Protocol: superchat\r\n"),
        "{}",
        client.response
    );
    assert!(client.response.contains("Set-Cookie: seen=1\r\n"));
    assert_eq!(client.recv_data().payload, b"welcome");
    let info = handle.info(open.id).unwrap();
    assert_eq!(
        (
            info.user.as_deref(),
            info.subprotocol.as_deref(),
            info.pending
        ),
        (Some("alice"), Some("superchat"), false)
    );
    assert_eq!(handle.user_connections("alice"), vec![open.id]);
}

#[test]
fn authorized_handshake_can_be_rejected() {
    let mut config = config();
    config.authorize(true);
    let (_server, handle, addr) = start(&config);
    let connecting =
        std::thread::spawn(move || Client::connect_with(addr, "/", &[]).err().unwrap());
    let id = open_id(&next_event(&handle, |_| true)).unwrap();
    assert!(matches!(
        handle.reject(id, 200, "no"),
        Err(Error::InvalidStatus(200))
    ));
    handle.reject(id, 401, "who are you?").unwrap();
    let response = connecting.join().unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    let Event::Close(close) = next_event(&handle, |_| true) else {
        panic!("a rejected Open still gets its Close")
    };
    assert_eq!((close.id, close.clean), (id, false));
    assert_eq!(handle.stats().handshakes_failed, 1);
}

#[test]
fn topics_deliver_to_subscribers_only() {
    let (_server, handle, addr) = start(&config());
    let mut clients: Vec<Client> = (0..3).map(|_| Client::connect(addr)).collect();
    let events = events_for(&handle, Duration::from_millis(200));
    let ids: Vec<_> = clients.iter().map(|c| id_of(&events, c)).collect();
    handle.subscribe(ids[0], "room").unwrap();
    handle.subscribe(ids[1], "room").unwrap();
    handle.subscribe(ids[1], "room").unwrap(); // twice: still one copy
    handle
        .publish("room", MessageKind::Text, b"hello room", None)
        .unwrap();
    assert_eq!(clients[0].recv_data().payload, b"hello room");
    assert_eq!(clients[1].recv_data().payload, b"hello room");
    handle
        .publish("room", MessageKind::Binary, b"skip 0", Some(ids[0]))
        .unwrap();
    assert_eq!(clients[1].recv_data().payload, b"skip 0");
    handle.unsubscribe(ids[1], "room").unwrap();
    handle
        .publish("room", MessageKind::Text, b"only 0", None)
        .unwrap();
    assert_eq!(clients[0].recv_data().payload, b"only 0");
    handle.broadcast(MessageKind::Text, b"all", None).unwrap();
    for c in clients.iter_mut() {
        assert_eq!(
            c.recv_data().payload,
            b"all",
            "nothing else was queued before the broadcast"
        );
    }
    // Client 2 never subscribed and client 1 left: neither got a room message.
    assert!(clients[2].recv(Duration::from_millis(100)).is_err());
    assert!(clients[1].recv(Duration::from_millis(100)).is_err());
}

#[test]
fn users_reach_every_connection_and_unbind_on_close() {
    let (_server, handle, addr) = start(&config());
    let mut tab1 = Client::connect(addr);
    let mut tab2 = Client::connect(addr);
    let events = events_for(&handle, Duration::from_millis(200));
    let ids: Vec<_> = events.iter().filter_map(open_id).collect();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        handle.bind_user(*id, "bob").unwrap();
    }
    assert_eq!(
        handle
            .send_to_user("bob", MessageKind::Text, b"hi bob")
            .unwrap(),
        2
    );
    assert_eq!(tab1.recv_data().payload, b"hi bob");
    assert_eq!(tab2.recv_data().payload, b"hi bob");
    assert_eq!(
        handle
            .send_to_user("nobody", MessageKind::Text, b"x")
            .unwrap(),
        0
    );
    tab1.send_close(1000, "");
    assert!(tab1.wait_eof(Duration::from_secs(5)));
    next_event(&handle, |e| matches!(e, Event::Close(_)));
    assert_eq!(
        handle
            .send_to_user("bob", MessageKind::Text, b"again")
            .unwrap(),
        1
    );
    assert_eq!(tab2.recv_data().payload, b"again");
    let remaining = handle.user_connections("bob")[0];
    handle.unbind_user(remaining).unwrap();
    assert_eq!(
        handle
            .send_to_user("bob", MessageKind::Text, b"gone")
            .unwrap(),
        0
    );
}

#[test]
fn info_stats_and_readiness_fd() {
    let mut config = config();
    config.listen_str("[::1]:0").unwrap();
    let server = Server::start(&config).unwrap();
    let handle = server.handle();
    assert_eq!(server.local_addrs().len(), 2);
    assert!(server.local_addrs().iter().all(|a| a.port() != 0));
    let fd = handle.event_fd();
    let readable = |ms| {
        let mut pfd = libc_pollfd(fd);
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, ms) == 1 }
    };
    assert!(!readable(0), "no events yet");
    let mut client = Client::connect(server.local_addrs()[1]);
    assert!(readable(2000), "readable once an event is queued");
    let id = open_id(&next_event(&handle, |_| true)).unwrap();
    assert!(!readable(0), "cleared once the queue is drained");
    client.send(OpCode::Text, b"12345");
    next_event(&handle, |_| true);
    let info = handle.info(id).unwrap();
    assert!(info.peer.is_ipv6());
    assert_eq!((info.messages_in, info.bytes_in), (1, 5));
    handle.send(id, MessageKind::Binary, &[1, 2, 3]).unwrap();
    client.recv_data();
    let stats = handle.stats();
    assert_eq!(
        (
            stats.connections,
            stats.accepted,
            stats.messages_in,
            stats.messages_out,
            stats.bytes_out
        ),
        (1, 1, 1, 1, 3)
    );
}

fn libc_pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

#[test]
fn configuration_errors_name_the_option() {
    let mut config = switchboard::server::Config::new();
    let err = Server::start(&config).err().unwrap();
    assert!(err.to_string().contains("listen"), "{err}");
    config.listen_str("127.0.0.1:0").unwrap();
    config.threads(256);
    assert!(Server::start(&config)
        .err()
        .unwrap()
        .to_string()
        .contains("threads"));
    config
        .threads(1)
        .ping_interval(Some(Duration::from_secs(100)));
    assert!(Server::start(&config)
        .err()
        .unwrap()
        .to_string()
        .contains("ping_interval"));
    assert!(switchboard::server::Config::new()
        .listen_str("nonsense")
        .is_err());
}

#[test]
fn only_the_same_origin_connects_unless_origins_are_configured() {
    let (_server, _handle, addr) = start(&config());
    let same = format!("http://{addr}");
    assert!(Client::connect_with(addr, "/", &[("Origin", &same)]).is_ok());
    assert!(
        Client::connect_with(addr, "/", &[]).is_ok(),
        "no Origin: not a browser"
    );
    for cross in ["http://evil.test", "null", "http://127.0.0.1:1"] {
        let refused = Client::connect_with(addr, "/", &[("Origin", cross)])
            .err()
            .unwrap_or_else(|| panic!("{cross} was accepted"));
        assert!(refused.starts_with("HTTP/1.1 403"), "{cross}: {refused}");
    }
    let mut any = config();
    any.allow_origin("*");
    let (_server, _handle, addr) = start(&any);
    assert!(Client::connect_with(addr, "/", &[("Origin", "http://evil.test")]).is_ok());
    let mut listed = config();
    listed.allow_origin("https://app.example.com");
    let (_server, _handle, addr) = start(&listed);
    assert!(Client::connect_with(addr, "/", &[("Origin", "https://app.example.com")]).is_ok());
    let same = format!("http://{addr}");
    let refused = Client::connect_with(addr, "/", &[("Origin", &same)]).err();
    assert!(
        refused.is_some_and(|r| r.starts_with("HTTP/1.1 403")),
        "a configured list replaces the same-origin rule"
    );
}

#[test]
fn durations_beyond_a_year_are_refused_instead_of_overflowing_deadlines() {
    use switchboard::server::{limits, Error, Server};
    let too_long = limits::MAX_DURATION + Duration::from_secs(1);
    for option in ["handshake_timeout", "idle_timeout", "close_timeout"] {
        let mut config = config();
        match option {
            "handshake_timeout" => config.handshake_timeout(too_long),
            "idle_timeout" => config.idle_timeout(too_long),
            _ => config.close_timeout(too_long),
        };
        let Err(Error::Config { option: named, .. }) = Server::start(&config) else {
            panic!("{option} of more than a year was accepted")
        };
        assert_eq!(named, option);
    }
    let mut longest = config();
    longest
        .idle_timeout(limits::MAX_DURATION)
        .handshake_timeout(limits::MAX_DURATION);
    assert!(Server::start(&longest).is_ok(), "a year itself is allowed");
}
