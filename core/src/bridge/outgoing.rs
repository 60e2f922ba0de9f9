//! A message for many connections (a publish, a broadcast, a user's tabs): its
//! kind and payload, framed once per distinct framing and shared by every
//! recipient on every loop. Each connection asks for the framing it speaks.

use std::sync::Arc;

use crate::bridge::command::header;
use crate::bridge::event::MessageKind;

/// How a connection frames its messages. Every connection speaks plain
/// RFC 6455 frames today; a negotiated extension (permessage-deflate) adds a
/// variant here, and `Outgoing` a frame built for it on first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Plain,
}

pub(crate) struct Outgoing {
    payload_len: usize,
    /// The plain frame, built at once: the framing of every connection today.
    plain: Arc<[u8]>,
}

impl Outgoing {
    pub(crate) fn new(kind: MessageKind, data: &[u8]) -> Arc<Outgoing> {
        let (header, n) = header(kind, data.len());
        let mut frame = Vec::with_capacity(n as usize + data.len());
        frame.extend_from_slice(&header[..n as usize]);
        frame.extend_from_slice(data);
        Arc::new(Outgoing {
            payload_len: data.len(),
            plain: frame.into(),
        })
    }

    /// The payload's size, for the counters.
    pub(crate) fn payload_len(&self) -> usize {
        self.payload_len
    }

    /// The bytes of this message for a connection that speaks `framing`.
    pub(crate) fn frame(&self, framing: Framing) -> &Arc<[u8]> {
        match framing {
            Framing::Plain => &self.plain,
        }
    }
}
