//! The C view of events: what `sb_server_wait` writes into the caller's array.
//! Every pointer here borrows memory owned by the server, valid until the next
//! `sb_server_wait` on that server (or `sb_server_free`).

use std::os::raw::c_char;

/// Identifies one connection. Never 0 for a real connection (0 means "none"), and never
/// reused while the process lives.
pub type sb_conn_id = u64;

/// Text or binary: `SB_TEXT` or `SB_BINARY`.
pub type sb_message_kind = u32;
/// A text message: the payload is UTF-8 (checked on receipt, and when sending).
pub const SB_TEXT: sb_message_kind = 1;
/// A binary message.
pub const SB_BINARY: sb_message_kind = 2;

/// What an `sb_event` reports. In C a `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sb_event_kind {
    /// A connection completed its handshake, or (when authorizing) waits for
    /// `sb_server_accept`/`sb_server_reject`. `open` describes it.
    SB_EVENT_OPEN = 1,
    /// A whole message arrived: `message_kind`, `data`, `len`.
    SB_EVENT_MESSAGE = 2,
    /// The connection ended: `close_code`, `reason`, `clean`. The last event for its id.
    SB_EVENT_CLOSE = 3,
}

/// A string handed out by the library: `len` bytes of UTF-8 at `ptr`, followed by a NUL
/// byte, so `ptr` can also be used as a C string (it contains no NUL itself). `ptr` is NULL
/// only where a field is documented as optional and absent.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sb_str {
    pub ptr: *const c_char,
    pub len: usize,
}

impl sb_str {
    /// An absent optional string.
    pub const NONE: sb_str = sb_str {
        ptr: std::ptr::null(),
        len: 0,
    };
}

/// One header of the client's handshake request, as sent (names keep their case;
/// values have surrounding whitespace removed).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sb_header {
    pub name: sb_str,
    pub value: sb_str,
}

/// The client's handshake, delivered once with `SB_EVENT_OPEN`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sb_open {
    /// The client's address, such as `127.0.0.1:50312` or `[::1]:50312`.
    pub peer: sb_str,
    /// The request method (`GET`).
    pub method: sb_str,
    /// The request path without the query, such as `/chat`.
    pub path: sb_str,
    /// The text after `?`, without it; empty when there is none.
    pub query: sb_str,
    /// The request headers in order (`header_count` of them); see also `sb_open_header`.
    pub headers: *const sb_header,
    pub header_count: usize,
    /// The subprotocol chosen by the server's list (when authorizing: the proposal, which
    /// `sb_server_accept` may override). `ptr` is NULL when there is none.
    pub subprotocol: sb_str,
    /// True when the server authorizes handshakes: nothing has been answered yet and the
    /// application must call `sb_server_accept` or `sb_server_reject` within the handshake
    /// timeout (after it, the client gets `503` and an `SB_EVENT_CLOSE` follows).
    pub pending: bool,
}

/// One event. Fields that do not apply to `kind` are zero/NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sb_event {
    pub kind: sb_event_kind,
    /// The connection the event is about.
    pub id: sb_conn_id,
    /// `SB_EVENT_OPEN`: the handshake. NULL for other kinds.
    pub open: *const sb_open,
    /// `SB_EVENT_MESSAGE`: `SB_TEXT` or `SB_BINARY`.
    pub message_kind: sb_message_kind,
    /// `SB_EVENT_MESSAGE`: the payload, `len` bytes (not NUL-terminated; never NULL, even
    /// when `len` is 0).
    pub data: *const u8,
    pub len: usize,
    /// `SB_EVENT_CLOSE`: the close code: the peer's (1005 when its close frame had none),
    /// the one the server sent (1001 at shutdown, 1009 for an oversize message, ...), or 1006
    /// when the TCP connection ended without a close handshake.
    pub close_code: u16,
    /// `SB_EVENT_CLOSE`: true when both close frames were exchanged.
    pub clean: bool,
    /// `SB_EVENT_CLOSE`: the close reason (possibly empty). NULL `ptr` for other kinds.
    pub reason: sb_str,
}
