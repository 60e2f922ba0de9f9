//! Everything one `Switchboard\Server` object holds. PHP code can call back into
//! the object from inside a handler, so every field is a `Cell`/`RefCell` and no
//! borrow is ever held while PHP code runs.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use switchboard::control::server::ControlServer;
use switchboard::server::{Accept, ConnId, Error, Event, Handle, Server};

use crate::callback::Callback;
use crate::handlers::Handlers;
use crate::handshake::Handshakes;
use crate::timers::Timers;

pub use crate::handlers::On;

/// What the PHP thread is doing with this server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Idle,
    Running,
    Polling,
}

pub struct State {
    pub handle: Handle,
    pub authorize: bool,
    /// `None` once stopped.
    server: RefCell<Option<Server>>,
    /// The control socket (`control` option), stopped before the server.
    control: RefCell<Option<ControlServer>>,
    pub handlers: Handlers,
    pub timers: RefCell<Timers>,
    pub handshakes: RefCell<Handshakes>,
    /// Events taken while stopping outside `run()`, for `poll()`.
    pub backlog: RefCell<VecDeque<Event>>,
    pub mode: Cell<Mode>,
    /// `stop()` was called while `run()` was active.
    pub stop_requested: Cell<bool>,
    /// The process that started the engine: a child made by `pcntl_fork()` has
    /// none of its threads, and must not wait for them.
    pid: u32,
}

impl State {
    pub fn new(server: Server, authorize: bool, control: Option<ControlServer>) -> State {
        State {
            handle: server.handle(),
            authorize,
            server: RefCell::new(Some(server)),
            control: RefCell::new(control),
            handlers: Handlers::default(),
            timers: RefCell::default(),
            handshakes: RefCell::default(),
            backlog: RefCell::default(),
            mode: Cell::new(Mode::Idle),
            stop_requested: Cell::new(false),
            pid: std::process::id(),
        }
    }

    pub fn handler(&self, on: On) -> Option<Callback> {
        self.handlers.get(on)
    }

    pub fn set_handler(&self, on: On, callback: Option<Callback>) {
        self.handlers.set(on, callback);
    }

    pub fn is_stopped(&self) -> bool {
        self.server.borrow().is_none()
    }

    /// Takes the engine out, to shut it down; the control socket stops first.
    pub fn take_server(&self) -> Option<Server> {
        let control = self.control.borrow_mut().take();
        drop(control);
        self.server.borrow_mut().take()
    }

    /// Accepts a pending handshake; its `open` event is delivered next.
    pub fn accept(&self, id: ConnId, accept: Accept) -> Result<(), Error> {
        self.handle.accept(id, accept)?;
        self.handshakes.borrow_mut().accepted(id);
        Ok(())
    }

    pub fn reject(&self, id: ConnId, status: u16, body: &str) -> Result<(), Error> {
        self.handle.reject(id, status, body)?;
        self.handshakes.borrow_mut().rejected(id);
        Ok(())
    }
}

impl Drop for State {
    /// The PHP object is freed (end of script, `unset()`): shut down gracefully,
    /// without calling PHP code.
    fn drop(&mut self) {
        if std::process::id() == self.pid {
            crate::run::shutdown(self, false);
        } else {
            // A forked child: the threads (and the control socket's file) are
            // the parent's.
            std::mem::forget(self.control.borrow_mut().take());
            std::mem::forget(self.server.borrow_mut().take());
        }
    }
}
