//! Nonblocking TCP connects, spreading source addresses over 127.0.0.0/8 so
//! that tens of thousands of connections never run short of ephemeral ports.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;

use mio::net::TcpStream;
use socket2::{Domain, Protocol, Socket, Type};

/// Source addresses used: 127.0.0.2 onwards, round robin.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    /// How many distinct addresses (0: let the kernel choose).
    pub spread: u32,
    /// Offset of this process's first connection, so that worker processes
    /// continue the round robin where the previous one stopped.
    pub offset: u64,
}

impl Sources {
    pub fn for_index(&self, target: SocketAddr, i: u64) -> Option<Ipv4Addr> {
        if self.spread == 0 || !matches!(target.ip(), IpAddr::V4(v4) if v4.is_loopback()) {
            return None;
        }
        let n = 2 + ((self.offset + i) % u64::from(self.spread)) as u32;
        Some(Ipv4Addr::from(0x7f00_0000u32 + n))
    }
}

/// Starts a nonblocking connect to `target`, from `source` when given.
pub fn connect(target: SocketAddr, source: Option<Ipv4Addr>) -> io::Result<TcpStream> {
    // Nonblocking from the start: two system calls fewer per connection.
    let socket = Socket::new(
        Domain::for_address(target),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if let Some(ip) = source {
        // Choose the port at connect time, per destination, not at bind time.
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads an int of the given size from a valid pointer.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        socket.bind(&SocketAddr::new(IpAddr::V4(ip), 0).into())?;
    }
    match socket.connect(&target.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    socket.set_nodelay(true)?;
    Ok(TcpStream::from_std(socket.into()))
}
