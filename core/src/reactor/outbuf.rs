//! A connection's outbound bytes: small frames are copied into one owned chunk
//! (corking), shared frames (broadcast, publish) are queued by reference, and the
//! whole queue goes out in one vectored write. Empty queues hold no memory.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::sync::Arc;

use crate::fastpath::pool;

/// Owned chunks grow to this size before a new one starts.
const CHUNK: usize = 64 * 1024;
/// Shared frames smaller than this are copied instead: a copy is cheaper than an iovec.
const COPY_SHARED_BELOW: usize = 256;
const MAX_IOVECS: usize = 64;

enum Chunk {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
    /// A large payload queued without a copy: the rest of the frame whose
    /// header ends the chunk before it.
    Payload(Vec<u8>),
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) | Chunk::Payload(v) => v,
            Chunk::Shared(a) => a,
        }
    }
}

#[derive(Default)]
pub(crate) struct OutBuf {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    offset: usize,
    len: usize,
}

/// What a flush achieved.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flushed {
    All,
    WouldBlock,
}

impl OutBuf {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends bytes, copying them into the last owned chunk when there is room.
    pub(crate) fn push_bytes(&mut self, parts: &[&[u8]]) {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        self.len += total;
        let fits = matches!(self.chunks.back(), Some(Chunk::Owned(v)) if v.len() + total <= CHUNK);
        if !fits {
            self.chunks.push_back(Chunk::Owned(pool::chunk(total)));
        }
        if let Some(Chunk::Owned(v)) = self.chunks.back_mut() {
            for p in parts {
                v.extend_from_slice(p);
            }
        }
    }

    /// Appends an owned, already encoded frame without copying it when it is large.
    pub(crate) fn push_vec(&mut self, bytes: Vec<u8>) {
        self.push_frame(&[], bytes);
    }

    /// Appends a frame header and the frame's owned payload: copied behind the
    /// header when small, else queued as it is.
    pub(crate) fn push_frame(&mut self, header: &[u8], payload: Vec<u8>) {
        if payload.len() < CHUNK / 4 {
            self.push_bytes(&[header, &payload]);
            pool::give(payload);
        } else {
            if !header.is_empty() {
                self.push_bytes(&[header]);
            }
            self.len += payload.len();
            let chunk = match header.is_empty() {
                true => Chunk::Owned(payload),
                false => Chunk::Payload(payload),
            };
            self.chunks.push_back(chunk);
        }
    }

    /// Queues a shared frame by reference.
    pub(crate) fn push_shared(&mut self, frame: &Arc<[u8]>) {
        if frame.len() < COPY_SHARED_BELOW {
            self.push_bytes(&[frame]);
        } else {
            self.len += frame.len();
            self.chunks.push_back(Chunk::Shared(frame.clone()));
        }
    }

    /// Puts bytes before everything queued (the `101` response ahead of early sends).
    pub(crate) fn push_front(&mut self, bytes: Vec<u8>) {
        debug_assert_eq!(self.offset, 0);
        self.len += bytes.len();
        self.chunks.push_front(Chunk::Owned(bytes));
    }

    /// Drops everything queued; returns how many bytes that was.
    pub(crate) fn clear(&mut self) -> usize {
        let dropped = self.len;
        *self = OutBuf::default();
        dropped
    }

    /// Drops what has not started to go out. A chunk partly written is kept,
    /// with the payload that completes its last frame: cutting a frame would
    /// corrupt the stream for anything sent after it (the close frame).
    pub(crate) fn discard_unsent(&mut self) {
        if self.offset == 0 {
            self.clear();
            return;
        }
        let keep = match self.chunks.get(1) {
            Some(Chunk::Payload(_)) => 2,
            _ => 1,
        };
        self.chunks.truncate(keep);
        self.len = self.chunks.iter().map(|c| c.bytes().len()).sum::<usize>() - self.offset;
    }

