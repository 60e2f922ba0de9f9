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
    let mut key = key;
    key.rotate_left(offset % 4);
    // A u64 holds the key twice; eight is a multiple of four, so every word
    // starts at the same key phase and the key never has to be rotated again.
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
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

#[cfg(test)]
mod tests {
    use super::apply_mask;

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
