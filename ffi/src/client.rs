//! `sb_client`: a client of a server's control socket, for programs that are not the server
//! (a cron job, a worker) to have it send and publish. Making and freeing one, and how its
//! errors map to `sb_result` codes; the commands are in `client_commands.rs` and
//! `client_queries.rs`.

use std::os::raw::{c_char, c_int};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use engine::control::client::{Client, ClientError, ClientErrorKind, ClientOptions};
use engine::control::wire::ErrorCode;

use crate::args::{free_handle, handle, into_handle, opt_string, out, string};
use crate::boundary::{call, guard};
use crate::failure::Failure;
use crate::result::sb_result;

/// A client of one control socket: owned by the caller, made by `sb_client_new`, freed by
/// `sb_client_free`. Thread-safe: calls from several threads on one client take turns.
pub struct sb_client {
    client: Mutex<Client>,
}

impl sb_client {
    /// The client, for one call. A panic during an earlier call left it usable: at worst its
    /// connection is dropped by the next failure.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        use sb_result::*;
        let code = match error.kind() {
            ClientErrorKind::Address => SB_ERR_INVALID_ARGUMENT,
            ClientErrorKind::Unreachable => SB_ERR_UNREACHABLE,
            ClientErrorKind::Timeout => SB_ERR_TIMEOUT,
            ClientErrorKind::Disconnected => SB_ERR_DISCONNECTED,
            ClientErrorKind::Unauthorized => SB_ERR_UNAUTHORIZED,
            ClientErrorKind::Protocol => SB_ERR_PROTOCOL,
            ClientErrorKind::Remote(code) => remote_code(code),
        };
        Failure::new(code, error.to_string())
    }
}

/// The result code for an error the operator answered.
pub(crate) fn remote_code(code: ErrorCode) -> sb_result {
    use sb_result::*;
    match code {
        ErrorCode::BadFrame => SB_ERR_PROTOCOL,
        ErrorCode::Unauthorized => SB_ERR_UNAUTHORIZED,
        ErrorCode::UnknownConnection => SB_ERR_UNKNOWN_CONNECTION,
        ErrorCode::Invalid => SB_ERR_INVALID_ARGUMENT,
        ErrorCode::ShutDown => SB_ERR_SHUT_DOWN,
        ErrorCode::Busy => SB_ERR_BUSY,
    }
}

/// A client of the control socket at `address` (`"unix:/path/to.sock"`, or
/// `"tcp:HOST:PORT"`, where the server requires a secret) in `*client_out`. `secret` is NULL
/// or the server's control secret. `timeout_ms` bounds connecting, each write and each wait
/// for a reply; 0 or less takes the defaults (1000 ms to connect, 5000 ms for the rest).
///
/// Nothing is connected yet: the first command connects, and the connection is kept for the
/// next ones. A kept connection that the server closed (a restart) is replaced before a
/// command is written, and a command whose first byte could not be written (broken pipe) is
/// written once more on a new connection: a command is never executed twice. A failure after
/// that (`SB_ERR_TIMEOUT`, `SB_ERR_DISCONNECTED`) drops the connection and is returned: the
/// command may or may not have been executed. Each command waits for the server's reply, so
/// `SB_OK` means it was done.
///
/// Errors: `SB_ERR_INVALID_ARGUMENT` (an address that is not `unix:` or `tcp:HOST:PORT`).
/// The commands' errors: `SB_ERR_UNREACHABLE`, `SB_ERR_TIMEOUT`, `SB_ERR_DISCONNECTED`,
/// `SB_ERR_UNAUTHORIZED`, `SB_ERR_PROTOCOL`, `SB_ERR_BUSY`, `SB_ERR_SHUT_DOWN`, and what the
/// server refuses (`SB_ERR_UNKNOWN_CONNECTION`, `SB_ERR_INVALID_ARGUMENT` for text that is not
/// UTF-8 or a close code not allowed); `sb_last_error_message` names the address and cause.
///
/// # Safety
/// `address` is NULL or a NUL-terminated string; `secret` is NULL or a NUL-terminated
/// string; `client_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_client_new(
    address: *const c_char,
    secret: *const c_char,
    timeout_ms: c_int,
    client_out: *mut *mut sb_client,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (address, secret, slot) = unsafe {
            (
                string(address, "address")?,
                opt_string(secret, "secret")?,
                out(client_out, "client_out")?,
            )
        };
        let mut options = ClientOptions {
            secret: secret.map(str::to_owned),
            ..ClientOptions::default()
        };
        if let Ok(ms @ 1..) = u64::try_from(timeout_ms) {
            options.connect_timeout = Duration::from_millis(ms);
            options.io_timeout = Duration::from_millis(ms);
        }
        let client = Client::new(address, options)?;
        slot.set(into_handle(sb_client {
            client: Mutex::new(client),
        }));
        Ok(())
    })
}

/// Closes the client's connection, if any, and frees it. NULL is ignored.
///
/// # Safety
/// `client` is NULL or came from `sb_client_new` and was not freed before; no other call on
/// it runs during or after this one.
#[no_mangle]
pub unsafe extern "C" fn sb_client_free(client: *mut sb_client) {
    // SAFETY: the caller's promise.
    guard(|| unsafe { free_handle(client) })
}

/// Runs one command on a client: checks the handle, locks it, maps its error.
///
/// # Safety
/// `client` is NULL or a live client.
pub(crate) unsafe fn with_client(
    client: *const sb_client,
    body: impl FnOnce(&mut Client) -> Result<(), Failure>,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let client = unsafe { handle(client, "client") }?;
        body(&mut client.lock())
    })
}
