//! The commands an `sb_client` sends: the same as the `sb_server_*` functions of the same
//! names, executed by the server at the other end of the control socket.

use std::os::raw::c_char;

use crate::args::{bytes, message_kind, opt_out, opt_string, string};
use crate::client::{sb_client, with_client};
use crate::event::{sb_conn_id, sb_message_kind};
use crate::result::sb_result;

/// 0 means nobody, as in `sb_server_broadcast`.
fn except(id: sb_conn_id) -> Option<u64> {
    (id != 0).then_some(id)
}

/// Has the server send one message (`SB_TEXT`, UTF-8, or `SB_BINARY`) to a connection.
/// `SB_ERR_UNKNOWN_CONNECTION` if it is closed or never existed; the connection errors of
/// `sb_client_new`.
///
/// # Safety
/// `client` is NULL or a live client; `data` is NULL (only with `len` 0) or `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_client_send(
    client: *const sb_client,
    id: sb_conn_id,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let data = bytes(data, len, "data")?;
            Ok(c.send(id, message_kind(kind)?, data)?)
        })
    }
}

/// Has the server send one message to every subscriber of `topic` except `except` (0: none).
/// A topic without subscribers is no error.
///
/// # Safety
/// `client` is NULL or a live client; `topic` is NULL or a NUL-terminated string; `data` is
/// NULL (only with `len` 0) or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_client_publish(
    client: *const sb_client,
    topic: *const c_char,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    except_id: sb_conn_id,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let (topic, data) = (string(topic, "topic")?, bytes(data, len, "data")?);
            Ok(c.publish(topic, message_kind(kind)?, data, except(except_id))?)
        })
    }
}

/// Has the server send one message to every connection bound to `user`, and the number of
/// them to `*count_out` (which may be NULL). No connection is no error (count 0).
///
/// # Safety
/// `client` is NULL or a live client; `user` is NULL or a NUL-terminated string; `data` is
/// NULL (only with `len` 0) or `len` readable bytes; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_client_send_to_user(
    client: *const sb_client,
    user: *const c_char,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    count_out: *mut usize,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let (user, data) = (string(user, "user")?, bytes(data, len, "data")?);
            let n = c.send_to_user(user, message_kind(kind)?, data)?;
            if let Some(slot) = opt_out(count_out) {
                slot.set(usize::try_from(n).unwrap_or(usize::MAX));
            }
            Ok(())
        })
    }
}

/// Has the server send one message to every open connection except `except` (0: none).
///
/// # Safety
/// `client` is NULL or a live client; `data` is NULL (only with `len` 0) or `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_client_broadcast(
    client: *const sb_client,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    except_id: sb_conn_id,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let data = bytes(data, len, "data")?;
            Ok(c.broadcast(message_kind(kind)?, data, except(except_id))?)
        })
    }
}

/// Has the server start the close handshake of a connection with `code` (1000–1003,
/// 1007–1009, 1011–1014, 3000–4999) and `reason` (NULL: empty; at most 123 bytes). A code or
/// reason the server refuses gives `SB_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `client` is NULL or a live client; `reason` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_client_close(
    client: *const sb_client,
    id: sb_conn_id,
    code: u16,
    reason: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let reason = opt_string(reason, "reason")?.unwrap_or_default();
            Ok(c.close(id, code, reason)?)
        })
    }
}

/// Has the server add a connection to a topic.
///
/// # Safety
/// `client` is NULL or a live client; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_client_subscribe(
    client: *const sb_client,
    id: sb_conn_id,
    topic: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe { with_client(client, |c| Ok(c.subscribe(id, string(topic, "topic")?)?)) }
}

/// Has the server remove a connection from a topic (no error if it was not subscribed).
///
/// # Safety
/// `client` is NULL or a live client; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_client_unsubscribe(
    client: *const sb_client,
    id: sb_conn_id,
    topic: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe { with_client(client, |c| Ok(c.unsubscribe(id, string(topic, "topic")?)?)) }
}

/// Has the server bind a connection to `user`, replacing an earlier binding.
///
/// # Safety
/// `client` is NULL or a live client; `user` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_client_bind_user(
    client: *const sb_client,
    id: sb_conn_id,
    user: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe { with_client(client, |c| Ok(c.bind_user(id, string(user, "user")?)?)) }
}

/// Has the server remove a connection's user binding (no error if it had none).
///
/// # Safety
/// `client` is NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn sb_client_unbind_user(
    client: *const sb_client,
    id: sb_conn_id,
) -> sb_result {
    // SAFETY: the caller's promise.
    unsafe { with_client(client, |c| Ok(c.unbind_user(id)?)) }
}
