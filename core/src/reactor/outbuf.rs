//! A connection's outbound bytes: small frames are copied into one owned tail
//! (corking), shared frames (broadcast, publish) and large payloads are queued
//! by reference ahead of it, and the whole queue goes out in one vectored
//! write. Empty queues hold no memory; a queue of copied frames only (every
//! echo) holds nothing but its pooled tail.

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
    /// What goes out before `tail`: shared frames, large payloads, and the
    /// owned bytes queued ahead of them. Boxed and absent while only the tail
    /// is used: the connection stays small, and a write costs no allocation.
    #[allow(clippy::box_collection)] // one pointer instead of four words in every connection
    chunks: Option<Box<VecDeque<Chunk>>>,
    /// Copied frames, behind every chunk, in a pooled buffer.
    tail: Vec<u8>,
    /// Bytes of the front piece (the first chunk, else the tail) already written.
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

    /// Appends bytes, copying them into the tail while it has room.
    pub(crate) fn push_bytes(&mut self, parts: &[&[u8]]) {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        self.len += total;
        if !self.tail.is_empty() && self.tail.len() + total > CHUNK {
            self.seal_tail();
        }
        if self.tail.capacity() == 0 {
            self.tail = pool::chunk(total);
        }
        for p in parts {
            self.tail.extend_from_slice(p);
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
            self.seal_tail().push_back(chunk);
        }
    }

    /// Queues a shared frame by reference.
    pub(crate) fn push_shared(&mut self, frame: &Arc<[u8]>) {
        if frame.len() < COPY_SHARED_BELOW {
            self.push_bytes(&[frame]);
        } else {
            self.len += frame.len();
            self.seal_tail().push_back(Chunk::Shared(frame.clone()));
        }
    }

    /// Puts bytes before everything queued (the `101` response ahead of early sends).
    pub(crate) fn push_front(&mut self, bytes: Vec<u8>) {
        debug_assert_eq!(self.offset, 0);
        self.len += bytes.len();
        self.chunks
            .get_or_insert_with(Box::default)
            .push_front(Chunk::Owned(bytes));
    }

    /// Moves the tail (if it holds bytes) behind the chunks, so that what is
    /// queued next goes after it; returns the chunks.
    fn seal_tail(&mut self) -> &mut VecDeque<Chunk> {
        let chunks = self.chunks.get_or_insert_with(Box::default);
        if !self.tail.is_empty() {
            chunks.push_back(Chunk::Owned(std::mem::take(&mut self.tail)));
        }
        chunks
    }

    /// Writes `frame` at once when nothing is queued (the socket's order is
    /// then the queue's): no copy and no queue, unless the socket takes only
    /// part of it. Errors leave the frame queued, for the loop's flush to see.
    pub(crate) fn send_now<W: Write>(
        &mut self,
        socket: &mut W,
        frame: &Arc<[u8]>,
    ) -> io::Result<Flushed> {
        if self.len > 0 {
            self.push_shared(frame);
            return self.flush_to(socket);
        }
        let mut done = 0;
        while done < frame.len() {
            match socket.write(&frame[done..]) {
                Ok(0) => {
                    self.queue_rest(frame, done);
                    return Err(io::ErrorKind::WriteZero.into());
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.queue_rest(frame, done);
                    return Ok(Flushed::WouldBlock);
                }
                Err(e) => {
                    self.queue_rest(frame, done);
                    return Err(e);
                }
            }
        }
        flush_socket(socket)
    }

    /// Queues what the socket did not take of `frame` (nothing else is queued).
    fn queue_rest(&mut self, frame: &Arc<[u8]>, done: usize) {
        debug_assert_eq!(self.len, 0);
        let rest = frame.len() - done;
        if rest < COPY_SHARED_BELOW {
            self.push_bytes(&[&frame[done..]]);
        } else {
            self.len = rest;
            self.offset = done;
            self.seal_tail().push_back(Chunk::Shared(frame.clone()));
        }
    }

    /// Drops everything queued; returns how many bytes that was.
    pub(crate) fn clear(&mut self) -> usize {
        let dropped = self.len;
        *self = OutBuf::default();
        dropped
    }

    /// Drops what has not started to go out. A piece partly written is kept,
    /// with the payload that completes its last frame: cutting a frame would
    /// corrupt the stream for anything sent after it (the close frame).
    pub(crate) fn discard_unsent(&mut self) {
        if self.offset == 0 {
            self.clear();
            return;
        }
        // The front piece is the first chunk, or the tail when there is none.
        if let Some(chunks) = self.chunks.as_mut().filter(|c| !c.is_empty()) {
            let keep = match chunks.get(1) {
                Some(Chunk::Payload(_)) => 2,
                _ => 1,
            };
            chunks.truncate(keep);
            self.tail = Vec::new();
        }
        self.len = self.queued() - self.offset;
    }

    /// All bytes held, the front piece's written ones included.
    fn queued(&self) -> usize {
        let chunks = self.chunks.iter().flat_map(|c| c.iter());
        chunks.map(|c| c.bytes().len()).sum::<usize>() + self.tail.len()
    }

    /// Writes as much as the socket takes, retrying on EINTR, then flushes the
    /// socket (TLS sends the records it still holds).
    pub(crate) fn flush_to<W: Write>(&mut self, socket: &mut W) -> io::Result<Flushed> {
        while self.len > 0 {
            let result = match self.chunks.as_deref().filter(|c| !c.is_empty()) {
                // Only copied frames (every echo): one plain write.
                None => socket.write(&self.tail[self.offset..]),
                Some(chunks) => {
                    let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                    let pieces = chunks.iter().map(Chunk::bytes);
                    let pieces = pieces.chain((!self.tail.is_empty()).then_some(&self.tail[..]));
                    let mut n = 0;
                    for (slot, bytes) in slices.iter_mut().zip(pieces) {
                        let skip = if n == 0 { self.offset } else { 0 };
                        *slot = IoSlice::new(&bytes[skip..]);
                        n += 1;
                    }
                    socket.write_vectored(&slices[..n])
                }
            };
            match result {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => self.consume(written),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::WouldBlock),
                Err(e) => return Err(e),
            }
        }
        // Release the queue's memory: an idle connection holds no write buffer.
        self.chunks = None;
        if self.tail.capacity() > 0 {
            pool::give(std::mem::take(&mut self.tail));
        }
        self.offset = 0;
        flush_socket(socket)
    }

    fn consume(&mut self, mut written: usize) {
        self.len -= written;
        while written > 0 {
            let Some(chunks) = self.chunks.as_mut().filter(|c| !c.is_empty()) else {
                // The tail is the front piece; what is left of it stays queued.
                self.offset += written;
                return;
            };
            let Some(front) = chunks.front() else {
                return;
            };
            let left = front.bytes().len() - self.offset;
            if written >= left {
                written -= left;
                self.offset = 0;
                if let Some(Chunk::Owned(v) | Chunk::Payload(v)) = chunks.pop_front() {
                    pool::give(v);
                }
            } else {
                self.offset += written;
                written = 0;
            }
        }
    }
}

