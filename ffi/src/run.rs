//! `sb_server_run`: serving until shutdown, and per-loop serving, where every
//! event loop calls the handler on its own thread.

use std::os::raw::c_void;

use crate::args::handle;
use crate::batch::Batch;
use crate::boundary::call;
use crate::failure::Failure;
use crate::result::sb_result;
use crate::serve::{sb_handler, view};
use crate::server::sb_server;

/// Called by `sb_server_run` once per event loop, on that loop's thread before it serves,
/// with the loop's index (0 to threads - 1) and the caller's `user` pointer. What it
/// returns is the `user` pointer that loop's handler gets: per-loop state without locks.
pub type sb_loop_init =
    Option<unsafe extern "C" fn(loop_index: usize, user: *mut c_void) -> *mut c_void>;

/// The caller's pointers, used on the loops' threads as the caller promised.
struct Shared {
    handler: unsafe extern "C" fn(event: *const crate::event::sb_event, user: *mut c_void),
    init: sb_loop_init,
    user: *mut c_void,
}

// SAFETY: `sb_server_run`'s contract: `handler`, `init` and `user` may be used from the
// loops' threads at the same time.
unsafe impl Sync for Shared {}

/// Serves until the server has shut down and every event was handled, calling `handler` for
/// each event (as `sb_server_serve` does), and returns `SB_OK` then.
///
/// With per-loop serving (`sb_config_per_loop`) every event loop calls `handler` itself, on
/// a thread of its own (this thread runs loop 0): handlers on different loops run at the
/// same time, each loop's in order, and all events of one connection come to the same
/// loop. `init` (may be NULL) is called on each loop's thread before it serves, and what it
/// returns is the `user` pointer of that loop's handler; without it every loop gets `user`.
/// In inline mode and with I/O threads one handler serves, on this thread (`init` is called
/// once, for loop 0).
///
/// End it with `sb_server_shutdown`, from a handler on any loop or from another thread.
/// Inside a handler, `sb_server_run`, `sb_server_serve` and `sb_server_wait` return
/// `SB_ERR_BUSY`. Errors: `SB_ERR_IO` if a loop's thread could not be started (the server
/// is then shut down).
///
/// # Safety
/// `server` is NULL or a live server; `handler` is NULL or a function safe to call with an
/// event and the `user` pointer (or the pointers `init` returns) — from several threads at
/// once with per-loop serving; `init` is NULL or a function safe to call likewise.
#[no_mangle]
pub unsafe extern "C" fn sb_server_run(
    server: *mut sb_server,
    handler: sb_handler,
    init: sb_loop_init,
    user: *mut c_void,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promise; only shared access (other threads may send).
        let server = unsafe { handle(server.cast_const(), "server") }?;
        let Some(handler) = handler else {
            return Err(Failure::null("handler"));
        };
        let shared = Shared {
            handler,
            init,
            user,
        };
        let shared = &shared;
        server.handle.run(|index| {
            let user = match shared.init {
                // SAFETY: the caller promised `init` may be called with `user`, here.
                Some(init) => unsafe { init(index, shared.user) },
                None => shared.user,
            };
            let mut batch = Batch::default();
            move |incoming| {
                let view = view(&mut batch, incoming);
                // SAFETY: the caller promised `handler` may be called with this loop's
                // `user` and an event; `view` and what it points to live until it returns.
                unsafe { (shared.handler)(&view, user) };
            }
        })?;
        Ok(())
    })
}
