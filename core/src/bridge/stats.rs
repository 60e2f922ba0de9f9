//! Counters: each loop owns its own set (no shared cache line on the hot path);
//! `stats()` adds them up.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why connections ended, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClosedBy {
    /// The peer started the close handshake.
    pub peer: u64,
    /// The application called `close` (or rejected a pending handshake).
    pub application: u64,
    /// The peer broke the protocol (1002, 1007, 1009...).
    pub protocol_error: u64,
    /// Nothing arrived within the idle timeout.
    pub idle_timeout: u64,
    /// Its outbound buffer passed `max_buffered` (closed with 1008).
    pub slow_consumer: u64,
    /// TCP ended without a close handshake (reset, EOF).
    pub abnormal: u64,
    /// Server shutdown (1001).
    pub shutdown: u64,
}

/// A snapshot of the server's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// WebSocket connections open now (handshakes in progress not counted).
    pub connections: u64,
    /// TCP connections accepted since start.
    pub accepted: u64,
    /// Handshakes refused (bad request, origin, 503, application's reject, timeout).
    pub handshakes_failed: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Messages not delivered: addressed to a connection that closed before they
    /// could be queued, or discarded with a slow consumer's buffer.
    pub dropped: u64,
    pub closed_by: ClosedBy,
}

/// Why a connection ended, for [`ClosedBy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseCause {
    Peer,
    Application,
    ProtocolError,
    IdleTimeout,
    SlowConsumer,
    Abnormal,
    Shutdown,
}

#[derive(Default)]
pub(crate) struct LoopStats {
    pub connections: AtomicU64,
    pub accepted: AtomicU64,
    pub handshakes_failed: AtomicU64,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    pub dropped: AtomicU64,
    closed: [AtomicU64; 7],
}

/// Adds to a counter that only its own I/O thread writes (other threads only
/// read it): a plain load and store, not a locked read-modify-write, since this
/// runs several times per message.
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

impl LoopStats {
    pub(crate) fn closed(&self, cause: CloseCause) {
        bump(&self.closed[cause as usize], 1);
    }

    pub(crate) fn add_to(&self, s: &mut Stats) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        s.connections += get(&self.connections);
        s.accepted += get(&self.accepted);
        s.handshakes_failed += get(&self.handshakes_failed);
        s.messages_in += get(&self.messages_in);
        s.messages_out += get(&self.messages_out);
        s.bytes_in += get(&self.bytes_in);
        s.bytes_out += get(&self.bytes_out);
        s.dropped += get(&self.dropped);
        let c = &self.closed;
        s.closed_by.peer += get(&c[CloseCause::Peer as usize]);
        s.closed_by.application += get(&c[CloseCause::Application as usize]);
        s.closed_by.protocol_error += get(&c[CloseCause::ProtocolError as usize]);
        s.closed_by.idle_timeout += get(&c[CloseCause::IdleTimeout as usize]);
        s.closed_by.slow_consumer += get(&c[CloseCause::SlowConsumer as usize]);
        s.closed_by.abnormal += get(&c[CloseCause::Abnormal as usize]);
        s.closed_by.shutdown += get(&c[CloseCause::Shutdown as usize]);
    }
}
