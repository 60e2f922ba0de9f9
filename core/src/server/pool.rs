//! Recycled byte buffers, per I/O thread: the echo path takes a message buffer
//! and an output chunk per batch without going to the allocator each time.
//!
//! Two pools, by capacity, so that a small message never pins a large buffer
//! while it waits in the event queue. Both are bounded.

use std::cell::RefCell;

/// Message buffers up to this capacity go to the small pool.
const SMALL: usize = 1024;
/// Output chunks start at this capacity; up to `MAX_CHUNK` they are kept.
pub(crate) const CHUNK_START: usize = 4 * 1024;
const MAX_CHUNK: usize = 16 * 1024;
/// At most this many buffers per pool and thread.
const MAX_POOLED: usize = 256;

#[derive(Default)]
struct Pools {
    small: Vec<Vec<u8>>,
    chunks: Vec<Vec<u8>>,
}

thread_local! {
    static POOLS: RefCell<Pools> = RefCell::new(Pools::default());
}

/// A copy of `bytes` in a recycled buffer when it is small.
pub(crate) fn copy_of(bytes: &[u8]) -> Vec<u8> {
    let mut v = buffer(bytes.len());
    v.extend_from_slice(bytes);
    v
}

/// An empty buffer with room for `len` bytes, recycled when `len` is small.
pub(crate) fn buffer(len: usize) -> Vec<u8> {
    if len > SMALL {
        return Vec::with_capacity(len);
    }
    let mut v = POOLS
        .with(|p| p.borrow_mut().small.pop())
        .unwrap_or_default();
    v.reserve(len);
    v
}

/// An empty output chunk with room for at least `min` bytes.
pub(crate) fn chunk(min: usize) -> Vec<u8> {
    let pooled = if min <= MAX_CHUNK {
        POOLS.with(|p| p.borrow_mut().chunks.pop())
    } else {
        None
    };
    let mut v = pooled.unwrap_or_default();
    v.reserve(min.max(CHUNK_START));
    v
}

/// Gives a buffer back for reuse (or frees it, when the pools are full or it
/// is of a size neither pool keeps).
pub(crate) fn give(mut v: Vec<u8>) {
    let capacity = v.capacity();
    v.clear();
    POOLS.with(|p| {
        let mut p = p.borrow_mut();
        let pool = match capacity {
            1..=SMALL => &mut p.small,
            CHUNK_START..=MAX_CHUNK => &mut p.chunks,
            _ => return,
        };
        if pool.len() < MAX_POOLED {
            pool.push(v);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_by_size() {
        let a = copy_of(b"hello");
        let ptr = a.as_ptr();
        give(a);
        let b = copy_of(b"again");
        assert_eq!(b.as_ptr(), ptr, "the small buffer came back");
        assert_eq!(b, b"again");
        let big = copy_of(&[7u8; 5000]);
        give(big);
        let c = chunk(10);
        assert!(c.capacity() >= CHUNK_START && c.is_empty());
    }
}
