//! One test per decoder rule, plus the RFC 6455 section 5.7 examples.

use super::{Decoder, Message};
use crate::protocol::close::code;
use crate::protocol::frame::{encode_masked_frame, OpCode, ProtocolError};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// An owned copy of a message, to compare outside the decoder's borrow.
use super::OwnedMessage as Owned;

fn masked(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_masked_frame(&mut out, fin, opcode, payload, KEY);
    out
}

/// Feeds one chunk, collecting every message it completes.
fn feed(dec: &mut Decoder, chunk: &[u8], out: &mut Vec<Owned>) -> Result<(), ProtocolError> {
    let mut buf = chunk.to_vec();
    let mut pos = 0;
    loop {
        let (n, msg) = dec.decode(&mut buf[pos..])?;
        match msg {
            Some(m) => {
                out.push(m.into());
                pos += n;
            }
            None => {
                assert_eq!(pos + n, buf.len(), "None must consume all input");
                return Ok(());
            }
        }
    }
}

/// Decodes `wire` cut into pieces of `piece` bytes; returns the messages
/// and the error, if any, that stopped decoding.
fn decode_in_pieces(wire: &[u8], piece: usize, max: usize) -> (Vec<Owned>, Option<ProtocolError>) {
    let mut dec = Decoder::new(max);
    let mut out = Vec::new();
    for chunk in wire.chunks(piece.max(1)) {
        if let Err(e) = feed(&mut dec, chunk, &mut out) {
            return (out, Some(e));
        }
    }
    (out, None)
}

fn decode_all(wire: &[u8]) -> (Vec<Owned>, Option<ProtocolError>) {
    decode_in_pieces(wire, wire.len(), 1 << 20)
}

/// The first error `wire` produces, checked to be the same whether it
/// arrives whole or one byte at a time.
fn error_of(wire: &[u8], max: usize) -> u16 {
    let (_, whole) = decode_in_pieces(wire, wire.len(), max);
    let (_, bytewise) = decode_in_pieces(wire, 1, max);
    assert_eq!(whole, bytewise, "whole vs byte by byte");
    whole.expect("expected a protocol error").code
}

// ---- RFC 6455 section 5.7 examples -------------------------------------

