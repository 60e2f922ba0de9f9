//! Fuzzes the frame decoder with arbitrary client bytes.
//!
//! Input layout: byte 0 picks how the wire bytes are cut into reads, byte 1
//! picks the message size limit, the rest is the wire. Besides "never
//! panics", the target checks the decoder's contract: `Ok(None)` takes all
//! the input, memory stays within the limit, and the outcome does not depend
//! on where the reads were cut.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::protocol::decoder::Decoder;
use switchboard::protocol::frame::ProtocolError;

/// Heap a decoder may hold beyond its message limit: one control payload.
const SLACK: usize = 125;

use switchboard::protocol::decoder::OwnedMessage as Owned;

/// Decodes `wire` in reads of `step` bytes (0: all at once).
fn run(wire: &[u8], step: usize, max: usize) -> (Vec<Owned>, Option<ProtocolError>) {
    let mut dec = Decoder::new(max);
    let mut out = Vec::new();
    let step = if step == 0 { wire.len().max(1) } else { step };
    for chunk in wire.chunks(step) {
        let mut buf = chunk.to_vec();
        let mut pos = 0;
        loop {
            let (used, msg) = match dec.decode(&mut buf[pos..]) {
                Ok(r) => r,
                Err(e) => return (out, Some(e)),
            };
            let done = msg.is_none();
            if let Some(m) = msg {
                out.push(m.into());
            }
            assert!(dec.buffered() <= max.saturating_add(SLACK));
            pos += used;
            if done {
                assert_eq!(pos, buf.len(), "Ok(None) must take all the input");
                break;
            }
        }
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    let [step, limit, wire @ ..] = data else {
        return;
    };
    let max = match limit % 4 {
        0 => 1 << 16,
        1 => 0,
        2 => 125,
        _ => 4096,
    };
    let step = usize::from(*step % 32);
    let cut = run(wire, step, max);
    if step != 0 {
        assert_eq!(cut, run(wire, 0, max), "reads cut every {step} bytes");
    }
});
