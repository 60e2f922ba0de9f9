//! The library's version.

use std::os::raw::c_char;

use crate::boundary::guard;

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version, such as `"0.1.0"`. A static string; never NULL.
#[no_mangle]
pub extern "C" fn sb_version() -> *const c_char {
    guard(|| VERSION.as_ptr().cast())
}
