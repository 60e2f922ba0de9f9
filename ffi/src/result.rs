//! Result codes: `SB_OK` or an error in the band 6001–6099, and their names.

use std::os::raw::c_char;

use engine::server::Error;

use crate::boundary::guard;

/// What a fallible call returns: `SB_OK` (0) or an error code in the band 6001–6099, which
/// never collides with errno values, HTTP statuses or WebSocket close codes. In C this is a
/// `uint32_t`; new codes may be added in later versions. `sb_result_name` names a code and
/// `sb_last_error_message` explains the last failure on the calling thread.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sb_result {
    /// Success.
    SB_OK = 0,
    /// A required pointer (handle, string, output parameter) was NULL.
    SB_ERR_NULL = 6001,
    /// An argument is malformed or out of range: an unknown message kind, a string that is
    /// not UTF-8, an index past the end, a capacity of 0.
    SB_ERR_INVALID_ARGUMENT = 6002,
    /// A configuration value is out of range; the message names the option.
    SB_ERR_CONFIG = 6003,
    /// The operating system refused something: binding an address, creating a thread or a
    /// descriptor.
    SB_ERR_IO = 6004,
    /// The connection id is 0, closed, or never existed.
    SB_ERR_UNKNOWN_CONNECTION = 6005,
    /// `sb_server_accept`/`sb_server_reject` for a connection whose handshake is not waiting
    /// for a decision (not authorizing, already decided).
    SB_ERR_NOT_PENDING = 6006,
    /// A text message must be valid UTF-8.
    SB_ERR_INVALID_UTF8 = 6007,
    /// Close codes an application may send are 1000–1003, 1007–1009, 1011–1014 and 3000–4999.
    SB_ERR_INVALID_CLOSE_CODE = 6008,
    /// A close reason is at most 123 bytes.
    SB_ERR_REASON_TOO_LONG = 6009,
    /// The subprotocol chosen in `sb_server_accept` was not offered by the client.
    SB_ERR_SUBPROTOCOL_NOT_OFFERED = 6010,
    /// A response header is not allowed: empty name, space or `:` in the name, CR, LF or NUL.
    SB_ERR_INVALID_HEADER = 6011,
    /// `sb_server_reject` takes an HTTP status from 400 to 599.
    SB_ERR_INVALID_STATUS = 6012,
    /// The server is shutting down or has shut down; from `sb_server_wait`: it has shut down
    /// and every event was taken.
    SB_ERR_SHUT_DOWN = 6013,
    /// The caller's array is too small; the count needed was written.
    SB_ERR_BUFFER_TOO_SMALL = 6014,
    /// Another thread is inside `sb_server_wait` on the same server; from `sb_client_*`: the
    /// server serves no more control connections.
    SB_ERR_BUSY = 6015,
    /// The thing looked up (a header) is not there.
    SB_ERR_NOT_FOUND = 6016,
    /// `sb_client_*`: nothing listens at the control address (connection refused, no such
    /// socket file, no permission, unknown host).
    SB_ERR_UNREACHABLE = 6017,
    /// `sb_client_*`: connecting, writing or waiting for the reply took longer than the
    /// client's timeout; the command may or may not have been executed.
    SB_ERR_TIMEOUT = 6018,
    /// `sb_client_*`: the connection broke after the command was (partly) sent; it may or may
    /// not have been executed.
    SB_ERR_DISCONNECTED = 6019,
    /// `sb_client_*`: the server refused the secret.
    SB_ERR_UNAUTHORIZED = 6020,
    /// `sb_client_*`: the server sent something that is not a valid reply, or refused a
    /// frame as malformed.
    SB_ERR_PROTOCOL = 6021,
    /// The operator refused a worker: a wrong secret, or it takes no workers.
    SB_ERR_REFUSED = 6022,
    /// A bug inside the library: a Rust panic was caught at the boundary. The message says
    /// where; the server may still be usable, but should be shut down.
    SB_ERR_PANIC = 6099,
}

