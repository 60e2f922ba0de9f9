//! `Switchboard\Worker::poll()`: events as arrays, for programs with an event
//! loop of their own (`stream_select` or Revolt on `eventFd()`), as
//! `Server::poll()` gives them. Timers fire here as under `run()`.

use std::time::Instant;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::ZendHashTable;
use switchboard::control::wire::ToWorker;
use switchboard::control::worker_event::to_event;
use switchboard::server::ConnId;

use crate::callback;
use crate::convert;
use crate::exception::error;
use crate::polling;
use crate::report::Flow;
use crate::signals;
use crate::timers;
use crate::worker_state::WorkerState;

pub fn poll(state: &WorkerState, timeout_ms: i64, max: i64) -> PhpResult<ZBox<ZendHashTable>> {
    if state.running.get() {
        return Err(error("poll() cannot be used while run() is running"));
    }
    let max = polling::max_events(max)?;
    let mut out = ZendHashTable::new();
    let deadline = polling::deadline(timeout_ms);
    let mut events = Vec::new();
    loop {
        let exit = timers::fire_due(&state.timers, &state.handlers, || Flow::Continue);
        if exit == Flow::Exit || callback::exception_pending() {
            return Ok(out);
        }
        // Handshakes accepted meanwhile: their opens come first.
        polling::push_accepted(&state.handshakes, &mut out, max);
        if !out.is_empty() || !state.is_attached() {
            return Ok(out);
        }
        let slice = timers::wait_slice(&state.timers, deadline);
        match state.with(|worker| worker.poll(&mut events, max, Some(slice))) {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                return Err(error(format!("the connection to the operator ended: {e}")))
            }
            None => return Ok(out),
        }
        if !events.is_empty() {
            break;
        }
        if signals::interrupt_pending() {
            // A pcntl handler ran; an exception it threw stays pending and is
            // thrown from poll() when it returns.
            signals::handle_interrupt();
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    for event in events {
        push_event(state, &mut out, event);
    }
    Ok(out)
}

fn push_event(state: &WorkerState, out: &mut ZendHashTable, event: ToWorker) {
    match event {
        ToWorker::Open(open) => {
            let id = ConnId::from_u64(open.id);
            let request = convert::worker_request(&open);
            let kind = if open.pending {
                state
                    .handshakes
                    .borrow_mut()
                    .pending(id, request.shallow_clone());
                "handshake"
            } else {
                "open"
            };
            let _ = out.push(convert::opened(kind, id, request));
        }
        ToWorker::Close { id, .. }
            if state.handshakes.borrow_mut().closed(ConnId::from_u64(id)) =>
        {
            // Refused: it never opened.
        }
        // After `stop()`: the last event. The connections move to another
        // worker once this one's connection is closed.
        ToWorker::Detached => state.close(),
        other => {
            if let Some(event) = to_event(other) {
                let _ = out.push(convert::event(&event, None));
            }
        }
    }
}