    /// Writes as much as the socket takes, retrying on EINTR, then flushes the
    /// socket (TLS sends the records it still holds).
    pub(crate) fn flush_to<W: Write>(&mut self, socket: &mut W) -> io::Result<Flushed> {
        while self.len > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let mut n = 0;
            for (i, chunk) in self.chunks.iter().take(MAX_IOVECS).enumerate() {
                let bytes = chunk.bytes();
                slices[i] = IoSlice::new(if i == 0 { &bytes[self.offset..] } else { bytes });
                n += 1;
            }
            match socket.write_vectored(&slices[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => self.consume(written),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::WouldBlock),
                Err(e) => return Err(e),
            }
        }
        // Release the queue's memory: an idle connection holds no write buffer.
        self.chunks = VecDeque::new();
        match socket.flush() {
            Ok(()) => Ok(Flushed::All),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Flushed::WouldBlock),
            Err(e) => Err(e),
        }
    }

    fn consume(&mut self, mut written: usize) {
        self.len -= written;
        while written > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let left = front.bytes().len() - self.offset;
            if written >= left {
                written -= left;
                self.offset = 0;
                if let Some(Chunk::Owned(v) | Chunk::Payload(v)) = self.chunks.pop_front() {
                    pool::give(v);
                }
            } else {
                self.offset += written;
                written = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` bytes per call, then says WouldBlock.
    struct Trickle {
        out: Vec<u8>,
        per_call: usize,
        calls_left: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.calls_left == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.calls_left -= 1;
            let n = buf.len().min(self.per_call);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_resume_in_order() {
        let mut buf = OutBuf::default();
        let shared: Arc<[u8]> = vec![7u8; 1000].into();
        buf.push_bytes(&[b"abc", b"def"]);
        buf.push_shared(&shared);
        buf.push_vec(vec![9u8; 70_000]);
        buf.push_front(b"HEAD".to_vec());
        let total = buf.len();
        let mut w = Trickle {
            out: Vec::new(),
            per_call: 333,
            calls_left: 5,
        };
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::WouldBlock);
        assert_eq!(buf.len(), total - w.out.len());
        w.calls_left = usize::MAX;
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::All);
        let mut expected = b"HEADabcdef".to_vec();
        expected.extend(vec![7u8; 1000]);
        expected.extend(vec![9u8; 70_000]);
        assert_eq!(w.out, expected);
        assert_eq!(buf.len(), 0);
        assert_eq!(buf.chunks.capacity(), 0);
    }

    #[test]
    fn discarding_keeps_a_partly_written_chunk_whole() {
        let mut buf = OutBuf::default();
        buf.push_vec(vec![1u8; 20_000]);
        buf.push_vec(vec![2u8; 20_000]);
        let mut w = Trickle {
            out: Vec::new(),
            per_call: 100,
            calls_left: 1,
        };
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::WouldBlock);
        buf.discard_unsent();
        assert_eq!(buf.len(), 19_900, "the rest of the first frame stays");
        buf.push_bytes(&[b"close"]);
        w.calls_left = usize::MAX;
        buf.flush_to(&mut w).unwrap();
        assert_eq!(w.out.len(), 20_005);
        assert!(w.out.ends_with(b"\x01close"));
    }

    #[test]
    fn discarding_keeps_the_payload_of_a_partly_written_header() {
        let mut buf = OutBuf::default();
        buf.push_bytes(&[b"earlier frames"]);
        buf.push_frame(b"HDR", vec![3u8; 20_000]);
        buf.push_frame(b"NXT", vec![4u8; 20_000]);
        let mut w = Trickle {
            out: Vec::new(),
            per_call: 5,
            calls_left: 1,
        };
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::WouldBlock);
        buf.discard_unsent();
        // The header's chunk was started: its payload goes too, the next frame not.
        assert_eq!(buf.len(), 14 + 3 + 20_000 - 5);
        buf.push_bytes(&[b"close"]);
        w.calls_left = usize::MAX;
        buf.flush_to(&mut w).unwrap();
        let mut expected = b"earlier framesHDR".to_vec();
        expected.extend(vec![3u8; 20_000]);
        expected.extend(b"close");
        assert_eq!(w.out, expected);
    }
}
