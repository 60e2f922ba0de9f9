//! `sb_config`: a server configuration, one setter per option. Values are checked by
//! `sb_server_start`, whose error names the offending option.

use std::os::raw::c_char;
use std::time::Duration;

use engine::control::address::ControlAddress;
use engine::server::{Config, NoMatchingSubprotocol};

use crate::args::{free_handle, handle_mut, into_handle, opt_string, out, string};
use crate::boundary::{call, guard};
use crate::failure::Failure;
use crate::result::sb_result;

/// A server configuration under construction: owned by the caller, made by
/// `sb_config_new`, freed by `sb_config_free`. Not thread-safe: use it from one thread at a
/// time. `sb_server_start` copies it, so it may be changed or freed right after.
pub struct sb_config {
    inner: Config,
    /// The control socket to open with the server (see `sb_config_control`).
    pub(crate) control: Option<ControlAddress>,
    pub(crate) control_secret: Option<String>,
}

impl sb_config {
    pub(crate) fn inner(&self) -> &Config {
        &self.inner
    }
}

/// What to do when a client offers subprotocols and none is supported.
pub type sb_no_matching_subprotocol = u32;
/// Accept the connection without a subprotocol (the default, as RFC 6455 suggests).
pub const SB_NO_MATCH_ACCEPT_WITH_NONE: sb_no_matching_subprotocol = 0;
/// Refuse the handshake with `400 Bad Request`.
pub const SB_NO_MATCH_REJECT: sb_no_matching_subprotocol = 1;

/// Runs a change on a config handle.
///
/// # Safety
/// `config` is NULL or a live `sb_config` not used by another thread during the call.
unsafe fn change(
    config: *mut sb_config,
    f: impl FnOnce(&mut Config) -> Result<(), Failure>,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let config = unsafe { handle_mut(config, "config") }?;
        f(&mut config.inner)
    })
}

/// Makes a configuration with every default and no listen address, and stores it in
/// `*config_out`. Free it with `sb_config_free`.
///
/// # Safety
/// `config_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_config_new(config_out: *mut *mut sb_config) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let slot = unsafe { out(config_out, "config_out") }?;
        slot.set(into_handle(sb_config {
            inner: Config::new(),
            control: None,
            control_secret: None,
        }));
        Ok(())
    })
}

/// Frees a configuration. NULL is ignored.
///
/// # Safety
/// `config` is NULL or came from `sb_config_new` and was not freed before.
#[no_mangle]
pub unsafe extern "C" fn sb_config_free(config: *mut sb_config) {
    // SAFETY: the caller's promise.
    guard(|| unsafe { free_handle(config) })
}

/// Adds an address to listen on, such as `"127.0.0.1:9001"` or `"[::1]:0"` (port 0 picks a
/// free port; see `sb_server_addr`); `"tls://0.0.0.0:9443"` is a TLS (`wss://`) listener,
/// with the certificate of `sb_config_tls`. At least one is required. `SB_ERR_CONFIG` if it
/// is not an `IP:port` address (names are not resolved).
///
/// # Safety
/// `config` is NULL or a live config; `addr` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_config_listen(
    config: *mut sb_config,
    addr: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.listen_str(string(addr, "addr")?)?;
            Ok(())
        })
    }
}

/// I/O threads, each running its own event loop (default: the number of cores; 0–255).
///
/// 0 is inline mode: no I/O thread; the one event loop runs inside `sb_server_wait`, on
/// the thread that calls it. It is the fastest choice on one core with quick handlers,
/// but nothing is read, written or timed while the application handles events, so call
/// `sb_server_wait` regularly (at least every 50 ms or so: pings and timeouts advance only
/// inside it). The descriptor from `sb_server_event_fd` is then the loop's epoll fd,
/// readable when a `sb_server_wait` is needed.
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_threads(config: *mut sb_config, threads: usize) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.threads(threads);
            Ok(())
        })
    }
}

