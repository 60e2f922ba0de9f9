//! Authorizing handshakes (the `authorize` option): connections waiting for the
//! application's decision, the `open` events owed for accepted ones, and what a
//! `handshake` handler's return value or `accept()`'s options mean.

use std::collections::{HashMap, VecDeque};

use ext_php_rs::types::{ZendHashTable, Zval};
use switchboard::server::{Accept, ConnId};

use crate::convert::type_name;

enum Waiting {
    /// No decision yet; the request is kept for the `open` handler.
    Pending(Zval),
    /// Refused; its `Close` event is not reported.
    Rejected,
}

/// Connections in their handshake phase, and accepted ones whose `open` event is
/// still to be delivered.
#[derive(Default)]
pub struct Handshakes {
    waiting: HashMap<ConnId, Waiting>,
    accepted: VecDeque<(ConnId, Zval)>,
}

impl Handshakes {
    pub fn pending(&mut self, id: ConnId, request: Zval) {
        self.waiting.insert(id, Waiting::Pending(request));
    }

    /// True while the connection waits for a decision.
    pub fn is_pending(&self, id: ConnId) -> bool {
        matches!(self.waiting.get(&id), Some(Waiting::Pending(_)))
    }

    /// The connection was accepted: its `open` event is now owed.
    pub fn accepted(&mut self, id: ConnId) {
        let request = match self.waiting.remove(&id) {
            Some(Waiting::Pending(request)) => request,
            _ => crate::convert::array(ZendHashTable::new()),
        };
        self.accepted.push_back((id, request));
    }

    pub fn rejected(&mut self, id: ConnId) {
        self.waiting.insert(id, Waiting::Rejected);
    }

    /// Forgets a closed connection; true if it never opened (so its close is not
    /// reported to the application).
    pub fn closed(&mut self, id: ConnId) -> bool {
        if self.waiting.is_empty() {
            return false;
        }
        self.waiting.remove(&id).is_some()
    }

    /// The next accepted connection whose `open` event is owed.
    pub fn take_accepted(&mut self) -> Option<(ConnId, Zval)> {
        self.accepted.pop_front()
    }
}

/// What a `handshake` handler decided.
pub enum Decision {
    Accept(Accept),
    Reject(u16),
    /// `null`: the handler called `accept()`/`reject()` itself, or will later.
    Later,
}

/// Reads a handler's return value: `true` or an options array accepts, `false`
/// rejects with 403, an int rejects with that HTTP status, `null` decides nothing.
pub fn decision(value: &Zval) -> Result<Decision, String> {
    if value.is_null() {
        return Ok(Decision::Later);
    }
    if let Some(accept) = value.bool() {
        return Ok(if accept {
            Decision::Accept(Accept::default())
        } else {
            Decision::Reject(403)
        });
    }
    if let Some(status) = value.long() {
        return refusal_status(status).map(Decision::Reject);
    }
    if let Some(options) = value.array() {
        return accept_options(Some(options)).map(Decision::Accept);
    }
    Err(format!(
        "a handshake handler must return true, false, an HTTP status, an options array or null, not {}",
        type_name(value)
    ))
}

/// An HTTP status given to refuse a handshake, as 16 bits (the engine checks
/// that it is 400-599).
pub fn refusal_status(status: i64) -> Result<u16, String> {
    u16::try_from(status)
        .map_err(|_| format!("HTTP status {status} is not a refusal (use 400-599)"))
}

/// `accept()`'s options: `user`, `subprotocol` (strings or null) and `headers`
/// (name => value).
pub fn accept_options(options: Option<&ZendHashTable>) -> Result<Accept, String> {
    let mut accept = Accept::default();
    for (key, value) in options.into_iter().flat_map(ZendHashTable::iter) {
        let key = key.to_string();
        let string = |what: &str, v: &Zval| {
            v.str()
                .map(str::to_string)
                .ok_or_else(|| format!("{what} must be a string, {} given", type_name(v)))
        };
        match key.as_str() {
            "user" | "subprotocol" if value.is_null() => {}
            "user" => accept.user = Some(string("accept option \"user\"", value)?),
            "subprotocol" => {
                accept.subprotocol = Some(string("accept option \"subprotocol\"", value)?);
            }
            "headers" => {
                let headers = value.array().ok_or_else(|| {
                    format!(
                        "accept option \"headers\" must be an array of name => value, {} given",
                        type_name(value)
                    )
                })?;
                for (name, v) in headers.iter() {
                    let v = string(&format!("response header \"{name}\""), v)?;
                    accept.headers.push((name.to_string(), v));
                }
            }
            _ => {
                return Err(format!(
                    "unknown accept option \"{key}\"; the options are: user, subprotocol, headers"
                ))
            }
        }
    }
    Ok(accept)
}
