//! One client WebSocket connection over a nonblocking socket, plain or TLS:
//! the handshake, a read buffer parsed in place, and a write buffer of masked
//! frames.

use std::io::{self, Read};
use std::net::Ipv4Addr;
use std::ops::Range;

use mio::net::TcpStream;
use rustls::ClientConnection;

use super::frame::{self, parse_header};
use super::handshake;
use super::socket;
use super::tls::{self, Plaintext, Tracked};
pub use super::writer::Writer;
use crate::target::Target;

/// Bounds the retries of a syscall interrupted by a signal.
const MAX_EINTR: usize = 16;
/// Bounds the socket reads (each followed by decryption) of one TLS read.
const TLS_READS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Handshaking,
    Open,
}

/// Where a complete message's payload is: in the read buffer, or assembled
/// from fragments.
#[derive(Debug, Clone)]
enum Loc {
    Buffer(Range<usize>),
    Fragments,
}

/// A complete message (or close frame) from the server; its payload stays
/// valid until the next read.
#[derive(Debug, Clone)]
pub struct Message {
    pub opcode: u8,
    loc: Loc,
}

pub struct Conn {
    pub stream: TcpStream,
    /// The TLS session of a `wss://` connection; plain connections test this
    /// once per read or write and are otherwise untouched by TLS.
    tls: Option<Box<ClientConnection>>,
    pub phase: Phase,
    key: String,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    chunk: usize,
    max_message: usize,
    frag: Vec<u8>,
    frag_opcode: Option<u8>,
    pub out: Writer,
    pub close_received: bool,
    pub close_sent: bool,
    pub eof: bool,
}

impl Conn {
    /// Starts connecting to `target` and queues the upgrade request. `chunk`
    /// is the free space each read offers; `max_message` bounds a message.
    pub fn start(
        target: &Target,
        source: Option<Ipv4Addr>,
        seed: u64,
        chunk: usize,
        max_message: usize,
    ) -> io::Result<Conn> {
        let stream = socket::connect(target.addr, source)?;
        let tls = match &target.tls {
            Some(t) => Some(Box::new(
                ClientConnection::new(t.config.clone(), t.name.clone())
                    .map_err(io::Error::other)?,
            )),
            None => None,
        };
        let key = handshake::key_for(seed);
        let request = handshake::request(target, &key);
        Ok(Conn {
            stream,
            tls,
            phase: Phase::Handshaking,
            key,
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            chunk: chunk.max(256),
            max_message,
            frag: Vec::new(),
            frag_opcode: None,
            out: Writer::new(request, seed),
            close_received: false,
            close_sent: false,
            eof: false,
        })
    }

