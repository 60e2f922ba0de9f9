//! Microbenchmark of the frame layer: decoding + unmasking throughput for
//! masked client frames of several sizes, and `apply_mask` alone.
//!
//! Run with: cargo run --release -p switchboard --example protocol_bench
//! Each case runs for about one second.

use std::hint::black_box;
use std::time::{Duration, Instant};

use switchboard::protocol::decoder::{Decoder, Message};
use switchboard::protocol::frame::{encode_masked_frame, OpCode};
use switchboard::protocol::mask::apply_mask;

/// How long each case runs.
const RUN_FOR: Duration = Duration::from_secs(1);
/// Wire bytes per pass: large enough to leave the CPU caches mostly out of
/// the picture for the small cases' headers, small enough to build fast.
const WIRE_BYTES: usize = 4 << 20;

fn main() {
    println!("{:<22} {:>10} {:>14}", "case", "GB/s", "frames/s");
    for (name, opcode, size) in [
        ("binary 16 B", OpCode::Binary, 16),
        ("binary 1 KiB", OpCode::Binary, 1024),
        ("binary 64 KiB", OpCode::Binary, 64 * 1024),
        ("text 1 KiB (ASCII)", OpCode::Text, 1024),
    ] {
        bench_decode(name, opcode, size);
    }
    bench_mask();
}

/// Decodes a buffer of masked frames again and again. Decoding unmasks in
/// place, so each pass leaves the payloads flipped for the next; that is
/// harmless for binary and for ASCII text under this key (it keeps bytes
/// below 0x80).
fn bench_decode(name: &str, opcode: OpCode, size: usize) {
    let payload = vec![b'a'; size];
    let frames = (WIRE_BYTES / (size + 14)).max(1);
    let mut wire = Vec::with_capacity(frames * (size + 14));
    for _ in 0..frames {
        encode_masked_frame(&mut wire, true, opcode, &payload, [0x11, 0x22, 0x33, 0x44]);
    }
    let mut decoder = Decoder::new(1 << 20);
    let mut passes = 0u64;
    let start = Instant::now();
    while start.elapsed() < RUN_FOR {
        let mut pos = 0;
        let mut seen = 0;
        while pos < wire.len() {
            match decoder.decode(&mut wire[pos..]) {
                Ok((n, Some(message))) => {
                    let len = match message {
                        Message::Binary(b) => b.len(),
                        Message::Text(t) => t.len(),
                        _ => 0,
                    };
                    black_box(len);
                    seen += 1;
                    pos += n;
                }
                Ok((_, None)) => break,
                Err(e) => {
                    eprintln!("{name}: unexpected error {e}");
                    return;
                }
            }
        }
        assert_eq!(seen, frames, "every frame decoded");
        passes += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let payload_bytes = (passes * (frames * size) as u64) as f64;
    let frame_count = (passes * frames as u64) as f64;
    println!(
        "{name:<22} {:>10.2} {:>14.0}",
        payload_bytes / secs / 1e9,
        frame_count / secs
    );
}

/// `apply_mask` over a 1 MiB buffer, at an odd offset into it so that the
/// slice is not word-aligned.
fn bench_mask() {
    let mut buf = vec![0u8; (1 << 20) + 1];
    let mut bytes = 0u64;
    let start = Instant::now();
    while start.elapsed() < RUN_FOR {
        for _ in 0..64 {
            apply_mask(black_box(&mut buf[1..]), [1, 2, 3, 4], 1);
        }
        bytes += 64 << 20;
    }
    black_box(&buf);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<22} {:>10.2}",
        "apply_mask 1 MiB",
        bytes as f64 / secs / 1e9
    );
}
