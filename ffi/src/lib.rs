//! C ABI of Switchboard.
