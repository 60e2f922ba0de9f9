#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! The control socket, served against a running server and driven with the
//! wire format over real Unix and TCP sockets: commands reach the WebSocket
//! clients exactly once, replies come in order (batched), and bad secrets,
//! bad frames, busy and stale sockets get clear answers.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use switchboard::control::address::ControlAddress;
use switchboard::control::server::{ControlOptions, ControlServer};
use switchboard::control::wire::{decode_reply, encode_request, ErrorCode, Reply, Request, Role};
use switchboard::protocol::frame::OpCode;
use switchboard::server::{Event, Handle, MessageKind, Server};

const MAX: usize = 1 << 20;

fn socket_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sb-control-{}-{name}.sock", std::process::id()))
}

/// A server with I/O threads whose application thread subscribes each client
/// to the topic "news" and binds it to the user named by its path (`/ann`).
struct App {
    server: Option<Server>,
    handle: Handle,
    addr: std::net::SocketAddr,
    app: Option<std::thread::JoinHandle<()>>,
}

impl App {
    fn start() -> App {
        let (server, handle, addr) = start(&config());
        let app_handle = handle.clone();
        let app = std::thread::spawn(move || {
            let mut events = Vec::new();
            while !app_handle.is_finished() {
                app_handle.wait(&mut events, 64, Some(Duration::from_millis(50)));
                for event in events.drain(..) {
                    if let Event::Open(open) = event {
                        app_handle.subscribe(open.id, "news").unwrap();
                        let user = open.request.path.trim_start_matches('/').to_string();
                        app_handle.bind_user(open.id, &user).unwrap();
                        app_handle
                            .send(
                                open.id,
                                MessageKind::Text,
                                open.id.as_u64().to_string().as_bytes(),
                            )
                            .unwrap();
                    }
                }
            }
        });
        App {
            server: Some(server),
            handle,
            addr,
            app: Some(app),
        }
    }

    /// A client on `path`, and its connection id (the server's first message).
    fn client(&self, path: &str) -> (Client, u64) {
        let mut client = Client::connect_with(self.addr, path, &[]).unwrap();
        let id = client.recv_data().text().parse().unwrap();
        (client, id)
    }

    fn control(&self, name: &str, options: ControlOptions) -> (ControlServer, PathBuf) {
        let path = socket_path(name);
        let address = ControlAddress::Unix(path.clone());
        (
            ControlServer::start(self.handle.clone(), &address, options).unwrap(),
            path,
        )
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        if let Some(app) = self.app.take() {
            app.join().unwrap();
        }
    }
}

fn options() -> ControlOptions {
    ControlOptions::default()
}

fn hello(secret: &str) -> Request {
    Request::Hello {
        role: Role::Client,
        secret: secret.into(),
    }
}

/// Writes every request in one write, then reads one reply per request that
/// is not quiet.
fn exchange(stream: &mut (impl Read + Write), requests: &[(Request, bool)]) -> Vec<Reply> {
    let mut out = Vec::new();
    for (request, quiet) in requests {
        encode_request(request, *quiet, &mut out);
    }
    stream.write_all(&out).unwrap();
    let want = requests.iter().filter(|(_, quiet)| !quiet).count();
    read_replies(stream, want)
}

