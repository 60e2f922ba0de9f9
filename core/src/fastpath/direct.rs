//! Direct replies. While a `serve` handler handles a message inside the inline
//! loop, a `send` to that message's connection goes straight into the
//! connection's output: no copy of the message, no command, no trip through
//! the loop's queue. Anything else still takes the command path, and once this
//! thread holds a command, replies queue behind it so that they keep their
//! order.
//!
//! The state is a few thread-local cells: this runs once per message.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use crate::bridge::event::HandlerPanic;
use crate::bridge::id::ConnId;
use crate::reactor::outbuf::OutBuf;
use crate::reactor::shared::Shared;

thread_local! {
    /// The open door while a handler runs inside the loop, else null.
    static DOOR: Cell<*mut Door> = const { Cell::new(ptr::null_mut()) };
    /// This thread holds commands (inline cork) that must go out first.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
    /// This thread runs `serve`.
    static SERVING: Cell<bool> = const { Cell::new(false) };
}

struct Door {
    id: ConnId,
    server: *const Shared,
    out: *mut OutBuf,
    sent: Sent,
}

/// What went straight into a connection's output, for the loop's counters.
#[derive(Default, Clone, Copy)]
pub(crate) struct Sent {
    pub messages: u64,
    pub bytes: u64,
}

/// Runs `handler` (a `serve` handler, inside the loop of `server`) with `id`'s
/// output open to `send`. Returns what was sent that way, and the handler's
/// panic if it panicked: unwinding through the loop would leave it half-way
/// through a read, so the caller resumes the panic once the turn is over.
pub(crate) fn open(
    server: &Shared,
    id: ConnId,
    out: &mut OutBuf,
    handler: impl FnOnce(),
) -> (Sent, Option<HandlerPanic>) {
    let mut door = Door {
        id,
        server,
        out,
        sent: Sent::default(),
    };
    let previous = DOOR.replace(&mut door);
    let result = panic::catch_unwind(AssertUnwindSafe(handler));
    DOOR.set(previous);
    (door.sent, result.err())
}

/// Queues a frame straight into `id`'s output if the door is open for `id` of
/// `server` and no command of this thread must go first. `push` returns the
/// payload's size. False: take the command path.
pub(crate) fn send(
    server: &Arc<Shared>,
    id: ConnId,
    push: impl FnOnce(&mut OutBuf) -> usize,
) -> bool {
    let door = DOOR.get();
    if door.is_null() || HOLDING.get() {
        return false;
    }
    // SAFETY: `open` set the pointer to its own local and resets it before
    // returning; this runs inside that call, on the same thread.
    let door = unsafe { &mut *door };
    if door.id != id || !ptr::eq(door.server, Arc::as_ptr(server)) {
        return false;
    }
    // SAFETY: `open` took the pointer from a live `&mut OutBuf` that nothing
    // else touches until it returns.
    let payload = push(unsafe { &mut *door.out });
    door.sent.messages += 1;
    door.sent.bytes += payload as u64;
    true
}

/// Notes whether this thread holds commands (see `cork`).
pub(crate) fn holding(yes: bool) {
    HOLDING.set(yes);
}

/// True while `serve` runs on this thread (its handler may be inside the
/// loop): `wait`, `serve` and `shutdown` cannot run the loop then.
pub(crate) fn serving() -> bool {
    SERVING.get()
}

/// Marks this thread as running `serve` until the guard is dropped.
pub(crate) fn serve_guard() -> impl Drop {
    struct Serving;
    impl Drop for Serving {
        fn drop(&mut self) {
            SERVING.set(false);
        }
    }
    SERVING.set(true);
    Serving
}
