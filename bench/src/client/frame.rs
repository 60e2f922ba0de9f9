//! Client side of RFC 6455 framing: parsing the server's (unmasked) frames
//! and writing masked frames from payload pieces without copying them first.

use switchboard::protocol::mask::apply_mask;

pub const OP_CONTINUATION: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// A parsed frame header; the payload follows `header_len` bytes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub opcode: u8,
    pub header_len: usize,
    pub payload_len: usize,
}

/// Parses the header at the start of `buf`: `Ok(None)` when more bytes are
/// needed, an error for anything a server may not send or longer than `max`.
pub fn parse_header(buf: &[u8], max: usize) -> Result<Option<Header>, String> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err("server frame with reserved bits set".into());
    }
    if b1 & 0x80 != 0 {
        return Err("masked server frame".into());
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0f;
    if !matches!(
        opcode,
        OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
    ) {
        return Err(format!("server frame with reserved opcode {opcode}"));
    }
    let (header_len, len) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (4, u64::from(u16::from_be_bytes([b[0], b[1]]))),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(b);
                (10, u64::from_be_bytes(eight))
            }
            None => return Ok(None),
        },
        short => (2, u64::from(short)),
    };
    if opcode & 0x8 != 0 && (len > 125 || !fin) {
        return Err("invalid control frame from server".into());
    }
    let payload_len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= max)
        .ok_or_else(|| format!("server frame of {len} bytes exceeds the limit of {max}"))?;
    Ok(Some(Header {
        fin,
        opcode,
        header_len,
        payload_len,
    }))
}

/// Appends the header of a masked frame (with its key) for `len` payload bytes.
pub fn write_masked_header(out: &mut Vec<u8>, fin: bool, opcode: u8, len: usize, key: [u8; 4]) {
    out.push((u8::from(fin) << 7) | (opcode & 0x0f));
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(medium) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&medium.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
}

/// Appends one masked frame whose payload is the concatenation of `parts`.
pub fn encode_masked(out: &mut Vec<u8>, fin: bool, opcode: u8, parts: &[&[u8]], key: [u8; 4]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    write_masked_header(out, fin, opcode, len, key);
    let mut offset = 0;
    for part in parts {
        let start = out.len();
        out.extend_from_slice(part);
        if let Some(written) = out.get_mut(start..) {
            apply_mask(written, key, offset);
        }
        offset += part.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard::protocol::frame::{encode_frame, encode_masked_frame, OpCode};

    #[test]
    fn parses_what_the_server_encoder_writes() {
        for len in [0usize, 1, 125, 126, 65535, 65536, 70000] {
            let payload = vec![7u8; len];
            let mut out = Vec::new();
            encode_frame(&mut out, OpCode::Binary, &payload);
            let h = parse_header(&out, 1 << 20)
                .expect("valid")
                .expect("complete");
            assert_eq!(h.opcode, OP_BINARY);
            assert!(h.fin);
            assert_eq!(h.payload_len, len);
            assert_eq!(h.header_len + len, out.len());
            for cut in 0..h.header_len {
                assert_eq!(parse_header(&out[..cut], 1 << 20), Ok(None));
            }
        }
    }

    #[test]
    fn rejects_what_a_server_may_not_send() {
        assert!(parse_header(&[0x82, 0x81, 0, 0, 0, 0, 0], 100).is_err());
        assert!(parse_header(&[0xC2, 0x00], 100).is_err());
        assert!(parse_header(&[0x83, 0x00], 100).is_err());
        assert!(parse_header(&[0x09, 0x00], 100).is_err());
        assert!(parse_header(&[0x89, 126, 0, 126], 1000).is_err());
        assert!(parse_header(&[0x82, 101], 100).is_err());
    }

    #[test]
    fn masked_parts_match_the_engine_encoder() {
        let payload: Vec<u8> = (0..300u32).map(|i| (i * 13) as u8).collect();
        for len in [0usize, 5, 125, 126, 300] {
            let key = [0x37, 0xfa, 0x21, 0x3d];
            let mut expected = Vec::new();
            encode_masked_frame(&mut expected, true, OpCode::Text, &payload[..len], key);
            let cut = len / 3;
            let mut got = Vec::new();
            encode_masked(
                &mut got,
                true,
                OP_TEXT,
                &[&payload[..cut], &payload[cut..len]],
                key,
            );
            assert_eq!(got, expected, "len {len}");
        }
    }
}
