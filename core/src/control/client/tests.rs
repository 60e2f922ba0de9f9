//! The client against fake servers: threads with a `UnixListener` that speak
//! the wire format as a script says.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::*;
use crate::control::wire::{decode_request, encode_reply};

/// A fresh socket path in a directory of its own, removed when dropped.
struct TempSocket(PathBuf);

impl TempSocket {
    fn new() -> TempSocket {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sb-client-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempSocket(dir.join("ctl.sock"))
    }
    fn address(&self) -> String {
        format!("unix:{}", self.0.display())
    }
    fn listen(&self) -> UnixListener {
        let _ = std::fs::remove_file(&self.0);
        UnixListener::bind(&self.0).expect("bind")
    }
}

impl Drop for TempSocket {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// One accepted connection, seen from the fake server.
struct Peer {
    stream: UnixStream,
    input: Vec<u8>,
}

impl Peer {
    fn accept(listener: &UnixListener) -> Peer {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Peer {
            stream,
            input: Vec::new(),
        }
    }

    /// The next request, or None at the end of the stream.
    fn next(&mut self) -> Option<Request> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((request, quiet, used)) =
                decode_request(&self.input, 1 << 20).expect("frame")
            {
                assert!(!quiet);
                self.input.drain(..used);
                return Some(request);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.input.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn reply(&mut self, reply: &Reply) {
        let mut out = Vec::new();
        encode_reply(reply, &mut out);
        self.stream.write_all(&out).expect("reply");
    }

    /// Reads HELLO, checks the secret, answers OK.
    fn hello(&mut self, secret: &str) {
        match self.next() {
            Some(Request::Hello { secret: s, .. }) => assert_eq!(s, secret),
            other => panic!("expected HELLO, got {other:?}"),
        }
        self.reply(&Reply::Ok { count: 0 });
    }
}

/// What a well-behaved server answers.
fn answer(request: &Request) -> Reply {
    match request {
        Request::Send { id: 404, .. } => Reply::Error {
            code: ErrorCode::UnknownConnection,
            message: "connection 404 is closed or unknown".into(),
        },
        Request::Close { code: 999, .. } => Reply::Error {
            code: ErrorCode::Invalid,
            message: "close code 999 is not allowed".into(),
        },
        Request::SendToUser { .. } => Reply::Ok { count: 2 },
        Request::UserConnections { .. } => Reply::Ids(vec![7, 9]),
        Request::Stats => Reply::Stats(vec![("connections".into(), 2), ("dropped".into(), 0)]),
        _ => Reply::Ok { count: 0 },
    }
}

/// Serves `connections` connections one after the other, each until it ends;
/// returns every request received, HELLO excepted.
fn well_behaved(listener: UnixListener, connections: usize) -> JoinHandle<Vec<Request>> {
    thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..connections {
            let mut peer = Peer::accept(&listener);
            peer.hello("");
            while let Some(request) = peer.next() {
                peer.reply(&answer(&request));
                seen.push(request);
            }
        }
        seen
    })
}

fn client(address: &str) -> Client {
    let options = ClientOptions {
        io_timeout: Duration::from_millis(500),
        ..ClientOptions::default()
    };
    Client::new(address, options).expect("client")
}

const TEXT: MessageKind = MessageKind::Text;

#[test]
fn every_command_gets_its_reply() {
    let socket = TempSocket::new();
    let server = well_behaved(socket.listen(), 1);
    let mut c = client(&socket.address());
    assert!(!c.is_connected(), "connects lazily");
    c.send(1, MessageKind::Binary, &[0, 255]).expect("send");
    assert!(c.is_connected());
    c.publish("news", TEXT, b"hi", Some(3)).expect("publish");
    assert_eq!(c.send_to_user("ann", TEXT, b"yo"), Ok(2));
    c.broadcast(TEXT, b"all", None).expect("broadcast");
    c.close(1, 4000, "bye").expect("close");
    c.subscribe(1, "t").expect("subscribe");
    c.unsubscribe(1, "t").expect("unsubscribe");
    c.bind_user(1, "ann").expect("bind");
    c.unbind_user(1).expect("unbind");
    assert_eq!(c.user_connections("ann"), Ok(vec![7, 9]));
    assert_eq!(
        c.stats(),
        Ok(vec![("connections".into(), 2), ("dropped".into(), 0)])
    );
    let replies = c
        .batch(&[
            Request::SendToUser {
                user: "ann".into(),
                kind: TEXT,
                data: b"1".to_vec(),
            },
            Request::Send {
                id: 404,
                kind: TEXT,
                data: Vec::new(),
            },
            Request::Stats,
        ])
        .expect("batch");
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[0], Reply::Ok { count: 2 });
    assert!(matches!(replies[1], Reply::Error { .. }));
    assert!(matches!(replies[2], Reply::Stats(_)));
    c.disconnect();
    let seen = server.join().expect("server");
    assert_eq!(seen.len(), 14, "one connection carried every command");
    assert_eq!(
        seen[1],
        Request::Publish {
            topic: "news".into(),
            kind: TEXT,
            data: b"hi".to_vec(),
            except: 3
        }
    );
}

