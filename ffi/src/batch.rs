//! One `sb_server_wait` batch: the engine's events, and the C views of them.
//!
//! Message payloads are lent straight from the engine's buffers (no copy). The strings of
//! open and close events are copied, NUL-terminated, into one arena reused from batch to
//! batch, so the steady state allocates nothing beyond what the engine does. Everything
//! stays put until the next batch replaces it, which is the lifetime promised to C.

use std::io::Write;
use std::ops::Range;

use engine::server::{Event, MessageKind, Open};

use crate::event::{sb_event, sb_event_kind, sb_header, sb_open, sb_str, SB_BINARY, SB_TEXT};

/// Where one string sits in the arena (its NUL follows it).
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) len: usize,
}

/// An open event's strings, as spans, until the arena is final.
struct OpenSpans {
    peer: Span,
    method: Span,
    path: Span,
    query: Span,
    subprotocol: Option<Span>,
    /// Its headers in `Batch::header_spans`.
    headers: Range<usize>,
    pending: bool,
}

#[derive(Default)]
pub(crate) struct Batch {
    /// The engine's events of the last wait; they own the message payloads.
    pub(crate) events: Vec<Event>,
    arena: Vec<u8>,
    header_spans: Vec<(Span, Span)>,
    open_spans: Vec<OpenSpans>,
    reason_spans: Vec<Span>,
    headers: Vec<sb_header>,
    opens: Vec<sb_open>,
}

// SAFETY: the raw pointers in `headers` and `opens` point only into buffers this batch owns
// (`arena`, `headers`), which move with it; nothing in a batch is tied to a thread.
unsafe impl Send for Batch {}

/// A zero-length payload still gets a valid pointer.
static EMPTY: [u8; 1] = [0];

impl Batch {
    /// Forgets the previous batch (this is where its pointers stop being valid).
    pub(crate) fn clear(&mut self) {
        self.events.clear();
        self.arena.clear();
        self.header_spans.clear();
        self.open_spans.clear();
        self.reason_spans.clear();
        self.headers.clear();
        self.opens.clear();
    }

    /// Writes the C view of every event in `self.events` to `out`.
    ///
    /// # Safety
    /// `out` points to at least `self.events.len()` writable `sb_event`s.
    pub(crate) unsafe fn write_to(&mut self, out: *mut sb_event) {
        self.collect_strings();
        self.link();
        let (mut opens, mut reasons) = (0, 0);
        for (i, event) in self.events.iter().enumerate() {
            let view = match event {
                Event::Message { id, kind, data } => message_view(id.as_u64(), *kind, data),
                Event::Open(open) => {
                    opens += 1;
                    sb_event {
                        open: &self.opens[opens - 1],
                        ..blank(sb_event_kind::SB_EVENT_OPEN, open.id.as_u64())
                    }
                }
                Event::Close(close) => {
                    reasons += 1;
                    sb_event {
                        close_code: close.code,
                        clean: close.clean,
                        reason: self.str(self.reason_spans[reasons - 1]),
                        ..blank(sb_event_kind::SB_EVENT_CLOSE, close.id.as_u64())
                    }
                }
            };
            // SAFETY: `i` < events.len() <= the capacity the caller promised.
            unsafe { out.add(i).write(view) };
        }
    }

    /// Copies the strings of open and close events into the arena, in event order.
    fn collect_strings(&mut self) {
        for event in &self.events {
            match event {
                Event::Open(open) => {
                    let spans = open_strings(&mut self.arena, &mut self.header_spans, open);
                    self.open_spans.push(spans);
                }
                Event::Close(close) => {
                    let span = push(&mut self.arena, close.reason.as_bytes());
                    self.reason_spans.push(span);
                }
                Event::Message { .. } => {}
            }
        }
    }

