//! `sb_server_wait`: events in batches, into the caller's array.

use std::os::raw::c_int;
use std::time::Duration;

use crate::args::{handle, out};
use crate::boundary::call;
use crate::event::sb_event;
use crate::failure::Failure;
use crate::result::sb_result;
use crate::server::sb_server;

/// Waits up to `timeout_ms` milliseconds for events (0: do not wait; negative: until one
/// arrives or the server has shut down) and writes up to `capacity` of them to `events`,
/// their number to `*count_out` (0 when the time ran out).
///
/// The pointers inside the events (payloads, `sb_open`, strings) stay valid until the next
/// `sb_server_wait` on this server or `sb_server_free`. Taking events is also what lets the
/// server read more from clients when its event queue was full: call it steadily. In inline
/// mode (`sb_config_threads` 0) the event loop itself runs inside this call: clients are
/// read and written, and timers advance, only while it runs.
///
/// One thread at a time: a concurrent call returns `SB_ERR_BUSY`. Returns
/// `SB_ERR_SHUT_DOWN` (writing nothing) once the server has shut down and every event was
/// taken. A large `capacity` (1024) amortizes the call's cost.
///
/// # Safety
/// `server` is NULL or a live server; `events` is NULL or points to `capacity` writable
/// `sb_event`s; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_wait(
    server: *mut sb_server,
    events: *mut sb_event,
    capacity: usize,
    timeout_ms: c_int,
    count_out: *mut usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise; only shared access (other threads may send).
        let server = unsafe { handle(server.cast_const(), "server") }?;
        // SAFETY: the caller's promise.
        let count = unsafe { out(count_out, "count_out") }?;
        if events.is_null() {
            return Err(Failure::null("events"));
        }
        if capacity == 0 {
            return Err(Failure::invalid("capacity must be at least 1"));
        }
        let mut batch = server.batch()?;
        // The last batch's payload buffers serve this thread's next sends.
        server.handle.recycle(&mut batch.events);
        batch.clear();
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let n = server.handle.wait(&mut batch.events, capacity, timeout);
        if n == 0 && server.handle.is_finished() {
            return Err(Failure::new(
                sb_result::SB_ERR_SHUT_DOWN,
                "the server has shut down and every event was taken",
            ));
        }
        // SAFETY: n <= capacity, and the caller promised `capacity` writable events.
        unsafe { batch.write_to(events) };
        count.set(n);
        Ok(())
    })
}