#[test]
fn rfc_masked_hello_is_zero_copy() {
    let mut wire = vec![
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let range = wire.as_ptr_range();
    let mut dec = Decoder::new(1024);
    let (n, msg) = dec.decode(&mut wire).expect("valid");
    assert_eq!(n, 11);
    let Some(Message::Text(text)) = msg else {
        panic!("expected text, got {msg:?}");
    };
    assert_eq!(text, "Hello");
    assert!(range.contains(&text.as_ptr()), "borrowed from the input");
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn rfc_fragmented_hello() {
    let mut wire = masked(false, OpCode::Text, b"Hel");
    wire.extend(masked(true, OpCode::Continuation, b"lo"));
    assert_eq!(decode_all(&wire), (vec![Owned::Text("Hello".into())], None));
}

#[test]
fn rfc_ping_and_pong() {
    let mut wire = masked(true, OpCode::Ping, b"Hello");
    wire.extend(masked(true, OpCode::Pong, b"Hello"));
    assert_eq!(
        decode_all(&wire),
        (
            vec![
                Owned::Ping(b"Hello".to_vec()),
                Owned::Pong(b"Hello".to_vec())
            ],
            None
        )
    );
}

#[test]
fn rfc_16_and_64_bit_lengths() {
    for len in [126usize, 256, 65535, 65536, 100_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let wire = masked(true, OpCode::Binary, &payload);
        let expected_header = if len == 256 {
            Some(&[0x82u8, 0xFE, 0x01, 0x00][..])
        } else if len == 65536 {
            Some(&[0x82u8, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0][..])
        } else {
            None
        };
        if let Some(h) = expected_header {
            assert_eq!(&wire[..h.len()], h);
        }
        assert_eq!(
            decode_all(&wire),
            (vec![Owned::Binary(payload)], None),
            "{len}"
        );
    }
}

// ---- incremental decoding ---------------------------------------------

fn mixed_stream() -> Vec<u8> {
    let mut wire = masked(true, OpCode::Text, "héllo wörld".as_bytes());
    wire.extend(masked(false, OpCode::Text, "κό".as_bytes()));
    wire.extend(masked(true, OpCode::Ping, b"p1"));
    wire.extend(masked(false, OpCode::Continuation, &"σμε".as_bytes()[..3]));
    wire.extend(masked(true, OpCode::Pong, b""));
    wire.extend(masked(true, OpCode::Continuation, &"σμε".as_bytes()[3..]));
    wire.extend(masked(true, OpCode::Binary, &[7u8; 300]));
    wire.extend(masked(false, OpCode::Binary, &[]));
    wire.extend(masked(true, OpCode::Continuation, &[1, 2, 3]));
    wire.extend(masked(true, OpCode::Binary, &[9u8; 70_000]));
    wire.extend(masked(true, OpCode::Close, b"\x03\xe8bye"));
    wire
}

fn mixed_expected() -> Vec<Owned> {
    vec![
        Owned::Text("héllo wörld".into()),
        Owned::Ping(b"p1".to_vec()),
        Owned::Pong(Vec::new()),
        Owned::Text("κόσμε".into()),
        Owned::Binary(vec![7u8; 300]),
        Owned::Binary(vec![1, 2, 3]),
        Owned::Binary(vec![9u8; 70_000]),
        Owned::Close(Some((1000, "bye".into()))),
    ]
}

#[test]
fn any_piece_size_gives_the_same_messages() {
    let wire = mixed_stream();
    for piece in [1, 2, 3, 5, 7, 13, 64, 1000, 4096, wire.len()] {
        assert_eq!(
            decode_in_pieces(&wire, piece, 1 << 20),
            (mixed_expected(), None),
            "piece {piece}"
        );
    }
}

#[test]
fn every_two_way_split_gives_the_same_messages() {
    let mut wire = masked(false, OpCode::Text, "ab€".as_bytes());
    wire.extend(masked(true, OpCode::Ping, b"xyz"));
    wire.extend(masked(true, OpCode::Continuation, "😀".as_bytes()));
    wire.extend(masked(true, OpCode::Binary, &[5u8; 130]));
    let expected = vec![
        Owned::Ping(b"xyz".to_vec()),
        Owned::Text("ab€😀".into()),
        Owned::Binary(vec![5u8; 130]),
    ];
    for cut in 0..=wire.len() {
        let mut dec = Decoder::new(1 << 20);
        let mut out = Vec::new();
        feed(&mut dec, &wire[..cut], &mut out).expect("valid");
        feed(&mut dec, &wire[cut..], &mut out).expect("valid");
        assert_eq!(out, expected, "cut {cut}");
        assert_eq!(dec.buffered(), 0);
    }
}

#[test]
fn header_split_over_many_calls() {
    let wire = masked(true, OpCode::Binary, &[3u8; 70_000]);
    let mut dec = Decoder::new(1 << 20);
    let mut out = Vec::new();
    // The 14 header bytes one at a time: nothing allocated yet.
    for b in &wire[..14] {
        feed(&mut dec, std::slice::from_ref(b), &mut out).expect("valid");
        assert_eq!(dec.buffered(), 0);
    }
    feed(&mut dec, &wire[14..], &mut out).expect("valid");
    assert_eq!(out, vec![Owned::Binary(vec![3u8; 70_000])]);
}

#[test]
fn consumed_count_points_at_the_next_frame() {
    let mut wire = masked(true, OpCode::Binary, b"one");
    let first = wire.len();
    wire.extend(masked(true, OpCode::Binary, b"two"));
    let mut dec = Decoder::new(64);
    let (n, msg) = dec.decode(&mut wire).expect("valid");
    assert_eq!((n, msg), (first, Some(Message::Binary(b"one"))));
    let second = wire.len() - first;
    let (m, msg) = dec.decode(&mut wire[n..]).expect("valid");
    assert_eq!((m, msg), (second, Some(Message::Binary(b"two"))));
    let (k, msg) = dec.decode(&mut wire[n + m..]).expect("valid");
    assert_eq!((k, msg), (0, None));
}

#[test]
fn empty_input_and_empty_frames() {
    let mut dec = Decoder::new(0);
    assert_eq!(dec.decode(&mut []).expect("valid"), (0, None));
    let mut wire = masked(true, OpCode::Text, b"");
    assert_eq!(
        dec.decode(&mut wire).expect("valid"),
        (6, Some(Message::Text("")))
    );
    let mut wire = masked(true, OpCode::Close, b"");
    assert_eq!(
        dec.decode(&mut wire).expect("valid"),
        (6, Some(Message::Close(None)))
    );
}

#[test]
fn a_frame_that_spans_reads_is_delivered_from_the_decoder() {
    let mut wire = masked(true, OpCode::Binary, b"split payload");
    let mut dec = Decoder::new(64);
    let (head, tail) = wire.split_at_mut(8);
    assert_eq!(dec.decode(head).expect("valid"), (8, None));
    assert_eq!(dec.buffered(), 13, "exactly the declared length");
    let range = tail.as_ptr_range();
    let (n, msg) = dec.decode(tail).expect("valid");
    assert_eq!(n, 13 - 2);
    let Some(Message::Binary(bytes)) = msg else {
        panic!("expected binary, got {msg:?}");
    };
    assert_eq!(bytes, b"split payload");
    assert!(!range.contains(&bytes.as_ptr()), "assembled, not borrowed");
}

// ---- header rules ------------------------------------------------------

#[test]
fn unmasked_frame_is_a_protocol_error() {
    assert_eq!(error_of(b"\x81\x05Hello", 64), code::PROTOCOL_ERROR);
}

#[test]
fn reserved_bits_are_protocol_errors() {
    for rsv in [0x40u8, 0x20, 0x10] {
        let mut wire = masked(true, OpCode::Text, b"x");
        wire[0] |= rsv;
        assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR, "{rsv:x}");
    }
}

#[test]
fn reserved_opcodes_are_protocol_errors() {
    for op in (3u8..=7).chain(11..=15) {
        let mut wire = masked(true, OpCode::Binary, b"x");
        wire[0] = 0x80 | op;
        assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR, "{op}");
    }
}

