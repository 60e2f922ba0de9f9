//! Everything one `Switchboard\Server` object holds. PHP code can call back into
//! the object from inside a handler, so every field is a `Cell`/`RefCell` and no
//! borrow is ever held while PHP code runs.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use switchboard::control::server::ControlServer;
use switchboard::server::{Accept, ConnId, Error, Event, Handle, Server};

use crate::callback::Callback;
use crate::handshake::Handshakes;
use crate::timers::Timers;

/// The events a handler can be set for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum On {
    Open,
    Message,
    Close,
    Handshake,
    Error,
}

impl On {
    pub const NAMES: &'static str = "open, message, close, handshake, error";

    pub fn parse(name: &str) -> Option<On> {
        Some(match name {
            "open" => On::Open,
            "message" => On::Message,
            "close" => On::Close,
            "handshake" => On::Handshake,
            "error" => On::Error,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            On::Open => "open",
            On::Message => "message",
            On::Close => "close",
            On::Handshake => "handshake",
            On::Error => "error",
        }
    }
}

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
    handlers: RefCell<[Option<Callback>; 5]>,
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
            handlers: RefCell::default(),
            timers: RefCell::default(),
            handshakes: RefCell::default(),
            backlog: RefCell::default(),
            mode: Cell::new(Mode::Idle),
            stop_requested: Cell::new(false),
            pid: std::process::id(),
        }
    }

    pub fn handler(&self, on: On) -> Option<Callback> {
        self.handlers.borrow()[on as usize].clone()
    }

    pub fn set_handler(&self, on: On, callback: Option<Callback>) {
        // The old callback is released after the borrow ends: releasing it may
        // run a destructor, which is PHP code.
        let old = std::mem::replace(&mut self.handlers.borrow_mut()[on as usize], callback);
        drop(old);
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
