//! User binding: many connections (tabs) per user, addressed together.

use std::os::raw::c_char;

use crate::args::{bytes, conn, handle, message_kind, opt_out, out, string, too_small};
use crate::boundary::call;
use crate::event::{sb_conn_id, sb_message_kind};
use crate::result::sb_result;
use crate::server::sb_server;

/// Binds a connection to `user`, replacing an earlier binding. A user may have many
/// connections; the binding ends when the connection closes.
///
/// # Safety
/// `server` is NULL or a live server; `user` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_server_bind_user(
    server: *const sb_server,
    id: sb_conn_id,
    user: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, user) = unsafe { (handle(server, "server")?, string(user, "user")?) };
        server.handle.bind_user(conn(id), user)?;
        Ok(())
    })
}

/// Removes a connection's user binding (no error if it had none).
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn sb_server_unbind_user(
    server: *const sb_server,
    id: sb_conn_id,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let server = unsafe { handle(server, "server") }?;
        server.handle.unbind_user(conn(id))?;
        Ok(())
    })
}

/// Sends one message to every connection bound to `user`, and the number of them to
/// `*count_out` (which may be NULL). No connection is not an error (count 0).
///
/// # Safety
/// `server` is NULL or a live server; `user` is NULL or a NUL-terminated string; `data` is
/// NULL (only with `len` 0) or `len` readable bytes; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_send_to_user(
    server: *const sb_server,
    user: *const c_char,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    count_out: *mut usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, user, data) = unsafe {
            (
                handle(server, "server")?,
                string(user, "user")?,
                bytes(data, len, "data")?,
            )
        };
        let n = server
            .handle
            .send_to_user(user, message_kind(kind)?, data)?;
        // SAFETY: the caller's promise.
        if let Some(slot) = unsafe { opt_out(count_out) } {
            slot.set(n);
        }
        Ok(())
    })
}

/// The open connections bound to `user`: their ids to `ids` (room for `capacity`) and their
/// number to `*count_out`. When `capacity` is too small, nothing is written to `ids`, the
/// number needed goes to `*count_out` and the result is `SB_ERR_BUFFER_TOO_SMALL`. `ids` may
/// be NULL when `capacity` is 0 (to ask for the number).
///
/// # Safety
/// `server` is NULL or a live server; `user` is NULL or a NUL-terminated string; `ids` is
/// NULL or has room for `capacity` ids; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_user_connections(
    server: *const sb_server,
    user: *const c_char,
    ids: *mut sb_conn_id,
    capacity: usize,
    count_out: *mut usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, user, count) = unsafe {
            (
                handle(server, "server")?,
                string(user, "user")?,
                out(count_out, "count_out")?,
            )
        };
        if ids.is_null() && capacity > 0 {
            return Err(crate::failure::Failure::null("ids"));
        }
        let found = server.handle.user_connections(user);
        if found.len() > capacity {
            count.set(found.len());
            return Err(too_small("ids", capacity, found.len()));
        }
        for (i, id) in found.iter().enumerate() {
            // SAFETY: i < found.len() <= capacity, the room the caller promised.
            unsafe { ids.add(i).write(id.as_u64()) };
        }
        count.set(found.len());
        Ok(())
    })
}