/// Flushes the socket (TLS: the records it still holds).
fn flush_socket<W: Write>(socket: &mut W) -> io::Result<Flushed> {
    match socket.flush() {
        Ok(()) => Ok(Flushed::All),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Flushed::WouldBlock),
        Err(e) => Err(e),
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
        assert!(buf.chunks.is_none() && buf.tail.capacity() == 0);
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

    #[test]
    fn a_partly_written_tail_stays_in_front() {
        let mut buf = OutBuf::default();
        buf.push_bytes(&[b"0123456789"]);
        let mut w = Trickle {
            out: Vec::new(),
            per_call: 4,
            calls_left: 1,
        };
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::WouldBlock);
        buf.push_bytes(&[b"ab"]);
        let shared: Arc<[u8]> = vec![5u8; 300].into();
        buf.push_shared(&shared);
        buf.push_frame(b"H", vec![6u8; 20_000]);
        buf.push_bytes(&[b"end"]);
        assert_eq!(buf.len(), 6 + 2 + 300 + 1 + 20_000 + 3);
        w.calls_left = usize::MAX;
        w.per_call = 7;
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::All);
        let mut expected = b"0123456789ab".to_vec();
        expected.extend(vec![5u8; 300]);
        expected.push(b'H');
        expected.extend(vec![6u8; 20_000]);
        expected.extend(b"end");
        assert_eq!(w.out, expected);
        assert!(buf.chunks.is_none() && buf.tail.capacity() == 0);
    }

    #[test]
    fn sending_now_queues_what_the_socket_leaves() {
        let frame: Arc<[u8]> = (0..1000u32).map(|i| i as u8).collect::<Vec<u8>>().into();
        let mut buf = OutBuf::default();
        let mut w = Trickle {
            out: Vec::new(),
            per_call: 300,
            calls_left: 1,
        };
        assert_eq!(buf.send_now(&mut w, &frame).unwrap(), Flushed::WouldBlock);
        assert_eq!(buf.len(), 700);
        buf.push_bytes(&[b"next"]);
        // Something is queued now: this one goes behind it.
        assert_eq!(buf.send_now(&mut w, &frame).unwrap(), Flushed::WouldBlock);
        w.calls_left = usize::MAX;
        assert_eq!(buf.flush_to(&mut w).unwrap(), Flushed::All);
        let mut expected = frame.to_vec();
        expected.extend(b"next");
        expected.extend(frame.iter());
        assert_eq!(w.out, expected);
        // An empty queue and a willing socket: nothing is queued at all.
        assert_eq!(buf.send_now(&mut w, &frame).unwrap(), Flushed::All);
        assert_eq!(buf.len(), 0);
        assert!(buf.chunks.is_none() && buf.tail.capacity() == 0);
    }
}
