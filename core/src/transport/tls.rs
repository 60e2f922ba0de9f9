//! TLS over a connection's TCP stream, with rustls. Records read from the
//! socket are decrypted into the caller's buffer; plaintext written is
//! encrypted into rustls's own bounded buffer (64 KiB), then sent. What the
//! socket did not take stays in rustls: `wants_write` tells the loop to come
//! back when the socket is writable.

use std::io::{self, IoSlice, Read, Write};

use rustls::ServerConnection;

/// The TLS state of one connection.
pub(crate) struct Tls {
    conn: ServerConnection,
    /// The peer closed TCP: no more records will come.
    eof: bool,
}

impl Tls {
    pub(crate) fn new(conn: ServerConnection) -> Tls {
        Tls { conn, eof: false }
    }

    /// Fills `buf` with plaintext as far as the socket has records for it.
    /// Returns less than `buf.len()` only once the socket is drained (or at
    /// its end), as a plain socket read does, so the loop's "a short read
    /// emptied the socket" holds; `WouldBlock` when nothing came.
    pub(crate) fn read(&mut self, socket: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        loop {
            match self.conn.reader().read(&mut buf[filled..]) {
                // Ok(0) with room left: the peer's close_notify, a clean end.
                Ok(0) if filled < buf.len() => return Ok(filled),
                Ok(n) => {
                    filled += n;
                    if filled == buf.len() {
                        return Ok(filled);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // TCP ended without close_notify: an end all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(filled),
                Err(e) => return Err(e),
            }
            if self.eof {
                return Ok(filled);
            }
            match self.conn.read_tls(socket) {
                Ok(0) => self.eof = true,
                Ok(_) => {
                    if let Err(e) = self.conn.process_new_packets() {
                        // rustls queued an alert for the peer; closing the
                        // transport sends it if the socket takes it.
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return if filled > 0 { Ok(filled) } else { Err(e) };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Encrypts what rustls's buffer takes of `bufs` and sends what the socket
    /// takes. `WouldBlock` when neither had room.
    pub(crate) fn write_vectored(
        &mut self,
        socket: &mut impl Write,
        bufs: &[IoSlice<'_>],
    ) -> io::Result<usize> {
        self.flush_some(socket)?;
        let n = self.conn.writer().write_vectored(bufs)?;
        self.flush_some(socket)?;
        if n == 0 && bufs.iter().any(|b| !b.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Sends the records rustls holds; `WouldBlock` when the socket is full
    /// before they are all out.
    pub(crate) fn flush(&mut self, socket: &mut impl Write) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(socket) {
                // A socket that takes nothing and does not say WouldBlock: gone.
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// `flush`, where a full socket is no error: what it did not take waits.
    fn flush_some(&mut self, socket: &mut impl Write) -> io::Result<()> {
        match self.flush(socket) {
            Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
            _ => Ok(()),
        }
    }

    /// True while rustls holds records the socket has not taken.
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Queues close_notify (after any alert) and sends what the socket takes.
    pub(crate) fn close(&mut self, socket: &mut impl Write) {
        self.conn.send_close_notify();
        let _ = self.flush(socket);
    }
}
