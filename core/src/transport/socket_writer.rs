//! Writes to a connection's socket with `send` or `sendmsg`, with `MSG_NOSIGNAL`.
//!
//! A write to a peer that has gone away must be an error, never a SIGPIPE: Rust
//! programs ignore that signal, but C and PHP host processes do not, and its
//! default action ends the process. Both also take the socket's own path in the
//! kernel, shorter than `writev`'s file path; `send`, for one buffer, spares the
//! kernel copying in a message header and an iovec array.

use std::io::{self, IoSlice, Write};
use std::os::fd::{AsRawFd, RawFd};

pub(crate) struct SocketWriter(RawFd);

impl SocketWriter {
    pub(crate) fn of(socket: &impl AsRawFd) -> SocketWriter {
        SocketWriter(socket.as_raw_fd())
    }
}

impl Write for SocketWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for reads of its length during the call.
        let n = unsafe { libc::send(self.0, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if let [one] = bufs {
            return self.write(one);
        }
        // SAFETY: an all-zero msghdr is valid (no address, no control data).
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        // IoSlice has the layout of iovec; the kernel only reads them.
        message.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        message.msg_iovlen = bufs.len();
        // SAFETY: `message` points at `bufs`, which outlive the call.
        let n = unsafe { libc::sendmsg(self.0, &message, libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