#[test]
fn remote_errors_are_values_and_the_connection_stays() {
    let socket = TempSocket::new();
    let server = well_behaved(socket.listen(), 1);
    let mut c = client(&socket.address());
    let e = c.send(404, TEXT, b"x").expect_err("unknown");
    assert_eq!(
        e.kind(),
        ClientErrorKind::Remote(ErrorCode::UnknownConnection)
    );
    assert_eq!(e.remote_code(), Some(ErrorCode::UnknownConnection));
    let text = e.to_string();
    assert!(text.contains(&socket.address()), "{text}");
    assert!(
        text.contains("connection 404 is closed or unknown"),
        "{text}"
    );
    let e = c.close(1, 999, "").expect_err("invalid");
    assert_eq!(e.kind(), ClientErrorKind::Remote(ErrorCode::Invalid));
    assert!(c.is_connected());
    c.publish("t", TEXT, b"", None).expect("still usable");
    c.disconnect();
    assert_eq!(server.join().expect("server").len(), 3);
}

#[test]
fn a_wrong_secret_is_unauthorized() {
    let socket = TempSocket::new();
    let listener = socket.listen();
    let server = thread::spawn(move || {
        let mut peer = Peer::accept(&listener);
        assert!(matches!(peer.next(), Some(Request::Hello { secret, .. }) if secret == "nope"));
        peer.reply(&Reply::Error {
            code: ErrorCode::Unauthorized,
            message: "wrong secret".into(),
        });
    });
    let options = ClientOptions {
        secret: Some("nope".into()),
        ..ClientOptions::default()
    };
    let mut c = Client::new(&socket.address(), options).expect("client");
    let e = c.publish("t", TEXT, b"x", None).expect_err("refused");
    assert_eq!(e.kind(), ClientErrorKind::Unauthorized);
    assert!(e.to_string().contains("wrong secret"), "{e}");
    assert!(!c.is_connected());
    server.join().expect("server");
}

#[test]
fn a_server_closing_mid_reply_is_disconnected_and_not_retried() {
    let socket = TempSocket::new();
    let listener = socket.listen();
    let server = thread::spawn(move || {
        let mut peer = Peer::accept(&listener);
        peer.hello("");
        assert!(peer.next().is_some());
        peer.stream.write_all(&[0, 0, 0, 9, 0x80, 0]).expect("half");
        drop(peer);
        // The next connection must start with the next command, not a retry.
        let mut peer = Peer::accept(&listener);
        peer.hello("");
        let next = peer.next();
        peer.reply(&Reply::Ok { count: 0 });
        next
    });
    let mut c = client(&socket.address());
    let e = c.send_to_user("ann", TEXT, b"x").expect_err("cut");
    assert_eq!(e.kind(), ClientErrorKind::Disconnected);
    assert!(e.message().contains("middle of a reply"), "{e}");
    assert!(!c.is_connected());
    c.publish("t", TEXT, b"next", None)
        .expect("a new connection");
    let next = server.join().expect("server");
    assert!(matches!(next, Some(Request::Publish { .. })), "{next:?}");
}

#[test]
fn a_server_that_does_not_answer_times_out() {
    let socket = TempSocket::new();
    let listener = socket.listen();
    let server = thread::spawn(move || {
        let mut peer = Peer::accept(&listener);
        peer.hello("");
        assert!(peer.next().is_some());
        // Holds the connection without answering until the client gives up.
        assert!(peer.next().is_none());
    });
    let mut c = client(&socket.address());
    let e = c.stats().expect_err("silence");
    assert_eq!(e.kind(), ClientErrorKind::Timeout);
    assert!(
        e.to_string().contains("timed out waiting for a reply"),
        "{e}"
    );
    assert!(!c.is_connected(), "dropped: the reply may still come");
    server.join().expect("server");
}

