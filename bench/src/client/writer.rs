//! A connection's queued output: masked frames not yet written. Small pieces
//! are copied into owned chunks; large payload bodies that were masked in
//! advance are queued by reference and written with the rest in one vectored
//! write, so the generator never copies them.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::ops::Range;
use std::sync::Arc;

use super::frame::{encode_masked, write_masked_header};
use switchboard::protocol::mask::apply_mask;

/// Bodies at least this long are queued by reference rather than copied.
const SHARE_FROM: usize = 2048;
const MAX_IOVECS: usize = 64;
/// Bounds the retries of a write interrupted by a signal.
const MAX_EINTR: usize = 16;

enum Part {
    Own(Vec<u8>),
    Shared(Arc<[u8]>, Range<usize>),
}

impl Part {
    fn bytes(&self) -> &[u8] {
        match self {
            Part::Own(v) => v,
            Part::Shared(a, r) => a.get(r.clone()).unwrap_or_default(),
        }
    }
}

pub struct Writer {
    parts: VecDeque<Part>,
    /// Bytes of the front part already written.
    offset: usize,
    len: usize,
    rng: u64,
}

impl Writer {
    /// A writer holding `initial` bytes (the upgrade request) to send first.
    pub fn new(initial: Vec<u8>, seed: u64) -> Writer {
        let len = initial.len();
        Writer {
            parts: VecDeque::from([Part::Own(initial)]),
            offset: 0,
            len,
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    pub fn pending(&self) -> usize {
        self.len
    }

    /// The owned chunk at the back, to append to.
    fn tail(&mut self) -> &mut Vec<u8> {
        if !matches!(self.parts.back(), Some(Part::Own(_))) {
            self.parts.push_back(Part::Own(Vec::new()));
        }
        match self.parts.back_mut() {
            Some(Part::Own(v)) => v,
            // Just ensured to be an owned chunk.
            _ => unreachable!("tail is an owned chunk"),
        }
    }

    /// Queues a complete (FIN) frame whose payload is the concatenation of
    /// `parts`, masked with a fresh key.
    pub fn queue(&mut self, opcode: u8, parts: &[&[u8]]) {
        // xorshift64: a different masking key per frame.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let key = (self.rng as u32).to_le_bytes();
        let tail = self.tail();
        let before = tail.len();
        encode_masked(tail, true, opcode, parts, key);
        self.len += tail.len() - before;
    }

    /// Queues a complete frame made of `head` (masked here with `key`) and a
    /// body that is already masked with `key` (at key offset `head.len()`).
    pub fn queue_premasked(
        &mut self,
        opcode: u8,
        key: [u8; 4],
        head: &[u8],
        body: &Arc<[u8]>,
        range: Range<usize>,
    ) {
        let body_len = range.len();
        let share = body_len >= SHARE_FROM;
        let tail = self.tail();
        let before = tail.len();
        write_masked_header(tail, true, opcode, head.len() + body_len, key);
        let start = tail.len();
        tail.extend_from_slice(head);
        if let Some(h) = tail.get_mut(start..) {
            apply_mask(h, key, 0);
        }
        if !share {
            tail.extend_from_slice(body.get(range.clone()).unwrap_or_default());
        }
        self.len += tail.len() - before;
        if share {
            self.parts.push_back(Part::Shared(body.clone(), range));
            self.len += body_len;
        }
    }

    /// Writes as much as `w` takes. Returns true when everything was written.
    pub fn flush_to<W: Write>(&mut self, w: &mut W) -> io::Result<bool> {
        let mut interrupted = 0;
        while self.len > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let mut n = 0;
            for (i, part) in self.parts.iter().take(MAX_IOVECS).enumerate() {
                let bytes = part.bytes();
                let bytes = if i == 0 {
                    bytes.get(self.offset..).unwrap_or_default()
                } else {
                    bytes
                };
                slices[i] = IoSlice::new(bytes);
                n += 1;
            }
            match w.write_vectored(&slices[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => self.consume(written),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupted < MAX_EINTR => {
                    interrupted += 1;
                }
                Err(e) => return Err(e),
            }
        }
        // Keep one emptied chunk for the next frames; drop the rest.
        let keep = match self.parts.pop_front() {
            Some(Part::Own(mut v)) => {
                v.clear();
                Some(v)
            }
            _ => None,
        };
        self.parts.clear();
        if let Some(v) = keep {
            self.parts.push_back(Part::Own(v));
        }
        self.offset = 0;
        Ok(true)
    }

    fn consume(&mut self, mut written: usize) {
        self.len -= written;
        while written > 0 {
            let Some(front) = self.parts.front() else {
                return;
            };
            let left = front.bytes().len() - self.offset;
            if written < left {
                self.offset += written;
                return;
            }
            written -= left;
            self.offset = 0;
            if let Some(Part::Own(mut v)) = self.parts.pop_front() {
                if self.parts.is_empty() {
                    // All written: keep the last chunk's room for the next
                    // frames instead of growing a new one from nothing.
                    v.clear();
                    self.parts.push_back(Part::Own(v));
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that takes at most `max` bytes per call.
    struct Trickle {
        got: Vec<u8>,
        max: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.max);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            let mut total = 0;
            for b in bufs {
                let n = b.len().min(self.max - total);
                self.got.extend_from_slice(&b[..n]);
                total += n;
                if total == self.max {
                    break;
                }
            }
            Ok(total)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn premasked_frames_equal_masked_ones() {
        let key = [9, 8, 7, 6];
        let head = b"0123456789ab";
        for body_len in [0usize, 5, 3000, 70000] {
            let plain: Vec<u8> = (0..body_len).map(|i| (i * 31 % 256) as u8).collect();
            let mut masked = plain.clone();
            apply_mask(&mut masked, key, head.len());
            let shared: Arc<[u8]> = masked.into();
            for max in [1usize, 7, 4096, usize::MAX] {
                let mut w = Writer::new(b"REQ".to_vec(), 1);
                w.queue_premasked(2, key, head, &shared, 0..body_len);
                w.queue_premasked(2, key, head, &shared, 0..body_len);
                let mut expected = b"REQ".to_vec();
                for _ in 0..2 {
                    encode_masked(&mut expected, true, 2, &[head, &plain], key);
                }
                assert_eq!(w.pending(), expected.len());
                let mut sink = Trickle {
                    got: Vec::new(),
                    max,
                };
                let mut rounds = 0;
                while !w.flush_to(&mut sink).expect("writes") {
                    rounds += 1;
                    assert!(rounds < 1_000_000);
                }
                assert_eq!(sink.got, expected, "body {body_len} max {max}");
                assert_eq!(w.pending(), 0);
            }
        }
    }
}
