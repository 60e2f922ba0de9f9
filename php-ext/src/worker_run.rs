//! `Switchboard\Worker::run()`: takes the events the operator sends, calls the
//! handlers and fires timers; the commands the handlers queue go out in one
//! write before the next read. Stopping (`stop()`, SIGTERM, SIGINT) detaches
//! gracefully: the operator sends no new events, the ones already sent are
//! handled, and only then does the connection close, so that another worker
//! takes the connections over without losing or reordering a message.

use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::Zval;
use switchboard::control::wire::{ToWorker, WorkerOpen};
use switchboard::server::{ConnId, MessageKind};

use crate::callback::{self, Thrown};
use crate::convert::{self, boolean, bytes, long};
use crate::exception::error;
use crate::handlers::On;
use crate::handshake::{self, Decision};
use crate::report::{after_php, finish, report, report_message, Flow};
use crate::signals::{self, StopSignals};
use crate::timers;
use crate::worker_state::WorkerState;

/// The most events handled between two writes of the commands they made.
const BATCH: usize = 1024;

/// Marks `run()` active for the duration of the call.
struct Running<'a>(&'a WorkerState);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.set(false);
    }
}

pub fn run(state: &WorkerState) -> PhpResult<()> {
    if state.running.replace(true) {
        return Err(error(
            "run() is already running: handlers are called from it, so return from the handler instead",
        ));
    }
    let running = Running(state);
    if !state.is_attached() {
        return Err(error(
            "the worker is no longer attached to the operator; create a new Worker to serve again",
        ));
    }
    state.stop_requested.set(false);
    let signals = StopSignals::install();
    let outcome = serve(state);
    // Whatever the handlers queued goes out; closing hands the connections over.
    state.close();
    drop(signals);
    if callback::take_bailout() {
        drop(running);
        // SAFETY: a handler's fatal error was caught inside the loop; the loop is
        // done with and nothing of this call is left to release.
        unsafe { ext_php_rs::zend::bailout() };
    }
    outcome
        .map(drop)
        .map_err(|why| error(format!("the connection to the operator ended: {why}")))
}

/// The loop: until `Detached` after a stop, `exit()`, or a broken connection.
fn serve(state: &WorkerState) -> Result<Flow, String> {
    let mut detaching = false;
    let mut events = Vec::new();
    loop {
        if !detaching && (state.stop_requested.get() || StopSignals::received() != 0) {
            detaching = true;
            if !state.detach() {
                return Err("the connection is closed".into());
            }
        }
        if signals::interrupt_pending() {
            if !signals::handle_interrupt()
                || after_php(&state.handlers, "signal", None) == Flow::Exit
            {
                return Ok(Flow::Exit);
            }
            continue;
        }
        if timers::fire_due(&state.timers, &state.handlers, || open_accepted(state)) == Flow::Exit {
            return Ok(Flow::Exit);
        }
        let timeout = timers::wait_slice(&state.timers, None);
        match state.with(|worker| worker.poll(&mut events, BATCH, Some(timeout))) {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the connection is closed".into()),
        }
        let mut detached = false;
        for event in events.drain(..) {
            if event == ToWorker::Detached {
                detached = true;
            } else if dispatch(state, event) == Flow::Exit {
                // The process is ending: the rest is not handled.
                return Ok(Flow::Exit);
            }
        }
        // Nothing but replies follows `Detached`.
        if detached {
            return Ok(Flow::Continue);
        }
    }
}

fn php_id(id: u64) -> i64 {
    convert::id_to_php(ConnId::from_u64(id))
}

/// Passes one event to its handler.
fn dispatch(state: &WorkerState, event: ToWorker) -> Flow {
    let flow = match event {
        ToWorker::Open(open) if open.pending => authorize(state, &open),
        ToWorker::Open(open) => call(state, On::Open, open.id, || {
            [long(php_id(open.id)), convert::worker_request(&open)]
        }),
        ToWorker::Message { id, kind, data } => call(state, On::Message, id, || {
            [
                long(php_id(id)),
                bytes(&data),
                boolean(kind == MessageKind::Binary),
            ]
        }),
        ToWorker::Close {
            id,
            code,
            reason,
            clean,
        } => {
            if state.handshakes.borrow_mut().closed(ConnId::from_u64(id)) {
                return Flow::Continue; // refused: it never opened
            }
            call(state, On::Close, id, || {
                [
                    long(php_id(id)),
                    long(i64::from(code)),
                    bytes(reason.as_bytes()),
                    boolean(clean),
                ]
            })
        }
        // Quiet commands get no reply; `Detached` is handled by the loop.
        ToWorker::Reply(_) | ToWorker::Detached => Flow::Continue,
    };
    if flow == Flow::Exit {
        return flow;
    }
    open_accepted(state)
}

/// Calls the handler for `on`, if one is set, with the arguments `args` makes.
fn call<const N: usize>(
    state: &WorkerState,
    on: On,
    id: u64,
    args: impl FnOnce() -> [Zval; N],
) -> Flow {
    match state.handlers.get(on) {
        Some(handler) => {
            let result = handler.call(&mut args());
            finish(
                &state.handlers,
                result,
                on.name(),
                Some(ConnId::from_u64(id)),
            )
        }
        None => Flow::Continue,
    }
}

/// A handshake waiting for a decision (the operator's `--authorize`): asks the
/// `handshake` handler and sends its answer.
fn authorize(state: &WorkerState, open: &WorkerOpen) -> Flow {
    let id = ConnId::from_u64(open.id);
    let request = convert::worker_request(open);
    state
        .handshakes
        .borrow_mut()
        .pending(id, request.shallow_clone());
    let handlers = &state.handlers;
    let Some(handler) = handlers.get(On::Handshake) else {
        let _ = state.reject(id, 500, "");
        return report_message(
            handlers,
            "handshake",
            Some(id),
            "a handshake waits for a decision (the operator runs with --authorize), \
             but the worker has no handshake handler: call on('handshake', ...)",
        );
    };
    let decided = match handler.call(&mut [long(php_id(open.id)), request]) {
        Ok(value) => handshake::decision(&value),
        Err(Thrown::Exit) => return Flow::Exit,
        Err(Thrown::Exception(ex)) => {
            if report(handlers, "handshake", Some(id), ex) == Flow::Exit {
                return Flow::Exit;
            }
            Ok(Decision::Reject(500))
        }
    };
    let applied = match decided {
        Ok(Decision::Accept(accept)) => state.accept(id, accept).map_err(|e| e.to_string()),
        Ok(Decision::Reject(status)) => state.reject(id, status, "").map_err(|e| e.to_string()),
        Ok(Decision::Later) => Ok(true),
        Err(message) => Err(message),
    };
    match applied {
        Ok(_) => Flow::Continue,
        Err(message) => {
            let _ = state.reject(id, 500, "");
            report_message(handlers, "handshake", Some(id), &message)
        }
    }
}

/// Delivers the `open` events owed for accepted handshakes.
fn open_accepted(state: &WorkerState) -> Flow {
    loop {
        let next = state.handshakes.borrow_mut().take_accepted();
        let Some((id, request)) = next else {
            return Flow::Continue;
        };
        let flow = call(state, On::Open, id.as_u64(), || {
            [long(convert::id_to_php(id)), request]
        });
        if flow == Flow::Exit {
            return Flow::Exit;
        }
    }
}
