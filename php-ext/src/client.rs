//! `Switchboard\Client`: has a server (in-process with the `control` option, or
//! the `switchboard` program with `--control`) send and publish from any PHP
//! process, a PHP-FPM request among them. Connections are pooled per process
//! (`pool.rs`), so an FPM worker keeps one connection across its requests.

use std::time::Duration;

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use switchboard::control::client::{ClientError, ClientErrorKind, ClientOptions};
use switchboard::control::wire::ErrorCode;
use switchboard::server::MessageKind;

use crate::convert::type_name;
use crate::exception::error;
use crate::pool::{self, Key};

/// A client of a Switchboard server's control socket. Each call sends one
/// command and waits for the server's answer; the connection is opened on first
/// use and kept by the process for later requests (persistent, like pconnect).
///
/// Methods that address a connection return false when it is closed or
/// unknown; every other failure (server unreachable, timeout, wrong secret,
/// invalid argument) throws `\Switchboard\Exception` naming the address.
#[php_class]
#[php(name = "Switchboard\\Client")]
pub struct Client {
    key: Key,
    connect_timeout: Duration,
    io_timeout: Duration,
}

fn kind(binary: bool) -> MessageKind {
    if binary {
        MessageKind::Binary
    } else {
        MessageKind::Text
    }
}

/// 0 means nobody, as in `Server::broadcast`.
fn except(id: i64) -> Option<u64> {
    (id != 0).then_some(id as u64)
}

fn thrown(e: ClientError) -> PhpException {
    error(e.to_string())
}

/// True when done, false when the connection is closed or unknown.
fn done(result: Result<(), ClientError>) -> PhpResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ClientErrorKind::Remote(ErrorCode::UnknownConnection) => Ok(false),
        Err(e) => Err(thrown(e)),
    }
}

/// `timeout`: seconds, int or float, more than 0 and at most an hour.
fn timeout(value: &Zval) -> Result<Duration, String> {
    let seconds = value
        .double()
        .or_else(|| value.long().map(|n| n as f64))
        .ok_or_else(|| {
            format!(
                "option \"timeout\": expected seconds as an int or float, got {}",
                type_name(value)
            )
        })?;
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!(
            "option \"timeout\": {seconds} is not a number of seconds from 0.001 to 3600"
        ));
    }
    Ok(Duration::from_secs_f64(seconds).max(Duration::from_millis(1)))
}

#[php_impl]
impl Client {
    /// A client of the control socket at `$address` (`"unix:/path/to.sock"` or
    /// `"tcp:HOST:PORT"`). Options: `secret` (string, required by a TCP control
    /// socket), `timeout` (seconds: for connecting, each write and each reply;
    /// default 1 to connect and 5 for the rest). Nothing is connected until the
    /// first call.
    ///
    /// @throws \Switchboard\Exception for an address of another form, an unknown
    /// option or a wrong value.
    pub fn __construct(address: &str, options: Option<&ZendHashTable>) -> PhpResult<Self> {
        let defaults = ClientOptions::default();
        let mut client = Client {
            key: Key {
                address: address.to_owned(),
                secret: None,
            },
            connect_timeout: defaults.connect_timeout,
            io_timeout: defaults.io_timeout,
        };
        for (name, value) in options.into_iter().flat_map(|o| o.iter()) {
            match name.to_string().as_str() {
                "secret" if value.is_null() => client.key.secret = None,
                "secret" => {
                    let secret = value.str().ok_or_else(|| {
                        error(format!(
                            "option \"secret\": expected a string, got {}",
                            type_name(value)
                        ))
                    })?;
                    client.key.secret = Some(secret.to_owned());
                }
                "timeout" => {
                    let t = timeout(value).map_err(error)?;
                    client.connect_timeout = t;
                    client.io_timeout = t;
                }
                other => {
                    return Err(error(format!(
                        "unknown option \"{other}\"; the options are: secret, timeout"
                    )))
                }
            }
        }
        pool::check(&client.key).map_err(thrown)?;
        Ok(client)
    }

