//! A worker: a process that attaches to an operator's control socket and
//! handles the events of the connections the operator gives it. Its commands
//! are quiet (no replies) and go out in one write per batch of events.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::RawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::bridge::event::MessageKind;
use crate::control::address::{ControlAddress, Stream};
use crate::control::readiness::Readiness;
use crate::control::wire::{
    decode_to_worker, encode_request, encode_send, ErrorCode, Reply, Request, Role, ToWorker,
    WireError,
};

/// Why a worker cannot go on.
#[derive(Debug)]
pub enum WorkerError {
    /// Connecting, reading or writing failed.
    Io { context: String, source: io::Error },
    /// The operator refused the worker (wrong secret, no workers taken...).
    Refused(String),
    /// The operator sent something that is not the protocol.
    Protocol(WireError),
    /// The operator closed the connection.
    Closed,
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerError::Io { context, source } => write!(f, "{context}: {source}"),
            WorkerError::Refused(why) => write!(f, "the operator refused the worker: {why}"),
            WorkerError::Protocol(e) => write!(f, "{e}"),
            WorkerError::Closed => f.write_str("the operator closed the control connection"),
        }
    }
}

impl std::error::Error for WorkerError {}

/// The largest frame a worker accepts from the operator.
const MAX_FRAME: usize = (1 << 31) + (64 << 10);

/// A worker's connection to the operator.
pub struct Worker {
    stream: Stream,
    input: Vec<u8>,
    /// Quiet commands not yet written.
    commands: Vec<u8>,
    /// The operator sent `Detached`: nothing more will come.
    detached: bool,
    /// Events read and not yet handed out: beyond a `poll`'s `max`, or read
    /// while `ask` waited for its reply.
    ready: VecDeque<ToWorker>,
    /// The read timeout the socket has now (setting it is a system call).
    timeout: Option<Option<Duration>>,
    /// Created by the first `readiness_fd` call.
    readiness: Option<Readiness>,
}