    /// Builds the C headers and opens once the arena no longer moves; headers first, as
    /// opens point into them.
    fn link(&mut self) {
        for i in 0..self.header_spans.len() {
            let (name, value) = self.header_spans[i];
            let header = sb_header {
                name: self.str(name),
                value: self.str(value),
            };
            self.headers.push(header);
        }
        for i in 0..self.open_spans.len() {
            let spans = &self.open_spans[i];
            let open = sb_open {
                peer: self.str(spans.peer),
                method: self.str(spans.method),
                path: self.str(spans.path),
                query: self.str(spans.query),
                headers: self.headers[spans.headers.clone()].as_ptr(),
                header_count: spans.headers.len(),
                subprotocol: spans.subprotocol.map_or(sb_str::NONE, |s| self.str(s)),
                pending: spans.pending,
            };
            self.opens.push(open);
        }
    }

    fn str(&self, span: Span) -> sb_str {
        sb_str {
            ptr: self.arena[span.start..].as_ptr().cast(),
            len: span.len,
        }
    }
}

/// Copies an open event's strings; its headers' spans go to `header_spans`.
fn open_strings(
    arena: &mut Vec<u8>,
    header_spans: &mut Vec<(Span, Span)>,
    open: &Open,
) -> OpenSpans {
    let start = arena.len();
    // Writing to a Vec cannot fail.
    let _ = write!(arena, "{}", open.peer);
    let peer = Span {
        start,
        len: arena.len() - start,
    };
    arena.push(0);
    let request = &open.request;
    let first_header = header_spans.len();
    for (name, value) in &request.headers {
        let name = push(arena, name.as_bytes());
        let value = push(arena, value.as_bytes());
        header_spans.push((name, value));
    }
    OpenSpans {
        peer,
        method: push(arena, request.method.as_bytes()),
        path: push(arena, request.path.as_bytes()),
        query: push(arena, request.query.as_bytes()),
        subprotocol: open.subprotocol.as_ref().map(|p| push(arena, p.as_bytes())),
        headers: first_header..header_spans.len(),
        pending: open.pending,
    }
}

/// Appends a string and its NUL. Strings from the engine hold no NUL of their own (HTTP
/// forbids them in heads, and close reasons are checked UTF-8 from the peer); one would only
/// shorten what C sees through `ptr` as a C string.
pub(crate) fn push(arena: &mut Vec<u8>, bytes: &[u8]) -> Span {
    let start = arena.len();
    arena.extend_from_slice(bytes);
    arena.push(0);
    Span {
        start,
        len: bytes.len(),
    }
}

/// The C view of a message: its payload lent as it is.
pub(crate) fn message_view(id: u64, kind: MessageKind, data: &[u8]) -> sb_event {
    sb_event {
        data: if data.is_empty() {
            EMPTY.as_ptr()
        } else {
            data.as_ptr()
        },
        len: data.len(),
        message_kind: match kind {
            MessageKind::Text => SB_TEXT,
            MessageKind::Binary => SB_BINARY,
        },
        ..blank(sb_event_kind::SB_EVENT_MESSAGE, id)
    }
}

