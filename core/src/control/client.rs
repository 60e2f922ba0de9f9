//! The Rust client of the control socket (docs/control-protocol.md): a process
//! that is not the server (a PHP-FPM request, a cron job) has the server send,
//! publish, close... The C library's `sb_client_*` and PHP's
//! `Switchboard\Client` wrap it.
//!
//! One [`Client`] holds at most one connection, opened on first use and kept
//! for the next calls. Each call writes its command and reads its reply, so a
//! failure is reported by the call that caused it.
//!
//! **Reconnection.** Before a kept connection carries a command it is checked
//! without waiting: if the server closed it (restarted, say), the client opens
//! a new one. If writing the command then fails before its first byte left
//! (broken pipe, reset), the client reconnects once and writes it again. In
//! both cases nothing of the command reached the old connection, so it is
//! executed at most once. Any failure after a byte was written (a timeout, the
//! connection closed before the reply) is returned, and the connection is
//! dropped: the command may or may not have been executed, and the next call
//! opens a new connection.

mod connect;
mod error;
mod stream;
#[cfg(test)]
mod tests;

use std::io::{self, Read, Write};
use std::time::Duration;

pub use error::{ClientError, ClientErrorKind};
use stream::Stream;

use crate::bridge::event::MessageKind;
use crate::control::address::ControlAddress;
use crate::control::wire::{self, ConnFacts, ErrorCode, Reply, Request, Role};

/// The longest reply accepted (a user's ids and the counters are far smaller).
const MAX_REPLY: usize = 64 << 20;

/// How a [`Client`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Sent in the first frame; the server requires one on TCP (`--control-secret`).
    pub secret: Option<String>,
    /// How long connecting may take. Default 1 s.
    pub connect_timeout: Duration,
    /// How long one write, or the wait for a reply, may take. Default 5 s.
    pub io_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            secret: None,
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(5),
        }
    }
}

/// A client of one control socket. Not shared between threads at once (its
/// methods take `&mut self`); it may move between threads.
pub struct Client {
    text: String,
    address: ControlAddress,
    options: ClientOptions,
    conn: Option<Stream>,
    /// Bytes read and not yet decoded.
    input: Vec<u8>,
}

impl Client {
    /// A client of `address` (`unix:/path` or `tcp:HOST:PORT`). Nothing is
    /// connected yet: the first call connects.
    pub fn new(address: &str, options: ClientOptions) -> Result<Client, ClientError> {
        let parsed = ControlAddress::parse(address)
            .map_err(|message| ClientError::new(ClientErrorKind::Address, address, message))?;
        Ok(Client {
            text: address.to_owned(),
            address: parsed,
            options,
            conn: None,
            input: Vec::new(),
        })
    }

    /// The address as given to [`Client::new`].
    pub fn address(&self) -> &str {
        &self.text
    }

    /// Whether a connection is open (it may still turn out to be closed by
    /// the server; the next call then reconnects).
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Changes the timeouts, for the next connect and for the open connection.
    pub fn set_timeouts(&mut self, connect: Duration, io: Duration) {
        self.options.connect_timeout = connect;
        self.options.io_timeout = io;
        if let Some(conn) = &self.conn {
            if conn.set_timeouts(io).is_err() {
                self.disconnect();
            }
        }
    }

    /// Closes the connection, if any; the next call opens a new one.
    pub fn disconnect(&mut self) {
        self.conn = None;
        self.input.clear();
    }

    /// Sends one message to a connection.
    pub fn send(&mut self, id: u64, kind: MessageKind, data: &[u8]) -> Result<(), ClientError> {
        let data = data.to_vec();
        self.ok(&Request::Send { id, kind, data }).map(drop)
    }

    /// Sends to every subscriber of `topic`, except `except`.
    pub fn publish(
        &mut self,
        topic: &str,
        kind: MessageKind,
        data: &[u8],
        except: Option<u64>,
    ) -> Result<(), ClientError> {
        self.ok(&Request::Publish {
            topic: topic.to_owned(),
            kind,
            data: data.to_vec(),
            except: except.unwrap_or(0),
        })
        .map(drop)
    }

