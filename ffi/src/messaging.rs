//! Sending to one connection, to all, and closing.

use std::os::raw::c_char;

use crate::args::{bytes, conn, handle, message_kind, opt_conn, opt_string};
use crate::boundary::call;
use crate::event::{sb_conn_id, sb_message_kind};
use crate::result::sb_result;
use crate::server::sb_server;

/// Sends one message (`SB_TEXT`, which must be UTF-8, or `SB_BINARY`) of `len` bytes to a
/// connection. The bytes are copied before the call returns. Returns once queued; messages
/// sent from one thread to one connection arrive in order. Safe to call from several
/// threads at once. Errors: `SB_ERR_UNKNOWN_CONNECTION` (closed or never existed),
/// `SB_ERR_INVALID_UTF8`, `SB_ERR_INVALID_ARGUMENT` (kind), `SB_ERR_SHUT_DOWN`.
///
/// # Safety
/// `server` is NULL or a live server; `data` is NULL (only with `len` 0) or `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_server_send(
    server: *const sb_server,
    id: sb_conn_id,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, data) = unsafe { (handle(server, "server")?, bytes(data, len, "data")?) };
        server.handle.send(conn(id), message_kind(kind)?, data)?;
        Ok(())
    })
}

/// Starts the close handshake with `code` (1000–1003, 1007–1009, 1011–1014, 3000–4999) and
/// `reason` (NULL: empty; at most 123 bytes). An `SB_EVENT_CLOSE` follows when it is done.
/// Errors: `SB_ERR_INVALID_CLOSE_CODE`, `SB_ERR_REASON_TOO_LONG`,
/// `SB_ERR_UNKNOWN_CONNECTION`, `SB_ERR_SHUT_DOWN`.
///
/// # Safety
/// `server` is NULL or a live server; `reason` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_server_close(
    server: *const sb_server,
    id: sb_conn_id,
    code: u16,
    reason: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, reason) =
            unsafe { (handle(server, "server")?, opt_string(reason, "reason")?) };
        server
            .handle
            .close(conn(id), code, reason.unwrap_or_default())?;
        Ok(())
    })
}

/// Sends one message to every open connection except `except` (0: none). Encoded once;
/// the bytes are copied before the call returns.
///
/// # Safety
/// `server` is NULL or a live server; `data` is NULL (only with `len` 0) or `len` readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_server_broadcast(
    server: *const sb_server,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    except: sb_conn_id,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, data) = unsafe { (handle(server, "server")?, bytes(data, len, "data")?) };
        server
            .handle
            .broadcast(message_kind(kind)?, data, opt_conn(except))?;
        Ok(())
    })
}

/// Hands the commands this thread issued since its last `sb_server_wait` to the I/O
/// threads now. Commands from the thread that calls `sb_server_wait` are corked (the
/// I/O threads are woken once, at its next wait, instead of once per command); call this
/// when that thread sends and will not wait again soon. Without it they go out within
/// about 50 ms, and the readiness fd stays readable meanwhile. In inline mode
/// (`sb_config_threads` 0) this runs one turn of the event loop without waiting, which
/// writes them (unless another thread is in `sb_server_wait`, which then does); without it
/// they go out at the next `sb_server_wait`. Errors: none but a NULL `server`
/// (`SB_ERR_NULL`).
///
/// # Safety
/// `server` is NULL or a live server.
#[no_mangle]
pub unsafe extern "C" fn sb_server_flush(server: *const sb_server) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let server = unsafe { handle(server, "server")? };
        server.handle.flush();
        Ok(())
    })
}
