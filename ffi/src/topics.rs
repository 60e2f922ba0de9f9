//! Topics: subscribing connections and publishing to them.

use std::os::raw::c_char;

use crate::args::{bytes, conn, handle, message_kind, opt_conn, string};
use crate::boundary::call;
use crate::event::{sb_conn_id, sb_message_kind};
use crate::result::sb_result;
use crate::server::sb_server;

/// Adds a connection to `topic` (any UTF-8 name; created on first use). A closed
/// connection leaves all its topics.
///
/// # Safety
/// `server` is NULL or a live server; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_server_subscribe(
    server: *const sb_server,
    id: sb_conn_id,
    topic: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, topic) = unsafe { (handle(server, "server")?, string(topic, "topic")?) };
        server.handle.subscribe(conn(id), topic)?;
        Ok(())
    })
}

/// Removes a connection from `topic` (no error if it was not subscribed).
///
/// # Safety
/// `server` is NULL or a live server; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_server_unsubscribe(
    server: *const sb_server,
    id: sb_conn_id,
    topic: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, topic) = unsafe { (handle(server, "server")?, string(topic, "topic")?) };
        server.handle.unsubscribe(conn(id), topic)?;
        Ok(())
    })
}

/// Sends one message to every subscriber of `topic` except `except` (0: none). Encoded
/// once; the bytes are copied before the call returns. A topic without subscribers is not
/// an error.
///
/// # Safety
/// `server` is NULL or a live server; `topic` is NULL or a NUL-terminated string; `data` is
/// NULL (only with `len` 0) or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sb_server_publish(
    server: *const sb_server,
    topic: *const c_char,
    kind: sb_message_kind,
    data: *const u8,
    len: usize,
    except: sb_conn_id,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, topic, data) = unsafe {
            (
                handle(server, "server")?,
                string(topic, "topic")?,
                bytes(data, len, "data")?,
            )
        };
        server
            .handle
            .publish(topic, message_kind(kind)?, data, opt_conn(except))?;
        Ok(())
    })
}
