#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! TLS (wss://) against real sockets: a rustls client, certificates made here
//! with rcgen, plain and TLS listeners side by side, hostile handshakes, and a
//! certificate reload while connections stay open.

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use switchboard::protocol::frame::{encode_masked_frame, OpCode};
use switchboard::server::{Config, Error, Event, Handle, Server};

/// A certificate for 127.0.0.1 and localhost, and its key, written as PEM
/// files into a directory of the test's own.
struct Cert {
    der: CertificateDer<'static>,
    cert: PathBuf,
    key: PathBuf,
}

fn make_cert(dir: &Path, name: &str) -> Cert {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    Cert {
        der: made.cert.der().clone(),
        cert,
        key,
    }
}

fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-tls-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tls_config(cert: &Cert) -> Config {
    let mut config = Config::new();
    config
        .listen_str("tls://127.0.0.1:0")
        .unwrap()
        .threads(1)
        .close_timeout(Duration::from_secs(2))
        .tls(&cert.cert, &cert.key);
    config
}

/// A blocking WebSocket client over TLS that trusts `roots`.
struct TlsClient {
    stream: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl TlsClient {
    fn connect(addr: SocketAddr, roots: &[&CertificateDer<'static>]) -> io::Result<TlsClient> {
        let mut store = RootCertStore::empty();
        for root in roots {
            store.add((*root).clone()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let conn = ClientConnection::new(Arc::new(config), name).unwrap();
        let socket = TcpStream::connect(addr)?;
        socket.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut client = TlsClient {
            stream: StreamOwned::new(conn, socket),
            buf: Vec::new(),
        };
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        client.stream.write_all(request.as_bytes())?;
        let head = client.read_head()?;
        if !head.starts_with("HTTP/1.1 101") {
            return Err(io::Error::other(head));
        }
        Ok(client)
    }

    fn read_head(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.drain(..end + 4);
                return Ok(head);
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    fn send(&mut self, opcode: OpCode, payload: &[u8]) {
        let mut out = Vec::new();
        encode_masked_frame(&mut out, true, opcode, payload, [7, 3, 5, 1]);
        self.stream.write_all(&out).unwrap();
    }

    fn recv(&mut self) -> io::Result<Frame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Ok(frame);
            }
            self.fill()?;
        }
    }

    fn echo(&mut self, text: &str) {
        self.send(OpCode::Text, text.as_bytes());
        assert_eq!(self.recv().unwrap().text(), text);
    }

    /// The certificate the server presented.
    fn server_cert(&self) -> CertificateDer<'static> {
        self.stream.conn.peer_certificates().unwrap()[0].clone()
    }
}

/// Echoes every message on a thread of its own until the server stops.
fn echo_thread(handle: &Handle) -> std::thread::JoinHandle<()> {
    let handle = handle.clone();
    std::thread::spawn(move || {
        let mut events = Vec::new();
        while !handle.is_finished() {
            handle.wait(&mut events, 64, Some(Duration::from_millis(50)));
            for event in events.drain(..) {
                if let Event::Message { id, kind, data } = event {
                    let _ = handle.send_owned(id, kind, data);
                }
            }
        }
    })
}

#[test]
fn wss_echo_small_and_large_messages_with_alpn() {
    let dir = scratch_dir("echo");
    let cert = make_cert(&dir, "a");
    let server = Server::start(&tls_config(&cert)).unwrap();
    let addr = server.local_addrs()[0];
    let app = echo_thread(&server.handle());
    let mut client = TlsClient::connect(addr, &[&cert.der]).unwrap();
    assert_eq!(client.stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    client.echo("hello over TLS");
    // Larger than rustls's 64 KiB buffer and than one TLS record (16 KiB).
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    client.send(OpCode::Binary, &big);
    let frame = client.recv().unwrap();
    assert!(frame.opcode == 2 && frame.payload == big, "300 KB echo");
    for i in 0..200 {
        client.echo(&format!("message {i}"));
    }
    server.shutdown();
    app.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plain_and_tls_listeners_serve_side_by_side() {
    let dir = scratch_dir("mixed");
    let cert = make_cert(&dir, "a");
    let mut config = tls_config(&cert);
    // A ClientHello never completes an HTTP head: the plain port drops it at
    // the handshake timeout.
    config
        .listen_str("127.0.0.1:0")
        .unwrap()
        .handshake_timeout(Duration::from_secs(1));
    let server = Server::start(&config).unwrap();
    let (tls_addr, plain_addr) = (server.local_addrs()[0], server.local_addrs()[1]);
    let app = echo_thread(&server.handle());
    let mut secure = TlsClient::connect(tls_addr, &[&cert.der]).unwrap();
    let mut plain = Client::connect(plain_addr);
    secure.echo("secure");
    plain.send(OpCode::Text, b"plain");
    assert_eq!(plain.recv_data().text(), "plain");
    // A plain client on the TLS port does not get a WebSocket.
    assert!(Client::connect_with(tls_addr, "/", &[]).is_err());
    // Nor does a TLS client on the plain port.
    assert!(TlsClient::connect(plain_addr, &[&cert.der]).is_err());
    secure.echo("still fine");
    server.shutdown();
    app.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hostile_handshakes_are_dropped_without_disturbing_others() {
    let dir = scratch_dir("hostile");
    let cert = make_cert(&dir, "a");
    let mut config = tls_config(&cert);
    config.handshake_timeout(Duration::from_millis(500));
    let server = Server::start(&config).unwrap();
    let addr = server.local_addrs()[0];
    let app = echo_thread(&server.handle());
    let mut bystander = TlsClient::connect(addr, &[&cert.der]).unwrap();
    bystander.echo("before");
    // Dropped at once: garbage instead of a ClientHello, and plain HTTP.
    for garbage in [
        &b"\x00\x01\x02garbage that is no TLS record at all\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut raw = TcpStream::connect(addr).unwrap();
        raw.write_all(garbage).unwrap();
        assert!(ends_within(&mut raw, Duration::from_secs(5)), "{garbage:?}");
        bystander.echo("after garbage");
    }
    // Dropped at the handshake timeout: a ClientHello cut short, and silence.
    let started = Instant::now();
    let mut truncated = TcpStream::connect(addr).unwrap();
    truncated
        .write_all(&[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ])
        .unwrap();
    let mut silent = TcpStream::connect(addr).unwrap();
    bystander.echo("while two handshakes stall");
    assert!(ends_within(&mut truncated, Duration::from_secs(10)));
    assert!(ends_within(&mut silent, Duration::from_secs(10)));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "dropped before the handshake timeout"
    );
    bystander.echo("after the stalls");
    server.shutdown();
    app.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// True when the server ends the connection (EOF or reset) within `timeout`,
/// whatever it sends first (an alert, an HTTP error).
fn ends_within(stream: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut chunk = [0u8; 4096];
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn reloading_the_certificate_keeps_open_connections() {
    let dir = scratch_dir("reload");
    let first = make_cert(&dir, "first");
    let second = make_cert(&dir, "second");
    let live = Cert {
        der: first.der.clone(),
        cert: dir.join("live.crt"),
        key: dir.join("live.key"),
    };
    std::fs::copy(&first.cert, &live.cert).unwrap();
    std::fs::copy(&first.key, &live.key).unwrap();
    let server = Server::start(&tls_config(&live)).unwrap();
    let handle = server.handle();
    let addr = server.local_addrs()[0];
    let app = echo_thread(&handle);
    let roots = [&first.der, &second.der];
    let mut old = TlsClient::connect(addr, &roots).unwrap();
    assert_eq!(old.server_cert(), first.der);
    // A broken file is refused with its name, and the certificate in use stays.
    std::fs::write(&live.key, "not a key").unwrap();
    let error = handle.reload_tls().unwrap_err().to_string();
    assert!(
        error.contains("tls_key") && error.contains("live.key"),
        "{error}"
    );
    assert_eq!(
        TlsClient::connect(addr, &roots).unwrap().server_cert(),
        first.der
    );
    // The renewed certificate: new connections get it, the old one goes on.
    std::fs::copy(&second.cert, &live.cert).unwrap();
    std::fs::copy(&second.key, &live.key).unwrap();
    handle.reload_tls().unwrap();
    let mut new = TlsClient::connect(addr, &roots).unwrap();
    assert_eq!(new.server_cert(), second.der);
    new.echo("new certificate");
    old.echo("old session still open");
    server.shutdown();
    app.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn misconfigured_tls_is_a_clear_error_naming_the_file() {
    let dir = scratch_dir("misuse");
    let a = make_cert(&dir, "a");
    let b = make_cert(&dir, "b");
    let start = |cert: &Path, key: &Path| {
        let mut config = Config::new();
        config
            .listen_str("tls://127.0.0.1:0")
            .unwrap()
            .tls(cert, key);
        Server::start(&config).err().map(|e| e.to_string())
    };
    let mismatch = start(&a.cert, &b.key).unwrap();
    assert!(
        mismatch.contains("tls_key") && mismatch.contains("b.key") && mismatch.contains("a.crt"),
        "{mismatch}"
    );
    let missing = start(&dir.join("missing.crt"), &a.key).unwrap();
    assert!(
        missing.contains("tls_cert") && missing.contains("missing.crt"),
        "{missing}"
    );
    let swapped = start(&a.key, &a.cert).unwrap();
    assert!(
        swapped.contains("tls_cert") && swapped.contains("a.key"),
        "{swapped}"
    );
    // A TLS listener without a certificate, and a reload without TLS.
    let mut bare = Config::new();
    bare.listen_str("tls://127.0.0.1:0").unwrap();
    let Err(Error::Config { option, .. }) = Server::start(&bare) else {
        panic!("a tls:// listener without a certificate started")
    };
    assert_eq!(option, "tls_cert");
    let (_plain, handle, _) = start_plain();
    assert!(handle.reload_tls().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn start_plain() -> (Server, Handle, SocketAddr) {
    start(&config())
}
