//! `sb_worker_open_info`: what a worker learns about a connection beyond its
//! handshake (taken over from a worker that left: its user and topics). Kept
//! beside the batch, with the same lifetime: until the next `sb_worker_wait`.

use std::ops::Range;

use engine::control::wire::WorkerOpen;

use crate::args::{handle, out};
use crate::batch::{push, Span};
use crate::boundary::call;
use crate::event::{sb_conn_id, sb_str};
use crate::failure::Failure;
use crate::result::sb_result;
use crate::worker::sb_worker;

/// What the operator tells a worker about a connection along with its `SB_EVENT_OPEN`,
/// beyond the handshake: whether another worker had it before, and what it had then.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sb_worker_open {
    /// True when the connection comes from a worker that left (detached or vanished): its
    /// handshake happened long ago, and the fields below say what to rebuild.
    pub resumed: bool,
    /// The user the connection is bound to; `ptr` is NULL when none.
    pub user: sb_str,
    /// The topics the connection is subscribed to, `topic_count` of them.
    pub topics: *const sb_str,
    pub topic_count: usize,
}

struct Entry {
    id: u64,
    resumed: bool,
    user: Option<Span>,
    topics: Range<usize>,
}

/// The open events' extra facts of one batch.
#[derive(Default)]
pub(crate) struct Extras {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    topic_spans: Vec<Span>,
    topics: Vec<sb_str>,
}

// SAFETY: the pointers in `topics` point only into `arena`, which moves with it.
unsafe impl Send for Extras {}

impl Extras {
    pub(crate) fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
        self.topic_spans.clear();
        self.topics.clear();
    }

    pub(crate) fn add(&mut self, open: &WorkerOpen) {
        let first = self.topic_spans.len();
        for topic in &open.topics {
            let span = push(&mut self.arena, topic.as_bytes());
            self.topic_spans.push(span);
        }
        let user = open
            .user
            .as_ref()
            .map(|u| push(&mut self.arena, u.as_bytes()));
        self.entries.push(Entry {
            id: open.id,
            resumed: open.resumed,
            user,
            topics: first..self.topic_spans.len(),
        });
    }

    /// Builds the topic lists once the arena no longer moves.
    pub(crate) fn link(&mut self) {
        let arena = &self.arena;
        let view = |span: &Span| view(arena, *span);
        self.topics = self.topic_spans.iter().map(view).collect();
    }

    fn get(&self, id: u64) -> Option<sb_worker_open> {
        let entry = self.entries.iter().find(|e| e.id == id)?;
        Some(sb_worker_open {
            resumed: entry.resumed,
            user: entry.user.map_or(sb_str::NONE, |s| view(&self.arena, s)),
            topics: self.topics[entry.topics.clone()].as_ptr(),
            topic_count: entry.topics.len(),
        })
    }
}

fn view(arena: &[u8], span: Span) -> sb_str {
    sb_str {
        ptr: arena[span.start..].as_ptr().cast(),
        len: span.len,
    }
}

/// For a connection whose `SB_EVENT_OPEN` came in the last `sb_worker_wait`: whether it was
/// taken over from a worker that left, with the user and topics it had (`*info_out`).
/// `SB_ERR_NOT_FOUND` when that batch has no open event for `id`. The strings stay valid
/// until the next `sb_worker_wait` or `sb_worker_free`.
///
/// # Safety
/// `worker` is NULL or a live worker; `info_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_worker_open_info(
    worker: *const sb_worker,
    id: sb_conn_id,
    info_out: *mut sb_worker_open,
) -> sb_result {
    call(|| {
        // SAFETY: the caller's promises.
        let (worker, slot) = unsafe { (handle(worker, "worker")?, out(info_out, "info_out")?) };
        let info = worker.extras.get(id).ok_or_else(|| {
            Failure::new(
                sb_result::SB_ERR_NOT_FOUND,
                format!("no open event for connection {id} in the last sb_worker_wait"),
            )
        })?;
        slot.set(info);
        Ok(())
    })
}
