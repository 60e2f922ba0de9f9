//! Recycled byte buffers, per I/O thread: the echo path takes a message buffer
//! and an output chunk per batch without going to the allocator each time.
//!
//! Pools by capacity, so that a small message never pins a large buffer while
//! it waits in the event queue. All are bounded. The few large buffers kept
//! serve the output of large messages: allocated and freed for each one, they
//! made the allocator give memory back and fault it in again every time.

use std::cell::RefCell;

/// Message buffers up to this capacity go to the small pool.
const SMALL: usize = 1024;
/// Output chunks start at this capacity; up to `MAX_CHUNK` they are kept.
pub(crate) const CHUNK_START: usize = 4 * 1024;
const MAX_CHUNK: usize = 16 * 1024;
/// At most this many buffers per pool and thread: a batch of a thousand
/// messages cycles through the small pool without touching the allocator.
const MAX_SMALL_POOLED: usize = 2048;
const MAX_CHUNKS_POOLED: usize = 64;
/// Large buffers up to this capacity are kept, at most `MAX_LARGE_POOLED` of them.
const LARGE_MIN: usize = MAX_CHUNK + 1;
const MAX_LARGE: usize = 1024 * 1024;
const MAX_LARGE_POOLED: usize = 4;
/// New small buffers get at least this much room, so that a recycled payload
/// buffer also fits the frame header of the reply built in it.
const SMALL_FLOOR: usize = 128;

#[derive(Default)]
struct Pools {
    small: Vec<Vec<u8>>,
    chunks: Vec<Vec<u8>>,
    large: Vec<Vec<u8>>,
}

thread_local! {
    static POOLS: RefCell<Pools> = RefCell::new(Pools::default());
}

/// A copy of `bytes` in a recycled buffer when it is small.
pub(crate) fn copy_of(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() > SMALL {
        return bytes.to_vec();
    }
    // Filled where it lies in the pool, then popped: a buffer popped first and
    // filled afterwards is moved through the stack twice, and each move stalls.
    POOLS.with(|p| {
        let small = &mut p.borrow_mut().small;
        match small.last_mut() {
            Some(v) => {
                v.reserve(bytes.len().max(SMALL_FLOOR));
                v.extend_from_slice(bytes);
                small.pop().unwrap_or_default()
            }
            None => {
                let mut v = Vec::with_capacity(bytes.len().max(SMALL_FLOOR));
                v.extend_from_slice(bytes);
                v
            }
        }
    })
}

/// An empty output chunk with room for at least `min` bytes.
pub(crate) fn chunk(min: usize) -> Vec<u8> {
    let pooled = POOLS.with(|p| {
        let mut p = p.borrow_mut();
        if min <= MAX_CHUNK {
            p.chunks.pop()
        } else {
            let fits = p.large.iter().position(|v| v.capacity() >= min);
            fits.map(|i| p.large.swap_remove(i))
        }
    });
    let mut v = pooled.unwrap_or_default();
    v.reserve(min.max(CHUNK_START));
    v
}

/// Gives a buffer back for reuse (or frees it, when the pools are full or it
/// is of a size neither pool keeps).
pub(crate) fn give(v: Vec<u8>) {
    give_all(std::iter::once(v));
}

/// Gives many buffers back with one look-up of the thread's pools (which is a
/// function call in a shared library).
pub(crate) fn give_all(buffers: impl Iterator<Item = Vec<u8>>) {
    POOLS.with(|p| {
        let mut p = p.borrow_mut();
        for v in buffers {
            p.keep(v);
        }
    });
}

impl Pools {
    fn keep(&mut self, mut v: Vec<u8>) {
        let capacity = v.capacity();
        v.clear();
        let (pool, max) = match capacity {
            1..=SMALL => (&mut self.small, MAX_SMALL_POOLED),
            CHUNK_START..=MAX_CHUNK => (&mut self.chunks, MAX_CHUNKS_POOLED),
            LARGE_MIN..=MAX_LARGE => (&mut self.large, MAX_LARGE_POOLED),
            _ => return,
        };
        if pool.len() < max {
            pool.push(v);
        }
    }
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
