//! Property tests of the frame layer: whatever the fragmentation, masks,
//! interleaved control frames and read boundaries, the decoder yields exactly
//! the messages that were sent; and no input, however broken, makes it
//! panic or hold more memory than its limit allows.

use proptest::prelude::*;
use switchboard::protocol::decoder::Decoder;
use switchboard::protocol::frame::{encode_masked_frame, OpCode, ProtocolError};

/// Heap a decoder may hold beyond its message limit: one control payload.
const SLACK: usize = 125;

use switchboard::protocol::decoder::OwnedMessage as Owned;

/// What a decoder made of a byte stream.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    messages: Vec<Owned>,
    error: Option<ProtocolError>,
}

/// A small deterministic generator for the layout choices (cuts, keys,
/// pings), so that proptest only has to shrink the seed and the messages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn key(&mut self) -> [u8; 4] {
        (self.next() as u32).to_ne_bytes()
    }
}

/// Decodes `wire` fed in the given chunk lengths (the last chunk takes
/// whatever is left), checking the decoder's contract on every call.
fn decode(wire: &[u8], chunks: &[usize], max: usize) -> Outcome {
    let mut dec = Decoder::new(max);
    let mut messages = Vec::new();
    let mut rest = wire;
    let mut lens = chunks.iter().copied().chain(std::iter::repeat(usize::MAX));
    while !rest.is_empty() {
        let n = lens.next().unwrap_or(usize::MAX).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let mut buf = chunk.to_vec();
        let mut pos = 0;
        loop {
            let result = dec.decode(&mut buf[pos..]);
            let (used, msg) = match result {
                Ok(step) => step,
                Err(error) => {
                    return Outcome {
                        messages,
                        error: Some(error),
                    }
                }
            };
            let done = msg.is_none();
            if let Some(m) = msg {
                messages.push(m.into());
            }
            assert!(
                dec.buffered() <= max.saturating_add(SLACK),
                "holds {} with a limit of {max}",
                dec.buffered()
            );
            pos += used;
            if done {
                assert_eq!(pos, buf.len(), "Ok(None) must take all the input");
                break;
            }
        }
    }
    Outcome {
        messages,
        error: None,
    }
}

/// Random chunk lengths covering `len` bytes: mostly small, sometimes large.
fn chunking(rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut chunks = Vec::new();
    let mut covered = 0;
    while covered < len {
        let n = match rng.below(4) {
            0 => 1,
            1 => 1 + rng.below(16),
            2 => 1 + rng.below(512),
            _ => 1 + rng.below(8192),
        };
        chunks.push(n);
        covered += n;
    }
    chunks
}

#[derive(Debug, Clone)]
enum Sent {
    Text(String),
    Binary(Vec<u8>),
}

fn sent() -> impl Strategy<Value = Sent> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..600)
            .prop_map(|c| Sent::Text(c.into_iter().collect())),
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(Sent::Binary),
    ]
}

/// Encodes the messages as a client would, each split into random fragments
/// (cut anywhere, even inside a character) with pings and pongs between
/// them; returns the wire bytes and the messages the server should see.
fn encode(messages: &[Sent], rng: &mut Rng) -> (Vec<u8>, Vec<Owned>) {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for message in messages {
        let (opcode, payload, owned) = match message {
            Sent::Text(t) => (OpCode::Text, t.as_bytes(), Owned::Text(t.clone())),
            Sent::Binary(b) => (OpCode::Binary, b.as_slice(), Owned::Binary(b.clone())),
        };
        let fragments = 1 + rng.below(5);
        let mut cuts: Vec<usize> = (1..fragments)
            .map(|_| rng.below(payload.len() + 1))
            .collect();
        cuts.sort_unstable();
        cuts.push(payload.len());
        let mut start = 0;
        for (i, &end) in cuts.iter().enumerate() {
            let first = i == 0;
            let last = i + 1 == cuts.len();
            let op = if first { opcode } else { OpCode::Continuation };
            encode_masked_frame(&mut wire, last, op, &payload[start..end], rng.key());
            start = end;
            if !last && rng.below(3) == 0 {
                let control: Vec<u8> = (0..rng.below(126)).map(|_| rng.next() as u8).collect();
                let (op, owned) = if rng.below(2) == 0 {
                    (OpCode::Ping, Owned::Ping(control.clone()))
                } else {
                    (OpCode::Pong, Owned::Pong(control.clone()))
                };
                encode_masked_frame(&mut wire, true, op, &control, rng.key());
                expected.push(owned);
            }
        }
        expected.push(owned);
    }
    (wire, expected)
}

/// Byte streams shaped like frames, with every header bit random, so that
/// the garbage reaches past the first header check.
fn frame_soup() -> impl Strategy<Value = Vec<u8>> {
    let frame = (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(b0, b1, rest)| {
            let mut f = vec![b0, b1 | 0x80];
            f.extend(rest);
            f
        });
    prop::collection::vec(frame, 0..8).prop_map(|frames| frames.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn round_trip_through_any_fragmentation_and_chunking(
        messages in prop::collection::vec(sent(), 0..6),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let (wire, expected) = encode(&messages, &mut rng);
        let max = 1 << 16;
        let whole = decode(&wire, &[], max);
        prop_assert_eq!(&whole, &Outcome { messages: expected, error: None });
        let chunks = chunking(&mut rng, wire.len());
        prop_assert_eq!(&decode(&wire, &chunks, max), &whole);
    }

    #[test]
    fn byte_at_a_time_matches_all_at_once(
        messages in prop::collection::vec(sent(), 0..3),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let (wire, _) = encode(&messages, &mut rng);
        let ones = vec![1; wire.len()];
        prop_assert_eq!(decode(&wire, &ones, 1 << 16), decode(&wire, &[], 1 << 16));
    }

    #[test]
    fn corrupted_streams_fail_the_same_way_whatever_the_chunking(
        messages in prop::collection::vec(sent(), 1..4),
        seed in any::<u64>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        max in 0usize..5000,
    ) {
        let mut rng = Rng(seed | 1);
        let (mut wire, _) = encode(&messages, &mut rng);
        for (at, bits) in flips {
            let i = at.index(wire.len());
            wire[i] ^= bits;
        }
        let whole = decode(&wire, &[], max);
        let chunks = chunking(&mut rng, wire.len());
        prop_assert_eq!(&decode(&wire, &chunks, max), &whole);
        let ones = vec![1; wire.len()];
        prop_assert_eq!(&decode(&wire, &ones, max), &whole);
    }

    #[test]
    fn garbage_never_panics_and_memory_stays_bounded(
        wire in prop_oneof![prop::collection::vec(any::<u8>(), 0..2048), frame_soup()],
        seed in any::<u64>(),
        max in prop_oneof![Just(0usize), 0usize..300, Just(usize::MAX)],
    ) {
        let mut rng = Rng(seed | 1);
        let chunks = chunking(&mut rng, wire.len());
        let whole = decode(&wire, &[], max);
        prop_assert_eq!(decode(&wire, &chunks, max), whole);
    }
}
