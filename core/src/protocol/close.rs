//! Close codes, close payloads and the closing handshake (RFC 6455
//! sections 5.5.1, 7 and 7.4).

use super::frame::ProtocolError;

/// Close status codes (RFC 6455 section 7.4).
pub mod code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// Reported when a close frame had no code; never sent on the wire.
    pub const NO_STATUS: u16 = 1005;
    /// Reported when the connection dropped without a close; never sent.
    pub const ABNORMAL: u16 = 1006;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY_VIOLATION: u16 = 1008;
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    pub const MANDATORY_EXTENSION: u16 = 1010;
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// True for codes a peer may put on the wire: 1000–1003, 1007–1014,
/// 3000–4999.
///
/// 1004–1006 and 1015 are reserved for local reporting, the rest of 0–2999
/// is unassigned, and 3000–4999 belong to libraries and applications.
pub fn is_valid_wire_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Whether a server may close with `code`: a valid wire code other than 1010,
/// which only a client sends (the server did not negotiate an extension it
/// needs, RFC 6455 section 7.4.1).
pub fn is_server_code(code: u16) -> bool {
    is_valid_wire_code(code) && code != code::MANDATORY_EXTENSION
}

/// Parses a close frame payload: empty → `Ok(None)`; 1 byte or an invalid
/// code → Err(1002); reason not UTF-8 → Err(1007).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(u16, &str)>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::CLOSE_ONE_BYTE),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_wire_code(code) {
                return Err(ProtocolError::CLOSE_BAD_CODE);
            }
            let reason =
                std::str::from_utf8(reason).map_err(|_| ProtocolError::CLOSE_BAD_REASON)?;
            Ok(Some((code, reason)))
        }
    }
}

/// The close handshake as a state machine (timers are the caller's job).
///
/// Each side sends exactly one close frame: this tracks whether ours is
/// still owed so that neither a reply nor a second close is ever missed or
/// duplicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseState {
    /// No close frame sent or received.
    Open,
    /// We sent a close, waiting for the peer's.
    SentClose,
    /// The peer's close arrived (and we replied): the connection ends once
    /// the reply is flushed.
    Closed,
}

impl CloseState {
    /// The peer's close frame arrived. Returns true if we must reply with a
    /// close frame (only when we have not sent one). Moves to Closed.
    pub fn on_peer_close(&mut self) -> bool {
        let reply = *self == CloseState::Open;
        *self = CloseState::Closed;
        reply
    }

    /// The application or the server wants to close. Returns true if a close
    /// frame must be sent now (only from Open). Moves Open → SentClose.
    pub fn on_local_close(&mut self) -> bool {
        if *self == CloseState::Open {
            *self = CloseState::SentClose;
            true
        } else {
            false
        }
    }

    /// True while neither side has sent a close: data may still flow both ways.
    pub fn is_open(&self) -> bool {
        *self == CloseState::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes() {
        for c in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert!(is_valid_wire_code(c), "{c}");
        }
        for c in [3000, 3999, 4000, 4999] {
            assert!(is_valid_wire_code(c), "{c}");
        }
        for c in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid_wire_code(c), "{c}");
        }
    }

    #[test]
    fn empty_payload_has_no_status() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
    }

    #[test]
    fn one_byte_payload_is_a_protocol_error() {
        let err = parse_close_payload(&[0x03]).expect_err("one byte");
        assert_eq!(err.code, code::PROTOCOL_ERROR);
    }

    #[test]
    fn code_and_reason() {
        assert_eq!(parse_close_payload(b"\x03\xe8"), Ok(Some((1000, ""))));
        assert_eq!(parse_close_payload(b"\x0f\xa0bye"), Ok(Some((4000, "bye"))));
    }

    #[test]
    fn invalid_codes_are_protocol_errors() {
        for c in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            let err = parse_close_payload(&c.to_be_bytes()).expect_err("invalid code");
            assert_eq!(err.code, code::PROTOCOL_ERROR, "{c}");
        }
    }

    #[test]
    fn bad_reason_is_invalid_payload() {
        let err = parse_close_payload(b"\x03\xe8\xce\xba\xe1\xbd").expect_err("bad reason");
        assert_eq!(err.code, code::INVALID_PAYLOAD);
        let err = parse_close_payload(b"\x03\xe8\xff").expect_err("bad reason");
        assert_eq!(err.code, code::INVALID_PAYLOAD);
    }

    #[test]
    fn peer_closes_first_we_reply_once() {
        let mut s = CloseState::Open;
        assert!(s.is_open());
        assert!(s.on_peer_close());
        assert_eq!(s, CloseState::Closed);
        assert!(!s.is_open());
        assert!(!s.on_peer_close());
        assert!(!s.on_local_close());
        assert_eq!(s, CloseState::Closed);
    }

    #[test]
    fn we_close_first_peer_answers() {
        let mut s = CloseState::Open;
        assert!(s.on_local_close());
        assert_eq!(s, CloseState::SentClose);
        assert!(!s.is_open());
        assert!(!s.on_local_close(), "a second close is never sent");
        assert!(!s.on_peer_close(), "the peer's answer needs no reply");
        assert_eq!(s, CloseState::Closed);
    }
}
