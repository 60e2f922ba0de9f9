//! `sb_conn_info`: facts about one open connection, as an owned snapshot.

use engine::control::wire::ConnFacts;

use crate::args::{conn, free_handle, handle, out};
use crate::boundary::{call, guard};
use crate::event::{sb_conn_id, sb_str};
use crate::result::sb_result;
use crate::server::sb_server;

/// A snapshot of one connection, owned by the caller: made by `sb_server_info`, freed by
/// `sb_conn_info_free`. Its strings live as long as it.
#[repr(C)]
pub struct sb_conn_info {
    pub id: sb_conn_id,
    /// The client's address, such as `127.0.0.1:50312`.
    pub peer: sb_str,
    /// The handshake's path and query (without `?`).
    pub path: sb_str,
    pub query: sb_str,
    /// The agreed subprotocol; `ptr` NULL when none.
    pub subprotocol: sb_str,
    /// The bound user; `ptr` NULL when none.
    pub user: sb_str,
    /// True while the handshake waits for `sb_server_accept` or `sb_server_reject`.
    pub pending: bool,
    /// Milliseconds since the handshake arrived.
    pub connected_ms: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Outbound bytes queued and not yet written to the socket.
    pub buffered: usize,
}

/// The C struct followed by the storage its strings point into. `repr(C)` puts `info`
/// first, so a pointer to one is a pointer to the other.
#[repr(C)]
pub(crate) struct OwnedInfo {
    info: sb_conn_info,
    strings: Box<[u8]>,
}

impl OwnedInfo {
    pub(crate) fn new(c: &ConnFacts) -> Box<OwnedInfo> {
        let fields: [Option<&str>; 5] = [
            Some(&c.peer),
            Some(&c.path),
            Some(&c.query),
            c.subprotocol.as_deref(),
            c.user.as_deref(),
        ];
        let mut bytes = Vec::new();
        let mut starts = [None; 5];
        for (start, field) in starts.iter_mut().zip(fields) {
            if let Some(text) = field {
                *start = Some(bytes.len());
                bytes.extend_from_slice(text.as_bytes());
                bytes.push(0);
            }
        }
        let strings: Box<[u8]> = bytes.into();
        let view = |i: usize| match (starts[i], fields[i]) {
            (Some(start), Some(text)) => sb_str {
                ptr: strings[start..].as_ptr().cast(),
                len: text.len(),
            },
            _ => sb_str::NONE,
        };
        let info = sb_conn_info {
            id: c.id,
            peer: view(0),
            path: view(1),
            query: view(2),
            subprotocol: view(3),
            user: view(4),
            pending: c.pending,
            connected_ms: c.connected_for_ms,
            messages_in: c.messages_in,
            messages_out: c.messages_out,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            buffered: usize::try_from(c.buffered).unwrap_or(usize::MAX),
        };
        // Moving the boxed slice moves only its pointer: the bytes stay where `info` points.
        Box::new(OwnedInfo { info, strings })
    }

    /// The pointer the caller gets, and frees with `sb_conn_info_free`.
    pub(crate) fn into_c(self: Box<OwnedInfo>) -> *mut sb_conn_info {
        // `info` is the first field of the repr(C) OwnedInfo.
        Box::into_raw(self).cast::<sb_conn_info>()
    }
}

/// A snapshot of an open connection in `*info_out`; free it with `sb_conn_info_free`.
/// Errors: `SB_ERR_UNKNOWN_CONNECTION`, `SB_ERR_SHUT_DOWN`.
///
/// # Safety
/// `server` is NULL or a live server; `info_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_info(
    server: *const sb_server,
    id: sb_conn_id,
    info_out: *mut *mut sb_conn_info,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, slot) = unsafe { (handle(server, "server")?, out(info_out, "info_out")?) };
        let info = server.handle.info(conn(id))?;
        slot.set(OwnedInfo::new(&ConnFacts::from(&info)).into_c());
        Ok(())
    })
}

/// Frees a snapshot from `sb_server_info` or `sb_worker_info`. NULL is ignored.
///
/// # Safety
/// `info` is NULL or came from `sb_server_info` or `sb_worker_info` and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn sb_conn_info_free(info: *mut sb_conn_info) {
    // SAFETY: `info` came from Box<OwnedInfo>::into_raw (the caller's promise), and points
    // to the start of that OwnedInfo.
    guard(|| unsafe { free_handle(info.cast::<OwnedInfo>()) })
}
