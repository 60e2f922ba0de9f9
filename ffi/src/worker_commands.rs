//! A worker's commands: queued, and written in one write by the next `sb_worker_wait` (or
//! `sb_worker_flush`). They are checked here as `sb_server_*` checks them; the operator then
//! carries them out in order, quietly skipping a connection that has gone meanwhile.

use std::os::raw::c_char;

use engine::control::check::check;
use engine::control::wire::{ErrorCode, Reply, Request};

use crate::args::{bytes, handle_mut, message_kind, opt_out, opt_string, string};
use crate::boundary::call;
use crate::event::{sb_conn_id, sb_message_kind};
use crate::failure::Failure;
use crate::handshake::{sb_accept, to_accept};
use crate::result::sb_result;
use crate::worker::sb_worker;

/// Checks and queues a command.
///
/// # Safety
/// `worker` is NULL or a live worker.
unsafe fn queue(worker: *mut sb_worker, request: Request) -> Result<(), Failure> {
    // SAFETY: the caller's promise.
    let worker = unsafe { handle_mut(worker, "worker") }?;
    check(&request)?;
    worker.conn()?.command(&request);
    Ok(())
}

/// Queues one message (`SB_TEXT`, which must be UTF-8, or `SB_BINARY`) of `len` bytes for a
/// connection; the bytes are copied. Errors: `SB_ERR_INVALID_UTF8`, `SB_ERR_INVALID_ARGUMENT`
/// (kind), `SB_ERR_SHUT_DOWN` (the connection to the operator is closed).
///
/// # Safety
/// `worker` is NULL or a live worker; `data` is NULL (only with `len` 0) or `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_send(
    worker: *mut sb_worker,
    id: sb_conn_id,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let data = unsafe { bytes(data, len, "data") }?.to_vec();
        let kind = message_kind(kind)?;
        // SAFETY: the caller's promise.
        unsafe { queue(worker, Request::Send { id, kind, data }) }
    })
}

/// Queues a message for every subscriber of `topic`, on every worker, except `except`
/// (0: none).
///
/// # Safety
/// `worker` is NULL or a live worker; `topic` is NULL or a NUL-terminated string; `data` is
/// NULL (only with `len` 0) or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_publish(
    worker: *mut sb_worker,
    topic: *const c_char,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    except: sb_conn_id,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (topic, data) = unsafe { (string(topic, "topic")?, bytes(data, len, "data")?) };
        let request = Request::Publish {
            topic: topic.into(),
            kind: message_kind(kind)?,
            data: data.to_vec(),
            except,
        };
        // SAFETY: the caller's promise.
        unsafe { queue(worker, request) }
    })
}

/// Queues a message for every open connection except `except` (0: none).
///
/// # Safety
/// `worker` is NULL or a live worker; `data` is NULL (only with `len` 0) or `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_broadcast(
    worker: *mut sb_worker,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    except: sb_conn_id,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let data = unsafe { bytes(data, len, "data") }?.to_vec();
        let request = Request::Broadcast {
            kind: message_kind(kind)?,
            data,
            except,
        };
        // SAFETY: the caller's promise.
        unsafe { queue(worker, request) }
    })
}

/// Sends one message to every connection bound to `user`. With `count_out` NULL it is queued
/// like the other commands; otherwise it waits for the operator's answer (one round trip,
/// after the commands queued before it) and writes the number of connections reached.
/// Events read meanwhile are kept for the next `sb_worker_wait`; the last batch's pointers
/// stay valid.
///
/// # Safety
/// `worker` is NULL or a live worker; `user` is NULL or a NUL-terminated string; `data` is
/// NULL (only with `len` 0) or `len` readable bytes; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_send_to_user(
    worker: *mut sb_worker,
    user: *const c_char,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    count_out: *mut usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (user, data) = unsafe { (string(user, "user")?, bytes(data, len, "data")?) };
        let request = Request::SendToUser {
            user: user.into(),
            kind: message_kind(kind)?,
            data: data.to_vec(),
        };
        // SAFETY: the caller's promise.
        let Some(slot) = (unsafe { opt_out(count_out) }) else {
            // SAFETY: the caller's promise.
            return unsafe { queue(worker, request) };
        };
        // SAFETY: the caller's promise.
        let worker = unsafe { handle_mut(worker, "worker") }?;
        check(&request)?;
        match worker.with(|conn| conn.ask(&request))? {
            Reply::Ok { count } => {
                slot.set(usize::try_from(count).unwrap_or(usize::MAX));
                Ok(())
            }
            Reply::Error { code, message } => Err(Failure::new(
                match code {
                    ErrorCode::ShutDown => sb_result::SB_ERR_SHUT_DOWN,
                    _ => sb_result::SB_ERR_INVALID_ARGUMENT,
                },
                message,
            )),
            other => Err(Failure::new(
                sb_result::SB_ERR_IO,
                format!("the operator answered {other:?} to a send to a user"),
            )),
        }
    })
}

