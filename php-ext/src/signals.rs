//! Signals and the PHP VM's interrupt flag.
//!
//! - While `run()` is active, SIGINT and SIGTERM that the script does not handle
//!   itself request a graceful stop instead of killing the process. The handler
//!   is installed through PHP's own signal layer (`zend_sigaction`), so it runs
//!   only outside PHP's critical sections, and the previous disposition is put
//!   back when `run()` returns. A second signal while stopping kills as usual.
//! - Threads the extension starts block the asynchronous signals, so that every
//!   signal is delivered to the PHP thread, where PHP's handlers expect to run.
//! - Handlers installed with `pcntl_signal()` under `pcntl_async_signals(true)`
//!   set `EG(vm_interrupt)`; waits check it in short slices and run the interrupt
//!   function as the VM would.

use std::sync::atomic::{AtomicI32, Ordering};

use ext_php_rs::ffi::{
    ext_php_rs_executor_globals, zend_atomic_bool_store, zend_interrupt_function,
};
use libc::c_int;

use crate::symbols;

/// The signals `run()` turns into a graceful stop.
const STOP_SIGNALS: [c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// The last stop signal received while `run()` was active (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(signo: c_int) {
    if RECEIVED.swap(signo, Ordering::SeqCst) != 0 {
        // Second signal: the default action, at once.
        // SAFETY: signal() and raise() are async-signal-safe.
        unsafe {
            libc::signal(signo, libc::SIG_DFL);
            libc::raise(signo);
        }
    }
}

/// Installed for the duration of `run()`; puts the previous handlers back on drop.
pub struct StopSignals {
    replaced: Vec<(c_int, libc::sigaction)>,
}

impl StopSignals {
    /// Takes over SIGINT and SIGTERM where the script left them at their default.
    pub fn install() -> StopSignals {
        RECEIVED.store(0, Ordering::SeqCst);
        let mut replaced = Vec::new();
        let Some(zend_sigaction) = symbols::zend_sigaction() else {
            return StopSignals { replaced };
        };
        for signo in STOP_SIGNALS {
            let Some(current) = current(signo) else {
                continue;
            };
            if current.sa_sigaction != libc::SIG_DFL {
                continue; // the script's own handler, or ignored on purpose
            }
            // SAFETY: a zeroed sigaction is valid; the handler is a plain C function.
            let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
            ours.sa_sigaction = on_stop_signal as extern "C" fn(c_int) as libc::sighandler_t;
            // SAFETY: valid signal number and sigaction pointers.
            unsafe { zend_sigaction(signo, &ours, std::ptr::null_mut()) };
            replaced.push((signo, current));
        }
        StopSignals { replaced }
    }

    /// The stop signal received since `install` (0: none).
    pub fn received() -> c_int {
        RECEIVED.load(Ordering::SeqCst)
    }
}

impl Drop for StopSignals {
    fn drop(&mut self) {
        let Some(zend_sigaction) = symbols::zend_sigaction() else {
            return;
        };
        for (signo, previous) in self.replaced.drain(..) {
            // A handler the script installed meanwhile stays.
            let ours = on_stop_signal as extern "C" fn(c_int) as libc::sighandler_t;
            if current(signo).is_some_and(|c| c.sa_sigaction == ours) {
                // SAFETY: valid signal number and sigaction pointers.
                unsafe { zend_sigaction(signo, &previous, std::ptr::null_mut()) };
            }
        }
    }
}

/// The handler PHP's signal layer holds for `signo` (SIG_DFL when none).
fn current(signo: c_int) -> Option<libc::sigaction> {
    let zend_sigaction = symbols::zend_sigaction()?;
    // SAFETY: a zeroed sigaction is valid; zend_sigaction only writes to it.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: valid signal number; a null `act` only reads.
    unsafe { zend_sigaction(signo, std::ptr::null(), &mut current) };
    Some(current)
}

/// Runs `f` (which starts threads) with the asynchronous signals blocked, so the
/// threads inherit a mask that leaves every signal to the PHP thread.
pub fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain signal-set calls on locally owned, zero-initialised sets.
    let old = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        for sync in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGTRAP,
        ] {
            libc::sigdelset(&mut set, sync);
        }
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        old
    };
    let result = f();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    result
}

/// True when the VM has an interrupt pending (an async pcntl signal, a timeout).
pub fn interrupt_pending() -> bool {
    // SAFETY: the executor globals live for the whole request; the flag is a byte
    // other threads may set, hence the volatile read.
    unsafe {
        std::ptr::read_volatile(&raw const (*ext_php_rs_executor_globals()).vm_interrupt.value)
    }
}

/// What the VM does when it sees the interrupt flag: clear it and run the
/// interrupt function (pcntl dispatches its queued signals there). A timeout
/// (`max_execution_time`) is left pending for the VM, and reported as `false`:
/// the caller must return to PHP.
pub fn handle_interrupt() -> bool {
    // SAFETY: executor globals as above; the interrupt function is set at module
    // startup and called with the current frame, as the VM does.
    unsafe {
        let eg = ext_php_rs_executor_globals();
        if std::ptr::read_volatile(&raw const (*eg).timed_out.value) {
            return false;
        }
        zend_atomic_bool_store(&raw mut (*eg).vm_interrupt, false);
        if let Some(interrupt) = zend_interrupt_function {
            interrupt((*eg).current_execute_data);
        }
    }
    true
}