    /// One read into the buffer's free space. Returns true when the socket is
    /// drained (a short read, would-block or end of stream).
    pub fn read_some(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(true);
        }
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        } else if self.rbuf.len() - self.rend < self.chunk && self.rstart > 0 {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
        }
        if self.rbuf.len() - self.rend < self.chunk {
            self.rbuf.resize(self.rend + self.chunk, 0);
        }
        if self.tls.is_some() {
            return self.read_tls();
        }
        for _ in 0..MAX_EINTR {
            let space = self.rbuf.len() - self.rend;
            match self.stream.read(&mut self.rbuf[self.rend..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.rend += n;
                    return Ok(n < space);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// `read_some` over TLS: decrypted bytes into the buffer's free space,
    /// reading and decrypting records until the socket is drained or the
    /// buffer full. Handshake messages and alerts rustls produces on the way
    /// are written at once (what the socket does not take waits for `flush`).
    #[inline(never)]
    fn read_tls(&mut self) -> io::Result<bool> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return Ok(true);
        };
        let mut socket_drained = false;
        for _ in 0..TLS_READS {
            let space = self.rbuf.len() - self.rend;
            match tls.reader().read(&mut self.rbuf[self.rend..]) {
                // A close_notify: no more data will come.
                Ok(0) => {
                    self.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.rend += n;
                    if n == space {
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The socket ended without a close_notify.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.eof = true;
                    return Ok(true);
                }
                Err(e) => return Err(e),
            }
            // rustls holds no more plaintext now.
            if socket_drained {
                return Ok(true);
            }
            let mut source = Tracked {
                stream: &mut self.stream,
                short: false,
            };
            match tls.read_tls(&mut source) {
                // End of stream: rustls records it and its reader reports it.
                Ok(0) => socket_drained = true,
                Ok(_) => socket_drained = source.short,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = tls.process_new_packets() {
                // Send the alert rustls queued, then give up.
                let _ = tls::write_records(tls, &mut self.stream);
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            if tls.wants_write() {
                // A write error shows again at the next flush; what was
                // received can still be read first.
                let _ = tls::write_records(tls, &mut self.stream);
            }
        }
        Ok(false)
    }

    /// Whether output waits to be written: queued frames, or TLS records.
    #[inline]
    pub fn wants_write(&self) -> bool {
        self.out.pending() > 0 || self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// For a TLS connection: protocol version, cipher suite, key exchange
    /// group and ALPN.
    pub fn tls_summary(&self) -> Option<String> {
        self.tls.as_deref().map(tls::summary)
    }

    /// While handshaking: checks the buffered response. Returns true once the
    /// connection is open.
    pub fn poll_handshake(&mut self) -> Result<bool, String> {
        if self.phase == Phase::Open {
            return Ok(true);
        }
        match handshake::check_response(&self.rbuf[self.rstart..self.rend], &self.key)? {
            Some(head) => {
                self.rstart += head;
                self.phase = Phase::Open;
                self.key = String::new();
                Ok(true)
            }
            None if self.eof => Err("connection closed during the handshake".into()),
            None => Ok(false),
        }
    }

    /// The next complete data message or close frame in the buffer. Pings are
    /// answered and pongs dropped here.
    #[inline(always)]
    pub fn next_message(&mut self) -> Result<Option<Message>, String> {
        // Each pass consumes one frame, so the buffer bounds the loop.
        while self.rstart < self.rend {
            let avail = &self.rbuf[self.rstart..self.rend];
            let Some(h) = parse_header(avail, self.max_message)? else {
                return Ok(None);
            };
            let total = h.header_len + h.payload_len;
            if avail.len() < total {
                return Ok(None);
            }
            let range = self.rstart + h.header_len..self.rstart + total;
            self.rstart += total;
            match h.opcode {
                frame::OP_PING => {
                    if !self.close_sent {
                        self.out.queue(frame::OP_PONG, &[&self.rbuf[range]]);
                    }
                }
                frame::OP_PONG => {}
                frame::OP_CLOSE => {
                    self.close_received = true;
                    if !self.close_sent {
                        // Answer with the code received (or none).
                        let code = self.rbuf.get(range.start..range.start + 2.min(range.len()));
                        let code = code.unwrap_or_default().to_vec();
                        self.out.queue(frame::OP_CLOSE, &[&code]);
                        self.close_sent = true;
                    }
                    return Ok(Some(Message {
                        opcode: frame::OP_CLOSE,
                        loc: Loc::Buffer(range),
                    }));
                }
                frame::OP_CONTINUATION => {
                    let Some(opcode) = self.frag_opcode else {
                        return Err("continuation frame without a message".into());
                    };
                    if self.frag.len() + range.len() > self.max_message {
                        return Err("fragmented message exceeds the limit".into());
                    }
                    self.frag.extend_from_slice(&self.rbuf[range]);
                    if h.fin {
                        self.frag_opcode = None;
                        return Ok(Some(Message {
                            opcode,
                            loc: Loc::Fragments,
                        }));
                    }
                }
                opcode => {
                    if self.frag_opcode.is_some() {
                        return Err("new message inside a fragmented one".into());
                    }
                    if h.fin {
                        return Ok(Some(Message {
                            opcode,
                            loc: Loc::Buffer(range),
                        }));
                    }
                    self.frag_opcode = Some(opcode);
                    self.frag.clear();
                    self.frag.extend_from_slice(&self.rbuf[range]);
                }
            }
        }
        Ok(None)
    }

    /// A message's payload together with the output queue, to answer it.
    pub fn split(&mut self, msg: &Message) -> (&[u8], &mut Writer) {
        let data = match &msg.loc {
            Loc::Buffer(r) => self.rbuf.get(r.clone()).unwrap_or_default(),
            Loc::Fragments => &self.frag,
        };
        (data, &mut self.out)
    }

    /// Writes queued output. Returns true when everything was written.
    pub fn flush(&mut self) -> io::Result<bool> {
        if self.tls.is_some() {
            return self.flush_tls();
        }
        self.out.flush_to(&mut self.stream)
    }

    /// `flush` over TLS: queued frames are encrypted into records (as many
    /// frames per record as fit) and the records written, until both are
    /// done or the socket would block. Before the TLS handshake is over,
    /// rustls keeps a bounded amount of plaintext; the rest stays queued
    /// until a later flush.
    #[inline(never)]
    fn flush_tls(&mut self) -> io::Result<bool> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return Ok(true);
        };
        loop {
            let before = self.out.pending();
            let handed = before == 0 || self.out.flush_to(&mut Plaintext(tls))?;
            let progressed = self.out.pending() < before;
            if !tls::write_records(tls, &mut self.stream)? {
                return Ok(false);
            }
            if handed {
                return Ok(true);
            }
            if !progressed {
                return Ok(false);
            }
        }
    }

    /// Queues a close frame with `code` (once).
    pub fn send_close(&mut self, code: u16) {
        if !self.close_sent {
            self.out.queue(frame::OP_CLOSE, &[&code.to_be_bytes()]);
            self.close_sent = true;
        }
    }
}
