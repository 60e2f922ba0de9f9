//! The event loop on the PHP thread: `run()` hands the engine's events to the
//! handlers as they come (`Handle::serve`: in inline mode a message is handled
//! while the engine reads it) and fires timers; `poll()` hands the same events out as arrays;
//! stopping drains the last events while the engine closes every client with 1001.

use std::time::Instant;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::{ZendHashTable, Zval};
use switchboard::server::{ConnId, Event, Incoming, MessageKind};

use crate::callback::{self, Thrown};
use crate::convert::{self, boolean, bytes, long};
use crate::exception::error;
use crate::handshake::{self, Decision};
use crate::polling;
use crate::report::{after_php, finish, report, report_message, Flow};
use crate::signals::{self, StopSignals};
use crate::state::{Mode, On, State};
use crate::timers;

/// Events taken from the engine at once, at most.
const BATCH: usize = 1024;

/// Sets the mode for the duration of a call.
struct ModeGuard<'a>(&'a State);

impl<'a> ModeGuard<'a> {
    fn enter(state: &'a State, mode: Mode) -> PhpResult<ModeGuard<'a>> {
        let refusal = match (state.mode.get(), mode) {
            (Mode::Idle, _) => None,
            (Mode::Running, Mode::Running) => Some(
                "run() is already running: handlers are called from it, so return from the handler instead",
            ),
            (Mode::Running, _) => Some("poll() cannot be used while run() is running"),
            (Mode::Polling, Mode::Running) => Some("run() cannot be called while poll() is waiting"),
            (Mode::Polling, _) => Some("poll() is already waiting"),
        };
        if let Some(message) = refusal {
            return Err(error(message));
        }
        state.mode.set(mode);
        Ok(ModeGuard(state))
    }
}

impl Drop for ModeGuard<'_> {
    fn drop(&mut self) {
        self.0.mode.set(Mode::Idle);
    }
}

/// `run()`: serves until `stop()`, SIGINT/SIGTERM or the engine stops, then shuts
/// down gracefully.
pub fn run(state: &State) -> PhpResult<()> {
    let _mode = ModeGuard::enter(state, Mode::Running)?;
    if state.is_stopped() {
        return Err(error(
            "the server is stopped; create a new Server to serve again",
        ));
    }
    if state.authorize && state.handler(On::Handshake).is_none() {
        return Err(error(
            "the authorize option needs a handshake handler: call on('handshake', ...) before run()",
        ));
    }
    state.stop_requested.set(false);
    let signals = StopSignals::install();
    let flow = loop {
        if state.stop_requested.get() || StopSignals::received() != 0 {
            break Flow::Continue;
        }
        if signals::interrupt_pending() {
            if !signals::handle_interrupt()
                || after_php(&state.handlers, "signal", None) == Flow::Exit
            {
                break Flow::Exit;
            }
            continue;
        }
        if fire_timers(state) == Flow::Exit {
            break Flow::Exit;
        }
        let timeout = timers::wait_slice(&state.timers, None);
        // After an `exit()` the events still coming in this call are dropped, as
        // the process is ending.
        let mut flow = Flow::Continue;
        state.handle.serve(Some(timeout), |event| {
            if flow == Flow::Continue {
                flow = dispatch(state, event);
            }
        });
        if flow == Flow::Exit {
            break Flow::Exit;
        }
        if state.handle.is_finished() {
            break Flow::Continue;
        }
    };
    if flow == Flow::Continue {
        shutdown(state, true);
    }
    drop(signals);
    if callback::take_bailout() {
        drop(_mode);
        // SAFETY: a handler's fatal error was caught inside the server's loop;
        // the loop is done with and nothing of this call is left to release.
        unsafe { ext_php_rs::zend::bailout() };
    }
    Ok(())
}

/// Stops the engine gracefully: it stops accepting, closes every client with 1001
/// and waits for their replies, while this thread keeps taking events — passing
/// them to the handlers (`dispatch`) or keeping them for `poll()`.
pub fn shutdown(state: &State, mut dispatch_events: bool) {
    let Some(server) = state.take_server() else {
        return;
    };
    // If the thread cannot start, the closure and the server in it are dropped,
    // and dropping a server shuts it down the same way (blocking).
    let stopper = signals::with_signals_blocked(|| {
        std::thread::Builder::new()
            .name("switchboard-stop".into())
            .spawn(move || server.shutdown())
    });
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        state.handle.wait(&mut batch, BATCH, Some(timers::SLICE));
        for event in batch.drain(..) {
            if dispatch_events {
                dispatch_events = dispatch(state, Incoming::from(&event)) == Flow::Continue;
            } else {
                state.backlog.borrow_mut().push_back(event);
            }
        }
        if state.handle.is_finished() {
            break;
        }
    }
    if let Ok(thread) = stopper {
        let _ = thread.join();
    }
}

/// Fires the timers due now. Under `run()`, handshakes a timer accepted are
/// opened at once; `poll()` returns them as events instead.
fn fire_timers(state: &State) -> Flow {
    fire_timers_then(state, true)
}

fn fire_timers_then(state: &State, open: bool) -> Flow {
    timers::fire_due(&state.timers, &state.handlers, || {
        if open {
            open_accepted(state)
        } else {
            Flow::Continue
        }
    })
}

