//! A worker's readiness descriptor, for programs with an event loop of their
//! own (`stream_select`, Revolt, libuv): readable while the worker has work,
//! that is, bytes from the operator in its socket or events it already read
//! (while waiting for a reply, say) and not yet handed out.
//!
//! It is an epoll descriptor watching the socket and an eventfd, both
//! level-triggered and never waited on here: `poll(2)` and `select(2)` report
//! an epoll descriptor readable for as long as one of them is.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub(crate) struct Readiness {
    epoll: OwnedFd,
    /// Non-zero while events wait in the worker itself.
    pending: OwnedFd,
    set: bool,
}

fn check(result: libc::c_int, what: &str) -> io::Result<libc::c_int> {
    if result < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    Ok(result)
}

fn watch(epoll: &OwnedFd, fd: RawFd) -> io::Result<()> {
    let mut interest = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: fd as u64,
    };
    // SAFETY: both descriptors are open; `interest` lives for the call.
    let added =
        unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut interest) };
    check(added, "watching the worker's socket").map(drop)
}

impl Readiness {
    pub(crate) fn new(socket: RawFd) -> io::Result<Readiness> {
        // SAFETY: plain system calls; each result is checked before it is owned.
        let epoll = check(
            unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
            "creating the readiness descriptor",
        )?;
        // SAFETY: `epoll` was just created and is owned by nobody else.
        let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
        // SAFETY: as above.
        let pending = check(
            unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) },
            "creating the readiness descriptor",
        )?;
        // SAFETY: as above.
        let pending = unsafe { OwnedFd::from_raw_fd(pending) };
        watch(&epoll, socket)?;
        watch(&epoll, pending.as_raw_fd())?;
        Ok(Readiness {
            epoll,
            pending,
            set: false,
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// Whether events wait in the worker: a system call only on a change.
    pub(crate) fn set_pending(&mut self, pending: bool) {
        if pending == self.set {
            return;
        }
        self.set = pending;
        let mut value: u64 = 1;
        let buf = std::ptr::addr_of_mut!(value).cast::<libc::c_void>();
        // SAFETY: 8 bytes of `value`, as eventfd reads and writes them. The
        // descriptor is non-blocking; neither call can fail but by overflow,
        // which one pending bit never reaches.
        unsafe {
            if pending {
                libc::write(self.pending.as_raw_fd(), buf, 8);
            } else {
                libc::read(self.pending.as_raw_fd(), buf, 8);
            }
        }
    }
}
