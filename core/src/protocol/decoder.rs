//! Server-side decoder of client frames (RFC 6455 sections 5 and 8.1).
//!
//! Bytes go in as they come off the socket, in pieces of any size; complete
//! messages and control frames come out. A frame that lies whole in the
//! caller's buffer is unmasked in place and handed back without a copy;
//! only a message that spans reads or frames is assembled on the heap, and
//! that heap is given back once the message has been delivered, so an idle
//! connection costs nothing beyond the struct itself.

mod header;
#[cfg(test)]
mod tests;

use std::fmt;

use header::{Header, Limits, MAX_HEADER};

use super::close::parse_close_payload;
use super::frame::{OpCode, ProtocolError};
use super::mask::{apply_mask, extend_unmasked};
use super::utf8::Utf8Validator;

/// A complete message or control frame decoded from a client.
#[derive(Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    /// None = empty close payload
    Close(Option<(u16, &'a str)>),
}

/// A decoded message that owns its bytes, for callers that keep messages
/// beyond the next `decode` call (tests, tools, queues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedMessage {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

impl From<Message<'_>> for OwnedMessage {
    fn from(m: Message<'_>) -> Self {
        match m {
            Message::Text(t) => OwnedMessage::Text(t.to_owned()),
            Message::Binary(b) => OwnedMessage::Binary(b.to_vec()),
            Message::Ping(b) => OwnedMessage::Ping(b.to_vec()),
            Message::Pong(b) => OwnedMessage::Pong(b.to_vec()),
            Message::Close(c) => OwnedMessage::Close(c.map(|(code, r)| (code, r.to_owned()))),
        }
    }
}

/// Server-side decoder of client frames: incremental, masking required,
/// reassembles fragmented messages, validates UTF-8 fail-fast.
pub struct Decoder {
    max: usize,
    /// Payload of the data message being assembled.
    message: Vec<u8>,
    /// Payload of a control frame that arrived in pieces, kept apart so a
    /// ping between two fragments leaves the message untouched.
    control: Vec<u8>,
    stage: Stage,
    /// Opcode of the data message in progress (Text or Binary), from the
    /// header of its first frame until it is delivered.
    kind: Option<OpCode>,
    utf8: Utf8Validator,
}

/// Where the decoder is within the byte stream.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Reading a frame header; `buf[..len]` holds the part that arrived in
    /// earlier calls.
    Header { buf: [u8; MAX_HEADER], len: u8 },
    /// Reading a frame's payload.
    Payload(Frame),
    /// A protocol error happened, answered with this close code.
    Failed(u16),
}

/// The frame whose payload is arriving.
#[derive(Debug, Clone, Copy)]
struct Frame {
    remaining: usize,
    key: [u8; 4],
    /// Payload bytes received so far, modulo 4: where the mask key resumes.
    phase: u8,
    opcode: OpCode,
    fin: bool,
}

/// Where a completed message or control frame lies, found without holding a
/// borrow so that the decoder can still update itself before handing it out.
#[derive(Debug, Clone, Copy)]
enum Found {
    /// Unmasked in place in the caller's input.
    Input {
        start: usize,
        end: usize,
        opcode: OpCode,
    },
    /// Assembled in `message`; the opcode names the message's kind.
    Assembled(OpCode),
    /// Collected in `control`.
    Control(OpCode),
}

impl Stage {
    const NEW_HEADER: Stage = Stage::Header {
        buf: [0; MAX_HEADER],
        len: 0,
    };
}

impl Decoder {
    /// `max_message_size`: the largest message (sum of fragment payloads)
    /// accepted; larger → 1009, decided from the frame header BEFORE
    /// buffering its payload.
    pub fn new(max_message_size: usize) -> Self {
        Self {
            max: max_message_size,
            message: Vec::new(),
            control: Vec::new(),
            stage: Stage::NEW_HEADER,
            kind: None,
            utf8: Utf8Validator::new(),
        }
    }