impl sb_result {
    /// The code for an engine error.
    pub(crate) fn of(error: &Error) -> sb_result {
        match error {
            Error::Config { .. } => sb_result::SB_ERR_CONFIG,
            Error::Io { .. } => sb_result::SB_ERR_IO,
            Error::UnknownConnection(_) => sb_result::SB_ERR_UNKNOWN_CONNECTION,
            Error::NotPending(_) => sb_result::SB_ERR_NOT_PENDING,
            Error::InvalidUtf8 => sb_result::SB_ERR_INVALID_UTF8,
            Error::InvalidCloseCode(_) => sb_result::SB_ERR_INVALID_CLOSE_CODE,
            Error::ReasonTooLong(_) => sb_result::SB_ERR_REASON_TOO_LONG,
            Error::SubprotocolNotOffered(_) => sb_result::SB_ERR_SUBPROTOCOL_NOT_OFFERED,
            Error::InvalidHeader(_) => sb_result::SB_ERR_INVALID_HEADER,
            Error::InvalidStatus(_) => sb_result::SB_ERR_INVALID_STATUS,
            Error::ShutDown => sb_result::SB_ERR_SHUT_DOWN,
            Error::Busy => sb_result::SB_ERR_BUSY,
        }
    }
}

/// The name of a result code, such as `"SB_ERR_UNKNOWN_CONNECTION"`, or
/// `"SB_UNKNOWN_RESULT"` for a value that is not a code. A static string; never NULL.
#[no_mangle]
pub extern "C" fn sb_result_name(result: u32) -> *const c_char {
    guard(|| name(result).as_ptr())
}

fn name(result: u32) -> &'static std::ffi::CStr {
    use sb_result::*;
    const ALL: [(sb_result, &std::ffi::CStr); 24] = [
        (SB_OK, c"SB_OK"),
        (SB_ERR_NULL, c"SB_ERR_NULL"),
        (SB_ERR_INVALID_ARGUMENT, c"SB_ERR_INVALID_ARGUMENT"),
        (SB_ERR_CONFIG, c"SB_ERR_CONFIG"),
        (SB_ERR_IO, c"SB_ERR_IO"),
        (SB_ERR_UNKNOWN_CONNECTION, c"SB_ERR_UNKNOWN_CONNECTION"),
        (SB_ERR_NOT_PENDING, c"SB_ERR_NOT_PENDING"),
        (SB_ERR_INVALID_UTF8, c"SB_ERR_INVALID_UTF8"),
        (SB_ERR_INVALID_CLOSE_CODE, c"SB_ERR_INVALID_CLOSE_CODE"),
        (SB_ERR_REASON_TOO_LONG, c"SB_ERR_REASON_TOO_LONG"),
        (
            SB_ERR_SUBPROTOCOL_NOT_OFFERED,
            c"SB_ERR_SUBPROTOCOL_NOT_OFFERED",
        ),
        (SB_ERR_INVALID_HEADER, c"SB_ERR_INVALID_HEADER"),
        (SB_ERR_INVALID_STATUS, c"SB_ERR_INVALID_STATUS"),
        (SB_ERR_SHUT_DOWN, c"SB_ERR_SHUT_DOWN"),
        (SB_ERR_BUFFER_TOO_SMALL, c"SB_ERR_BUFFER_TOO_SMALL"),
        (SB_ERR_BUSY, c"SB_ERR_BUSY"),
        (SB_ERR_NOT_FOUND, c"SB_ERR_NOT_FOUND"),
        (SB_ERR_UNREACHABLE, c"SB_ERR_UNREACHABLE"),
        (SB_ERR_TIMEOUT, c"SB_ERR_TIMEOUT"),
        (SB_ERR_DISCONNECTED, c"SB_ERR_DISCONNECTED"),
        (SB_ERR_UNAUTHORIZED, c"SB_ERR_UNAUTHORIZED"),
        (SB_ERR_PROTOCOL, c"SB_ERR_PROTOCOL"),
        (SB_ERR_REFUSED, c"SB_ERR_REFUSED"),
        (SB_ERR_PANIC, c"SB_ERR_PANIC"),
    ];
    ALL.iter()
        .find(|(code, _)| *code as u32 == result)
        .map_or(c"SB_UNKNOWN_RESULT", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_name() {
        assert_eq!(name(0).to_str(), Ok("SB_OK"));
        assert_eq!(name(6005).to_str(), Ok("SB_ERR_UNKNOWN_CONNECTION"));
        assert_eq!(name(6099).to_str(), Ok("SB_ERR_PANIC"));
        assert_eq!(name(42).to_str(), Ok("SB_UNKNOWN_RESULT"));
        let mut names: Vec<_> = (0..7000).map(name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 25, "24 codes and the unknown name");
    }
}
