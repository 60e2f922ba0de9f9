//! Frame vocabulary and the server-side encoder (RFC 6455 section 5.2).
//!
//! A server never masks its frames, so encoding is a header plus the payload
//! as it is. The masked encoder exists for test clients and the benchmark.

use std::fmt;

use super::close::code;
use super::mask::apply_mask;

/// The frame opcodes RFC 6455 defines; every other value is reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OpCode {
    Continuation = 0,
    Text = 1,
    Binary = 2,
    Close = 8,
    Ping = 9,
    Pong = 10,
}

impl OpCode {
    /// The opcode for the low four bits of a frame's first byte, or `None`
    /// for a reserved value.
    pub fn from_u8(b: u8) -> Option<OpCode> {
        match b {
            0 => Some(OpCode::Continuation),
            1 => Some(OpCode::Text),
            2 => Some(OpCode::Binary),
            8 => Some(OpCode::Close),
            9 => Some(OpCode::Ping),
            10 => Some(OpCode::Pong),
            _ => None,
        }
    }

    /// Control frames (close, ping, pong) may not be fragmented and may
    /// arrive between the fragments of a message.
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A violation of the protocol and the close code the RFC answers it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: u16,
    pub reason: &'static str,
}

impl ProtocolError {
    const fn new(code: u16, reason: &'static str) -> Self {
        Self { code, reason }
    }

    pub(crate) const RESERVED_BITS: Self = Self::new(code::PROTOCOL_ERROR, "reserved bits set");
    pub(crate) const RESERVED_OPCODE: Self = Self::new(code::PROTOCOL_ERROR, "reserved opcode");
    pub(crate) const UNMASKED: Self = Self::new(code::PROTOCOL_ERROR, "unmasked client frame");
    pub(crate) const CONTROL_TOO_LONG: Self =
        Self::new(code::PROTOCOL_ERROR, "control frame too long");
    pub(crate) const CONTROL_FRAGMENTED: Self =
        Self::new(code::PROTOCOL_ERROR, "fragmented control frame");
    pub(crate) const STRAY_CONTINUATION: Self =
        Self::new(code::PROTOCOL_ERROR, "continuation without a message");
    pub(crate) const INTERLEAVED: Self =
        Self::new(code::PROTOCOL_ERROR, "new message inside a fragmented one");
    pub(crate) const BAD_LENGTH: Self = Self::new(code::PROTOCOL_ERROR, "invalid payload length");
    pub(crate) const TOO_BIG: Self = Self::new(code::MESSAGE_TOO_BIG, "message too big");
    pub(crate) const INVALID_TEXT: Self = Self::new(code::INVALID_PAYLOAD, "invalid UTF-8 text");
    pub(crate) const CLOSE_ONE_BYTE: Self =
        Self::new(code::PROTOCOL_ERROR, "close payload of one byte");
    pub(crate) const CLOSE_BAD_CODE: Self = Self::new(code::PROTOCOL_ERROR, "invalid close code");
    pub(crate) const CLOSE_BAD_REASON: Self =
        Self::new(code::INVALID_PAYLOAD, "invalid UTF-8 close reason");

    /// What a decoder that already failed answers: the same close code, as
    /// the connection is to be closed with it anyway.
    pub(crate) const fn already_failed(code: u16) -> Self {
        Self::new(code, "decoder already failed")
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (close code {})", self.reason, self.code)
    }
}

impl std::error::Error for ProtocolError {}

/// Longest header of an unmasked server frame.
pub const MAX_SERVER_HEADER: usize = 10;

/// Longest header of a masked client frame: the server header plus the key.
const MAX_CLIENT_HEADER: usize = MAX_SERVER_HEADER + 4;

/// Longest close reason: a control payload is at most 125 bytes, two of
/// which carry the code.
const MAX_CLOSE_REASON: usize = 123;

