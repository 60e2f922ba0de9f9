//! What can go wrong when a client talks to the control socket, as a value
//! whose message names the address and the cause.

use std::fmt;
use std::io;

use crate::control::wire::ErrorCode;

/// The kind of a [`ClientError`], for callers that map errors to codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientErrorKind {
    /// The address is not `unix:/path` or `tcp:HOST:PORT`.
    Address,
    /// Nothing listens there: connection refused, no such socket file, no
    /// permission, or the host cannot be resolved.
    Unreachable,
    /// Connecting, writing or waiting for a reply took longer than allowed.
    Timeout,
    /// The connection broke while a command was on its way or its reply was
    /// awaited: the command may or may not have been executed.
    Disconnected,
    /// The server refused the secret (or the protocol version).
    Unauthorized,
    /// The server executed nothing and answered an error (see [`ClientError::remote_code`]).
    Remote(ErrorCode),
    /// The server sent something that is not a valid reply.
    Protocol,
}

/// A failed call: the kind, the address and a sentence about the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    kind: ClientErrorKind,
    address: String,
    message: String,
}

impl ClientError {
    pub(crate) fn new(kind: ClientErrorKind, address: &str, message: impl Into<String>) -> Self {
        ClientError {
            kind,
            address: address.to_owned(),
            message: message.into(),
        }
    }

    /// An I/O error while connecting: unreachable, or a timeout.
    pub(crate) fn connect(address: &str, error: &io::Error) -> Self {
        if is_timeout(error) {
            return ClientError::new(ClientErrorKind::Timeout, address, "connect timed out");
        }
        let hint = match error.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                " (is the server running with this control address?)"
            }
            _ => "",
        };
        ClientError::new(
            ClientErrorKind::Unreachable,
            address,
            format!("cannot connect: {error}{hint}"),
        )
    }

    /// An I/O error on an open connection, while `doing` something.
    pub(crate) fn io(address: &str, doing: &str, error: &io::Error) -> Self {
        if is_timeout(error) {
            return ClientError::new(
                ClientErrorKind::Timeout,
                address,
                format!("timed out {doing}"),
            );
        }
        ClientError::new(
            ClientErrorKind::Disconnected,
            address,
            format!("connection lost {doing}: {error}"),
        )
    }

    pub fn kind(&self) -> ClientErrorKind {
        self.kind
    }

    /// The control address the client was talking to, as given.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The cause alone, without the address.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The server's error code, for [`ClientErrorKind::Remote`] and
    /// [`ClientErrorKind::Unauthorized`].
    pub fn remote_code(&self) -> Option<ErrorCode> {
        match self.kind {
            ClientErrorKind::Remote(code) => Some(code),
            ClientErrorKind::Unauthorized => Some(ErrorCode::Unauthorized),
            _ => None,
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "control socket {}: {}", self.address, self.message)
    }
}

impl std::error::Error for ClientError {}