    /// The control socket's address, as given.
    pub fn address(&self) -> String {
        self.key.address.clone()
    }

    /// Closes this process's pooled connection to the address (the next call
    /// opens a new one).
    pub fn disconnect(&self) {
        pool::forget(&self.key);
    }

    /// Has the server send a text (valid UTF-8) or binary message. False if the
    /// connection is closed or unknown.
    #[php(defaults(binary = false))]
    pub fn send(&self, id: i64, data: BinarySlice<u8>, binary: bool) -> PhpResult<bool> {
        done(self.with(|c| c.send(id as u64, kind(binary), &data)))
    }

    /// Has the server start the close handshake (codes 1000-1003, 1007-1009,
    /// 1011-1014, 3000-4999; a reason of at most 123 bytes).
    #[php(defaults(code = 1000, reason = "\"\""))]
    pub fn close(&self, id: i64, code: i64, reason: &str) -> PhpResult<bool> {
        let code =
            u16::try_from(code).map_err(|_| error(format!("close code {code} is not allowed")))?;
        done(self.with(|c| c.close(id as u64, code, reason)))
    }

    /// Has the server send to every open connection, except `$except` (0: none).
    #[php(defaults(binary = false, except = 0))]
    pub fn broadcast(&self, data: BinarySlice<u8>, binary: bool, except: i64) -> PhpResult<bool> {
        done(self.with(|c| c.broadcast(kind(binary), &data, self::except(except))))
    }

    /// Has the server add the connection to a topic.
    pub fn subscribe(&self, id: i64, topic: &str) -> PhpResult<bool> {
        done(self.with(|c| c.subscribe(id as u64, topic)))
    }

    /// Has the server remove the connection from a topic.
    pub fn unsubscribe(&self, id: i64, topic: &str) -> PhpResult<bool> {
        done(self.with(|c| c.unsubscribe(id as u64, topic)))
    }

    /// Has the server send to every subscriber of a topic, except `$except` (0: none).
    #[php(defaults(binary = false, except = 0))]
    pub fn publish(
        &self,
        topic: &str,
        data: BinarySlice<u8>,
        binary: bool,
        except: i64,
    ) -> PhpResult<bool> {
        done(self.with(|c| c.publish(topic, kind(binary), &data, self::except(except))))
    }

    /// Has the server bind the connection to a user id.
    pub fn bind_user(&self, id: i64, user: &str) -> PhpResult<bool> {
        done(self.with(|c| c.bind_user(id as u64, user)))
    }

    /// Has the server remove the connection's user binding.
    pub fn unbind_user(&self, id: i64) -> PhpResult<bool> {
        done(self.with(|c| c.unbind_user(id as u64)))
    }

    /// Has the server send to every connection bound to the user; returns how many.
    #[php(defaults(binary = false))]
    pub fn send_to_user(&self, user: &str, data: BinarySlice<u8>, binary: bool) -> PhpResult<i64> {
        let n = self
            .with(|c| c.send_to_user(user, kind(binary), &data))
            .map_err(thrown)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// The ids of the user's open connections.
    pub fn user_connections(&self, user: &str) -> PhpResult<Vec<i64>> {
        let ids = self.with(|c| c.user_connections(user)).map_err(thrown)?;
        Ok(ids.into_iter().map(|id| id as i64).collect())
    }

    /// The server's counters by name (`connections`, `accepted`, ...,
    /// `closed_by_peer`, ...), as the server reports them.
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let stats = self.with(|c| c.stats()).map_err(thrown)?;
        let mut ht = ZendHashTable::new();
        for (name, value) in stats {
            let _ = ht.insert(name.as_str(), i64::try_from(value).unwrap_or(i64::MAX));
        }
        Ok(ht)
    }
}

impl Client {
    /// Runs one call on this process's pooled connection to the address.
    fn with<T>(
        &self,
        call: impl FnOnce(&mut switchboard::control::client::Client) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        pool::with(&self.key, self.connect_timeout, self.io_timeout, call)
    }
}