#[test]
fn top_bit_of_64_bit_length_is_a_protocol_error() {
    let wire = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    assert_eq!(error_of(&wire, usize::MAX), code::PROTOCOL_ERROR);
}

#[test]
fn control_frame_over_125_bytes_is_a_protocol_error() {
    let wire = masked(true, OpCode::Ping, &[0u8; 126]);
    assert_eq!(error_of(&wire, 1 << 20), code::PROTOCOL_ERROR);
    let wire = masked(true, OpCode::Pong, &[0u8; 125]);
    assert_eq!(decode_all(&wire).1, None, "125 is allowed");
}

#[test]
fn fragmented_control_frame_is_a_protocol_error() {
    for op in [OpCode::Ping, OpCode::Pong, OpCode::Close] {
        let wire = masked(false, op, b"");
        assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR, "{op:?}");
    }
}

#[test]
fn continuation_without_a_message_is_a_protocol_error() {
    let wire = masked(true, OpCode::Continuation, b"x");
    assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR);
    // Also right after a message has ended.
    let mut wire = masked(true, OpCode::Text, b"done");
    wire.extend(masked(false, OpCode::Continuation, b"x"));
    assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR);
}

#[test]
fn new_message_inside_a_fragmented_one_is_a_protocol_error() {
    for op in [OpCode::Text, OpCode::Binary] {
        let mut wire = masked(false, OpCode::Binary, b"a");
        wire.extend(masked(true, op, b"b"));
        assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR, "{op:?}");
    }
}

// ---- size limit ----------------------------------------------------------

#[test]
fn message_over_the_limit_fails_from_the_header_alone() {
    let wire = masked(true, OpCode::Binary, &[0u8; 101]);
    let mut dec = Decoder::new(100);
    // Only the header: the error comes before any payload.
    let mut header = wire[..8].to_vec();
    let err = dec.decode(&mut header).expect_err("too big");
    assert_eq!(err.code, code::MESSAGE_TOO_BIG);
    assert_eq!(dec.buffered(), 0);
    assert_eq!(error_of(&wire, 100), code::MESSAGE_TOO_BIG);
}

#[test]
fn message_at_the_limit_passes() {
    let wire = masked(true, OpCode::Binary, &[0u8; 100]);
    assert_eq!(decode_in_pieces(&wire, 7, 100).1, None);
}

#[test]
fn fragments_add_up_against_the_limit() {
    let mut wire = masked(false, OpCode::Text, &[b'a'; 60]);
    wire.extend(masked(true, OpCode::Ping, &[0u8; 100]));
    wire.extend(masked(true, OpCode::Continuation, &[b'b'; 41]));
    assert_eq!(error_of(&wire, 100), code::MESSAGE_TOO_BIG);

    let mut wire = masked(false, OpCode::Text, &[b'a'; 60]);
    wire.extend(masked(true, OpCode::Continuation, &[b'b'; 40]));
    let (msgs, err) = decode_in_pieces(&wire, 1, 100);
    assert_eq!(err, None);
    assert_eq!(msgs.len(), 1);
}

