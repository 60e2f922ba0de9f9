//! Client-to-server masking (RFC 6455 section 5.3).
//!
//! Every byte of every client payload goes through here, so the bulk is
//! processed eight bytes at a time instead of one.

/// XORs `data` with the 4-byte `key`, starting at key position `offset % 4`.
///
/// `offset` lets a payload that arrives in pieces be unmasked piece by piece:
/// pass the number of payload bytes already unmasked. Masking is its own
/// inverse, so the same call masks.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let (key, word) = key_word(key, offset);
    let mut words = data.chunks_exact_mut(8);
    for chunk in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    for (byte, k) in words.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Appends `src` unmasked to `dst`: the copy and the XOR in one pass, for a
/// payload assembled from pieces (`offset` as in [`apply_mask`]). `src` is
/// left as it was.
pub fn extend_unmasked(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) {
    let (key, word) = key_word(key, offset);
    dst.reserve(src.len());
    let start = dst.len();
    let spare = &mut dst.spare_capacity_mut()[..src.len()];
    let mut words = src.chunks_exact(8);
    let mut out = spare.chunks_exact_mut(8);
    for (from, to) in (&mut words).zip(&mut out) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(from);
        let value = (u64::from_ne_bytes(bytes) ^ word).to_ne_bytes();
        for (slot, byte) in to.iter_mut().zip(value) {
            slot.write(byte);
        }
    }
    let tail = words.remainder().iter().zip(key.iter().cycle());
    for (slot, (byte, k)) in out.into_remainder().iter_mut().zip(tail) {
        slot.write(byte ^ k);
    }
    // SAFETY: the loops above wrote all `src.len()` bytes after `start`
    // (the word loop covers whole words, the tail loop the remainder).
    unsafe { dst.set_len(start + src.len()) };
}

/// The key rotated to `offset`, and as a u64 holding it twice: eight is a
/// multiple of four, so every word starts at the same key phase.
fn key_word(mut key: [u8; 4], offset: usize) -> ([u8; 4], u64) {
    key.rotate_left(offset % 4);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    (key, word)
}

#[cfg(test)]
mod tests {
    use super::{apply_mask, extend_unmasked};

    #[test]
    fn extend_unmasked_matches_apply_mask_for_every_offset_and_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for offset in 0..4 {
            for len in 0..=40 {
                for prefix in 0..3 {
                    let src: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
                    let mut expected = vec![9u8; prefix];
                    let mut masked = src.clone();
                    apply_mask(&mut masked, key, offset);
                    expected.extend_from_slice(&masked);
                    let mut got = vec![9u8; prefix];
                    extend_unmasked(&mut got, &src, key, offset);
                    assert_eq!(got, expected, "offset {offset} len {len} prefix {prefix}");
                }
            }
        }
    }

    fn naive(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_naive_for_every_offset_length_and_alignment() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut fast = [0u8; 120];
        let mut slow = [0u8; 120];
        for offset in 0..4 {
            for len in 0..=100 {
                for align in 0..8 {
                    for (i, (a, b)) in fast.iter_mut().zip(slow.iter_mut()).enumerate() {
                        let v = u8::try_from(i * 7 % 251).unwrap_or(0);
                        *a = v;
                        *b = v;
                    }
                    apply_mask(&mut fast[align..align + len], key, offset);
                    naive(&mut slow[align..align + len], key, offset);
                    assert_eq!(fast, slow, "offset {offset} len {len} align {align}");
                }
            }
        }
    }

    #[test]
    fn offset_wraps_modulo_four() {
        let key = [1, 2, 3, 4];
        let mut a = [0u8; 13];
        let mut b = [0u8; 13];
        apply_mask(&mut a, key, 1);
        apply_mask(&mut b, key, 9);
        assert_eq!(a, b);
    }

    #[test]
    fn split_unmasking_equals_whole() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let original: Vec<u8> = (0..=255).collect();
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..original.len() {
            let mut parts = original.clone();
            let (head, tail) = parts.split_at_mut(cut);
            apply_mask(head, key, 0);
            apply_mask(tail, key, cut);
            assert_eq!(parts, whole, "cut at {cut}");
        }
    }

    #[test]
    fn rfc_hello_example() {
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }
}
