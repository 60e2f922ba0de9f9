#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! The control client against a real server's control socket: every command
//! reaches the WebSocket client, errors are values naming the address, a
//! wrong secret is unauthorized, and a restarted control socket is reconnected
//! transparently.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use switchboard::control::address::ControlAddress;
use switchboard::control::client::{Client, ClientErrorKind, ClientOptions};
use switchboard::control::server::{ControlOptions, ControlServer};
use switchboard::control::wire::ErrorCode;
use switchboard::server::{Event, Handle, MessageKind};

const TEXT: MessageKind = MessageKind::Text;

fn socket_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sb-client-{}-{name}.sock", std::process::id()))
}

fn serve(handle: &Handle, path: &Path) -> ControlServer {
    let address = ControlAddress::Unix(path.to_path_buf());
    ControlServer::start(handle.clone(), &address, ControlOptions::default()).unwrap()
}

fn client(address: &str, secret: Option<&str>) -> Client {
    let options = ClientOptions {
        secret: secret.map(str::to_owned),
        ..ClientOptions::default()
    };
    Client::new(address, options).unwrap()
}

#[test]
fn commands_reach_the_websocket_client() {
    let (server, handle, addr) = start(&config());
    let path = socket_path("commands");
    let control = serve(&handle, &path);
    let mut ws = common::Client::connect(addr);
    let Event::Open(open) = next_event(&handle, |e| matches!(e, Event::Open(_))) else {
        unreachable!()
    };
    let id = open.id.as_u64();
    let mut c = client(&format!("unix:{}", path.display()), None);

    c.subscribe(id, "news").unwrap();
    c.bind_user(id, "ann").unwrap();
    c.publish("news", TEXT, b"published", None).unwrap();
    assert_eq!(ws.recv_data().text(), "published");
    c.publish("news", TEXT, b"not to me", Some(id)).unwrap();
    assert_eq!(c.send_to_user("ann", TEXT, b"to ann"), Ok(1));
    assert_eq!(ws.recv_data().text(), "to ann");
    assert_eq!(c.user_connections("ann"), Ok(vec![id]));
    c.broadcast(MessageKind::Binary, &[0, 255], None).unwrap();
    assert_eq!(ws.recv_data().payload, vec![0, 255]);
    c.send(id, TEXT, b"direct").unwrap();
    assert_eq!(ws.recv_data().text(), "direct");
    let stats = c.stats().unwrap();
    assert!(stats.contains(&("connections".into(), 1)), "{stats:?}");
    c.unsubscribe(id, "news").unwrap();
    c.unbind_user(id).unwrap();
    assert_eq!(c.user_connections("ann"), Ok(vec![]));

    let e = c.send(id + 1000, TEXT, b"x").unwrap_err();
    assert_eq!(
        e.kind(),
        ClientErrorKind::Remote(ErrorCode::UnknownConnection)
    );
    let e = c.close(id, 999, "").unwrap_err();
    assert_eq!(e.kind(), ClientErrorKind::Remote(ErrorCode::Invalid));
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    let e = c.send(id, TEXT, &[0xff]).unwrap_err();
    assert_eq!(e.kind(), ClientErrorKind::Remote(ErrorCode::Invalid));

    c.close(id, 4000, "bye").unwrap();
    let close = ws.recv(Duration::from_secs(5)).unwrap();
    assert_eq!(close.opcode, 8);
    assert_eq!(&close.payload[..2], &4000u16.to_be_bytes());
    drop(control);
    server.shutdown();
}

#[test]
fn a_restarted_control_socket_is_reconnected_and_a_stopped_one_is_unreachable() {
    let (server, handle, _) = start(&config());
    let path = socket_path("restart");
    let address = format!("unix:{}", path.display());
    let mut c = client(&address, None);
    let e = c.stats().unwrap_err();
    assert_eq!(e.kind(), ClientErrorKind::Unreachable, "{e}");

    let control = serve(&handle, &path);
    c.publish("t", TEXT, b"1", None).unwrap();
    drop(control);
    let e = c.publish("t", TEXT, b"2", None).unwrap_err();
    assert_eq!(e.kind(), ClientErrorKind::Unreachable, "{e}");

    let control = serve(&handle, &path);
    c.publish("t", TEXT, b"3", None).unwrap();
    assert!(c.is_connected());
    drop(control); // a restart while the client keeps its connection
    let control = serve(&handle, &path);
    c.publish("t", TEXT, b"4", None).unwrap();
    drop(control);
    server.shutdown();
}

#[test]
fn tcp_needs_the_right_secret() {
    let (server, handle, _) = start(&config());
    let options = ControlOptions {
        secret: Some("s3cret".into()),
        ..ControlOptions::default()
    };
    let address = ControlAddress::Tcp("127.0.0.1:0".into());
    let control = ControlServer::start(handle.clone(), &address, options).unwrap();
    let address = control.address().to_string();

    let e = client(&address, Some("wrong")).stats().unwrap_err();
    assert_eq!(e.kind(), ClientErrorKind::Unauthorized, "{e}");
    let e = client(&address, None).stats().unwrap_err();
    assert_eq!(e.kind(), ClientErrorKind::Unauthorized, "{e}");
    assert!(client(&address, Some("s3cret")).stats().is_ok());
    drop(control);
    server.shutdown();
}
