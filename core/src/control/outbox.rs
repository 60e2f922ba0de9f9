//! What goes to one worker: frames appended by the dispatcher and the
//! worker's own connection thread (events and replies). A batch is written
//! at once, without blocking, when nothing is being written; what the socket
//! does not take then is written by a thread of its own, so that a worker
//! that reads slowly never blocks the dispatcher.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::control::address::Stream;

pub(crate) struct Outbox {
    stream: Stream,
    state: Mutex<State>,
    /// Signalled when frames are added, when a write emptied the buffer, and
    /// when the outbox closes.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    frames: Vec<u8>,
    /// Being written by the writer thread right now.
    writing: usize,
    /// The writer waits for frames: a push must wake it (and only then, as a
    /// wake is a system call).
    writer_waits: bool,
    closed: bool,
}

impl Outbox {
    /// An outbox writing to `stream` on a thread of its own, until closed.
    pub(crate) fn start(stream: Stream) -> std::io::Result<Arc<Outbox>> {
        let outbox = Arc::new(Outbox {
            stream,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let writer = outbox.clone();
        std::thread::Builder::new()
            .name("switchboard-worker-out".into())
            .spawn(move || writer.write_loop())?;
        Ok(outbox)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends frames with `encode`; false once the outbox is closed.
    pub(crate) fn push(&self, encode: impl FnOnce(&mut Vec<u8>)) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        let idle = state.frames.is_empty() && state.writing == 0;
        encode(&mut state.frames);
        if idle && !state.frames.is_empty() {
            // Nothing is being written: try at once, saving the writer's turn.
            match self.stream.send_now(&state.frames) {
                Ok(n) => drop(state.frames.drain(..n)),
                Err(_) => state.closed = true, // the writer sees it and ends
            }
            if state.frames.is_empty() {
                return true;
            }
        }
        if state.writer_waits || state.closed {
            state.writer_waits = false;
            self.changed.notify_all();
        }
        true
    }

    /// Bytes waiting to be written.
    pub(crate) fn backlog(&self) -> usize {
        let state = self.lock();
        state.frames.len() + state.writing
    }

    /// Waits (at most `limit`) until fewer than `bytes` wait, or it closed.
    pub(crate) fn wait_below(&self, bytes: usize, limit: Duration) {
        let state = self.lock();
        let _ = self.changed.wait_timeout_while(state, limit, |s| {
            !s.closed && s.frames.len() + s.writing >= bytes
        });
    }

    /// Stops writing; frames not yet written are dropped.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    fn write_loop(&self) {
        let mut batch = Vec::new();
        loop {
            {
                let mut state = self.lock();
                state.writing = 0;
                self.changed.notify_all();
                while state.frames.is_empty() && !state.closed {
                    state.writer_waits = true;
                    state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                state.writer_waits = false;
                if state.closed {
                    return;
                }
                batch.clear();
                std::mem::swap(&mut batch, &mut state.frames);
                state.writing = batch.len();
            }
            if self.stream.write_all_shared(&batch).is_err() {
                self.close();
                return;
            }
        }
    }
}
