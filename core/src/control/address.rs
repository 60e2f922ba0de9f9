//! Where a control socket is: `unix:/path/to.sock` or `tcp:HOST:PORT`, and the
//! stream either gives.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// A control socket's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlAddress {
    Unix(PathBuf),
    /// `HOST:PORT`, resolved when used.
    Tcp(String),
}

impl ControlAddress {
    /// Parses `unix:/path` or `tcp:HOST:PORT`; the error says what is expected.
    pub fn parse(text: &str) -> Result<ControlAddress, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(format!("{text:?}: the socket path is empty"));
            }
            return Ok(ControlAddress::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = text.strip_prefix("tcp:") {
            let port = addr.rsplit_once(':').map(|(_, port)| port.parse::<u16>());
            if !matches!(port, Some(Ok(_))) {
                return Err(format!("{text:?}: expected tcp:HOST:PORT"));
            }
            return Ok(ControlAddress::Tcp(addr.to_string()));
        }
        Err(format!(
            "{text:?}: expected unix:/path/to.sock or tcp:HOST:PORT"
        ))
    }
}

impl std::fmt::Display for ControlAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlAddress::Unix(path) => write!(f, "unix:{}", path.display()),
            ControlAddress::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// A connected control stream.
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
        })
    }

    pub fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }

    /// Writes what the socket takes now without blocking (`MSG_DONTWAIT`);
    /// how many bytes that was.
    pub fn send_now(&self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for `buf.len()` bytes during the call, and
        // the descriptor is open while `self` lives.
        let n = unsafe {
            libc::send(
                self.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
                _ => Err(e),
            };
        }
        Ok(n as usize)
    }

    /// Writes all of `buf`, blocking, through a shared reference (another
    /// thread may `send_now` meanwhile only when the caller serializes them).
    pub fn write_all_shared(&self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Unix(s) => (&*s).write_all(buf),
            Stream::Tcp(s) => (&*s).write_all(buf),
        }
    }

    pub fn shutdown(&self) {
        // Already closed is fine.
        let _ = match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
        };
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
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_or_say_what_is_expected() {
        assert_eq!(
            ControlAddress::parse("unix:/run/sb.sock"),
            Ok(ControlAddress::Unix("/run/sb.sock".into()))
        );
        assert_eq!(
            ControlAddress::parse("tcp:127.0.0.1:9100"),
            Ok(ControlAddress::Tcp("127.0.0.1:9100".into()))
        );
        for bad in ["unix:", "tcp:127.0.0.1", "tcp:x:99999", "/run/sb.sock", ""] {
            let e = ControlAddress::parse(bad).unwrap_err();
            assert!(e.contains("expected") || e.contains("empty"), "{e}");
        }
    }
}
