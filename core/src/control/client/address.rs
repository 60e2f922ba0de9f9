//! A control address (`unix:/path` or `tcp:HOST:PORT`) and connecting to it
//! within a timeout.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use super::stream::Stream;

/// Where the control socket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    /// `HOST:PORT`, resolved at each connect (the host may be a name).
    Tcp(String),
}

impl Address {
    /// Parses `unix:/path` or `tcp:HOST:PORT`; the error says what is expected.
    pub fn parse(text: &str) -> Result<Address, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a socket path, as in unix:/run/switchboard.sock".into());
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if let Some(host_port) = text.strip_prefix("tcp:") {
            let port = host_port
                .rsplit_once(':')
                .filter(|(host, _)| !host.is_empty())
                .and_then(|(_, port)| port.parse::<u16>().ok())
                .filter(|port| *port != 0);
            if port.is_none() {
                return Err(format!(
                    "tcp: needs HOST:PORT with a port from 1 to 65535, as in tcp:127.0.0.1:7001 (got {host_port:?})"
                ));
            }
            return Ok(Address::Tcp(host_port.to_owned()));
        }
        Err(format!(
            "{text:?} is not a control address: use unix:/path/to.sock or tcp:HOST:PORT"
        ))
    }

    /// Connects, giving up after `timeout` (per resolved address for TCP).
    pub(crate) fn connect(&self, timeout: Duration) -> io::Result<Stream> {
        match self {
            Address::Unix(path) => {
                let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
                socket.connect_timeout(&SockAddr::unix(path)?, timeout)?;
                Ok(Stream::Unix(UnixStream::from(socket)))
            }
            Address::Tcp(host_port) => {
                let mut last = None;
                for addr in host_port.to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, timeout) {
                        Ok(tcp) => {
                            // Commands are small and each waits for its reply.
                            tcp.set_nodelay(true)?;
                            return Ok(Stream::Tcp(tcp));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "the host has no address")
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_or_say_what_is_expected() {
        assert_eq!(
            Address::parse("unix:/tmp/x.sock"),
            Ok(Address::Unix("/tmp/x.sock".into()))
        );
        assert_eq!(
            Address::parse("tcp:127.0.0.1:7001"),
            Ok(Address::Tcp("127.0.0.1:7001".into()))
        );
        assert_eq!(
            Address::parse("tcp:[::1]:7001"),
            Ok(Address::Tcp("[::1]:7001".into()))
        );
        for bad in [
            "",
            "unix:",
            "/tmp/x.sock",
            "tcp:",
            "tcp:host",
            "tcp::80",
            "tcp:h:0",
            "tcp:h:99999",
            "udp:h:1",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
    }
}