    /// Decodes from `input`, unmasking it in place. Returns how many bytes of
    /// `input` were consumed and, if one completed, a message.
    ///
    /// When it returns `Ok((n, None))`, n == input.len(): all the input was
    /// taken and any partial frame/message is kept inside. When it returns a
    /// message, the caller calls again with `&mut input[n..]` (which may be
    /// empty) to continue. A complete unfragmented data frame, or a control
    /// frame, lying wholly inside `input` is returned borrowed from `input`
    /// (zero copy); otherwise from the decoder's internal buffer.
    ///
    /// After an Err the decoder is failed; the caller closes the connection
    /// with err.code.
    pub fn decode<'a>(
        &'a mut self,
        input: &'a mut [u8],
    ) -> Result<(usize, Option<Message<'a>>), ProtocolError> {
        if let Stage::Failed(code) = self.stage {
            return Err(ProtocolError::already_failed(code));
        }
        self.release_delivered();
        let (used, found) = match self.advance(input) {
            Ok(step) => step,
            Err(e) => {
                self.stage = Stage::Failed(e.code);
                return Err(e);
            }
        };
        let Some(found) = found else {
            return Ok((used, None));
        };
        match deliver(found, input, &self.message, &self.control) {
            Ok(message) => Ok((used, Some(message))),
            Err(e) => {
                self.stage = Stage::Failed(e.code);
                Err(e)
            }
        }
    }

    /// Takes the buffer of the data message just returned, when it was assembled
    /// inside the decoder (it spanned frames or reads), so the caller can keep
    /// the bytes without copying them. `None` when the last message was borrowed
    /// from the input, was a control frame, or was empty.
    pub fn take_assembled(&mut self) -> Option<Vec<u8>> {
        if self.kind.is_some() || self.message.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.message))
    }

    /// Heap bytes the decoder holds right now (capacity of its buffers).
    pub fn buffered(&self) -> usize {
        self.message.capacity() + self.control.capacity()
    }

    /// Frees what the previous call delivered from: its borrow has ended.
    fn release_delivered(&mut self) {
        if self.kind.is_none() && self.message.capacity() != 0 {
            self.message = Vec::new();
        }
        let in_control = matches!(self.stage, Stage::Payload(f) if f.opcode.is_control());
        if !in_control && self.control.capacity() != 0 {
            self.control = Vec::new();
        }
    }

    /// Consumes frames from `input` until one completes a message or control
    /// frame, or the input runs out.
    fn advance(&mut self, input: &mut [u8]) -> Result<(usize, Option<Found>), ProtocolError> {
        let mut pos = 0;
        loop {
            let rest = input.get_mut(pos..).unwrap_or_default();
            match self.stage {
                Stage::Header { buf, len } => match self.read_header(rest, buf, len)? {
                    Some(used) => pos += used,
                    None => return Ok((input.len(), None)),
                },
                Stage::Payload(frame) => {
                    let (used, found) = self.read_payload(rest, frame)?;
                    if let Some(found) = found {
                        return Ok((pos + used, Some(found.shifted(pos))));
                    }
                    if let Stage::Payload(_) = self.stage {
                        // The frame continues past the end of the input.
                        return Ok((input.len(), None));
                    }
                    pos += used;
                }
                Stage::Failed(code) => return Err(ProtocolError::already_failed(code)),
            }
        }
    }

    /// Reads a frame header, or the rest of one, from the start of `input`;
    /// `buf[..len]` is the part that arrived before. Returns the bytes it
    /// used, or `None` when it kept all of `input` as part of a header still
    /// incomplete.
    fn read_header(
        &mut self,
        input: &[u8],
        mut buf: [u8; MAX_HEADER],
        len: u8,
    ) -> Result<Option<usize>, ProtocolError> {
        let limits = Limits {
            assembling: self.kind.is_some(),
            assembled: self.message.len(),
            max: self.max,
        };
        let have = usize::from(len);
        // Usual case: the whole header is in the input, parse it in place.
        if have == 0 {
            if let Some(header) = header::parse(input, &limits)? {
                self.begin(header);
                return Ok(Some(header.size));
            }
        }
        let take = input.len().min(MAX_HEADER - have);
        buf[have..have + take].copy_from_slice(&input[..take]);
        match header::parse(&buf[..have + take], &limits)? {
            Some(header) => {
                self.begin(header);
                Ok(Some(header.size.saturating_sub(have)))
            }
            None => {
                // Incomplete means shorter than MAX_HEADER, so `take` was
                // all of the input.
                self.stage = Stage::Header {
                    buf,
                    len: (have + take) as u8,
                };
                Ok(None)
            }
        }
    }

    /// Starts receiving the payload of a frame whose header passed.
    fn begin(&mut self, header: Header) {
        if matches!(header.opcode, OpCode::Text | OpCode::Binary) {
            self.kind = Some(header.opcode);
            self.utf8.reset();
        }
        self.stage = Stage::Payload(Frame {
            remaining: header.len,
            key: header.key,
            phase: 0,
            opcode: header.opcode,
            fin: header.fin,
        });
    }

    /// Takes payload bytes of `frame` from the start of `input`. Returns the
    /// bytes used and, when they completed a message or a control frame,
    /// where it lies (positions within `input`).
    fn read_payload(
        &mut self,
        input: &mut [u8],
        frame: Frame,
    ) -> Result<(usize, Option<Found>), ProtocolError> {
        let control = frame.opcode.is_control();
        // Nothing of this frame's payload has been buffered yet, and it is a
        // whole message by itself: it can be handed out from the input.
        let untouched = if control {
            self.control.is_empty()
        } else {
            frame.fin && frame.opcode != OpCode::Continuation && self.message.is_empty()
        };
        if untouched {
            if let Some(payload) = input.get_mut(..frame.remaining) {
                apply_mask(payload, frame.key, 0);
                self.stage = Stage::NEW_HEADER;
                if !control {
                    self.kind = None;
                }
                let found = Found::Input {
                    start: 0,
                    end: frame.remaining,
                    opcode: frame.opcode,
                };
                return Ok((frame.remaining, Some(found)));
            }
        }

        let take = frame.remaining.min(input.len());
        if take == 0 && frame.remaining > 0 {
            // No payload yet: allocate nothing until some arrives.
            return Ok((0, None));
        }
        let chunk = input.get(..take).unwrap_or_default();
        let phase = usize::from(frame.phase);
        if control {
            self.control.reserve_exact(frame.remaining);
            extend_unmasked(&mut self.control, chunk, frame.key, phase);
        } else {
            reserve_message(&mut self.message, frame.remaining, frame.fin, self.max)?;
            let start = self.message.len();
            extend_unmasked(&mut self.message, chunk, frame.key, phase);
            if self.kind == Some(OpCode::Text) {
                // Fail fast: check the text as it arrives, not when complete.
                self.utf8
                    .feed(&self.message[start..])
                    .map_err(|_| ProtocolError::INVALID_TEXT)?;
            }
        }

        let remaining = frame.remaining - take;
        if remaining > 0 {
            self.stage = Stage::Payload(Frame {
                remaining,
                // Only the low two bits matter.
                phase: frame.phase.wrapping_add(take as u8) % 4,
                ..frame
            });
            return Ok((take, None));
        }
        self.stage = Stage::NEW_HEADER;
        if control {
            return Ok((take, Some(Found::Control(frame.opcode))));
        }
        if !frame.fin {
            return Ok((take, None));
        }
        let kind = self.kind.take().unwrap_or(OpCode::Binary);
        if kind == OpCode::Text {
            self.utf8
                .finish()
                .map_err(|_| ProtocolError::INVALID_TEXT)?;
        }
        Ok((take, Some(Found::Assembled(kind))))
    }
}

