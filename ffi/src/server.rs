//! `sb_server`: starting, addresses, the readiness descriptor, shutdown and free.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::sync::{Mutex, MutexGuard};

use engine::control::server::{ControlOptions, ControlServer};
use engine::server::{Handle, Server};

use crate::args::{free_handle, handle, into_handle, opt_out, out};
use crate::batch::Batch;
use crate::boundary::{call, guard};
use crate::config::sb_config;
use crate::failure::Failure;
use crate::result::sb_result;

/// A running server: owned by the caller, made by `sb_server_start`, freed by
/// `sb_server_free`. Thread-safe: every function taking it may be called from any thread at
/// the same time, except `sb_server_wait` (one thread at a time) and `sb_server_free` (alone).
pub struct sb_server {
    pub(crate) handle: Handle,
    /// `None` once shut down.
    server: Mutex<Option<Server>>,
    /// The control socket, if configured; stopped before the server.
    control: Mutex<Option<ControlServer>>,
    addrs: Vec<(CString, u16)>,
    batch: Mutex<Batch>,
}

// The thread-safety the header promises, checked: C may use a server from any thread.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<sb_server>();
};

impl sb_server {
    /// The batch of the caller that is now in `sb_server_wait`, or `SB_ERR_BUSY`.
    pub(crate) fn batch(&self) -> Result<MutexGuard<'_, Batch>, Failure> {
        match self.batch.try_lock() {
            Ok(batch) => Ok(batch),
            // A panic inside an earlier wait: the batch is cleared before every use anyway.
            Err(std::sync::TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Err(Failure::new(
                sb_result::SB_ERR_BUSY,
                "another thread is in sb_server_wait on this server",
            )),
        }
    }
}

/// Validates the configuration, binds every listen address, starts the I/O threads (none
/// in inline mode, see `sb_config_threads`) and stores the server in `*server_out`. The
/// configuration is copied. The bound addresses (with the ports actually chosen) are then
/// available from `sb_server_addr`.
///
/// Errors: `SB_ERR_CONFIG` (the message names the option), `SB_ERR_IO` (an address could not
/// be bound, a thread not started).
///
/// # Safety
/// `config` is NULL or a live config; `server_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_start(
    config: *const sb_config,
    server_out: *mut *mut sb_server,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let config = unsafe { handle(config, "config") }?;
        // SAFETY: the caller's promise.
        let slot = unsafe { out(server_out, "server_out") }?;
        let server = Server::start(config.inner())?;
        let control = match &config.control {
            Some(address) => {
                let options = ControlOptions {
                    secret: config.control_secret.clone(),
                    ..ControlOptions::default()
                };
                // On an error the server is dropped here: shut down at once.
                Some(ControlServer::start(server.handle(), address, options)?)
            }
            None => None,
        };
        let addrs = server
            .local_addrs()
            .iter()
            .map(|a| {
                let text = CString::new(a.to_string()).unwrap_or_default();
                (text, a.port())
            })
            .collect();
        slot.set(into_handle(sb_server {
            handle: server.handle(),
            server: Mutex::new(Some(server)),
            control: Mutex::new(control),
            addrs,
            batch: Mutex::new(Batch::default()),
        }));
        Ok(())
    })
}

/// How many addresses the server listens on (one per `sb_config_listen`); 0 for NULL.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn sb_server_addr_count(server: *const sb_server) -> usize {
    guard(|| {
        // SAFETY: the caller's promise.
        unsafe { handle(server, "server") }.map_or(0, |s| s.addrs.len())
    })
}

/// The bound address number `index` (in the order configured), such as `"127.0.0.1:40321"`,
/// in `*addr_out`, and its port in `*port_out` (which may be NULL). The string belongs to the
/// server and lives as long as it. `SB_ERR_INVALID_ARGUMENT` if `index` is too large.
///
/// # Safety
/// `server` is NULL or a live server; `addr_out` and `port_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_addr(
    server: *const sb_server,
    index: usize,
    addr_out: *mut *const c_char,
    port_out: *mut u16,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let server = unsafe { handle(server, "server") }?;
        // SAFETY: the caller's promise.
        let addr_slot = unsafe { out(addr_out, "addr_out") }?;
        let (text, port) = server.addrs.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "address index {index}: the server has {}",
                server.addrs.len()
            ))
        })?;
        addr_slot.set(text.as_ptr());
        // SAFETY: the caller's promise.
        if let Some(port_slot) = unsafe { opt_out(port_out) } {
            port_slot.set(*port);
        }
        Ok(())
    })
}

/// A descriptor that is readable while events are waiting, for the caller's own
/// `poll`/`epoll`/libuv loop: when it is readable, call `sb_server_wait` with timeout 0
/// (it may rarely find nothing; just poll again). It also becomes readable when the server
/// has shut down. In inline mode (`sb_config_threads` 0) it is the event loop's epoll fd,
/// readable when clients or queued events need a `sb_server_wait`; call `sb_server_wait`
/// at least every 50 ms or so anyway, since timers (pings, timeouts) advance only inside
/// it. It belongs to the server: do not read, write or close it.
///
/// # Safety
/// `server` is NULL or a live server; `fd_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_event_fd(
    server: *const sb_server,
    fd_out: *mut c_int,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let server = unsafe { handle(server, "server") }?;
        // SAFETY: the caller's promise.
        let slot = unsafe { out(fd_out, "fd_out") }?;
        slot.set(server.handle.event_fd());
        Ok(())
    })
}

/// Reads the TLS certificate and key files of `sb_config_tls` again (a renewed certificate),
/// without a restart: new connections use them, open ones keep their session.
/// `SB_ERR_CONFIG` (the message names the file) leaves the certificate in use as it was,
/// also when the server has no TLS.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn sb_server_reload_tls(server: *const sb_server) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let server = unsafe { handle(server, "server") }?;
        server.handle.reload_tls()?;
        Ok(())
    })
}

/// Graceful shutdown, blocking until done: stops accepting, delivers every command already
/// issued, closes every client with 1001 and waits for their replies (up to the close
/// timeout), then releases all sockets and threads. Afterwards the final `SB_EVENT_CLOSE`
/// events can still be taken with `sb_server_wait`, which returns `SB_ERR_SHUT_DOWN` once
/// none is left; other calls return `SB_ERR_SHUT_DOWN`. Calling it again does nothing.
/// May be called from any thread, also while another is blocked in `sb_server_wait`.
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn sb_server_shutdown(server: *const sb_server) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let server = unsafe { handle(server, "server") }?;
        // Take them out first: no lock is held while the shutdown blocks.
        let control = server
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(control); // stops serving the control socket
        let running = server
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(running) = running {
            running.shutdown();
        }
        Ok(())
    })
}

/// Shuts the server down (as `sb_server_shutdown`, if not done yet) and frees it, with every
/// pointer it handed out. NULL is ignored.
///
/// # Safety
/// `server` is NULL or came from `sb_server_start` and was not freed before; no other thread
/// uses it during or after the call.
#[no_mangle]
pub unsafe extern "C" fn sb_server_free(server: *mut sb_server) {
    // SAFETY: the caller's promise. Dropping the engine's Server shuts it down gracefully.
    guard(|| unsafe { free_handle(server) })
}
