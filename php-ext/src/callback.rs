//! PHP callables held by the server (handlers, timers) and calling them from Rust.
//!
//! A call never unwinds through Rust: an exception thrown by the callable is taken
//! out of the engine and handed back as a value, except `exit()`, which stays
//! pending so that it keeps unwinding once control returns to PHP. A fatal error
//! (the engine's bailout, a long jump) is caught too and ends the serving like
//! `exit()`; `run()` resumes it once it is out of the server's loop, which a
//! jump straight through would leave locked.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::ptr::null_mut;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::FromZval;
use ext_php_rs::ffi::{_call_user_function_impl, ext_php_rs_executor_globals};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::{try_catch, ExecutorGlobals};

thread_local! {
    /// A call caught the engine's bailout (see `take_bailout`).
    static BAILED_OUT: Cell<bool> = const { Cell::new(false) };
}

/// True (once) when a call caught a fatal error's bailout: the caller must
/// resume it with `ext_php_rs::zend::bailout()` as soon as it can.
pub fn take_bailout() -> bool {
    BAILED_OUT.replace(false)
}

/// A callable, kept alive by its own reference.
pub struct Callback(Zval);

impl Clone for Callback {
    fn clone(&self) -> Self {
        Callback(self.0.shallow_clone())
    }
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Callback")
    }
}

impl<'a> FromZval<'a> for Callback {
    /// Gives the parameter a real `callable` type.
    const TYPE: DataType = DataType::Callable;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.is_callable().then(|| Callback(zval.shallow_clone()))
    }
}

/// How a call ended, when it did not return normally.
pub enum Thrown {
    /// The callable threw; the exception is ours now.
    Exception(ZBox<ZendObject>),
    /// `exit()` (or the engine unwinding): the exception stays pending, and the
    /// caller must return to PHP at once.
    Exit,
}

impl Callback {
    /// Calls with `args` (consumed: they are released after the call).
    pub fn call(&self, args: &mut [Zval]) -> Result<Zval, Thrown> {
        let mut retval = Zval::new();
        let count = u32::try_from(args.len()).unwrap_or(u32::MAX);
        // SAFETY: `self.0` is a live callable zval, `args` is an array of `count`
        // initialised zvals and `retval` is a fresh zval; the engine copies what it
        // keeps. `Zval` is the engine's `zval` type.
        let called = try_catch(AssertUnwindSafe(|| unsafe {
            _call_user_function_impl(
                null_mut(),
                std::ptr::from_ref(&self.0).cast_mut(),
                &raw mut retval,
                count,
                args.as_mut_ptr(),
                null_mut(),
            )
        }));
        let Ok(status) = called else {
            BAILED_OUT.set(true);
            return Err(Thrown::Exit);
        };
        if let Some(thrown) = pending() {
            return Err(thrown);
        }
        if status < 0 {
            // The engine could not call it (it reports the reason as a warning).
            return Ok(Zval::new());
        }
        Ok(retval)
    }
}

/// True while an exception (or `exit()`) is pending in the engine.
pub fn exception_pending() -> bool {
    // SAFETY: as in `pending`.
    !unsafe { (*ext_php_rs_executor_globals()).exception }.is_null()
}

/// Takes the engine's pending exception, if any (see [`Thrown`]).
pub fn pending() -> Option<Thrown> {
    // SAFETY: the executor globals are valid for the whole request; this reads
    // one pointer on the PHP thread.
    let ex = unsafe { (*ext_php_rs_executor_globals()).exception };
    if ex.is_null() {
        return None;
    }
    if crate::symbols::is_exit(ex) {
        return Some(Thrown::Exit);
    }
    ExecutorGlobals::take_exception().map(Thrown::Exception)
}

/// `Class: message in file:line` for an exception object, for reports on STDERR.
pub fn describe(ex: &ZendObject) -> String {
    let class = ex.get_class_name().unwrap_or_else(|_| "Exception".into());
    let text = |method: &str| match ex.try_call_method(method, vec![]) {
        Ok(z) => match (z.zend_str(), z.long()) {
            (Some(s), _) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            (_, Some(n)) => n.to_string(),
            _ => String::new(),
        },
        Err(_) => String::new(),
    };
    let (message, file, line) = (text("getMessage"), text("getFile"), text("getLine"));
    // Methods of Throwable do not throw; anything left behind is not ours to keep.
    let _ = ExecutorGlobals::take_exception();
    format!("{class}: {message} in {file}:{line}")
}
