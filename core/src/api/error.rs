//! Errors of the server API: values with a clear message, never panics.

use std::{fmt, io};

use crate::bridge::id::ConnId;
use crate::transport::tls_config::TlsFileError;

/// Everything the server API can refuse.
#[derive(Debug)]
pub enum Error {
    /// A configuration value is out of range; names the option.
    Config {
        option: &'static str,
        message: String,
    },
    /// A socket or thread could not be set up.
    Io { context: String, source: io::Error },
    /// The connection is closed, or never existed.
    UnknownConnection(ConnId),
    /// `accept`/`reject` for a connection whose handshake is not waiting for the application.
    NotPending(ConnId),
    /// A text message must be valid UTF-8.
    InvalidUtf8,
    /// Close codes an application may send: 1000–1003, 1007–1009, 1011–1014, 3000–4999.
    InvalidCloseCode(u16),
    /// A close reason is at most 123 bytes.
    ReasonTooLong(usize),
    /// The chosen subprotocol was not offered by the client.
    SubprotocolNotOffered(String),
    /// A response header name or value is not allowed (empty name, CR, LF, or `:` in a name).
    InvalidHeader(String),
    /// An HTTP status for `reject` must be 400–599.
    InvalidStatus(u16),
    /// The server is shutting down or has shut down.
    ShutDown,
    /// Called from inside a handler, while its loop is busy on this thread.
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { option, message } => write!(f, "invalid option {option}: {message}"),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::UnknownConnection(id) => write!(f, "connection {id} is closed or unknown"),
            Error::NotPending(id) => {
                write!(f, "connection {id} has no handshake waiting for a decision")
            }
            Error::InvalidUtf8 => f.write_str("text messages must be valid UTF-8"),
            Error::InvalidCloseCode(code) => write!(
                f,
                "close code {code} is not allowed (use 1000-1003, 1007-1009, 1011-1014 or 3000-4999)"
            ),
            Error::ReasonTooLong(len) => {
                write!(f, "close reason is {len} bytes; at most 123 are allowed")
            }
            Error::SubprotocolNotOffered(p) => {
                write!(f, "subprotocol {p:?} was not offered by the client")
            }
            Error::InvalidHeader(h) => write!(f, "invalid response header {h:?}"),
            Error::InvalidStatus(s) => write!(f, "HTTP status {s} is not a refusal (use 400-599)"),
            Error::ShutDown => f.write_str("the server is shut down"),
            Error::Busy => f.write_str("called from inside a handler, whose loop is busy"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<TlsFileError> for Error {
    fn from(e: TlsFileError) -> Error {
        Error::Config {
            option: e.option,
            message: e.message,
        }
    }
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn config(option: &'static str, message: impl Into<String>) -> Error {
        Error::Config {
            option,
            message: message.into(),
        }
    }
}