#[test]
fn a_restarted_server_is_reconnected_transparently() {
    let socket = TempSocket::new();
    let listener = socket.listen();
    let first = thread::spawn(move || {
        let mut peer = Peer::accept(&listener);
        peer.hello("");
        let request = peer.next();
        peer.reply(&Reply::Ok { count: 0 });
        request
        // The listener and the connection are dropped: the server is gone.
    });
    let mut c = client(&socket.address());
    c.publish("t", TEXT, b"one", None).expect("first");
    assert!(first.join().expect("first server").is_some());

    let e = c.publish("t", TEXT, b"lost", None).expect_err("down");
    assert_eq!(e.kind(), ClientErrorKind::Unreachable);
    assert!(e.message().contains("is the server running"), "{e}");

    let second = well_behaved(socket.listen(), 1);
    c.publish("t", TEXT, b"two", None).expect("reconnected");
    c.disconnect();
    let seen = second.join().expect("second server");
    assert_eq!(seen.len(), 1);
}

#[test]
fn a_kept_connection_closed_by_the_server_is_replaced_before_use() {
    let socket = TempSocket::new();
    let listener = socket.listen();
    let (closed, has_closed) = std::sync::mpsc::channel();
    let server = thread::spawn(move || {
        let mut first = Peer::accept(&listener);
        first.hello("");
        let one = first.next();
        first.reply(&Reply::Ok { count: 0 });
        drop(first); // a restart, as the client sees it
        let _ = closed.send(());
        let mut second = Peer::accept(&listener);
        second.hello("");
        let two = second.next();
        second.reply(&Reply::Ok { count: 0 });
        (one, two)
    });
    let mut c = client(&socket.address());
    c.publish("t", TEXT, b"one", None).expect("one");
    has_closed.recv().expect("closed");
    c.publish("t", TEXT, b"two", None)
        .expect("two, on a new connection");
    let (one, two) = server.join().expect("server");
    assert!(matches!(one, Some(Request::Publish { data, .. }) if data == b"one"));
    assert!(matches!(two, Some(Request::Publish { data, .. }) if data == b"two"));
}

#[test]
fn nothing_listening_and_bad_addresses_are_clear_errors() {
    let socket = TempSocket::new();
    let mut c = client(&socket.address());
    let e = c.stats().expect_err("no socket file");
    assert_eq!(e.kind(), ClientErrorKind::Unreachable);
    assert!(e.to_string().starts_with("control socket unix:"), "{e}");

    let e = Client::new("localhost:80", ClientOptions::default())
        .err()
        .expect("no scheme");
    assert_eq!(e.kind(), ClientErrorKind::Address);

    // A TCP port that refuses.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut c = client(&format!("tcp:127.0.0.1:{port}"));
    let e = c.stats().expect_err("refused");
    assert_eq!(e.kind(), ClientErrorKind::Unreachable);
}

#[test]
fn garbage_from_the_server_is_a_protocol_error_not_a_panic() {
    let socket = TempSocket::new();
    let listener = socket.listen();
    let server = thread::spawn(move || {
        for garbage in [
            &[0u8, 0, 0, 1, 0x7f][..],           // unknown reply type
            &[0, 0, 0, 3, 0x8f, 0, 99][..],      // error code ends early
            &[0xff, 0xff, 0xff, 0xff][..],       // far too long
            &[0, 0, 0, 5, 0x81, 0, 0, 0, 0][..], // IDS for a PUBLISH
        ] {
            let mut peer = Peer::accept(&listener);
            peer.hello("");
            assert!(peer.next().is_some());
            peer.stream.write_all(garbage).expect("garbage");
            let _ = peer.next();
        }
    });
    let mut c = client(&socket.address());
    for _ in 0..4 {
        let e = c.publish("t", TEXT, b"x", None).expect_err("garbage");
        assert_eq!(e.kind(), ClientErrorKind::Protocol, "{e}");
        assert!(!c.is_connected());
    }
    server.join().expect("server");
}