    /// Sends to every connection bound to `user`; returns how many.
    pub fn send_to_user(
        &mut self,
        user: &str,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<u64, ClientError> {
        self.ok(&Request::SendToUser {
            user: user.to_owned(),
            kind,
            data: data.to_vec(),
        })
    }

    /// Sends to every open connection, except `except`.
    pub fn broadcast(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        except: Option<u64>,
    ) -> Result<(), ClientError> {
        self.ok(&Request::Broadcast {
            kind,
            data: data.to_vec(),
            except: except.unwrap_or(0),
        })
        .map(drop)
    }

    /// Starts the close handshake of a connection.
    pub fn close(&mut self, id: u64, code: u16, reason: &str) -> Result<(), ClientError> {
        let reason = reason.to_owned();
        self.ok(&Request::Close { id, code, reason }).map(drop)
    }

    pub fn subscribe(&mut self, id: u64, topic: &str) -> Result<(), ClientError> {
        let topic = topic.to_owned();
        self.ok(&Request::Subscribe { id, topic }).map(drop)
    }

    pub fn unsubscribe(&mut self, id: u64, topic: &str) -> Result<(), ClientError> {
        let topic = topic.to_owned();
        self.ok(&Request::Unsubscribe { id, topic }).map(drop)
    }

    pub fn bind_user(&mut self, id: u64, user: &str) -> Result<(), ClientError> {
        let user = user.to_owned();
        self.ok(&Request::BindUser { id, user }).map(drop)
    }

    pub fn unbind_user(&mut self, id: u64) -> Result<(), ClientError> {
        self.ok(&Request::UnbindUser { id }).map(drop)
    }

    /// The ids of the user's open connections.
    pub fn user_connections(&mut self, user: &str) -> Result<Vec<u64>, ClientError> {
        let user = user.to_owned();
        match self.request(&Request::UserConnections { user })? {
            Reply::Ids(ids) => Ok(ids),
            other => Err(self.unexpected(&other)),
        }
    }

    /// The server's counters by name, in the server's order.
    pub fn stats(&mut self) -> Result<Vec<(String, u64)>, ClientError> {
        match self.request(&Request::Stats)? {
            Reply::Stats(stats) => Ok(stats),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Facts about an open connection; an error of kind
    /// `Remote(ErrorCode::UnknownConnection)` when it is closed or unknown.
    pub fn info(&mut self, id: u64) -> Result<ConnFacts, ClientError> {
        match self.request(&Request::Info { id })? {
            Reply::Info(facts) => Ok(*facts),
            other => Err(self.unexpected(&other)),
        }
    }

    /// One command and its reply; an `ERROR` reply is returned as an error.
    pub fn request(&mut self, request: &Request) -> Result<Reply, ClientError> {
        let mut replies = self.batch(std::slice::from_ref(request))?;
        match replies.pop() {
            Some(Reply::Error { code, message }) => Err(self.remote(code, &message)),
            Some(reply) => Ok(reply),
            None => Err(self.protocol("no reply".into())),
        }
    }

    /// Several commands written at once, then their replies, in order: one
    /// round trip. An `ERROR` reply stays in the list (the commands after it
    /// were executed too); `Err` is a failure of the connection itself.
    pub fn batch(&mut self, requests: &[Request]) -> Result<Vec<Reply>, ClientError> {
        let mut frames = Vec::new();
        for request in requests {
            if matches!(request, Request::Hello { .. }) {
                let message = "HELLO is sent by the client itself, once per connection";
                return Err(self.protocol(message.into()));
            }
            wire::encode_request(request, false, &mut frames);
        }
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let replies = self.exchange(&frames, requests.len())?;
        // After these errors the server closes the connection.
        let closing = replies.iter().any(|r| {
            matches!(
                r,
                Reply::Error {
                    code: ErrorCode::BadFrame | ErrorCode::Unauthorized | ErrorCode::Busy,
                    ..
                }
            )
        });
        if closing {
            self.disconnect();
        }
        Ok(replies)
    }

    /// A command whose reply must be `OK`; its count.
    fn ok(&mut self, request: &Request) -> Result<u64, ClientError> {
        match self.request(request)? {
            Reply::Ok { count } => Ok(count),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Writes `frames` and reads `count` replies, reconnecting as the module
    /// documentation says. Any error drops the connection.
    fn exchange(&mut self, frames: &[u8], count: usize) -> Result<Vec<Reply>, ClientError> {
        let result = self.try_exchange(frames, count);
        if result.is_err() {
            self.disconnect();
        }
        result
    }

    fn try_exchange(&mut self, frames: &[u8], count: usize) -> Result<Vec<Reply>, ClientError> {
        let reused = match &self.conn {
            Some(conn) if conn.is_reusable() => true,
            _ => {
                self.open()?;
                false
            }
        };
        match self.write(frames) {
            Ok(()) => {}
            Err((0, e)) if reused && is_gone(&e) => {
                // Not a byte of the command left: safe to send it again, once.
                self.open()?;
                self.write(frames)
                    .map_err(|(_, e)| ClientError::io(&self.text, "sending a command", &e))?;
            }
            Err((_, e)) => return Err(ClientError::io(&self.text, "sending a command", &e)),
        }
        let mut replies = Vec::with_capacity(count);
        for _ in 0..count {
            replies.push(self.read_reply()?);
        }
        if !self.input.is_empty() {
            // More than was asked for: the stream cannot be trusted any longer.
            self.disconnect();
        }
        Ok(replies)
    }

    /// Connects and says HELLO (with the secret); the server must answer `OK`.
    fn open(&mut self) -> Result<(), ClientError> {
        self.disconnect();
        let conn = connect::connect(&self.address, self.options.connect_timeout)
            .map_err(|e| ClientError::connect(&self.text, &e))?;
        conn.set_timeouts(self.options.io_timeout)
            .map_err(|e| ClientError::connect(&self.text, &e))?;
        self.conn = Some(conn);
        let mut hello = Vec::new();
        let secret = self.options.secret.clone().unwrap_or_default();
        let role = Role::Client;
        wire::encode_request(&Request::Hello { role, secret }, false, &mut hello);
        let result = self
            .write(&hello)
            .map_err(|(_, e)| ClientError::io(&self.text, "saying hello", &e))
            .and_then(|()| self.read_reply());
        let failure = match result {
            Ok(Reply::Ok { .. }) => return Ok(()),
            Ok(Reply::Error { code, message }) => self.remote(code, &message),
            Ok(other) => self.unexpected(&other),
            Err(e) => e,
        };
        self.disconnect();
        Err(failure)
    }

    /// Writes all of `bytes`; on failure, how many had been written.
    fn write(&mut self, bytes: &[u8]) -> Result<(), (usize, io::Error)> {
        let not_open = || io::Error::from(io::ErrorKind::NotConnected);
        let conn = self.conn.as_mut().ok_or_else(|| (0, not_open()))?;
        let mut written = 0;
        while written < bytes.len() {
            match conn.write(&bytes[written..]) {
                Ok(0) => return Err((written, io::Error::from(io::ErrorKind::WriteZero))),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((written, e)),
            }
        }
        Ok(())
    }

    /// Reads until one whole reply is decoded.
    fn read_reply(&mut self) -> Result<Reply, ClientError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match wire::decode_reply(&self.input, MAX_REPLY) {
                Ok(Some((reply, used))) => {
                    self.input.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(self.protocol(e.to_string())),
            }
            let conn = self.conn.as_mut().ok_or_else(|| {
                ClientError::new(ClientErrorKind::Disconnected, &self.text, "not connected")
            })?;
            match conn.read(&mut chunk) {
                Ok(0) => {
                    let message = if self.input.is_empty() {
                        "the server closed the connection before replying"
                    } else {
                        "the server closed the connection in the middle of a reply"
                    };
                    return Err(ClientError::new(
                        ClientErrorKind::Disconnected,
                        &self.text,
                        message,
                    ));
                }
                Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ClientError::io(&self.text, "waiting for a reply", &e)),
            }
        }
    }

    fn remote(&self, code: ErrorCode, message: &str) -> ClientError {
        let (kind, what) = match code {
            ErrorCode::Unauthorized => (
                ClientErrorKind::Unauthorized,
                "unauthorized (wrong secret?)",
            ),
            ErrorCode::BadFrame => (ClientErrorKind::Remote(code), "refused a malformed frame"),
            ErrorCode::UnknownConnection => (ClientErrorKind::Remote(code), "unknown connection"),
            ErrorCode::Invalid => (ClientErrorKind::Remote(code), "invalid"),
            ErrorCode::ShutDown => (ClientErrorKind::Remote(code), "the server is shutting down"),
            ErrorCode::Busy => (
                ClientErrorKind::Remote(code),
                "busy (the server serves no more control connections)",
            ),
        };
        let message = if message.is_empty() {
            what.to_owned()
        } else {
            format!("{what}: {message}")
        };
        ClientError::new(kind, &self.text, message)
    }

    fn protocol(&self, message: String) -> ClientError {
        ClientError::new(ClientErrorKind::Protocol, &self.text, message)
    }

    /// A reply of the wrong type: the stream is out of step, so it is dropped.
    fn unexpected(&mut self, reply: &Reply) -> ClientError {
        self.disconnect();
        let name = match reply {
            Reply::Ok { .. } => "OK",
            Reply::Ids(_) => "IDS",
            Reply::Stats(_) => "STATS",
            Reply::Info(_) => "INFO",
            Reply::Error { .. } => "ERROR",
        };
        self.protocol(format!("unexpected {name} reply"))
    }
}

/// The peer's end of a connection is gone (as opposed to a timeout).
fn is_gone(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
    )
}
