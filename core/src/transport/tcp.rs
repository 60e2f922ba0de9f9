//! A connection's byte stream: TCP, plain or with TLS. Read, vectored write,
//! flush (for what TLS holds), shutdown, and registration with the loop's
//! poll; the loops use nothing else of the socket.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;

use mio::event::Source;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::transport::socket_writer::SocketWriter;
use crate::transport::tls::Tls;

pub(crate) struct Transport {
    stream: TcpStream,
    /// Boxed: a plain connection pays one pointer for it.
    tls: Option<Box<Tls>>,
}

impl Transport {
    pub(crate) fn new(stream: TcpStream) -> Transport {
        Transport { stream, tls: None }
    }

    /// A stream whose bytes go through TLS (a server handshake not yet done).
    pub(crate) fn with_tls(stream: TcpStream, conn: rustls::ServerConnection) -> Transport {
        Transport {
            stream,
            tls: Some(Box::new(Tls::new(conn))),
        }
    }

    /// True while TLS holds records the socket has not taken: the loop must
    /// flush when the socket is writable, even with nothing else to send.
    #[inline]
    pub(crate) fn wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| tls.wants_write())
    }

    /// With TLS, `Write` and `Both` first send close_notify (best effort).
    pub(crate) fn shutdown(&mut self, how: Shutdown) -> io::Result<()> {
        if let (Some(tls), Shutdown::Write | Shutdown::Both) = (&mut self.tls, how) {
            tls.close(&mut SocketWriter::of(&self.stream));
        }
        self.stream.shutdown(how)
    }
}

impl Read for Transport {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.tls {
            None => self.stream.read(buf),
            Some(tls) => tls.read(&mut self.stream, buf),
        }
    }
}

impl Write for Transport {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut socket = SocketWriter::of(&self.stream);
        match &mut self.tls {
            None => socket.write(buf),
            Some(tls) => tls.write_vectored(&mut socket, &[IoSlice::new(buf)]),
        }
    }

    #[inline]
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut socket = SocketWriter::of(&self.stream);
        match &mut self.tls {
            None => socket.write_vectored(bufs),
            Some(tls) => tls.write_vectored(&mut socket, bufs),
        }
    }

    /// Sends what TLS holds; `WouldBlock` while some is left. Plain: nothing.
    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.tls {
            None => Ok(()),
            Some(tls) => tls.flush(&mut SocketWriter::of(&self.stream)),
        }
    }
}

impl Source for Transport {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.stream.register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.stream.reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.stream.deregister(registry)
    }
}
