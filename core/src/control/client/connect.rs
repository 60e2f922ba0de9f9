//! Connecting to a control address within a timeout.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use super::stream::Stream;
use crate::control::address::ControlAddress;

/// Connects, giving up after `timeout` (per resolved address for TCP).
pub(crate) fn connect(address: &ControlAddress, timeout: Duration) -> io::Result<Stream> {
    match address {
        ControlAddress::Unix(path) => {
            let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
            socket.connect_timeout(&SockAddr::unix(path)?, timeout)?;
            Ok(Stream::Unix(UnixStream::from(socket)))
        }
        ControlAddress::Tcp(host_port) => {
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
