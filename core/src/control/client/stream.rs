//! One connection to the control socket: a Unix or TCP stream with timeouts,
//! and the check that a kept connection is still open before it is reused.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub(crate) enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    /// Bounds every read and write (a timeout of zero would mean "none" to
    /// the standard library, so it is raised to a millisecond).
    pub(crate) fn set_timeouts(&self, timeout: Duration) -> io::Result<()> {
        let timeout = Some(timeout.max(Duration::from_millis(1)));
        match self {
            Stream::Unix(s) => {
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(timeout)?;
                s.set_write_timeout(timeout)
            }
        }
    }

    /// Whether a kept connection can carry the next command: the server sends
    /// nothing unasked, so anything readable now (its end of the stream after
    /// a restart, or an error frame before it closed) means it is finished.
    /// Peeking takes nothing from the stream and does not wait.
    pub(crate) fn is_reusable(&self) -> bool {
        let mut byte = 0u8;
        // SAFETY: a valid descriptor and a one-byte buffer of our own.
        let n = unsafe {
            libc::recv(
                self.as_raw_fd(),
                (&raw mut byte).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // send(MSG_NOSIGNAL): a server that went away is an EPIPE error here,
        // never a SIGPIPE that would kill the calling process (PHP-FPM, C).
        // SAFETY: a valid descriptor and the caller's buffer, `buf.len()` bytes.
        let n = unsafe {
            libc::send(
                self.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
