//! A blocking WebSocket test client over a real socket, and server helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use switchboard::protocol::frame::{encode_masked_frame, OpCode};
use switchboard::server::{Config, Event, Handle, Server};

pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A frame as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pub response: String,
}

impl Client {
    /// Connects and completes a handshake, panicking on anything but 101.
    pub fn connect(addr: SocketAddr) -> Client {
        Client::connect_with(addr, "/", &[]).expect("handshake")
    }

    /// Completes a handshake on a connected stream, panicking on anything but 101.
    pub fn handshake_on(mut stream: TcpStream) -> Client {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("write");
        let (response, rest) = read_head(&mut stream).expect("response head");
        assert!(response.starts_with("HTTP/1.1 101"), "{response}");
        Client {
            stream,
            buf: rest,
            response,
        }
    }

    /// Connects with extra request headers; Err carries the non-101 response head.
    pub fn connect_with(
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Client, String> {
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let (stream, response, rest) =
            raw_request(addr, request.as_bytes()).map_err(|e| e.to_string())?;
        if !response.starts_with("HTTP/1.1 101") {
            return Err(response);
        }
        Ok(Client {
            stream,
            buf: rest,
            response,
        })
    }

    /// A client from a stream whose handshake is done and the bytes read after it.
    pub fn from_parts(stream: TcpStream, rest: Vec<u8>) -> Client {
        Client {
            stream,
            buf: rest,
            response: String::new(),
        }
    }

    pub fn send(&mut self, opcode: OpCode, payload: &[u8]) {
        self.send_frame(true, opcode, payload);
    }

    pub fn send_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        let mut out = Vec::new();
        encode_masked_frame(&mut out, fin, opcode, payload, [1, 2, 3, 4]);
        self.stream.write_all(&out).expect("write");
    }

    pub fn send_close(&mut self, code: u16, reason: &str) {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        self.send(OpCode::Close, &payload);
    }

    /// The next frame, or an error on timeout or EOF.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Frame> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Ok(frame);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::ErrorKind::TimedOut.into())
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads frames until a data frame arrives (skipping pings).
    pub fn recv_data(&mut self) -> Frame {
        loop {
            let frame = self.recv(Duration::from_secs(5)).expect("a frame");
            if frame.opcode != 9 {
                return frame;
            }
        }
    }

    /// True when the server closed TCP (EOF or reset) within `timeout`, after any frames.
    pub fn wait_eof(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.recv(deadline.saturating_duration_since(Instant::now())) {
                Ok(_) => continue,
                Err(e) => return e.kind() != io::ErrorKind::TimedOut,
            }
        }
        false
    }
}

/// Sends raw bytes and reads the response head; returns the stream, the head and
/// any bytes after it.
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> io::Result<(TcpStream, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(request)?;
    let (head, rest) = read_head(&mut stream)?;
    Ok((stream, head, rest))
}

/// Reads a response head (5 s at most); returns it and any bytes after it. A
/// stream that ends first gives what it sent as the head.
pub fn read_head(stream: &mut TcpStream) -> io::Result<(String, Vec<u8>)> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end + 4]).into_owned();
            return Ok((head, buf[end + 4..].to_vec()));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok((String::from_utf8_lossy(&buf).into_owned(), Vec::new()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Parses one unmasked server frame from the front of `buf`.
pub fn parse_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0F;
    assert_eq!(buf[1] & 0x80, 0, "server frames must not be masked");
    let (len, header) = match buf[1] & 0x7F {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().ok()?) as usize, 10),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    if buf.len() < header + len {
        return None;
    }
    Some((
        Frame {
            fin,
            opcode,
            payload: buf[header..header + len].to_vec(),
        },
        header + len,
    ))
}

/// A config listening on 127.0.0.1:0 with short timeouts for tests.
pub fn config() -> Config {
    let mut config = Config::new();
    config.listen_str("127.0.0.1:0").expect("address");
    config.threads(2).close_timeout(Duration::from_secs(2));
    config
}

pub fn start(config: &Config) -> (Server, Handle, SocketAddr) {
    let server = Server::start(config).expect("server starts");
    let handle = server.handle();
    let addr = server.local_addrs()[0];
    (server, handle, addr)
}

/// Waits for the first event matching `pred`, failing the test after 5 s.
/// Events that do not match are returned in `skipped` order via the closure's side.
pub fn next_event(handle: &Handle, mut pred: impl FnMut(&Event) -> bool) -> Event {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out waiting for an event");
        handle.wait(&mut events, 1, Some(left));
        if let Some(event) = events.pop() {
            if pred(&event) {
                return event;
            }
        }
    }
}

/// Collects events until `done` holds for all collected so far, failing the
/// test after 10 s.
pub fn collect_until(handle: &Handle, mut done: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut events = Vec::new();
    while !done(&events) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out; events so far: {events:?}");
        handle.wait(
            &mut events,
            1024,
            Some(left.min(Duration::from_millis(100))),
        );
    }
    events
}

/// Collects every event arriving within `window`.
pub fn events_for(handle: &Handle, window: Duration) -> Vec<Event> {
    let deadline = Instant::now() + window;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        handle.wait(
            &mut events,
            1024,
            Some(deadline.saturating_duration_since(Instant::now())),
        );
    }
    events
}

pub fn open_id(event: &Event) -> Option<switchboard::server::ConnId> {
    match event {
        Event::Open(open) => Some(open.id),
        _ => None,
    }
}

/// The `Close` events among `events`, in order.
pub fn closes(events: &[Event]) -> Vec<switchboard::server::Close> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Close(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// The id the server gave `client`, found by its address among the `Open` events.
pub fn id_of(events: &[Event], client: &Client) -> switchboard::server::ConnId {
    let local = client.stream.local_addr().expect("local address");
    events
        .iter()
        .find_map(|e| match e {
            Event::Open(o) if o.peer == local => Some(o.id),
            _ => None,
        })
        .expect("an Open event for this client")
}
