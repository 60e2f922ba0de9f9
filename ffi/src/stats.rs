//! `sb_stats`: the server's counters.

use crate::args::{handle, out};
use crate::boundary::call;
use crate::result::sb_result;
use crate::server::sb_server;

/// Why connections ended, counted since start.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct sb_closed_by {
    /// The peer started the close handshake.
    pub peer: u64,
    /// The application closed it (or rejected its handshake).
    pub application: u64,
    /// The peer broke the protocol (1002, 1007, 1009, ...).
    pub protocol_error: u64,
    /// Nothing arrived within the idle timeout.
    pub idle_timeout: u64,
    /// Its outbound buffer passed `max_buffered` (closed with 1008).
    pub slow_consumer: u64,
    /// TCP ended without a close handshake.
    pub abnormal: u64,
    /// Server shutdown (1001).
    pub shutdown: u64,
}

/// A snapshot of the server's counters (a plain struct; nothing to free).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct sb_stats {
    /// WebSocket connections open now.
    pub connections: u64,
    /// TCP connections accepted since start.
    pub accepted: u64,
    /// Handshakes refused (bad request, origin, 503, the application's reject, timeout).
    pub handshakes_failed: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Messages not delivered (the connection closed first, or a slow consumer's buffer was
    /// discarded).
    pub dropped: u64,
    pub closed_by: sb_closed_by,
}

/// The server's counters, summed over its I/O threads, in `*stats_out`. Works after
/// shutdown too.
///
/// # Safety
/// `server` is NULL or a live server; `stats_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_stats(
    server: *const sb_server,
    stats_out: *mut sb_stats,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (server, slot) = unsafe { (handle(server, "server")?, out(stats_out, "stats_out")?) };
        let s = server.handle.stats();
        let c = s.closed_by;
        slot.set(sb_stats {
            connections: s.connections,
            accepted: s.accepted,
            handshakes_failed: s.handshakes_failed,
            messages_in: s.messages_in,
            messages_out: s.messages_out,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            dropped: s.dropped,
            closed_by: sb_closed_by {
                peer: c.peer,
                application: c.application,
                protocol_error: c.protocol_error,
                idle_timeout: c.idle_timeout,
                slow_consumer: c.slow_consumer,
                abnormal: c.abnormal,
                shutdown: c.shutdown,
            },
        });
        Ok(())
    })
}