fn blank(kind: sb_event_kind, id: u64) -> sb_event {
    sb_event {
        kind,
        id,
        open: std::ptr::null(),
        message_kind: 0,
        data: std::ptr::null(),
        len: 0,
        close_code: 0,
        clean: false,
        reason: sb_str::NONE,
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;
    use std::mem::MaybeUninit;

    use engine::server::{Close, ConnId, Request};

    use super::*;

    fn text(s: sb_str) -> &'static str {
        // SAFETY: test views point into a batch that outlives every use below.
        let bytes = unsafe { std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len) };
        // SAFETY: the arena puts a NUL after every string.
        let c = unsafe { CStr::from_ptr(s.ptr) };
        assert_eq!(c.to_bytes(), bytes, "NUL-terminated");
        std::str::from_utf8(bytes).expect("UTF-8")
    }

    fn open(id: u64, path: &str, headers: &[(&str, &str)], sub: Option<&str>) -> Event {
        Event::Open(Box::new(Open {
            id: ConnId::from_u64(id),
            peer: "127.0.0.1:5000".parse().expect("addr"),
            request: Request {
                method: "GET".into(),
                path: path.into(),
                query: "a=1".into(),
                version: 1,
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).into(), (*v).into()))
                    .collect(),
            },
            subprotocol: sub.map(Into::into),
            pending: true,
        }))
    }

    fn run(batch: &mut Batch) -> Vec<sb_event> {
        let mut out = vec![MaybeUninit::<sb_event>::uninit(); batch.events.len()];
        // SAFETY: `out` has room for every event.
        unsafe { batch.write_to(out.as_mut_ptr().cast()) };
        // SAFETY: write_to initialized every element.
        out.into_iter()
            .map(|e| unsafe { e.assume_init() })
            .collect()
    }

    #[test]
    fn every_kind_of_event_is_viewed_with_its_strings() {
        let mut batch = Batch {
            events: vec![
                open(1, "/a", &[("Host", "x"), ("X-Token", "t1")], Some("chat")),
                Event::Message {
                    id: ConnId::from_u64(1),
                    kind: MessageKind::Text,
                    data: b"hello".to_vec(),
                },
                open(2, "/b", &[], None),
                Event::Message {
                    id: ConnId::from_u64(2),
                    kind: MessageKind::Binary,
                    data: Vec::new(),
                },
                Event::Close(Close {
                    id: ConnId::from_u64(1),
                    code: 4001,
                    reason: "bye".into(),
                    clean: true,
                }),
            ],
            ..Batch::default()
        };
        let events = run(&mut batch);
        assert_eq!(events[0].kind, sb_event_kind::SB_EVENT_OPEN);
        assert_eq!(events[0].id, 1);
        // SAFETY: open events point to an sb_open in the batch.
        let o = unsafe { &*events[0].open };
        assert_eq!(text(o.peer), "127.0.0.1:5000");
        assert_eq!(text(o.method), "GET");
        assert_eq!(text(o.path), "/a");
        assert_eq!(text(o.query), "a=1");
        assert_eq!(text(o.subprotocol), "chat");
        assert!(o.pending);
        assert_eq!(o.header_count, 2);
        // SAFETY: header_count headers follow `headers`.
        let h = unsafe { std::slice::from_raw_parts(o.headers, o.header_count) };
        assert_eq!((text(h[1].name), text(h[1].value)), ("X-Token", "t1"));

        assert_eq!(events[1].kind, sb_event_kind::SB_EVENT_MESSAGE);
        assert_eq!(events[1].message_kind, SB_TEXT);
        // SAFETY: len bytes at data.
        let data = unsafe { std::slice::from_raw_parts(events[1].data, events[1].len) };
        assert_eq!(data, b"hello");
        assert!(events[1].open.is_null());

        // SAFETY: as above.
        let o2 = unsafe { &*events[2].open };
        assert_eq!(text(o2.path), "/b");
        assert!(o2.subprotocol.ptr.is_null());
        assert_eq!(o2.header_count, 0);

        assert_eq!(events[3].message_kind, SB_BINARY);
        assert_eq!(events[3].len, 0);
        assert!(!events[3].data.is_null());

        assert_eq!(events[4].kind, sb_event_kind::SB_EVENT_CLOSE);
        assert_eq!((events[4].close_code, events[4].clean), (4001, true));
        assert_eq!(text(events[4].reason), "bye");
    }

    #[test]
    fn a_cleared_batch_is_reused() {
        let mut batch = Batch::default();
        for round in 0..3 {
            batch.clear();
            batch.events = (0..50)
                .map(|i| open(i + 1, &format!("/room{round}/{i}"), &[("K", "v")], None))
                .collect();
            let events = run(&mut batch);
            for (i, e) in events.iter().enumerate() {
                // SAFETY: open events point into the batch.
                let o = unsafe { &*e.open };
                assert_eq!(text(o.path), format!("/room{round}/{i}"));
                // SAFETY: one header.
                assert_eq!(text(unsafe { *o.headers }.value), "v");
            }
        }
    }
}
