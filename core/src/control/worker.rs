//! A worker: a process that attaches to an operator's control socket and
//! handles the events of the connections the operator gives it. Its commands
//! are quiet (no replies) and go out in one write per batch of events.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::bridge::event::MessageKind;
use crate::control::address::{ControlAddress, Stream};
use crate::control::wire::{
    decode_to_worker, encode_request, ErrorCode, Reply, Request, Role, ToWorker, WireError,
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
    /// Events that came with the answer to HELLO, for the first `poll`.
    early: Vec<ToWorker>,
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
            early: Vec::new(),
        };
        let hello = Request::Hello {
            role: Role::Worker,
            secret: secret.unwrap_or("").into(),
        };
        encode_request(&hello, false, &mut worker.commands);
        worker.flush()?;
        let mut first = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while first.is_empty() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            worker.poll(&mut first, Some(left))?;
        }
        match first.first() {
            Some(ToWorker::Reply(Reply::Ok { .. })) => {
                first.remove(0);
                worker.early = first;
                Ok(worker)
            }
            Some(ToWorker::Reply(Reply::Error { message, .. })) => {
                Err(WorkerError::Refused(message.clone()))
            }
            _ => Err(WorkerError::Refused("no answer to HELLO".into())),
        }
    }

    /// Writes the commands given since the last call, then waits up to
    /// `timeout` (None: as long as it takes) for events, appending them to
    /// `out`. Returns how many came; `ToWorker::Detached` is the last one
    /// after `detach`.
    pub fn poll(
        &mut self,
        out: &mut Vec<ToWorker>,
        timeout: Option<Duration>,
    ) -> Result<usize, WorkerError> {
        self.flush()?;
        let before = out.len();
        out.append(&mut self.early);
        self.decode(out)?;
        if out.len() > before || self.detached {
            return Ok(out.len() - before);
        }
        if self.read(timeout)? {
            self.decode(out)?;
        }
        Ok(out.len() - before)
    }

    /// Reads what the operator sent within `timeout` into `input`; false if
    /// nothing came in time.
    fn read(&mut self, timeout: Option<Duration>) -> Result<bool, WorkerError> {
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

    fn decode(&mut self, out: &mut Vec<ToWorker>) -> Result<(), WorkerError> {
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
            out.push(frame);
        }
        self.input.drain(..at);
        Ok(())
    }

    fn set_timeout(&self, timeout: Option<Duration>) -> Result<(), WorkerError> {
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        let set = match &self.stream {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        };
        set.map_err(|source| WorkerError::Io {
            context: "setting a read timeout".into(),
            source,
        })
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
        Ok(())
    }

    /// Queues a command (quiet: the operator counts failures, see `STATS`).
    pub fn command(&mut self, request: &Request) {
        encode_request(request, true, &mut self.commands);
    }

    pub fn send(&mut self, id: u64, kind: MessageKind, data: &[u8]) {
        self.command(&Request::Send {
            id,
            kind,
            data: data.to_vec(),
        });
    }

    /// A command that wants its reply (`SendToUser`'s count, `Stats`...):
    /// writes it with the commands queued before it and reads up to its
    /// reply, one round trip. Events that came first are appended to
    /// `events`, in order, for the caller to handle before any later one.
    pub fn ask(
        &mut self,
        request: &Request,
        events: &mut Vec<ToWorker>,
    ) -> Result<Reply, WorkerError> {
        encode_request(request, false, &mut self.commands);
        self.flush()?;
        let mut got = std::mem::take(&mut self.early);
        loop {
            self.decode(&mut got)?;
            if let Some(at) = got.iter().position(|f| matches!(f, ToWorker::Reply(_))) {
                // What came after the reply goes to the next `poll`.
                self.early = got.split_off(at + 1);
                let reply = got.pop();
                events.append(&mut got);
                if let Some(ToWorker::Reply(reply)) = reply {
                    return Ok(reply);
                }
            }
            // The operator answers every command, also after `Detached`.
            self.read(None)?;
        }
    }

    /// Asks for no more events: the operator answers with `Detached` after
    /// the last one, and gives this worker's connections to another once
    /// this worker has closed its connection (after handling what it got).
    pub fn detach(&mut self) {
        encode_request(&Request::Detach, false, &mut self.commands);
    }
}
