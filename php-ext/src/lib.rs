//! PHP extension.
