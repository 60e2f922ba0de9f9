//! A worker's readiness descriptor, for programs with an event loop of their
//! own (`stream_select`, Revolt, libuv): readable while the worker has work,
//! that is, bytes from the operator in its socket, events it already read
//! (while waiting for a reply, say) and not yet handed out, or commands to
//! write.
//!
//! It is an epoll descriptor watching the socket and a flag descriptor, both
//! level-triggered and never waited on here: `poll(2)` and `select(2)` report
//! an epoll descriptor readable for as long as one of them is.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::bridge::flag_fd::FlagFd;

pub(crate) struct Readiness {
    epoll: OwnedFd,
    /// Raised while events or commands wait in the worker itself.
    pending: FlagFd,
    raised: bool,
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
        let pending = FlagFd::new()?;
        watch(&epoll, socket)?;
        watch(&epoll, pending.as_raw_fd())?;
        Ok(Readiness {
            epoll,
            pending,
            raised: false,
        })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }

    /// Whether work waits in the worker: a system call only on a change.
    pub(crate) fn set_pending(&mut self, pending: bool) {
        if pending == self.raised {
            return;
        }
        self.raised = pending;
        if pending {
            self.pending.raise();
        } else {
            self.pending.lower();
        }
    }
}
