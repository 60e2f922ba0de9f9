//! Authorizing handshakes: reading the request, accepting or rejecting it.

use std::os::raw::c_char;

use engine::server::Accept;

use crate::args::{conn, handle, opt_string, out, string};
use crate::boundary::call;
use crate::event::{sb_conn_id, sb_header, sb_open, sb_str};
use crate::failure::Failure;
use crate::result::sb_result;
use crate::server::sb_server;

/// An extra header for the `101` response, such as `Set-Cookie`.
#[repr(C)]
pub struct sb_response_header {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// How to accept a pending handshake; every field may be NULL/0 (a zeroed struct, or a NULL
/// `sb_accept *`, accepts as proposed).
#[repr(C)]
pub struct sb_accept {
    /// Overrides the proposed subprotocol; must be one the client offered.
    pub subprotocol: *const c_char,
    /// Binds the connection to this user at once (as `sb_server_bind_user`).
    pub user: *const c_char,
    /// `header_count` extra response headers.
    pub headers: *const sb_response_header,
    pub header_count: usize,
}

/// The value of the first request header named `name` (compared case-insensitively) in
/// `*value_out`; `SB_ERR_NOT_FOUND` if there is none. The value lives as long as `open`.
///
/// # Safety
/// `open` is NULL or an `sb_open` from `sb_server_wait` still valid; `name` is NULL or a
/// NUL-terminated string; `value_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_open_header(
    open: *const sb_open,
    name: *const c_char,
    value_out: *mut sb_str,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (open, name, slot) = unsafe {
            (
                handle(open, "open")?,
                string(name, "name")?,
                out(value_out, "value_out")?,
            )
        };
        let headers: &[sb_header] = if open.header_count == 0 {
            &[]
        } else {
            // SAFETY: the library wrote `header_count` headers at `headers`, valid as long
            // as `open` is.
            unsafe { std::slice::from_raw_parts(open.headers, open.header_count) }
        };
        let found = headers.iter().find(|h| {
            // SAFETY: library strings are `len` valid bytes.
            let bytes = unsafe { std::slice::from_raw_parts(h.name.ptr.cast::<u8>(), h.name.len) };
            bytes.eq_ignore_ascii_case(name.as_bytes())
        });
        let header = found.ok_or_else(|| {
            Failure::new(sb_result::SB_ERR_NOT_FOUND, format!("no {name} header"))
        })?;
        slot.set(header.value);
        Ok(())
    })
}

/// Completes a pending handshake (see `sb_config_authorize`) with `101 Switching
/// Protocols`. `accept` may be NULL. Errors: `SB_ERR_NOT_PENDING` (not waiting, or already
/// decided), `SB_ERR_SUBPROTOCOL_NOT_OFFERED`, `SB_ERR_INVALID_HEADER`,
/// `SB_ERR_UNKNOWN_CONNECTION`, `SB_ERR_INVALID_ARGUMENT` (a string that is not UTF-8).
///
/// # Safety
/// `server` is NULL or a live server; `accept` is NULL or valid, its strings NULL or
/// NUL-terminated, `headers` pointing to `header_count` entries.
#[no_mangle]
pub unsafe extern "C" fn sb_server_accept(
    server: *const sb_server,
    id: sb_conn_id,
    accept: *const sb_accept,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let server = unsafe { handle(server, "server") }?;
        // SAFETY: the caller's promise.
        let answer = match unsafe { accept.as_ref() } {
            None => Accept::default(),
            // SAFETY: the caller's promise about the struct's contents.
            Some(a) => unsafe { to_accept(a) }?,
        };
        server.handle.accept(conn(id), answer)?;
        Ok(())
    })
}

/// # Safety
/// As for `sb_server_accept`.
pub(crate) unsafe fn to_accept(a: &sb_accept) -> Result<Accept, Failure> {
    let mut headers = Vec::with_capacity(a.header_count);
    if a.header_count > 0 {
        if a.headers.is_null() {
            return Err(Failure::null("accept->headers"));
        }
        // SAFETY: the caller promises `header_count` entries.
        let given = unsafe { std::slice::from_raw_parts(a.headers, a.header_count) };
        for h in given {
            // SAFETY: the caller promises NUL-terminated strings.
            let (name, value) = unsafe {
                (
                    string(h.name, "header name")?,
                    string(h.value, "header value")?,
                )
            };
            headers.push((name.to_string(), value.to_string()));
        }
    }
    // SAFETY: the caller promises NUL-terminated strings or NULL.
    let (subprotocol, user) = unsafe {
        (
            opt_string(a.subprotocol, "accept->subprotocol")?,
            opt_string(a.user, "accept->user")?,
        )
    };
    Ok(Accept {
        subprotocol: subprotocol.map(Into::into),
        headers,
        user: user.map(Into::into),
    })
}

/// Refuses a pending handshake with an HTTP `status` (400–599) and a short plain-text `body`
/// (NULL: empty). An `SB_EVENT_CLOSE` follows for the id. Errors: `SB_ERR_INVALID_STATUS`,
/// `SB_ERR_NOT_PENDING`, `SB_ERR_UNKNOWN_CONNECTION`.
///
/// # Safety
/// `server` is NULL or a live server; `body` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_server_reject(
    server: *const sb_server,
    id: sb_conn_id,
    status: u16,
    body: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, body) = unsafe { (handle(server, "server")?, opt_string(body, "body")?) };
        server
            .handle
            .reject(conn(id), status, body.unwrap_or_default())?;
        Ok(())
    })
}
