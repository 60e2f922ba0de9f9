//! The byte stream under a connection: today plain TCP (`tcp::Transport`).
//! The loops read, write (vectored) and shut down through this layer only, so
//! an encrypted stream can take the same place.

pub(crate) mod socket_writer;
pub(crate) mod tcp;