/// Writes the header of an unmasked server frame (FIN set when `fin`) for a
/// payload of `len` bytes. Returns the header length (2, 4 or 10).
///
/// Writing into a fixed array lets a caller put the header in front of a
/// payload it already holds, for a vectored write, without copying it.
pub fn write_header(
    out: &mut [u8; MAX_SERVER_HEADER],
    fin: bool,
    opcode: OpCode,
    len: u64,
) -> usize {
    out[0] = (u8::from(fin) << 7) | opcode as u8;
    if let Ok(short) = u8::try_from(len) {
        if short < 126 {
            out[1] = short;
            return 2;
        }
    }
    if let Ok(medium) = u16::try_from(len) {
        out[1] = 126;
        out[2..4].copy_from_slice(&medium.to_be_bytes());
        return 4;
    }
    out[1] = 127;
    out[2..10].copy_from_slice(&len.to_be_bytes());
    10
}

/// Appends a complete unmasked server frame (FIN set).
pub fn encode_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    let mut header = [0u8; MAX_SERVER_HEADER];
    let n = write_header(&mut header, true, opcode, payload.len() as u64);
    out.reserve(n + payload.len());
    out.extend_from_slice(&header[..n]);
    out.extend_from_slice(payload);
}

/// Appends a close frame with `code` and `reason` (the reason is cut to fit
/// 123 bytes, at a char boundary). Code 1005 (NO_STATUS) means: empty payload,
/// since 1005 itself may never be sent.
pub fn encode_close(out: &mut Vec<u8>, code: u16, reason: &str) {
    if code == code::NO_STATUS {
        encode_frame(out, OpCode::Close, &[]);
        return;
    }
    // Cutting inside a character would send invalid UTF-8, which the peer
    // must answer with 1007.
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = reason.as_bytes().get(..end).unwrap_or_default();
    let mut payload = [0u8; 2 + MAX_CLOSE_REASON];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + reason.len()].copy_from_slice(reason);
    encode_frame(out, OpCode::Close, &payload[..2 + reason.len()]);
}

