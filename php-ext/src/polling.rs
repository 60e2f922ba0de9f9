//! What `Server::poll()` and `Worker::poll()` share: their arguments, and the
//! `open` events owed for handshakes the program accepted, which come first.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::ZendHashTable;

use crate::convert;
use crate::exception::error;
use crate::handshake::Handshakes;

/// `$max` as a count of at least 1.
pub fn max_events(max: i64) -> PhpResult<usize> {
    usize::try_from(max)
        .ok()
        .filter(|&m| m >= 1)
        .ok_or_else(|| error(format!("poll(): max must be at least 1, {max} given")))
}

/// When `$timeout_ms` ends; `None` (no deadline) when negative or too far to
/// represent.
pub fn deadline(timeout_ms: i64) -> Option<Instant> {
    u64::try_from(timeout_ms)
        .ok()
        .and_then(|ms| Instant::now().checked_add(Duration::from_millis(ms)))
}

/// Appends the `open` events of accepted handshakes, up to `max` in `out`.
pub fn push_accepted(handshakes: &RefCell<Handshakes>, out: &mut ZendHashTable, max: usize) {
    while out.len() < max {
        let next = handshakes.borrow_mut().take_accepted();
        let Some((id, request)) = next else { break };
        let _ = out.push(convert::accepted(id, request));
    }
}
