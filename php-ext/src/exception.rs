//! `Switchboard\Exception`: a plain subclass of `\Exception`, registered with a
//! `ClassBuilder` so that instances carry the file, line and trace of the PHP call.

use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::zend::{ce, ClassEntry};

/// The PHP name of the class.
pub const NAME: &str = "Switchboard\\Exception";

static CLASS: AtomicPtr<ClassEntry> = AtomicPtr::new(null_mut());

/// Registers the class; called once from the module's startup.
pub fn register() -> ext_php_rs::error::Result<()> {
    ClassBuilder::new(NAME)
        .extends((ce::exception, "\\Exception"))
        .registration(|class, tables| {
            // The argument tables must outlive the class, which lives until the
            // process ends.
            std::mem::forget(tables);
            CLASS.store(class, Ordering::Release);
        })
        .register()
}

/// The class entry, or `\Exception` if registration has not happened (it always
/// has by the time PHP code runs).
fn class() -> &'static ClassEntry {
    let class = CLASS.load(Ordering::Acquire);
    // SAFETY: the pointer was stored from a `&'static mut ClassEntry` that PHP keeps
    // for the life of the process, and is never written again.
    unsafe { class.as_ref() }.unwrap_or_else(ce::exception)
}

/// A `Switchboard\Exception` to throw.
pub fn error(message: impl Into<String>) -> PhpException {
    PhpException::new(message.into(), 0, class())
}
