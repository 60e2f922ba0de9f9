//! What crosses threads between the application and the loops: commands in
//! (`command`, each loop's queue and waker in `loop_shared`; a message for
//! many connections as one shared `outgoing`), events out
//! (`event`, the bounded `event_queue`, taken fairly per connection through
//! `fair_queue`, and the loop's `batch`), the registry of
//! live connection ids (`id`, `live_ids`, `registry`), the counters
//! (`stats`) and readiness descriptors (`flag_fd`). No sockets and no loop logic here.

pub(crate) mod batch;
pub(crate) mod command;
pub(crate) mod event;
pub(crate) mod event_queue;
pub(crate) mod fair_queue;
pub(crate) mod flag_fd;
pub(crate) mod id;
pub(crate) mod live_ids;
pub(crate) mod loop_shared;
pub(crate) mod outgoing;
pub(crate) mod registry;
pub(crate) mod stats;