impl fmt::Debug for Decoder {
    /// A summary: the buffers' contents are payload, not state.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("max", &self.max)
            .field("stage", &self.stage)
            .field("kind", &self.kind)
            .field("message_len", &self.message.len())
            .field("control_len", &self.control.len())
            .field("buffered", &self.buffered())
            .finish()
    }
}

impl Found {
    /// The same place, for positions counted from `offset` bytes earlier.
    fn shifted(self, offset: usize) -> Found {
        match self {
            Found::Input { start, end, opcode } => Found::Input {
                start: start + offset,
                end: end + offset,
                opcode,
            },
            other => other,
        }
    }
}

/// Makes room for `additional` more bytes of the message being assembled.
///
/// A message's final frame reserves exactly what it declared. Earlier
/// fragments grow the buffer by doubling (capped at the size limit), so that
/// a message sent as many small fragments is copied a bounded number of
/// times rather than once per fragment. An allocation the system refuses
/// (only possible with a huge limit) fails the message as too big instead of
/// aborting the process.
fn reserve_message(
    buf: &mut Vec<u8>,
    additional: usize,
    last: bool,
    max: usize,
) -> Result<(), ProtocolError> {
    let needed = buf.len().saturating_add(additional);
    if needed <= buf.capacity() {
        return Ok(());
    }
    let target = if last {
        needed
    } else {
        needed.max(buf.capacity().saturating_mul(2).min(max))
    };
    buf.try_reserve_exact(target - buf.len())
        .map_err(|_| ProtocolError::TOO_BIG)
}

/// Turns a completed frame into the message handed to the caller, checking
/// what only a complete payload can tell.
fn deliver<'a>(
    found: Found,
    input: &'a [u8],
    message: &'a [u8],
    control: &'a [u8],
) -> Result<Message<'a>, ProtocolError> {
    let (opcode, payload) = match found {
        Found::Input { start, end, opcode } => (opcode, input.get(start..end).unwrap_or_default()),
        Found::Assembled(opcode) => (opcode, message),
        Found::Control(opcode) => (opcode, control),
    };
    match opcode {
        // Assembled text was validated as it arrived; text from the input
        // is validated here, in one pass.
        OpCode::Text => std::str::from_utf8(payload)
            .map(Message::Text)
            .map_err(|_| ProtocolError::INVALID_TEXT),
        // A message is named by its first frame, never a continuation.
        OpCode::Binary | OpCode::Continuation => Ok(Message::Binary(payload)),
        OpCode::Ping => Ok(Message::Ping(payload)),
        OpCode::Pong => Ok(Message::Pong(payload)),
        OpCode::Close => parse_close_payload(payload).map(Message::Close),
    }
}
