//! Connection ids: never reused while the process lives, so a command for a
//! connection that is gone can be refused instead of reaching a stranger.

use std::fmt;

/// Identifies one connection: I/O loop (8 bits) | slot (24 bits) | generation (32 bits).
/// A slot's generation grows every time the slot is reused, and never starts at 0,
/// so no valid id is 0 (C and PHP callers can use 0 as "none").
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

/// The largest number of slots one loop can hold (24 bits).
pub(crate) const MAX_SLOTS: usize = 1 << 24;

impl ConnId {
    pub(crate) fn new(loop_index: usize, slot: usize, generation: u32) -> ConnId {
        debug_assert!(loop_index < 256 && slot < MAX_SLOTS && generation != 0);
        ConnId(((loop_index as u64) << 56) | ((slot as u64) << 32) | u64::from(generation))
    }

    /// The raw 64-bit value, as handed to C and PHP.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Rebuilds an id from its raw value. Any value is accepted: unknown ids are
    /// refused later with [`crate::server::Error::UnknownConnection`].
    pub fn from_u64(raw: u64) -> ConnId {
        ConnId(raw)
    }

    pub(crate) fn loop_index(self) -> usize {
        (self.0 >> 56) as usize
    }

    pub(crate) fn slot(self) -> usize {
        ((self.0 >> 32) & 0xFF_FFFF) as usize
    }

    pub(crate) fn generation(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Debug for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnId({})", self.0)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let id = ConnId::new(3, 0xAB_CDEF, 77);
        assert_eq!(id.loop_index(), 3);
        assert_eq!(id.slot(), 0xAB_CDEF);
        assert_eq!(id.generation(), 77);
        assert_eq!(ConnId::from_u64(id.as_u64()), id);
        assert_ne!(id.as_u64(), 0);
    }
}
