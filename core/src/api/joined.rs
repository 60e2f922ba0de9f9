//! Threads that borrow from the caller's stack, joined before it returns.
//!
//! `std::thread::scope` does the same, but keeps a handle of the calling
//! thread in that thread's storage, which a C program's main thread (or a
//! thread of its own) never frees: memory checkers report it as lost.

use std::thread::JoinHandle;

/// Joins its threads when dropped: when the function holding it returns or
/// unwinds, so that what they borrow outlives them.
#[derive(Default)]
pub(crate) struct Joined(Vec<JoinHandle<()>>);

impl Joined {
    pub(crate) fn push(&mut self, thread: JoinHandle<()>) {
        self.0.push(thread);
    }
}

impl Drop for Joined {
    fn drop(&mut self) {
        for thread in self.0.drain(..) {
            let _ = thread.join();
        }
    }
}
