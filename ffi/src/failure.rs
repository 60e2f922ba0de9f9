//! A failed call: its code and message, and the thread-local last error message.

use std::cell::RefCell;
use std::ffi::CString;
use std::os::raw::c_char;

use engine::server::Error;

use crate::boundary::guard;
use crate::result::sb_result;

/// Why a call failed: the code returned to C and the message kept for
/// [`sb_last_error_message`].
#[derive(Debug)]
pub struct Failure {
    code: sb_result,
    message: String,
}

impl Failure {
    pub(crate) fn new(code: sb_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// A required pointer argument was NULL.
    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(sb_result::SB_ERR_NULL, format!("{what} is NULL"))
    }

    /// An argument out of range or malformed.
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(sb_result::SB_ERR_INVALID_ARGUMENT, message)
    }

    /// Records the message as this thread's last error and gives the code.
    pub(crate) fn record(self) -> sb_result {
        set_last_error(&self.message);
        self.code
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::new(sb_result::of(&error), error.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Replaces the calling thread's last error message (NUL bytes are dropped).
pub(crate) fn set_last_error(message: &str) {
    let bytes: Vec<u8> = message.bytes().filter(|&b| b != 0).collect();
    let text = CString::new(bytes).unwrap_or_default();
    // During thread teardown the slot may be gone; the message is then simply lost.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(text));
}

/// A sentence describing the last failure of an `sb_` call on the calling thread, such as
/// `invalid option threads: must be 0 to 255`; the empty string if none failed yet.
///
/// Meaningful right after a call returned an error code. Never NULL. The string belongs to
/// the library and stays valid until the next `sb_` call on the same thread.
#[no_mangle]
pub extern "C" fn sb_last_error_message() -> *const c_char {
    guard(|| {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ref().map(|text| text.as_ptr()))
            .ok()
            .flatten()
            .unwrap_or(c"".as_ptr())
    })
}
