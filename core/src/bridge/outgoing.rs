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

/// Messages in a row for the same recipients (publishes to one topic), framed
/// and joined once per framing: each recipient takes them in one piece.
pub(crate) struct Joined<'a> {
    messages: &'a [Arc<Outgoing>],
    plain: Option<Arc<[u8]>>,
}

impl<'a> Joined<'a> {
    pub(crate) fn new(messages: &'a [Arc<Outgoing>]) -> Joined<'a> {
        Joined {
            messages,
            plain: None,
        }
    }

    /// How many messages, and their payloads' size, for the counters.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let bytes = self.messages.iter().map(|m| m.payload_len() as u64).sum();
        (self.messages.len() as u64, bytes)
    }

    /// The joined bytes for a connection that speaks `framing`; a single
    /// message's frame is shared as it is.
    pub(crate) fn frame(&mut self, framing: Framing) -> &Arc<[u8]> {
        let messages = self.messages;
        match framing {
            Framing::Plain => self.plain.get_or_insert_with(|| match messages {
                [one] => one.frame(framing).clone(),
                _ => messages
                    .iter()
                    .flat_map(|m| m.frame(framing).iter().copied())
                    .collect(),
            }),
        }
    }
}