/// Per-loop serving (default off): every event loop calls the handler
/// itself, on its own thread, as inline mode does on one; serve with `sb_server_run`,
/// which runs `threads` loops (one per core is the point) side by side. Commands to
/// connections of other loops cross in batches; topics, users and broadcast span every
/// loop. Off, the `threads` I/O loops feed one queue of events that `sb_server_wait` /
/// `sb_server_serve` take. With `threads` 0 it changes nothing (inline mode).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_per_loop(config: *mut sb_config, on: bool) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.per_loop(on);
            Ok(())
        })
    }
}

/// Sets `SO_REUSEPORT` so several processes can share a port (default off).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_reuse_port(config: *mut sb_config, on: bool) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.reuse_port(on);
            Ok(())
        })
    }
}

/// Open WebSocket connections beyond this get `503` at handshake time (default 100,000).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_max_connections(config: *mut sb_config, n: usize) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.max_connections(n);
            Ok(())
        })
    }
}

/// Largest message accepted from a client, in bytes; a larger one closes the connection
/// with 1009 (default 1 MiB; 1 byte to 2 GiB).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_max_message_size(
    config: *mut sb_config,
    bytes: usize,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.max_message_size(bytes);
            Ok(())
        })
    }
}

/// Outbound bytes queued for one client before it is closed with 1008 as a slow reader
/// (default 4 MiB; at least 1024).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_max_buffered(config: *mut sb_config, bytes: usize) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.max_buffered(bytes);
            Ok(())
        })
    }
}

/// Time a client has to complete its handshake, and the application to accept or reject it,
/// in milliseconds (default 10,000; more than 0).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_handshake_timeout_ms(
    config: *mut sb_config,
    ms: u64,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.handshake_timeout(Duration::from_millis(ms));
            Ok(())
        })
    }
}

/// A peer silent for this long is pinged, in milliseconds (default 30,000; 0 disables
/// pings; must be shorter than the idle timeout).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_ping_interval_ms(config: *mut sb_config, ms: u64) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.ping_interval((ms > 0).then(|| Duration::from_millis(ms)));
            Ok(())
        })
    }
}

/// A peer from which nothing arrives for this long is dropped, in milliseconds (default
/// 75,000; more than 0).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_idle_timeout_ms(config: *mut sb_config, ms: u64) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.idle_timeout(Duration::from_millis(ms));
            Ok(())
        })
    }
}

/// After sending a close frame, how long to wait for the peer's, in milliseconds (default
/// 5,000; more than 0). Also bounds how long `sb_server_shutdown` waits for clients.
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_close_timeout_ms(config: *mut sb_config, ms: u64) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.close_timeout(Duration::from_millis(ms));
            Ok(())
        })
    }
}

/// Largest handshake request head, in bytes; a larger one gets `431` (default 8 KiB;
/// 256 bytes to 1 MiB).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_max_head_size(
    config: *mut sb_config,
    bytes: usize,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.max_head_size(bytes);
            Ok(())
        })
    }
}

/// Adds a supported subprotocol; earlier ones are preferred. It must be an HTTP token
/// (checked by `sb_server_start`).
///
/// # Safety
/// `config` is NULL or a live config; `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_config_subprotocol(
    config: *mut sb_config,
    name: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.subprotocol(string(name, "name")?);
            Ok(())
        })
    }
}

/// What to do when the client offers subprotocols and none is supported:
/// `SB_NO_MATCH_ACCEPT_WITH_NONE` (default) or `SB_NO_MATCH_REJECT`.
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_no_matching_subprotocol(
    config: *mut sb_config,
    answer: sb_no_matching_subprotocol,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.no_matching_subprotocol(match answer {
                SB_NO_MATCH_ACCEPT_WITH_NONE => NoMatchingSubprotocol::AcceptWithNone,
                SB_NO_MATCH_REJECT => NoMatchingSubprotocol::Reject,
                other => {
                    return Err(Failure::invalid(format!(
                        "{other} is not an sb_no_matching_subprotocol value"
                    )))
                }
            });
            Ok(())
        })
    }
}

/// Adds an allowed `Origin`: exact (`"https://app.example.com"`) or a pattern
/// (`"*.example.com"`, `"*"` for any present origin). With none, only the same
/// origin is allowed: an `Origin` whose host and port are the request's `Host`.
///
/// # Safety
/// `config` is NULL or a live config; `pattern` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_config_allow_origin(
    config: *mut sb_config,
    pattern: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.allow_origin(string(pattern, "pattern")?);
            Ok(())
        })
    }
}

