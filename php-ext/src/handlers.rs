//! The events a PHP handler can be set for, and the handlers set, shared by
//! `Switchboard\Server` and `Switchboard\Worker`.

use std::cell::RefCell;

use crate::callback::Callback;

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

/// One handler per event. Handlers may be replaced from inside a handler, so
/// callers get a clone and no borrow outlives a call.
#[derive(Default)]
pub struct Handlers(RefCell<[Option<Callback>; 5]>);

impl Handlers {
    pub fn get(&self, on: On) -> Option<Callback> {
        self.0.borrow()[on as usize].clone()
    }

    pub fn set(&self, on: On, callback: Option<Callback>) {
        // The old callback is released after the borrow ends: releasing it may
        // run a destructor, which is PHP code.
        let old = std::mem::replace(&mut self.0.borrow_mut()[on as usize], callback);
        drop(old);
    }
}