impl Worker {
    /// Connects to the operator at `address` and attaches as a worker.
    pub fn connect(address: &ControlAddress, secret: Option<&str>) -> Result<Worker, WorkerError> {
        let io = |what: &str| {
            let context = format!("{what} {address}");
            move |source| WorkerError::Io { context, source }
        };
        let stream = match address {
            ControlAddress::Unix(path) => {
                Stream::Unix(UnixStream::connect(path).map_err(io("connecting to"))?)
            }
            ControlAddress::Tcp(addr) => {
                let s = TcpStream::connect(addr).map_err(io("connecting to"))?;
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }
        };
        let mut worker = Worker {
            stream,
            input: Vec::new(),
            commands: Vec::new(),
            detached: false,
            ready: VecDeque::new(),
            timeout: None,
            readiness: None,
        };
        let hello = Request::Hello {
            role: Role::Worker,
            secret: secret.unwrap_or("").into(),
        };
        encode_request(&hello, false, &mut worker.commands);
        worker.flush()?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while worker.ready.is_empty() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            if worker.read(Some(left))? {
                worker.decode()?;
            }
        }
        match worker.ready.pop_front() {
            Some(ToWorker::Reply(Reply::Ok { .. })) => Ok(worker),
            Some(ToWorker::Reply(Reply::Error { message, .. })) => {
                Err(WorkerError::Refused(message))
            }
            _ => Err(WorkerError::Refused("no answer to HELLO".into())),
        }
    }

    /// Writes the commands given since the last call, then waits up to
    /// `timeout` (None: as long as it takes) for events, appending up to
    /// `max` of them to `out` (the rest wait for the next call). Returns how
    /// many came; `ToWorker::Detached` is the last one after `detach`.
    pub fn poll(
        &mut self,
        out: &mut Vec<ToWorker>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<usize, WorkerError> {
        self.flush()?;
        if self.ready.is_empty() && !self.detached && self.read(timeout)? {
            self.decode()?;
        }
        let n = self.ready.len().min(max);
        out.extend(self.ready.drain(..n));
        self.update_readiness();
        Ok(n)
    }

    /// A descriptor readable while `poll` has work, for programs with an
    /// event loop of their own: events to hand out, or commands to write (so
    /// that a program which calls `poll` only when it is readable still sends
    /// its replies). Wait for it to be readable, then call `poll` with a zero
    /// timeout.
    pub fn readiness_fd(&mut self) -> Result<RawFd, WorkerError> {
        if self.readiness.is_none() {
            let readiness =
                Readiness::new(self.stream.as_raw_fd()).map_err(|source| WorkerError::Io {
                    context: "creating the worker's readiness descriptor".into(),
                    source,
                })?;
            self.readiness = Some(readiness);
            self.update_readiness();
        }
        Ok(self.readiness.as_ref().map_or(-1, Readiness::fd))
    }

    fn update_readiness(&mut self) {
        if let Some(readiness) = &mut self.readiness {
            readiness.set_pending(!self.ready.is_empty() || !self.commands.is_empty());
        }
    }

    /// Reads what the operator sent within `timeout` into `input`; false if
    /// nothing came in time.
    fn read(&mut self, timeout: Option<Duration>) -> Result<bool, WorkerError> {
        if timeout == Some(Duration::ZERO) && !self.readable_now() {
            return Ok(false); // a read timeout cannot be zero: it means "none"
        }
        self.set_timeout(timeout)?;
        let mut chunk = [0u8; 64 * 1024];
        let n = match self.stream.read(&mut chunk) {
            Ok(0) => return Err(WorkerError::Closed),
            Ok(n) => n,
            // A signal (the caller checks its stop flags) or no data in time.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(false)
            }
            Err(source) => {
                return Err(WorkerError::Io {
                    context: "reading from the operator".into(),
                    source,
                })
            }
        };
        self.input.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// Moves every complete frame read so far to `ready`.
    fn decode(&mut self) -> Result<(), WorkerError> {
        let mut at = 0;
        while let Some((frame, used)) =
            decode_to_worker(&self.input[at..], MAX_FRAME).map_err(WorkerError::Protocol)?
        {
            at += used;
            if let ToWorker::Reply(Reply::Error { code, message }) = &frame {
                if *code == ErrorCode::Unauthorized || *code == ErrorCode::BadFrame {
                    return Err(WorkerError::Refused(message.clone()));
                }
            }
            self.detached |= frame == ToWorker::Detached;
            self.ready.push_back(frame);
        }
        self.input.drain(..at);
        Ok(())
    }

    fn readable_now(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the call.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        // An error or a hang-up: let the read tell what it is.
        n != 0
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), WorkerError> {
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        if self.timeout == Some(timeout) {
            return Ok(());
        }
        let set = match &self.stream {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        };
        set.map_err(|source| WorkerError::Io {
            context: "setting a read timeout".into(),
            source,
        })?;
        self.timeout = Some(timeout);
        Ok(())
    }

    /// Writes the commands given so far (`poll` does it first).
    pub fn flush(&mut self) -> Result<(), WorkerError> {
        if self.commands.is_empty() {
            return Ok(());
        }
        self.stream
            .write_all(&self.commands)
            .map_err(|source| WorkerError::Io {
                context: "writing to the operator".into(),
                source,
            })?;
        self.commands.clear();
        self.update_readiness();
        Ok(())
    }

    /// Queues a command (quiet: the operator counts failures, see `STATS`).
    pub fn command(&mut self, request: &Request) {
        self.queue(|out| encode_request(request, true, out));
    }

    /// Queues a `SEND` (quiet), encoded straight from `data`. Unchecked:
    /// text must be UTF-8 (see `check`), or the operator refuses it.
    pub fn send(&mut self, id: u64, kind: MessageKind, data: &[u8]) {
        self.queue(|out| encode_send(id, kind, data, true, out));
    }

    /// Appends frames to the commands to write; the first makes the
    /// readiness descriptor readable, so the next `poll` writes them.
    fn queue(&mut self, encode: impl FnOnce(&mut Vec<u8>)) {
        let first = self.commands.is_empty();
        encode(&mut self.commands);
        if first {
            self.update_readiness();
        }
    }

    /// A command that wants its reply (`SendToUser`'s count, `Stats`...):
    /// writes it with the commands queued before it and reads up to its
    /// reply, one round trip. Events that come meanwhile wait, in order, for
    /// the next `poll`.
    pub fn ask(&mut self, request: &Request) -> Result<Reply, WorkerError> {
        encode_request(request, false, &mut self.commands);
        self.flush()?;
        // Replies come in the order of the questions, and every question
        // before this one was answered before its `ask` returned.
        let mut searched = 0;
        loop {
            let at = self
                .ready
                .iter()
                .skip(searched)
                .position(|f| matches!(f, ToWorker::Reply(_)));
            if let Some(at) = at {
                if let Some(ToWorker::Reply(reply)) = self.ready.remove(searched + at) {
                    self.update_readiness();
                    return Ok(reply);
                }
            }
            searched = self.ready.len();
            // The operator answers every command, also after `Detached`.
            if self.read(None)? {
                self.decode()?;
            }
        }
    }

    /// Asks for no more events: the operator answers with `Detached` after
    /// the last one, and gives this worker's connections to another once
    /// this worker has closed its connection (after handling what it got).
    pub fn detach(&mut self) {
        self.queue(|out| encode_request(&Request::Detach, false, out));
    }
}
