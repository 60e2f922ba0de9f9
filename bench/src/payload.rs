//! Echo payloads that make every reply checkable byte for byte: a sequence
//! number and the connection's number, then a pattern whose phase depends on
//! the sequence number, so a reply that is stale, reordered, truncated or from
//! another connection does not match.

use std::sync::Arc;

use switchboard::protocol::mask::apply_mask;

use crate::client::frame::OP_BINARY;
use crate::client::writer::Writer;

/// Bytes of the header: sequence number (u64 LE) and connection (u32 LE).
const HEADER: usize = 12;
/// The pattern repeats with this period; its phase is `seq % PERIOD`.
const PERIOD: usize = 251;
/// Largest memory spent on bodies masked in advance (one per phase).
const MAX_PREMASKED: usize = 64 << 20;

pub struct EchoPayload {
    size: usize,
    pattern: Vec<u8>,
    /// For each phase, the body masked with that phase's key, back to back,
    /// so that sending a message never masks or copies its body.
    premasked: Option<Arc<[u8]>>,
}

/// The masking key of the messages of one phase: varied, no zero byte, so a
/// server that does not unmask fails validation.
fn phase_key(phase: usize) -> [u8; 4] {
    let k = (phase as u32 + 1).wrapping_mul(0x9E37_79B9) ^ 0x5A5A_5A5A;
    (k | 0x0101_0101).to_le_bytes()
}

impl EchoPayload {
    pub fn new(size: usize) -> EchoPayload {
        let body = size.saturating_sub(HEADER);
        let pattern: Vec<u8> = (0..body + PERIOD)
            .map(|i| ((i % PERIOD) as u8).wrapping_mul(97).wrapping_add(13))
            .collect();
        let premasked = (body > 0 && body * PERIOD <= MAX_PREMASKED).then(|| {
            let mut all = Vec::with_capacity(body * PERIOD);
            for phase in 0..PERIOD {
                let start = all.len();
                all.extend_from_slice(&pattern[phase..phase + body]);
                // The body follows the 12-byte header: key offset 12, i.e. 0.
                apply_mask(&mut all[start..], phase_key(phase), HEADER);
            }
            Arc::from(all)
        });
        EchoPayload {
            size,
            pattern,
            premasked,
        }
    }

    /// Queues the message (`conn`, `seq`) as one binary frame.
    pub fn queue(&self, out: &mut Writer, conn: u32, seq: u64) {
        let phase = (seq % PERIOD as u64) as usize;
        match &self.premasked {
            Some(all) => {
                let body = self.size - HEADER;
                let header = Self::header(conn, seq);
                let range = phase * body..(phase + 1) * body;
                out.queue_premasked(OP_BINARY, phase_key(phase), &header, all, range);
            }
            None => self.with_parts(conn, seq, |parts| out.queue(OP_BINARY, parts)),
        }
    }

    fn header(conn: u32, seq: u64) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..8].copy_from_slice(&seq.to_le_bytes());
        h[8..].copy_from_slice(&conn.to_le_bytes());
        h
    }

    fn body(&self, seq: u64) -> &[u8] {
        let start = (seq % PERIOD as u64) as usize;
        let len = self.size.saturating_sub(HEADER);
        self.pattern.get(start..start + len).unwrap_or_default()
    }

    /// Calls `send` with the payload's pieces (header prefix, body).
    fn with_parts<R>(&self, conn: u32, seq: u64, send: impl FnOnce(&[&[u8]]) -> R) -> R {
        let header = Self::header(conn, seq);
        let head = &header[..self.size.min(HEADER)];
        send(&[head, self.body(seq)])
    }

    /// Whether `data` is exactly the payload for (`conn`, `seq`).
    pub fn matches(&self, data: &[u8], conn: u32, seq: u64) -> bool {
        if data.len() != self.size {
            return false;
        }
        let header = Self::header(conn, seq);
        if let Some((head, body)) = data.split_first_chunk::<HEADER>() {
            // A fixed-size compare: no call into libc for the header.
            return *head == header && body == self.body(seq);
        }
        data == &header[..data.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::EchoPayload;
    use switchboard::protocol::mask::apply_mask;

    use crate::client::writer::Writer;

    /// The payload of the one frame a writer holds, unmasked.
    fn sent(p: &EchoPayload, conn: u32, seq: u64) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), 5);
        p.queue(&mut w, conn, seq);
        let mut wire = Vec::new();
        assert!(w.flush_to(&mut wire).expect("writes"));
        assert_eq!(wire[0], 0x82);
        let h = match wire[1] & 0x7f {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        let key = [wire[h], wire[h + 1], wire[h + 2], wire[h + 3]];
        assert_ne!(key, [0; 4]);
        let mut payload = wire[h + 4..].to_vec();
        apply_mask(&mut payload, key, 0);
        payload
    }

    #[test]
    fn payload_round_trip_and_mismatches() {
        for size in [0usize, 1, 11, 12, 13, 32, 1024, 65536] {
            let p = EchoPayload::new(size);
            let bytes: Vec<u8> = p.with_parts(7, 1000, |parts| parts.concat());
            assert_eq!(sent(&p, 7, 1000), bytes);
            assert_eq!(
                sent(&p, 7, 1250),
                p.with_parts(7, 1250, |parts| parts.concat())
            );
            assert_eq!(bytes.len(), size);
            assert!(p.matches(&bytes, 7, 1000));
            if size >= 12 {
                assert!(!p.matches(&bytes, 8, 1000));
                assert!(!p.matches(&bytes, 7, 1001));
            }
            if size > 12 {
                let mut bad = bytes.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(!p.matches(&bad, 7, 1000));
                assert!(!p.matches(&bytes[..size - 1], 7, 1000));
            }
        }
    }
}
