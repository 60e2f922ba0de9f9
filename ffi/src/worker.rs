//! `sb_worker`: a process's handlers attached to the control socket of the `switchboard`
//! operator, which holds the connections: connecting, taking events, detaching, freeing.
//! The commands are in `worker_commands.rs`.

use std::os::raw::{c_char, c_int};
use std::time::Duration;

use engine::control::address::ControlAddress;
use engine::control::wire::{ConnFacts, Reply, Request, ToWorker};
use engine::control::worker::{Worker, WorkerError};
use engine::control::worker_event::to_event;

use crate::args::{free_handle, handle_mut, into_handle, opt_string, out, string};
use crate::batch::Batch;
use crate::boundary::{call, guard};
use crate::client::remote_code;
use crate::event::{sb_conn_id, sb_event};
use crate::failure::Failure;
use crate::info::{sb_conn_info, OwnedInfo};
use crate::result::sb_result;
use crate::worker_open::Extras;

/// A worker attached to an operator: made by `sb_worker_connect`, freed by `sb_worker_free`.
/// Not thread-safe: use it from one thread at a time.
pub struct sb_worker {
    /// `None` once the connection broke.
    conn: Option<Worker>,
    /// `Detached` came: nothing follows.
    detached: bool,
    batch: Batch,
    pub(crate) extras: Extras,
}

impl sb_worker {
    /// The connection, or why there is none.
    pub(crate) fn conn(&mut self) -> Result<&mut Worker, Failure> {
        self.conn.as_mut().ok_or_else(|| {
            Failure::new(
                sb_result::SB_ERR_SHUT_DOWN,
                "the connection to the operator is closed",
            )
        })
    }

    /// Runs `f` on the connection; an error closes it (the operator hands this worker's
    /// connections to another).
    pub(crate) fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Worker) -> Result<T, WorkerError>,
    ) -> Result<T, Failure> {
        let result = f(self.conn()?);
        if result.is_err() {
            self.conn = None;
        }
        result.map_err(failure)
    }
}

/// The code and message for a worker's error.
pub(crate) fn failure(error: WorkerError) -> Failure {
    let code = match error {
        WorkerError::Refused(_) => sb_result::SB_ERR_REFUSED,
        _ => sb_result::SB_ERR_IO,
    };
    Failure::new(code, error.to_string())
}

/// Connects to the operator's control socket at `address` (`unix:/path/to.sock` or
/// `tcp:HOST:PORT`) with `secret` (its `--control-secret`; NULL: none) and attaches as a
/// worker: the operator starts handing it connections, whose events `sb_worker_wait` takes.
///
/// Errors: `SB_ERR_INVALID_ARGUMENT` (a malformed address), `SB_ERR_IO` (the socket cannot be
/// reached), `SB_ERR_REFUSED` (a wrong secret, an operator that takes no workers).
///
/// # Safety
/// `address` is NULL or a NUL-terminated string; `secret` is NULL or a NUL-terminated string;
/// `worker_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_connect(
    address: *const c_char,
    secret: *const c_char,
    worker_out: *mut *mut sb_worker,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (address, secret, slot) = unsafe {
            (
                string(address, "address")?,
                opt_string(secret, "secret")?,
                out(worker_out, "worker_out")?,
            )
        };
        let address = ControlAddress::parse(address).map_err(Failure::invalid)?;
        let conn = Worker::connect(&address, secret).map_err(failure)?;
        slot.set(into_handle(sb_worker {
            conn: Some(conn),
            detached: false,
            batch: Batch::default(),
            extras: Extras::default(),
        }));
        Ok(())
    })
}