#[test]
fn huge_declared_length_is_refused_not_aborted() {
    // 2^62 bytes declared; no allocator can give that.
    let mut wire = vec![0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    wire.extend_from_slice(&[0u8; 10]);
    let mut dec = Decoder::new(usize::MAX);
    let err = dec.decode(&mut wire.clone()).expect_err("cannot be held");
    assert_eq!(err.code, code::MESSAGE_TOO_BIG);
    assert_eq!(dec.buffered(), 0);
    // With a limit, the header alone is refused.
    let mut dec = Decoder::new(1 << 20);
    let err = dec.decode(&mut wire[..14]).expect_err("over the limit");
    assert_eq!(err.code, code::MESSAGE_TOO_BIG);
    assert_eq!(dec.buffered(), 0);
}

// ---- UTF-8 ---------------------------------------------------------------

#[test]
fn invalid_text_in_a_whole_frame_is_invalid_payload() {
    let wire = masked(true, OpCode::Text, b"ok\xFFok");
    assert_eq!(error_of(&wire, 64), code::INVALID_PAYLOAD);
}

#[test]
fn invalid_text_fails_before_the_frame_is_complete() {
    let wire = masked(true, OpCode::Text, b"abc\xC0 and then much more text");
    let mut dec = Decoder::new(64);
    // Header plus the first four payload bytes; 24 more are still due.
    let mut part = wire[..6 + 4].to_vec();
    let err = dec.decode(&mut part).expect_err("fail fast");
    assert_eq!(err.code, code::INVALID_PAYLOAD);
}

#[test]
fn invalid_sequence_split_across_frames_fails_at_once() {
    // E0 ends the first fragment; 80 can never follow it.
    let mut wire = masked(false, OpCode::Text, b"a\xE0");
    let second = masked(true, OpCode::Continuation, b"\x80\x80 tail");
    wire.extend_from_slice(&second[..7]);
    let mut dec = Decoder::new(64);
    let err = dec.decode(&mut wire).expect_err("fail fast");
    assert_eq!(err.code, code::INVALID_PAYLOAD);

    let mut whole = masked(false, OpCode::Text, b"a\xE0");
    whole.extend(second);
    assert_eq!(error_of(&whole, 64), code::INVALID_PAYLOAD);
}

#[test]
fn incomplete_character_at_the_end_is_invalid_payload() {
    let mut wire = masked(false, OpCode::Text, b"a");
    wire.extend(masked(true, OpCode::Continuation, b"\xE2\x82"));
    assert_eq!(error_of(&wire, 64), code::INVALID_PAYLOAD);
    let wire = masked(true, OpCode::Text, b"\xF0\x9F\x98");
    assert_eq!(error_of(&wire, 64), code::INVALID_PAYLOAD);
}

#[test]
fn character_split_across_frames_is_fine() {
    let euro = "€".as_bytes();
    let mut wire = masked(false, OpCode::Text, &euro[..1]);
    wire.extend(masked(false, OpCode::Continuation, &euro[1..2]));
    wire.extend(masked(true, OpCode::Continuation, &euro[2..]));
    assert_eq!(decode_all(&wire), (vec![Owned::Text("€".into())], None));
}

#[test]
fn binary_is_not_checked_as_text() {
    let wire = masked(true, OpCode::Binary, b"\xFF\xFE");
    assert_eq!(decode_in_pieces(&wire, 1, 64).1, None);
}

// ---- control frames between fragments ------------------------------------

#[test]
fn control_frames_between_fragments_keep_the_message() {
    let mut wire = masked(false, OpCode::Binary, b"ab");
    wire.extend(masked(true, OpCode::Ping, b"ping"));
    wire.extend(masked(false, OpCode::Continuation, b"cd"));
    wire.extend(masked(true, OpCode::Close, b""));
    wire.extend(masked(true, OpCode::Continuation, b"ef"));
    let expected = vec![
        Owned::Ping(b"ping".to_vec()),
        Owned::Close(None),
        Owned::Binary(b"abcdef".to_vec()),
    ];
    for piece in 1..=wire.len() {
        assert_eq!(
            decode_in_pieces(&wire, piece, 64),
            (expected.clone(), None),
            "{piece}"
        );
    }
}

#[test]
fn partial_control_frame_is_buffered_apart_from_the_message() {
    let mut wire = masked(false, OpCode::Text, b"12345");
    let ping = masked(true, OpCode::Ping, b"0123456789");
    wire.extend_from_slice(&ping[..9]);
    let mut dec = Decoder::new(64);
    let mut out = Vec::new();
    feed(&mut dec, &wire, &mut out).expect("valid");
    assert!(out.is_empty());
    assert_eq!(dec.buffered(), 5 + 10, "message and ping payload, apart");
    let mut rest = ping[9..].to_vec();
    rest.extend(masked(true, OpCode::Continuation, b"67"));
    feed(&mut dec, &rest, &mut out).expect("valid");
    assert_eq!(
        out,
        vec![
            Owned::Ping(b"0123456789".to_vec()),
            Owned::Text("1234567".into())
        ]
    );
}

// ---- close payloads --------------------------------------------------------

#[test]
fn close_payloads() {
    let wire = masked(true, OpCode::Close, b"\x0f\xa0app reason");
    assert_eq!(
        decode_all(&wire),
        (vec![Owned::Close(Some((4000, "app reason".into())))], None)
    );
    let wire = masked(true, OpCode::Close, b"\x03");
    assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR);
    let wire = masked(true, OpCode::Close, b"\x03\xed");
    assert_eq!(error_of(&wire, 64), code::PROTOCOL_ERROR);
    let wire = masked(true, OpCode::Close, b"\x03\xe8\xFF");
    assert_eq!(error_of(&wire, 64), code::INVALID_PAYLOAD);
}

