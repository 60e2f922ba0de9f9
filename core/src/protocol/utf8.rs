//! Incremental UTF-8 validation for text messages (RFC 6455 section 8.1).
//!
//! A text message may be split over frames and over reads, and a character may
//! be split with it. The RFC asks an endpoint to fail the connection as soon as
//! the text is known to be invalid, so the validator carries the state of an
//! unfinished character between calls and rejects a byte the moment no valid
//! text could contain it.

use std::fmt;

/// Incremental UTF-8 validator for text messages split over frames and reads.
///
/// Small and `Copy`, with no heap: it remembers only how many continuation
/// bytes the current character still needs and which range the next one may
/// take.
#[derive(Debug, Default, Clone, Copy)]
pub struct Utf8Validator {
    /// Continuation bytes the unfinished character still needs (0 to 3).
    need: u8,
    /// Smallest byte allowed next, while `need > 0`.
    lo: u8,
    /// Largest byte allowed next, while `need > 0`.
    hi: u8,
}

/// The text is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl std::error::Error for Utf8Error {}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates the next piece of the message.
    ///
    /// Fails as soon as a byte makes the text invalid, even when that byte
    /// continues a character begun in an earlier piece.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Utf8Error> {
        let mut rest = bytes;
        // Finish the character left over from the previous piece, byte by
        // byte: at most three bytes.
        while self.need > 0 {
            let Some((&byte, tail)) = rest.split_first() else {
                return Ok(());
            };
            self.step(byte)?;
            rest = tail;
        }
        // The bulk goes through the standard library's fast validator.
        match std::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                // The piece ends inside a character: keep its state. `step`
                // checks each byte itself, so a prefix that can never become
                // valid is refused here whatever the standard library said.
                let tail = rest.get(e.valid_up_to()..).unwrap_or_default();
                tail.iter().try_for_each(|&byte| self.step(byte))
            }
        }
    }

    /// Ends the message: an unfinished character is an error. Resets the
    /// validator for the next message either way.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = self.need == 0;
        self.reset();
        if complete {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }

    /// Forgets any unfinished character.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Advances over one byte, following the table of well-formed sequences
    /// in the Unicode standard (which rules out overlong forms, surrogates and
    /// code points past U+10FFFF).
    fn step(&mut self, byte: u8) -> Result<(), Utf8Error> {
        if self.need > 0 {
            if byte < self.lo || byte > self.hi {
                return Err(Utf8Error);
            }
            self.need -= 1;
            self.lo = 0x80;
            self.hi = 0xBF;
            return Ok(());
        }
        let (need, lo, hi) = match byte {
            0x00..=0x7F => return Ok(()),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return Err(Utf8Error),
        };
        *self = Self { need, lo, hi };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Utf8Error, Utf8Validator};

    fn whole(bytes: &[u8]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        v.feed(bytes)?;
        v.finish()
    }

    fn byte_by_byte(bytes: &[u8]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        for b in bytes {
            v.feed(std::slice::from_ref(b))?;
        }
        v.finish()
    }

    const VALID: &[&[u8]] = &[
        b"",
        b"Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!",
        "κόσμε".as_bytes(),
        b"\x7F",
        b"\xC2\x80",
        b"\xDF\xBF",
        b"\xE0\xA0\x80",
        b"\xED\x9F\xBF",
        b"\xEE\x80\x80",
        b"\xEF\xBF\xBF",
        b"\xF0\x90\x80\x80",
        b"\xF4\x8F\xBF\xBF",
    ];

    const INVALID: &[&[u8]] = &[
        b"\x80",
        b"\xBF",
        b"\xC0\x80",
        b"\xC1\xBF",
        b"\xC2",
        b"\xC2\x41",
        b"\xE0\x80\x80",
        b"\xE0\x9F\xBF",
        b"\xED\xA0\x80",
        b"\xED\xBF\xBF",
        b"\xF0\x80\x80\x80",
        b"\xF0\x8F\xBF\xBF",
        b"\xF4\x90\x80\x80",
        b"\xF5\x80\x80\x80",
        b"\xFF",
        b"\xE2\x82",
        b"\xF0\x9F\x98",
        b"abc\xCE\xBA\xE1",
    ];

    #[test]
    fn agrees_with_std_on_samples_whole_and_split() {
        for sample in VALID {
            assert_eq!(whole(sample), Ok(()), "{sample:x?}");
            assert_eq!(byte_by_byte(sample), Ok(()), "{sample:x?}");
        }
        for sample in INVALID {
            assert!(std::str::from_utf8(sample).is_err());
            assert_eq!(whole(sample), Err(Utf8Error), "{sample:x?}");
            assert_eq!(byte_by_byte(sample), Err(Utf8Error), "{sample:x?}");
        }
    }

    #[test]
    fn agrees_with_std_on_every_short_sequence_at_every_split() {
        let interesting = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
            0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ];
        for &a in &interesting {
            for &b in &interesting {
                for &c in &interesting {
                    for &d in &interesting {
                        let seq = [a, b, c, d];
                        let expected = std::str::from_utf8(&seq).is_ok();
                        for cut in 0..=seq.len() {
                            let mut v = Utf8Validator::new();
                            let got = v
                                .feed(&seq[..cut])
                                .and_then(|()| v.feed(&seq[cut..]))
                                .and_then(|()| v.finish());
                            assert_eq!(got.is_ok(), expected, "{seq:x?} cut {cut}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn fails_fast_on_the_first_impossible_byte() {
        // A lone impossible lead byte fails at once.
        for bad in [0xC0u8, 0xC1, 0xF5, 0xFF, 0x80] {
            assert_eq!(Utf8Validator::new().feed(&[bad]), Err(Utf8Error), "{bad:x}");
        }
        // A second byte that can never follow the lead fails at once, even
        // though the sequence is not finished and started in an earlier piece.
        for (lead, second) in [(0xE0u8, 0x80u8), (0xED, 0xA0), (0xF0, 0x8F), (0xF4, 0x90)] {
            assert_eq!(
                Utf8Validator::new().feed(&[b'a', lead, second]),
                Err(Utf8Error),
                "{lead:x} {second:x} in one piece"
            );
            let mut v = Utf8Validator::new();
            assert_eq!(v.feed(&[b'a', lead]), Ok(()));
            assert_eq!(v.feed(&[second]), Err(Utf8Error), "{lead:x} | {second:x}");
        }
        // A third byte that is not a continuation fails at once.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xF0, 0x9F]), Ok(()));
        assert_eq!(v.feed(&[0x41]), Err(Utf8Error));
    }

    #[test]
    fn incomplete_at_end_fails_only_at_finish_and_finish_resets() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed("€".as_bytes().get(..2).unwrap_or_default()), Ok(()));
        assert_eq!(v.finish(), Err(Utf8Error));
        // The failed finish left a clean validator behind.
        assert_eq!(v.feed(b"ok"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn reset_forgets_an_unfinished_character() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xE2, 0x82]), Ok(()));
        v.reset();
        assert_eq!(v.feed(b"plain"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn is_small() {
        assert!(std::mem::size_of::<Utf8Validator>() <= 4);
    }
}
