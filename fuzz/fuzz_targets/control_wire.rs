//! Fuzzes the control protocol's decoders with arbitrary bytes: what a
//! client or a worker sends the operator (`decode_request`), what the
//! operator sends a worker (`decode_to_worker`) and a client
//! (`decode_reply`).
//!
//! Byte 0 picks the decoder and the frame limit; the rest is the stream,
//! decoded frame after frame. Besides "never panics", each decoder keeps its
//! contract: a frame uses no more than the input and the limit allow, and
//! what it decodes encodes to a frame that decodes to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::control::wire::{
    decode_reply, decode_request, decode_to_worker, encode_reply, encode_request,
    encode_to_worker,
};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut stream)) = data.split_first() else {
        return;
    };
    let max = [16usize, 256, 4096, 1 << 20][usize::from(pick >> 2) % 4];
    loop {
        let used = match pick % 3 {
            0 => match decode_request(stream, max) {
                Ok(Some((request, quiet, used))) => {
                    let mut again = Vec::new();
                    encode_request(&request, quiet, &mut again);
                    let back = decode_request(&again, usize::MAX).expect("re-encoded");
                    assert_eq!(back, Some((request, quiet, again.len())));
                    used
                }
                Ok(None) | Err(_) => return,
            },
            1 => match decode_to_worker(stream, max) {
                Ok(Some((frame, used))) => {
                    let mut again = Vec::new();
                    encode_to_worker(&frame, &mut again);
                    let back = decode_to_worker(&again, usize::MAX).expect("re-encoded");
                    assert_eq!(back, Some((frame, again.len())));
                    used
                }
                Ok(None) | Err(_) => return,
            },
            _ => match decode_reply(stream, max) {
                Ok(Some((reply, used))) => {
                    let mut again = Vec::new();
                    encode_reply(&reply, &mut again);
                    let back = decode_reply(&again, usize::MAX).expect("re-encoded");
                    assert_eq!(back, Some((reply, again.len())));
                    used
                }
                Ok(None) | Err(_) => return,
            },
        };
        assert!(used >= 5 && used <= stream.len() && used <= max + 4);
        stream = &stream[used..];
    }
});