// ---- failure is final ------------------------------------------------------

#[test]
fn a_failed_decoder_stays_failed() {
    let mut dec = Decoder::new(64);
    let mut bad = masked(true, OpCode::Text, b"\xFF");
    let err = dec.decode(&mut bad).expect_err("invalid");
    assert_eq!(err.code, code::INVALID_PAYLOAD);
    let mut good = masked(true, OpCode::Text, b"fine");
    let again = dec.decode(&mut good).expect_err("still failed");
    assert_eq!(again.code, code::INVALID_PAYLOAD);
}

// ---- memory ----------------------------------------------------------------

#[test]
fn decoder_is_small() {
    let size = std::mem::size_of::<Decoder>();
    assert!(size <= 96, "Decoder is {size} bytes");
}

#[test]
fn assembly_buffer_is_released_after_delivery() {
    let mut wire = masked(false, OpCode::Binary, &[1u8; 1000]);
    wire.extend(masked(true, OpCode::Continuation, &[2u8; 1000]));
    let mut dec = Decoder::new(1 << 20);
    let (n, msg) = dec.decode(&mut wire).expect("valid");
    assert!(matches!(msg, Some(Message::Binary(b)) if b.len() == 2000));
    assert!(dec.buffered() >= 2000, "delivered from the buffer");
    assert_eq!(dec.decode(&mut wire[n..]).expect("valid"), (0, None));
    assert_eq!(dec.buffered(), 0, "released on the next call");
}

#[test]
fn control_buffer_is_released_after_delivery() {
    let wire = masked(true, OpCode::Ping, &[1u8; 100]);
    let mut dec = Decoder::new(64);
    let mut out = Vec::new();
    feed(&mut dec, &wire[..50], &mut out).expect("valid");
    assert_eq!(dec.buffered(), 100);
    feed(&mut dec, &wire[50..], &mut out).expect("valid");
    assert_eq!(out.len(), 1);
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn nothing_is_held_between_whole_messages() {
    let wire = mixed_stream();
    let mut dec = Decoder::new(1 << 20);
    let mut buf = wire.clone();
    let mut pos = 0;
    loop {
        let (n, msg) = dec.decode(&mut buf[pos..]).expect("valid");
        pos += n;
        if msg.is_none() {
            break;
        }
    }
    assert_eq!(pos, wire.len());
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn buffer_never_outgrows_the_message() {
    // Many small fragments: growth doubles but stays within the limit,
    // and the final fragment reserves no more than it declares.
    let mut wire = Vec::new();
    for i in 0..100 {
        let op = if i == 0 {
            OpCode::Binary
        } else {
            OpCode::Continuation
        };
        wire.extend(masked(i == 99, op, &[0u8; 10]));
    }
    let mut dec = Decoder::new(1000);
    let mut max_seen = 0;
    for chunk in wire.chunks(5) {
        let mut buf = chunk.to_vec();
        let (_, msg) = dec.decode(&mut buf).expect("valid");
        let done = msg.is_some();
        max_seen = max_seen.max(dec.buffered());
        if done {
            break;
        }
    }
    assert!(max_seen <= 1000, "held {max_seen}");
}
