//! TLS under a client connection: rustls driven over the same nonblocking
//! socket. Plaintext goes in through rustls' writer and comes out of its
//! reader; ciphertext moves between rustls and the socket here.

use std::io::{self, IoSlice, Read, Write};

use mio::net::TcpStream;
use rustls::ClientConnection;

/// Bounds the retries of a syscall interrupted by a signal.
const MAX_EINTR: usize = 16;

/// A reader over the socket that remembers whether its last read was short,
/// that is, whether it emptied the socket's receive queue.
pub struct Tracked<'a> {
    pub stream: &'a mut TcpStream,
    pub short: bool,
}

impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

/// rustls' plaintext input as a writer that says WouldBlock, not 0, when
/// rustls takes nothing more for now (its buffer is full, or the handshake
/// is still going on and the early buffer is full).
pub struct Plaintext<'a>(pub &'a mut ClientConnection);

impl Write for Plaintext<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.writer().write(buf)? {
            0 if !buf.is_empty() => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self.0.writer().write_vectored(bufs)? {
            0 if bufs.iter().any(|b| !b.is_empty()) => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes the records rustls has ready. Returns true when all are written,
/// false when the socket would block.
pub fn write_records(tls: &mut ClientConnection, stream: &mut TcpStream) -> io::Result<bool> {
    let mut interrupted = 0;
    while tls.wants_write() {
        match tls.write_tls(stream) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupted < MAX_EINTR => {
                interrupted += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Protocol version, cipher suite, key exchange group and ALPN of an
/// established session.
pub fn summary(tls: &ClientConnection) -> String {
    let version = tls
        .protocol_version()
        .map_or_else(|| "handshaking".to_string(), |v| format!("{v:?}"));
    let suite = tls
        .negotiated_cipher_suite()
        .map_or_else(String::new, |s| format!(" {:?}", s.suite()));
    let group = tls
        .negotiated_key_exchange_group()
        .map_or_else(String::new, |g| format!(" {:?}", g.name()));
    let alpn = match tls.alpn_protocol() {
        Some(p) => format!("ALPN {}", String::from_utf8_lossy(p)),
        None => "no ALPN".into(),
    };
    format!("{version}{suite}{group}, {alpn}")
}