/// Passes one event to its handler.
fn dispatch(state: &State, event: Incoming<'_>) -> Flow {
    let flow = match event {
        // PHP gets its own copy of the bytes.
        Incoming::Message { id, kind, data } => call(state, On::Message, id, || {
            [
                long(convert::id_to_php(id)),
                bytes(data),
                boolean(kind == MessageKind::Binary),
            ]
        }),
        Incoming::Open(open) if open.pending => authorize(state, open.id, convert::request(open)),
        Incoming::Open(open) => call(state, On::Open, open.id, || {
            [long(convert::id_to_php(open.id)), convert::request(open)]
        }),
        Incoming::Close(close) => {
            if state.handshakes.borrow_mut().closed(close.id) {
                return Flow::Continue;
            }
            call(state, On::Close, close.id, || {
                [
                    long(convert::id_to_php(close.id)),
                    long(i64::from(close.code)),
                    bytes(close.reason.as_bytes()),
                    boolean(close.clean),
                ]
            })
        }
    };
    if flow == Flow::Exit {
        return flow;
    }
    open_accepted(state)
}

/// Calls the handler for `on`, if one is set, with the arguments `args` makes
/// (only made when there is a handler).
fn call<const N: usize>(
    state: &State,
    on: On,
    id: ConnId,
    args: impl FnOnce() -> [Zval; N],
) -> Flow {
    match state.handler(on) {
        Some(handler) => {
            let result = handler.call(&mut args());
            finish(&state.handlers, result, on.name(), Some(id))
        }
        None => Flow::Continue,
    }
}

/// A pending handshake: asks the `handshake` handler and applies its answer.
fn authorize(state: &State, id: ConnId, request: Zval) -> Flow {
    state
        .handshakes
        .borrow_mut()
        .pending(id, request.shallow_clone());
    let Some(handler) = state.handler(On::Handshake) else {
        let _ = state.reject(id, 500, "");
        return Flow::Continue;
    };
    let decided = match handler.call(&mut [long(convert::id_to_php(id)), request]) {
        Ok(value) => handshake::decision(&value),
        Err(Thrown::Exit) => return Flow::Exit,
        Err(Thrown::Exception(ex)) => {
            if report(&state.handlers, "handshake", Some(id), ex) == Flow::Exit {
                return Flow::Exit;
            }
            Ok(Decision::Reject(500))
        }
    };
    let applied = match decided {
        Ok(Decision::Accept(accept)) => state.accept(id, accept),
        Ok(Decision::Reject(status)) => state.reject(id, status, ""),
        Ok(Decision::Later) => Ok(()),
        Err(message) => {
            let _ = state.reject(id, 500, "");
            return report_message(&state.handlers, "handshake", Some(id), &message);
        }
    };
    match applied {
        // Already decided by the handler itself, or the client left.
        Ok(()) | Err(switchboard::server::Error::NotPending(_)) => Flow::Continue,
        Err(
            switchboard::server::Error::UnknownConnection(_) | switchboard::server::Error::ShutDown,
        ) => Flow::Continue,
        Err(e) => {
            let _ = state.reject(id, 500, "");
            report_message(&state.handlers, "handshake", Some(id), &e.to_string())
        }
    }
}

/// Delivers the `open` events owed for accepted handshakes.
fn open_accepted(state: &State) -> Flow {
    loop {
        let next = state.handshakes.borrow_mut().take_accepted();
        let Some((id, request)) = next else {
            return Flow::Continue;
        };
        if call(state, On::Open, id, || {
            [long(convert::id_to_php(id)), request]
        }) == Flow::Exit
        {
            return Flow::Exit;
        }
    }
}

/// `poll()`: up to `max` events as arrays, waiting up to `timeout_ms` (-1: until
/// one arrives, the server stops, or a pcntl signal handler ran).
pub fn poll(state: &State, timeout_ms: i64, max: i64) -> PhpResult<ZBox<ZendHashTable>> {
    let _mode = ModeGuard::enter(state, Mode::Polling)?;
    let max = polling::max_events(max)?;
    let mut out = ZendHashTable::new();
    polling::push_accepted(&state.handshakes, &mut out, max);
    while out.len() < max {
        let next = state.backlog.borrow_mut().pop_front();
        let Some(event) = next else { break };
        push_event(state, &mut out, event);
    }
    if !out.is_empty() {
        return Ok(out);
    }
    let deadline = polling::deadline(timeout_ms);
    let mut batch = Vec::new();
    loop {
        // Timers fire here as under `run()`; an `exit()` in one ends the call.
        if fire_timers_then(state, false) == Flow::Exit || callback::exception_pending() {
            return Ok(out);
        }
        // A timer may have accepted handshakes: their opens come first.
        polling::push_accepted(&state.handshakes, &mut out, max);
        if !out.is_empty() {
            return Ok(out);
        }
        let slice = timers::wait_slice(&state.timers, deadline);
        state.handle.wait(&mut batch, max, Some(slice));
        if !batch.is_empty() || state.handle.is_finished() {
            break;
        }
        if signals::interrupt_pending() {
            // A pcntl handler ran; an exception it threw stays pending and is
            // thrown from poll() when it returns.
            signals::handle_interrupt();
            if callback::exception_pending() {
                return Ok(out);
            }
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    for event in batch {
        push_event(state, &mut out, event);
    }
    Ok(out)
}

fn push_event(state: &State, out: &mut ZendHashTable, event: Event) {
    let request = match &event {
        Event::Open(open) if open.pending => {
            let request = convert::request(open);
            state
                .handshakes
                .borrow_mut()
                .pending(open.id, request.shallow_clone());
            Some(request)
        }
        Event::Close(close) if state.handshakes.borrow_mut().closed(close.id) => return,
        _ => None,
    };
    let _ = out.push(convert::event(&event, request));
}