/// Queues the start of the close handshake with `code` (1000–1003, 1007–1009, 1011–1014,
/// 3000–4999) and `reason` (NULL: empty; at most 123 bytes). Errors:
/// `SB_ERR_INVALID_CLOSE_CODE`, `SB_ERR_REASON_TOO_LONG`.
///
/// # Safety
/// `worker` is NULL or a live worker; `reason` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_close(
    worker: *mut sb_worker,
    id: sb_conn_id,
    code: u16,
    reason: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let reason = unsafe { opt_string(reason, "reason") }?.unwrap_or_default();
        let request = Request::Close {
            id,
            code,
            reason: reason.into(),
        };
        // SAFETY: the caller's promise.
        unsafe { queue(worker, request) }
    })
}

/// Queues adding a connection to `topic`.
///
/// # Safety
/// `worker` is NULL or a live worker; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_subscribe(
    worker: *mut sb_worker,
    id: sb_conn_id,
    topic: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let topic = unsafe { string(topic, "topic") }?.into();
        // SAFETY: the caller's promise.
        unsafe { queue(worker, Request::Subscribe { id, topic }) }
    })
}

/// Queues removing a connection from `topic`.
///
/// # Safety
/// `worker` is NULL or a live worker; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_unsubscribe(
    worker: *mut sb_worker,
    id: sb_conn_id,
    topic: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let topic = unsafe { string(topic, "topic") }?.into();
        // SAFETY: the caller's promise.
        unsafe { queue(worker, Request::Unsubscribe { id, topic }) }
    })
}

/// Queues binding a connection to `user` (a user may have many connections).
///
/// # Safety
/// `worker` is NULL or a live worker; `user` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_bind_user(
    worker: *mut sb_worker,
    id: sb_conn_id,
    user: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let user = unsafe { string(user, "user") }?.into();
        // SAFETY: the caller's promise.
        unsafe { queue(worker, Request::BindUser { id, user }) }
    })
}

/// Queues removing a connection's user binding.
///
/// # Safety
/// `worker` is NULL or a live worker.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_unbind_user(
    worker: *mut sb_worker,
    id: sb_conn_id,
) -> sb_result {
    // SAFETY: the caller's promise.
    call(|| unsafe { queue(worker, Request::UnbindUser { id }) })
}

/// Queues accepting a pending handshake (`SB_EVENT_OPEN` with `pending`, when the operator
/// runs with `--authorize`); `accept` may be NULL. No second open event follows: the
/// connection is open once the operator has carried it out.
///
/// # Safety
/// `worker` is NULL or a live worker; `accept` is NULL or valid, its strings NULL or
/// NUL-terminated, `headers` pointing to `header_count` entries.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_accept(
    worker: *mut sb_worker,
    id: sb_conn_id,
    accept: *const sb_accept,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let answer = match unsafe { accept.as_ref() } {
            None => Default::default(),
            // SAFETY: the caller's promise about the struct's contents.
            Some(a) => unsafe { to_accept(a) }?,
        };
        let request = Request::Accept {
            id,
            subprotocol: answer.subprotocol,
            headers: answer.headers,
            user: answer.user,
        };
        // SAFETY: the caller's promise.
        unsafe { queue(worker, request) }
    })
}

/// Queues refusing a pending handshake with an HTTP `status` (400–599) and a short plain-text
/// `body` (NULL: empty). Errors: `SB_ERR_INVALID_STATUS`.
///
/// # Safety
/// `worker` is NULL or a live worker; `body` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_reject(
    worker: *mut sb_worker,
    id: sb_conn_id,
    status: u16,
    body: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let body = unsafe { opt_string(body, "body") }?.unwrap_or_default();
        let request = Request::Reject {
            id,
            status,
            body: body.into(),
        };
        // SAFETY: the caller's promise.
        unsafe { queue(worker, request) }
    })
}
