//! PHP engine functions outside ext-php-rs's bindings, looked up in the running
//! PHP binary at first use. Not linking them directly keeps the library loadable
//! by tools that load it outside PHP (`cargo php stubs`).

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

use ext_php_rs::ffi::zend_object;
use libc::c_int;

type SigactionFn = unsafe extern "C" fn(c_int, *const libc::sigaction, *mut libc::sigaction);
type IsExitFn = unsafe extern "C" fn(*const zend_object) -> bool;

fn lookup(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the global symbol tables.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!symbol.is_null()).then_some(symbol)
}

/// `zend_sigaction`: PHP's signal layer (ZEND_SIGNALS builds).
pub fn zend_sigaction() -> Option<SigactionFn> {
    static F: OnceLock<Option<usize>> = OnceLock::new();
    let address = (*F.get_or_init(|| lookup(c"zend_sigaction").map(|p| p as usize)))?;
    // SAFETY: the symbol is PHP's `void zend_sigaction(int, const struct sigaction *,
    // struct sigaction *)`.
    Some(unsafe { std::mem::transmute::<usize, SigactionFn>(address) })
}

/// True for the exception objects of `exit()` and of a graceful engine unwind.
pub fn is_exit(ex: *const zend_object) -> bool {
    static F: OnceLock<[Option<usize>; 2]> = OnceLock::new();
    let checks = F.get_or_init(|| {
        [
            lookup(c"zend_is_unwind_exit").map(|p| p as usize),
            lookup(c"zend_is_graceful_exit").map(|p| p as usize),
        ]
    });
    checks.iter().flatten().any(|&address| {
        // SAFETY: both symbols are PHP's `bool f(const zend_object *)`, and `ex` is a
        // live exception object.
        unsafe { std::mem::transmute::<usize, IsExitFn>(address)(ex) }
    })
}