fn read_replies(stream: &mut impl Read, want: usize) -> Vec<Reply> {
    let mut input = Vec::new();
    let mut replies = Vec::new();
    let mut chunk = [0u8; 4096];
    while replies.len() < want {
        while let Some((reply, used)) = decode_reply(&input, MAX).unwrap() {
            replies.push(reply);
            input.drain(..used);
        }
        if replies.len() == want {
            break;
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed after {} replies: {replies:?}", replies.len());
        input.extend_from_slice(&chunk[..n]);
    }
    replies
}

fn connect(path: &PathBuf) -> UnixStream {
    let stream = UnixStream::connect(path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

fn ok(count: u64) -> Reply {
    Reply::Ok { count }
}

fn text(data: &str) -> (MessageKind, Vec<u8>) {
    (MessageKind::Text, data.as_bytes().to_vec())
}

#[test]
fn commands_reach_every_client_once_with_replies_in_order() {
    let app = App::start();
    let (_control, path) = app.control("commands", options());
    let (mut ann1, ann1_id) = app.client("/ann");
    let (mut ann2, _) = app.client("/ann");
    let (mut bob, bob_id) = app.client("/bob");
    let mut stream = connect(&path);
    let (kind, data) = text("news!");
    let replies = exchange(
        &mut stream,
        &[
            (hello(""), false),
            (
                Request::Publish {
                    topic: "news".into(),
                    kind,
                    data,
                    except: bob_id,
                },
                false,
            ),
            (
                Request::SendToUser {
                    user: "ann".into(),
                    kind,
                    data: b"to ann".to_vec(),
                },
                false,
            ),
            (
                Request::Send {
                    id: bob_id,
                    kind,
                    data: b"to bob".to_vec(),
                },
                true,
            ),
            (
                Request::Broadcast {
                    kind,
                    data: b"all".to_vec(),
                    except: 0,
                },
                false,
            ),
            (Request::UserConnections { user: "ann".into() }, false),
            (
                Request::Send {
                    id: 999_999,
                    kind,
                    data: b"x".to_vec(),
                },
                false,
            ),
            (
                Request::Send {
                    id: bob_id,
                    kind,
                    data: vec![0xff],
                },
                false,
            ),
            (
                Request::Close {
                    id: ann1_id,
                    code: 4000,
                    reason: "bye".into(),
                },
                false,
            ),
        ],
    );
    assert_eq!(replies[..4], [ok(0), ok(0), ok(2), ok(0)]);
    let Reply::Ids(mut ids) = replies[4].clone() else {
        panic!("{:?}", replies[4])
    };
    ids.sort_unstable();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&ann1_id));
    assert!(matches!(
        &replies[5],
        Reply::Error {
            code: ErrorCode::UnknownConnection,
            ..
        }
    ));
    assert!(
        matches!(&replies[6], Reply::Error { code: ErrorCode::Invalid, message } if message.contains("UTF-8"))
    );
    assert_eq!(replies[7], ok(0));
    assert_eq!(replies.len(), 8);

    for ann in [&mut ann1, &mut ann2] {
        assert_eq!(ann.recv_data().text(), "news!");
        assert_eq!(ann.recv_data().text(), "to ann");
        assert_eq!(ann.recv_data().text(), "all");
    }
    assert_eq!(
        ann1.recv(Duration::from_secs(5)).unwrap().close_code(),
        Some(4000)
    );
    assert_eq!(bob.recv_data().text(), "to bob");
    assert_eq!(bob.recv_data().text(), "all");
    // Nothing came twice: the next frame is what we send now.
    let replies = exchange(
        &mut stream,
        &[(
            Request::SendToUser {
                user: "bob".into(),
                kind: MessageKind::Text,
                data: b"end".to_vec(),
            },
            false,
        )],
    );
    assert_eq!(replies, [ok(1)]);
    assert_eq!(bob.recv_data().text(), "end");
    ann2.send(OpCode::Ping, b"p");
    assert_eq!(ann2.recv(Duration::from_secs(5)).unwrap().opcode, 0xA);
}

#[test]
fn stats_and_quiet_failures_are_counted() {
    let app = App::start();
    let (_control, path) = app.control("stats", options());
    let (_client, id) = app.client("/x");
    let mut stream = connect(&path);
    let replies = exchange(
        &mut stream,
        &[
            (hello(""), false),
            (
                Request::Send {
                    id: 12345,
                    kind: MessageKind::Binary,
                    data: vec![1],
                },
                true,
            ),
            (
                Request::Send {
                    id,
                    kind: MessageKind::Binary,
                    data: vec![1],
                },
                true,
            ),
            (Request::Stats, false),
        ],
    );
    let Reply::Stats(stats) = &replies[1] else {
        panic!("{replies:?}")
    };
    let get = |name: &str| stats.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!(get("connections"), Some(1));
    assert_eq!(get("control_connections"), Some(1));
    assert_eq!(get("control_quiet_failures"), Some(1));
}

#[test]
fn a_wrong_secret_or_a_missing_hello_is_refused() {
    let app = App::start();
    let mut with_secret = options();
    with_secret.secret = Some("s3cret".into());
    let (_control, path) = app.control("secret", with_secret);
    for first in [hello("wrong"), hello(""), Request::Stats] {
        let mut stream = connect(&path);
        let mut out = Vec::new();
        encode_request(&first, false, &mut out);
        encode_request(&Request::Stats, false, &mut out);
        stream.write_all(&out).unwrap();
        let replies = read_replies(&mut stream, 1);
        assert!(
            matches!(
                &replies[0],
                Reply::Error {
                    code: ErrorCode::Unauthorized,
                    ..
                }
            ),
            "{replies:?}"
        );
        let mut rest = Vec::new();
        assert_eq!(
            stream.read_to_end(&mut rest).unwrap(),
            0,
            "closed after the refusal"
        );
    }
    let mut stream = connect(&path);
    assert_eq!(exchange(&mut stream, &[(hello("s3cret"), false)]), [ok(0)]);
}

#[test]
fn a_malformed_frame_is_answered_and_closed() {
    let app = App::start();
    let (_control, path) = app.control("malformed", options());
    let mut stream = connect(&path);
    assert_eq!(exchange(&mut stream, &[(hello(""), false)]), [ok(0)]);
    stream.write_all(&[0, 0, 0, 1, 0x7e]).unwrap();
    let replies = read_replies(&mut stream, 1);
    assert!(
        matches!(
            &replies[0],
            Reply::Error {
                code: ErrorCode::BadFrame,
                ..
            }
        ),
        "{replies:?}"
    );
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
    // A frame longer than allowed, known from its length alone.
    let mut stream = connect(&path);
    assert_eq!(exchange(&mut stream, &[(hello(""), false)]), [ok(0)]);
    stream.write_all(&[0x7f, 0xff, 0xff, 0xff]).unwrap();
    let replies = read_replies(&mut stream, 1);
    assert!(
        matches!(&replies[0], Reply::Error { code: ErrorCode::BadFrame, message } if message.contains("at most"))
    );
}

#[test]
fn connections_past_the_bound_are_told_busy() {
    let app = App::start();
    let mut one = options();
    one.max_connections = 1;
    let (_control, path) = app.control("busy", one);
    let mut first = connect(&path);
    assert_eq!(exchange(&mut first, &[(hello(""), false)]), [ok(0)]);
    let mut second = connect(&path);
    let replies = read_replies(&mut second, 1);
    assert!(
        matches!(
            &replies[0],
            Reply::Error {
                code: ErrorCode::Busy,
                ..
            }
        ),
        "{replies:?}"
    );
    drop(first);
    // Its slot is free again once its thread has ended.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut third = connect(&path);
        let mut out = Vec::new();
        encode_request(&hello(""), false, &mut out);
        // A refused connection may be closed before the hello is written.
        let _ = third.write_all(&out);
        let replies = read_replies(&mut third, 1);
        if replies == [ok(0)] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{replies:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn socket_files_in_use_stale_or_foreign() {
    let app = App::start();
    let (control, path) = app.control("files", options());
    let address = ControlAddress::Unix(path.clone());
    let in_use = ControlServer::start(app.handle.clone(), &address, options())
        .err()
        .unwrap();
    assert!(in_use.to_string().contains("in use"), "{in_use}");
    // Stopping removes the file; a stale one (nobody listening) is replaced.
    control.stop();
    assert!(!path.exists());
    let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(stale);
    let control = ControlServer::start(app.handle.clone(), &address, options()).unwrap();
    let mut stream = connect(&path);
    assert_eq!(exchange(&mut stream, &[(hello(""), false)]), [ok(0)]);
    control.stop();
    std::fs::write(&path, b"not a socket").unwrap();
    let foreign = ControlServer::start(app.handle.clone(), &address, options())
        .err()
        .unwrap();
    assert!(foreign.to_string().contains("not a socket"), "{foreign}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn tcp_needs_a_secret_and_reports_its_port() {
    let app = App::start();
    let address = ControlAddress::Tcp("127.0.0.1:0".into());
    let e = ControlServer::start(app.handle.clone(), &address, options())
        .err()
        .unwrap();
    assert!(e.to_string().contains("control_secret"), "{e}");
    let mut with_secret = options();
    with_secret.secret = Some("k".into());
    let control = ControlServer::start(app.handle.clone(), &address, with_secret).unwrap();
    let ControlAddress::Tcp(bound) = control.address().clone() else {
        panic!()
    };
    assert!(!bound.ends_with(":0"), "{bound}");
    let mut stream = std::net::TcpStream::connect(&bound).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        exchange(&mut stream, &[(hello("k"), false), (Request::Stats, false)]).len(),
        2
    );
}
