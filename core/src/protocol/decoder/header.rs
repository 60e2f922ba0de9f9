//! Parsing and checking a client frame header from however much of it has
//! arrived (RFC 6455 section 5.2).

use crate::protocol::frame::{OpCode, ProtocolError};

/// Longest client frame header: two fixed bytes, eight of extended length
/// and four of mask key.
pub(super) const MAX_HEADER: usize = 14;

/// A client frame header that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub fin: bool,
    pub opcode: OpCode,
    /// Payload length, already checked against the message size limit.
    pub len: usize,
    pub key: [u8; 4],
    /// Bytes the header takes on the wire.
    pub size: usize,
}

/// What the checks need to know about the message being assembled.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// A fragmented message is in progress.
    pub assembling: bool,
    /// Payload bytes of that message received so far.
    pub assembled: usize,
    /// Largest message accepted.
    pub max: usize,
}

/// Parses the header at the start of `bytes`; `Ok(None)` means more bytes
/// are needed.
///
/// Each check runs as soon as the bytes it reads are present and always in
/// wire order, so a bad header fails early, and the same bytes give the same
/// answer however they are split across reads.
pub(super) fn parse(bytes: &[u8], limits: &Limits) -> Result<Option<Header>, ProtocolError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    // No extension is ever negotiated, so no reserved bit may be set.
    if first & 0x70 != 0 {
        return Err(ProtocolError::RESERVED_BITS);
    }
    let opcode = OpCode::from_u8(first & 0x0F).ok_or(ProtocolError::RESERVED_OPCODE)?;
    let fin = first & 0x80 != 0;
    check_sequence(opcode, fin, limits.assembling)?;

    let Some(&second) = bytes.get(1) else {
        return Ok(None);
    };
    // Section 5.1: a server must close on an unmasked client frame.
    if second & 0x80 == 0 {
        return Err(ProtocolError::UNMASKED);
    }
    let short = second & 0x7F;
    if opcode.is_control() && short > 125 {
        return Err(ProtocolError::CONTROL_TOO_LONG);
    }

    let (len, key_at) = match short {
        126 => match bytes.get(2..4) {
            Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
            _ => return Ok(None),
        },
        127 => match bytes.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(ext) => (u64::from_be_bytes(ext), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len >> 63 != 0 {
        return Err(ProtocolError::BAD_LENGTH);
    }
    // Decided here, before a single payload byte is buffered.
    if !opcode.is_control() {
        let total = (limits.assembled as u64).saturating_add(len);
        if total > limits.max as u64 {
            return Err(ProtocolError::TOO_BIG);
        }
    }
    let len = usize::try_from(len).map_err(|_| ProtocolError::TOO_BIG)?;

    let Some(key) = bytes
        .get(key_at..key_at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
    else {
        return Ok(None);
    };
    Ok(Some(Header {
        fin,
        opcode,
        len,
        key,
        size: key_at + 4,
    }))
}

/// Fragmentation rules (section 5.4): control frames are never fragmented,
/// a continuation needs a message to continue, and messages do not nest.
fn check_sequence(opcode: OpCode, fin: bool, assembling: bool) -> Result<(), ProtocolError> {
    match opcode {
        OpCode::Close | OpCode::Ping | OpCode::Pong if !fin => {
            Err(ProtocolError::CONTROL_FRAGMENTED)
        }
        OpCode::Continuation if !assembling => Err(ProtocolError::STRAY_CONTINUATION),
        OpCode::Text | OpCode::Binary if assembling => Err(ProtocolError::INTERLEAVED),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Limits = Limits {
        assembling: false,
        assembled: 0,
        max: 1 << 20,
    };

    #[test]
    fn every_prefix_of_a_valid_header_asks_for_more() {
        let headers: [&[u8]; 3] = [
            &[0x81, 0x85, 1, 2, 3, 4],
            &[0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4],
            &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4],
        ];
        for header in headers {
            for cut in 0..header.len() {
                assert_eq!(
                    parse(&header[..cut], &IDLE),
                    Ok(None),
                    "{header:x?} cut {cut}"
                );
            }
            let parsed = parse(header, &IDLE).expect("valid").expect("complete");
            assert_eq!(parsed.size, header.len());
            assert_eq!(parsed.key, [1, 2, 3, 4]);
        }
    }

    #[test]
    fn lengths_of_each_width() {
        let h = parse(&[0x82, 0xFE, 0x01, 0x00, 0, 0, 0, 0], &IDLE);
        assert_eq!(h.expect("valid").map(|h| h.len), Some(256));
        let h = parse(&[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], &IDLE);
        assert_eq!(h.expect("valid").map(|h| h.len), Some(65536));
    }

    #[test]
    fn first_byte_errors_do_not_wait_for_the_rest() {
        assert_eq!(parse(&[0xC1], &IDLE), Err(ProtocolError::RESERVED_BITS));
        assert_eq!(parse(&[0x83], &IDLE), Err(ProtocolError::RESERVED_OPCODE));
        assert_eq!(
            parse(&[0x09], &IDLE),
            Err(ProtocolError::CONTROL_FRAGMENTED)
        );
        assert_eq!(
            parse(&[0x80], &IDLE),
            Err(ProtocolError::STRAY_CONTINUATION)
        );
    }

    #[test]
    fn length_errors_do_not_wait_for_the_key() {
        let huge = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&huge, &IDLE), Err(ProtocolError::BAD_LENGTH));
        let big = [0x82, 0xFF, 0, 0, 0, 0, 0x10, 0, 0, 0];
        assert_eq!(parse(&big, &IDLE), Err(ProtocolError::TOO_BIG));
    }

    #[test]
    fn size_limit_counts_the_fragments_so_far() {
        let limits = Limits {
            assembling: true,
            assembled: 90,
            max: 100,
        };
        let ten = [0x80, 0x8A, 0, 0, 0, 0];
        assert!(matches!(parse(&ten, &limits), Ok(Some(_))));
        let eleven = [0x80, 0x8B, 0, 0, 0, 0];
        assert_eq!(parse(&eleven, &limits), Err(ProtocolError::TOO_BIG));
    }

    #[test]
    fn control_frames_are_not_limited_by_the_message_size() {
        let limits = Limits { max: 0, ..IDLE };
        let ping = [0x89, 0xFD, 0, 0, 0, 0];
        assert!(matches!(parse(&ping, &limits), Ok(Some(h)) if h.len == 125));
    }
}
