//! The panic boundary: every exported function runs its body through [`guard`], so a
//! Rust panic becomes an error code (or a harmless default) instead of unwinding into C.

use std::any::Any;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::failure::{set_last_error, Failure};
use crate::result::sb_result;

/// What an exported function returns when its body panicked.
pub trait PanicValue {
    fn on_panic() -> Self;
}

impl PanicValue for sb_result {
    fn on_panic() -> Self {
        sb_result::SB_ERR_PANIC
    }
}

impl PanicValue for () {
    fn on_panic() -> Self {}
}

impl PanicValue for usize {
    fn on_panic() -> Self {
        0
    }
}

impl PanicValue for *const c_char {
    fn on_panic() -> Self {
        c"".as_ptr()
    }
}

/// Runs `body`; a panic is caught, its message recorded as the thread's last error, and
/// `T::on_panic()` returned in its place.
pub fn guard<T: PanicValue>(body: impl FnOnce() -> T) -> T {
    // AssertUnwindSafe: after a panic the caller only gets an error code; the engine's
    // shared state is guarded by locks that tolerate poisoning.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            set_last_error(&format!("internal error: {}", panic_message(&*payload)));
            T::on_panic()
        }
    }
}

/// Runs a fallible body inside [`guard`]: `Ok` is `SB_OK`; a failure records its message
/// as the thread's last error and returns its code.
pub fn call(body: impl FnOnce() -> Result<(), Failure>) -> sb_result {
    guard(|| match body() {
        Ok(()) => sb_result::SB_OK,
        Err(failure) => failure.record(),
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "panic"
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::failure::sb_last_error_message;

    fn last_error() -> String {
        // SAFETY: the pointer is valid until the next sb_ call on this thread.
        unsafe { CStr::from_ptr(sb_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_an_error_code() {
        let result = call(|| panic!("boom"));
        assert_eq!(result, sb_result::SB_ERR_PANIC);
        assert!(last_error().contains("boom"), "{}", last_error());
    }

    #[test]
    fn a_panic_with_a_formatted_message_is_reported() {
        let n = 7;
        assert_eq!(call(|| panic!("bad {n}")), sb_result::SB_ERR_PANIC);
        assert!(last_error().contains("bad 7"));
    }

    #[test]
    fn a_panic_in_a_function_without_result_returns_the_default() {
        let len: usize = guard(|| panic!("x"));
        assert_eq!(len, 0);
        let s: *const c_char = guard(|| panic!("x"));
        assert!(!s.is_null());
    }

    #[test]
    fn failures_record_their_message() {
        let result = call(|| Err(Failure::null("server")));
        assert_eq!(result, sb_result::SB_ERR_NULL);
        assert_eq!(last_error(), "server is NULL");
        assert_eq!(call(|| Ok(())), sb_result::SB_OK);
    }
}
