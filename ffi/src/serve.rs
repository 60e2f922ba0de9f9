//! `sb_server_serve`: events handed to a callback, one at a time, borrowed.

use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};
use std::time::Duration;

use engine::server::Incoming;

use crate::args::{handle, out};
use crate::batch::{message_view, Batch};
use crate::boundary::call;
use crate::event::sb_event;
use crate::failure::Failure;
use crate::result::sb_result;
use crate::server::sb_server;

/// Called by `sb_server_serve` with one event and the caller's `user` pointer. The event
/// and everything it points to are valid only during the call.
pub type sb_handler = Option<unsafe extern "C" fn(event: *const sb_event, user: *mut c_void)>;

/// Like `sb_server_wait`, but calls `handler` for each event instead of filling an array,
/// and writes how many there were to `*count_out`.
///
/// In inline mode (`sb_config_threads` 0) this is the fastest way to serve: the event loop
/// calls `handler` for each message as it decodes it, with the payload still in its read
/// buffer, and an `sb_server_send` to that same connection from the handler goes straight
/// into its output (no copy of the message, no queued command). Open and close events, and
/// messages that arrive behind them in the same turn, come after the turn, in order. With
/// I/O threads, a batch is taken as `sb_server_wait` does.
///
/// Inside the handler, `sb_server_wait` and `sb_server_serve` on the same server return
/// `SB_ERR_BUSY`. The handler must not unwind (no C++ exceptions, no `longjmp` out of it).
///
/// # Safety
/// `server` is NULL or a live server; `handler` is NULL or a function safe to call with
/// `user` and an event; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_server_serve(
    server: *mut sb_server,
    timeout_ms: c_int,
    handler: sb_handler,
    user: *mut c_void,
    count_out: *mut usize,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise; only shared access (other threads may send).
        let server = unsafe { handle(server.cast_const(), "server") }?;
        // SAFETY: the caller's promise.
        let count = unsafe { out(count_out, "count_out") }?;
        let Some(handler) = handler else {
            return Err(Failure::null("handler"));
        };
        let mut batch = server.batch()?;
        batch.clear();
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let n = server.handle.serve(timeout, |incoming| {
            let view = view(&mut batch, incoming);
            // SAFETY: the caller promised `handler` may be called with `user` and an
            // event; `view` and what it points to live until this call returns.
            unsafe { handler(&view, user) };
        });
        if n == 0 && server.handle.is_finished() {
            return Err(Failure::new(
                sb_result::SB_ERR_SHUT_DOWN,
                "the server has shut down and every event was taken",
            ));
        }
        count.set(n);
        Ok(())
    })
}

/// The C view of one event. A message's payload is lent as it is; an open or close event
/// is viewed through `batch`, which holds a copy of it and its strings until the next one.
pub(crate) fn view(batch: &mut Batch, incoming: Incoming<'_>) -> sb_event {
    let event = match incoming {
        Incoming::Message { id, kind, data } => return message_view(id.as_u64(), kind, data),
        other => other.to_event(),
    };
    batch.clear();
    batch.events.push(event);
    let mut view = MaybeUninit::<sb_event>::uninit();
    // SAFETY: one event in the batch, one slot to write; `write_to` writes it.
    unsafe {
        batch.write_to(view.as_mut_ptr());
        view.assume_init()
    }
}