/// Writes the commands given since the last call, then waits up to `timeout_ms` milliseconds
/// (0: do not wait; negative: until one arrives) for events and writes up to `capacity` of
/// them to `events`, their number to `*count_out` (0 when the time ran out). Events are those
/// of `sb_server_wait`; for an open event, `sb_worker_open_info` tells whether the connection
/// was taken over from another worker, with its user and topics. The pointers inside the
/// events stay valid until the next `sb_worker_wait` or `sb_worker_free`.
///
/// After `sb_worker_detach`, returns `SB_ERR_SHUT_DOWN` (writing nothing) once the last
/// event was taken. `SB_ERR_IO` when the connection to the operator broke.
///
/// # Safety
/// `worker` is NULL or a live worker; `events` is NULL or points to `capacity` writable
/// `sb_event`s; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_wait(
    worker: *mut sb_worker,
    events: *mut sb_event,
    capacity: usize,
    timeout_ms: c_int,
    count_out: *mut usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (worker, count) =
            unsafe { (handle_mut(worker, "worker")?, out(count_out, "count_out")?) };
        if events.is_null() {
            return Err(Failure::null("events"));
        }
        if capacity == 0 {
            return Err(Failure::invalid("capacity must be at least 1"));
        }
        worker.batch.clear();
        worker.extras.clear();
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let mut read = Vec::new();
        worker.with(|conn| conn.poll(&mut read, capacity, timeout))?;
        for frame in read {
            if let ToWorker::Open(open) = &frame {
                worker.extras.add(open);
            }
            worker.detached |= frame == ToWorker::Detached;
            worker.batch.events.extend(to_event(frame));
        }
        let n = worker.batch.events.len();
        if n == 0 && worker.detached {
            return Err(Failure::new(
                sb_result::SB_ERR_SHUT_DOWN,
                "the worker has detached and every event was taken",
            ));
        }
        worker.extras.link();
        // SAFETY: n <= capacity, and the caller promised `capacity` writable events.
        unsafe { worker.batch.write_to(events) };
        count.set(n);
        Ok(())
    })
}

/// A descriptor that is readable while `sb_worker_wait` has work: events to hand out (in the
/// socket from the operator, or already read, by a `sb_worker_send_to_user` with a count,
/// say) or commands to write, for the caller's own `poll`/`epoll`/libuv loop: when it is
/// readable, call `sb_worker_wait` with timeout 0. It belongs to the worker: do not read, write or close it.
/// Errors: `SB_ERR_IO` if it cannot be created, `SB_ERR_SHUT_DOWN` once the connection broke.
///
/// # Safety
/// `worker` is NULL or a live worker; `fd_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_fd(worker: *mut sb_worker, fd_out: *mut c_int) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (worker, slot) = unsafe { (handle_mut(worker, "worker")?, out(fd_out, "fd_out")?) };
        slot.set(worker.with(Worker::readiness_fd)?);
        Ok(())
    })
}

/// A snapshot of an open connection, as the operator knows it, in `*info_out` (one round
/// trip, after the commands queued before it); free it with `sb_conn_info_free`.
/// Errors: `SB_ERR_UNKNOWN_CONNECTION`, `SB_ERR_IO`, `SB_ERR_SHUT_DOWN`.
///
/// # Safety
/// `worker` is NULL or a live worker; `info_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_info(
    worker: *mut sb_worker,
    id: sb_conn_id,
    info_out: *mut *mut sb_conn_info,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (worker, slot) = unsafe { (handle_mut(worker, "worker")?, out(info_out, "info_out")?) };
        let facts: ConnFacts = match worker.with(|conn| conn.ask(&Request::Info { id }))? {
            Reply::Info(facts) => *facts,
            Reply::Error { code, message } => return Err(Failure::new(remote_code(code), message)),
            other => {
                return Err(Failure::new(
                    sb_result::SB_ERR_IO,
                    format!("the operator answered {other:?} to INFO"),
                ))
            }
        };
        slot.set(OwnedInfo::new(&facts).into_c());
        Ok(())
    })
}

/// Writes the commands given so far now (`sb_worker_wait` does it first).
///
/// # Safety
/// `worker` is NULL or a live worker.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_flush(worker: *mut sb_worker) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let worker = unsafe { handle_mut(worker, "worker") }?;
        worker.with(Worker::flush)
    })
}

/// Detaches gracefully, for a restart without loss: the operator sends no new event, and
/// gives this worker's connections to the other workers once this one is freed. Keep
/// calling `sb_worker_wait` and handling its events (replies are still delivered) until it
/// returns `SB_ERR_SHUT_DOWN`, then call `sb_worker_free`.
///
/// # Safety
/// `worker` is NULL or a live worker.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_detach(worker: *mut sb_worker) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let worker = unsafe { handle_mut(worker, "worker") }?;
        worker.with(|conn| {
            conn.detach();
            conn.flush()
        })
    })
}

/// Writes the commands given so far, closes the connection to the operator and frees the
/// worker, with every pointer it handed out. Without a detach first, the events the operator
/// had sent and this worker had not taken are lost. NULL is ignored.
///
/// # Safety
/// `worker` is NULL or came from `sb_worker_connect` and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_free(worker: *mut sb_worker) {
    guard(|| {
        // SAFETY: the caller's promise.
        if let Ok(worker) = unsafe { handle_mut(worker, "worker") } {
            if let Some(conn) = worker.conn.as_mut() {
                let _ = conn.flush();
            }
        }
        // SAFETY: the caller's promise.
        unsafe { free_handle(worker) }
    })
}
