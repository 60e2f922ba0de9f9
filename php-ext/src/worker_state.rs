//! Everything one `Switchboard\Worker` object holds. As for `Server`, PHP code
//! calls back into the object from its handlers, so every field is a
//! `Cell`/`RefCell` and no borrow is held while PHP code runs.

use std::cell::{Cell, RefCell};

use switchboard::control::check::{check, check_message};
use switchboard::control::wire::{Reply, Request};
use switchboard::control::worker::{Worker, WorkerError};
use switchboard::server::{Accept, ConnId, Error, MessageKind};

use crate::handlers::Handlers;
use crate::handshake::Handshakes;
use crate::timers::Timers;

pub struct WorkerState {
    /// The connection to the operator; `None` once closed.
    conn: RefCell<Option<Worker>>,
    pub handlers: Handlers,
    pub timers: RefCell<Timers>,
    pub handshakes: RefCell<Handshakes>,
    pub running: Cell<bool>,
    /// `stop()` was called while `run()` was active.
    pub stop_requested: Cell<bool>,
}

impl WorkerState {
    pub fn new(worker: Worker) -> WorkerState {
        WorkerState {
            conn: RefCell::new(Some(worker)),
            handlers: Handlers::default(),
            timers: RefCell::default(),
            handshakes: RefCell::default(),
            running: Cell::new(false),
            stop_requested: Cell::new(false),
        }
    }

    pub fn is_attached(&self) -> bool {
        self.conn.borrow().is_some()
    }

    /// Runs `f` on the connection, if still open; an error closes it.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Worker) -> Result<T, WorkerError>,
    ) -> Option<Result<T, WorkerError>> {
        let mut conn = self.conn.borrow_mut();
        let result = f(conn.as_mut()?);
        if result.is_err() {
            *conn = None;
        }
        Some(result)
    }

    /// Writes what is queued and closes the connection: the operator hands
    /// this worker's connections to another.
    pub fn close(&self) {
        let conn = self.conn.borrow_mut().take();
        if let Some(mut worker) = conn {
            let _ = worker.flush();
        }
    }

    /// Queues a quiet command after checking it: `Ok(false)` once detached.
    pub fn command(&self, request: Request) -> Result<bool, Error> {
        check(&request)?;
        Ok(self.queue(|worker| worker.command(&request)))
    }

    /// Queues a message after checking it (no copy but into the batch).
    pub fn send(&self, id: u64, kind: MessageKind, data: &[u8]) -> Result<bool, Error> {
        check_message(kind, data)?;
        Ok(self.queue(|worker| worker.send(id, kind, data)))
    }

    /// Runs `queue` on the connection; false once detached.
    fn queue(&self, queue: impl FnOnce(&mut Worker)) -> bool {
        self.conn.borrow_mut().as_mut().map(queue).is_some()
    }

    /// A command with a reply: one round trip. Events read meanwhile wait in
    /// the connection for the next poll; `None` once detached (or when the
    /// connection broke).
    pub fn ask(&self, request: Request) -> Result<Option<Reply>, Error> {
        check(&request)?;
        let reply = self.with(|worker| worker.ask(&request));
        Ok(reply.and_then(Result::ok))
    }

    /// Asks the operator for no more events (`Detached` marks the last);
    /// false if the connection broke or was closed.
    pub fn detach(&self) -> bool {
        let sent = self.with(|worker| {
            worker.detach();
            worker.flush()
        });
        matches!(sent, Some(Ok(())))
    }

    /// Accepts a pending handshake; its `open` handler runs next.
    pub fn accept(&self, id: ConnId, accept: Accept) -> Result<bool, Error> {
        if !self.handshakes.borrow().is_pending(id) {
            return Ok(false);
        }
        let queued = self.command(Request::Accept {
            id: id.as_u64(),
            subprotocol: accept.subprotocol,
            headers: accept.headers,
            user: accept.user,
        })?;
        if queued {
            self.handshakes.borrow_mut().accepted(id);
        }
        Ok(queued)
    }

    /// Refuses a pending handshake; its close is not reported.
    pub fn reject(&self, id: ConnId, status: u16, body: &str) -> Result<bool, Error> {
        if !self.handshakes.borrow().is_pending(id) {
            return Ok(false);
        }
        let queued = self.command(Request::Reject {
            id: id.as_u64(),
            status,
            body: body.into(),
        })?;
        if queued {
            self.handshakes.borrow_mut().rejected(id);
        }
        Ok(queued)
    }
}