/// Whether requests without an `Origin` header (non-browser clients) are allowed
/// (default true).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_allow_missing_origin(
    config: *mut sb_config,
    allow: bool,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.allow_missing_origin(allow);
            Ok(())
        })
    }
}

/// When on, each handshake arrives as a pending `SB_EVENT_OPEN` and waits for
/// `sb_server_accept` or `sb_server_reject` (default off: every valid handshake is
/// accepted).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_authorize(config: *mut sb_config, on: bool) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.authorize(on);
            Ok(())
        })
    }
}

/// Per connection, the most messages and payload bytes waiting for the application
/// (defaults 256 and 256 KiB; more than 0). A connection past either is not read until the
/// application has taken its waiting events down to half, and connections take turns in
/// the queue, so that one flooding client cannot starve the others (docs/fairness.md).
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_max_unhandled(
    config: *mut sb_config,
    messages: usize,
    bytes: usize,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.max_unhandled(messages, bytes);
            Ok(())
        })
    }
}

/// Opens a control socket with the server: `"unix:/path/to.sock"` (created mode 0660) or
/// `"tcp:HOST:PORT"` (needs `sb_config_control_secret`), through which other processes
/// publish and send (`sb_client_*`, PHP's `Switchboard\Client`, or the protocol of
/// docs/control-protocol.md). NULL: none (the default). `SB_ERR_CONFIG` for an address of
/// another form; binding errors come from `sb_server_start`.
///
/// # Safety
/// `config` is NULL or a live config; `address` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_config_control(
    config: *mut sb_config,
    address: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let config = unsafe { handle_mut(config, "config") }?;
        // SAFETY: the caller's promise.
        config.control = match unsafe { opt_string(address, "address") }? {
            Some(text) => Some(ControlAddress::parse(text).map_err(|e| {
                Failure::new(
                    sb_result::SB_ERR_CONFIG,
                    format!("invalid option control: {e}"),
                )
            })?),
            None => None,
        };
        Ok(())
    })
}

/// The secret control clients must present (required for a `tcp:` control socket; optional
/// for `unix:`, whose file mode already decides who may connect). NULL: none (the default).
///
/// # Safety
/// `config` is NULL or a live config; `secret` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_config_control_secret(
    config: *mut sb_config,
    secret: *const c_char,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise.
        let config = unsafe { handle_mut(config, "config") }?;
        // SAFETY: the caller's promise.
        let secret = unsafe { opt_string(secret, "secret") }?;
        config.control_secret = secret.filter(|s| !s.is_empty()).map(str::to_string);
        Ok(())
    })
}

/// Serves plain files from this directory to non-upgrade GET requests (`/` gives
/// `index.html`); NULL turns it off (the default).
///
/// # Safety
/// `config` is NULL or a live config; `dir` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sb_config_static_dir(
    config: *mut sb_config,
    dir: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.static_dir(opt_string(dir, "dir")?.map(Into::into));
            Ok(())
        })
    }
}

/// Bounds of the queue of events waiting for `sb_server_wait`, in events and payload bytes
/// (defaults 65,536 and 64 MiB; more than 0). When it is full the server stops reading from
/// clients until the application catches up.
///
/// # Safety
/// `config` is NULL or a live config.
#[no_mangle]
pub unsafe extern "C" fn sb_config_event_queue(
    config: *mut sb_config,
    events: usize,
    bytes: usize,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.event_queue(events, bytes);
            Ok(())
        })
    }
}

/// The certificate chain and private key, paths of PEM files, for the `tls://` listeners.
/// They are read by `sb_server_start` (and again by `sb_server_reload_tls`), which fails
/// with `SB_ERR_CONFIG` and a message naming the file when one is missing, unreadable, or
/// the key does not fit the certificate.
///
/// # Safety
/// `config` is NULL or a live config; `cert` and `key` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn sb_config_tls(
    config: *mut sb_config,
    cert: *const c_char,
    key: *const c_char,
) -> sb_result {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        change(config, |c| {
            c.tls(string(cert, "cert")?, string(key, "key")?);
            Ok(())
        })
    }
}