/// Appends a masked (client-side) frame; used by tests, the benchmark tool
/// and test clients.
pub fn encode_masked_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: OpCode,
    payload: &[u8],
    key: [u8; 4],
) {
    let mut header = [0u8; MAX_CLIENT_HEADER];
    let mut server = [0u8; MAX_SERVER_HEADER];
    let n = write_header(&mut server, fin, opcode, payload.len() as u64);
    header[..n].copy_from_slice(&server[..n]);
    header[1] |= 0x80;
    header[n..n + 4].copy_from_slice(&key);
    out.reserve(n + 4 + payload.len());
    out.extend_from_slice(&header[..n + 4]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(written) = out.get_mut(start..) {
        apply_mask(written, key, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(&mut out, opcode, payload);
        out
    }

    #[test]
    fn opcode_round_trip_and_reserved_values() {
        for b in 0u8..=255 {
            match OpCode::from_u8(b) {
                Some(op) => assert_eq!(op as u8, b),
                None => assert!(matches!(b, 3..=7 | 11..=255), "{b}"),
            }
        }
        assert!(OpCode::Close.is_control());
        assert!(OpCode::Ping.is_control());
        assert!(OpCode::Pong.is_control());
        assert!(!OpCode::Continuation.is_control());
        assert!(!OpCode::Text.is_control());
        assert!(!OpCode::Binary.is_control());
    }

    #[test]
    fn rfc_single_frame_unmasked_text() {
        assert_eq!(frame(OpCode::Text, b"Hello"), b"\x81\x05Hello");
    }

    #[test]
    fn rfc_fragmented_unmasked_text() {
        let mut header = [0u8; MAX_SERVER_HEADER];
        let n = write_header(&mut header, false, OpCode::Text, 3);
        assert_eq!(&header[..n], [0x01, 0x03]);
        let n = write_header(&mut header, true, OpCode::Continuation, 2);
        assert_eq!(&header[..n], [0x80, 0x02]);
    }

    #[test]
    fn rfc_unmasked_ping_and_pong() {
        assert_eq!(frame(OpCode::Ping, b"Hello"), b"\x89\x05Hello");
        assert_eq!(frame(OpCode::Pong, b"Hello"), b"\x8a\x05Hello");
    }

    #[test]
    fn rfc_length_encodings() {
        let out = frame(OpCode::Binary, &[0u8; 256]);
        assert_eq!(out[..4], [0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(out.len(), 4 + 256);
        let out = frame(OpCode::Binary, &vec![0u8; 65536]);
        assert_eq!(out[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(out.len(), 10 + 65536);
    }

    #[test]
    fn header_length_boundaries() {
        let mut h = [0u8; MAX_SERVER_HEADER];
        assert_eq!(write_header(&mut h, true, OpCode::Binary, 0), 2);
        assert_eq!(write_header(&mut h, true, OpCode::Binary, 125), 2);
        assert_eq!(h[1], 125);
        assert_eq!(write_header(&mut h, true, OpCode::Binary, 126), 4);
        assert_eq!(h[..4], [0x82, 126, 0, 126]);
        assert_eq!(write_header(&mut h, true, OpCode::Binary, 65535), 4);
        assert_eq!(write_header(&mut h, true, OpCode::Binary, 65536), 10);
        assert_eq!(
            write_header(&mut h, false, OpCode::Binary, u64::MAX >> 1),
            10
        );
        assert_eq!(h[..3], [0x02, 127, 0x7F]);
    }

    #[test]
    fn rfc_masked_hello() {
        let mut out = Vec::new();
        encode_masked_frame(
            &mut out,
            true,
            OpCode::Text,
            b"Hello",
            [0x37, 0xfa, 0x21, 0x3d],
        );
        assert_eq!(
            out,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
    }

    #[test]
    fn masked_long_headers() {
        let mut out = Vec::new();
        encode_masked_frame(&mut out, false, OpCode::Binary, &[0u8; 300], [1, 2, 3, 4]);
        assert_eq!(out[..8], [0x02, 0xFE, 0x01, 0x2C, 1, 2, 3, 4]);
        assert_eq!(out[8..12], [1, 2, 3, 4]);
        out.clear();
        encode_masked_frame(&mut out, true, OpCode::Binary, &vec![0u8; 70000], [0; 4]);
        assert_eq!(out[..10], [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert_eq!(out.len(), 14 + 70000);
    }

    #[test]
    fn close_with_code_and_reason() {
        let mut out = Vec::new();
        encode_close(&mut out, code::NORMAL, "bye");
        assert_eq!(out, b"\x88\x05\x03\xe8bye");
    }

    #[test]
    fn close_without_status_is_empty() {
        let mut out = Vec::new();
        encode_close(&mut out, code::NO_STATUS, "ignored");
        assert_eq!(out, [0x88, 0x00]);
    }

    #[test]
    fn close_reason_is_cut_at_a_char_boundary() {
        let mut out = Vec::new();
        encode_close(&mut out, code::GOING_AWAY, &"a".repeat(200));
        assert_eq!(out[1], 125);
        assert_eq!(out.len(), 2 + 125);

        // 'é' is two bytes: 61 of them are 122 bytes, one more would be 124.
        out.clear();
        encode_close(&mut out, code::GOING_AWAY, &"é".repeat(100));
        assert_eq!(out[1], 2 + 122);
        assert!(std::str::from_utf8(&out[4..]).is_ok());

        // A four-byte character straddling the limit is dropped whole.
        out.clear();
        let reason = format!("{}😀", "x".repeat(121));
        encode_close(&mut out, code::GOING_AWAY, &reason);
        assert_eq!(&out[4..], "x".repeat(121).as_bytes());
    }

    #[test]
    fn error_display_names_reason_and_code() {
        let text = ProtocolError::RESERVED_OPCODE.to_string();
        assert!(
            text.contains("reserved opcode") && text.contains("1002"),
            "{text}"
        );
    }
}
