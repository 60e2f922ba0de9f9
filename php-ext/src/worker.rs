//! `Switchboard\Worker`: handlers in a process of its own, attached to the
//! control socket of the `switchboard` operator, which holds the connections.
//! The handler API is `Switchboard\Server`'s; commands are queued and written
//! in one write per batch of events.

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use switchboard::control::address::ControlAddress;
use switchboard::control::wire::{ErrorCode, Reply, Request};
use switchboard::control::worker::Worker as Connection;
use switchboard::server::Error;

use crate::callback::Callback;
use crate::construct::constructed_already;
use crate::convert::{self, id_from_php, type_name};
use crate::exception::error;
use crate::handlers::On;
use crate::handshake::{accept_options, refusal_status};
use crate::server::kind;
use crate::timers;
use crate::worker_poll;
use crate::worker_run;
use crate::worker_state::WorkerState;

/// A worker: attaches to the operator's control socket (`unix:/path` or
/// `tcp:HOST:PORT`) and handles the events of the connections the operator
/// gives it, with the handlers of `Switchboard\Server`.
///
/// Commands (`send`, `publish`...) are queued and written before the next
/// read; they return true once queued and false once the worker is no longer
/// attached (after `run()` returned). The operator carries them out in order,
/// skipping those for connections that have gone meanwhile. Invalid arguments
/// throw `\Switchboard\Exception`.
#[php_class]
#[php(name = "Switchboard\\Worker")]
pub struct Worker {
    state: WorkerState,
}

/// A PHP connection id as the protocol's (the same 64 bits; 0: nobody).
fn wire_id(id: i64) -> u64 {
    id_from_php(id).as_u64()
}

fn done(result: Result<bool, Error>) -> PhpResult<bool> {
    result.map_err(|e| error(e.to_string()))
}

/// The `secret` option (the operator's `--control-secret`); no other.
fn secret(options: Option<&ZendHashTable>) -> PhpResult<Option<String>> {
    let mut secret = None;
    for (key, value) in options.into_iter().flat_map(ZendHashTable::iter) {
        match key.to_string().as_str() {
            "secret" if value.is_null() => {}
            "secret" => {
                let text = value.str().ok_or_else(|| {
                    error(format!(
                        "option \"secret\" must be a string, {} given",
                        type_name(value)
                    ))
                })?;
                secret = Some(text.to_string());
            }
            other => {
                return Err(error(format!(
                    "unknown option \"{other}\"; the options are: secret"
                )))
            }
        }
    }
    Ok(secret)
}

#[php_impl]
impl Worker {
    /// Connects to the operator and attaches; its events start to arrive in `run()` or `poll()`.
    ///
    /// @throws \Switchboard\Exception for a malformed address, an unknown option,
    /// an operator that cannot be reached, or one that refuses (wrong secret).
    pub fn __construct(address: &str, options: Option<&ZendHashTable>) -> PhpResult<Self> {
        if constructed_already::<Worker>() {
            return Err(error("the worker is already constructed"));
        }
        let secret = secret(options)?;
        let address = ControlAddress::parse(address).map_err(|e| error(format!("address: {e}")))?;
        let connection = Connection::connect(&address, secret.as_deref())
            .map_err(|e| error(format!("cannot attach to the operator: {e}")))?;
        Ok(Worker {
            state: WorkerState::new(connection),
        })
    }

    /// Sets the handler for an event, replacing any earlier one:
    /// `open(int $id, array $request)` (the request as in `Server`, plus `resumed`,
    /// `user` and `topics` for a connection taken over from a worker that left),
    /// `message(int $id, string $data, bool $binary)`,
    /// `close(int $id, int $code, string $reason, bool $clean)`,
    /// `handshake(int $id, array $request): bool|int|array|null` (when the operator
    /// runs with `--authorize`), `error(\Throwable $e, string $event, ?int $id)`.
    pub fn on(&self, event: &str, handler: Callback) -> PhpResult<()> {
        let on = On::parse(event).ok_or_else(|| {
            error(format!(
                "unknown event \"{event}\"; the events are: {}",
                On::NAMES
            ))
        })?;
        self.state.handlers.set(on, Some(handler));
        Ok(())
    }

    /// Serves: calls the handlers and timers until `stop()` is called or
    /// SIGINT/SIGTERM arrive (unless the script handles them itself), then
    /// detaches gracefully: the events already sent are handled, the commands
    /// written, and the connection closed; the operator then gives the
    /// connections to the other workers, losing no message.
    ///
    /// @throws \Switchboard\Exception when the connection to the operator breaks.
    pub fn run(&self) -> PhpResult<()> {
        worker_run::run(&self.state)
    }

    /// Detaches gracefully: the operator sends no new events and, once this
    /// worker has handled the ones it was sent, gives its connections to the
    /// other workers, losing no message. Inside `run()`, `run()` returns once
    /// done. Outside it (a `poll()` loop), keep calling `poll()` and handling
    /// its events until `attached()` is false; the connection also closes when
    /// the object is destroyed (the events not yet handled are then lost).
    pub fn stop(&self) {
        if self.state.running.get() {
            self.state.stop_requested.set(true);
        } else if !self.state.detach() {
            self.state.close();
        }
    }

    /// True while attached to the operator: until the last event after
    /// `stop()` was taken, or the connection broke.
    pub fn attached(&self) -> bool {
        self.state.is_attached()
    }

    /// For programs with their own loop: up to `$max` events as arrays, as
    /// `Server::poll()` gives them (`open` with `request`, which for a connection
    /// taken over from another worker has `resumed`, `user` and `topics`;
    /// `message`, `close`, `handshake`). Writes the queued commands first, then
    /// waits up to `$timeout_ms` for the first event (-1: until one arrives);
    /// returns early, possibly empty, after a pcntl signal handler ran. Timers
    /// that are due fire here too, as under `run()`.
    ///
    /// @throws \Switchboard\Exception when the connection to the operator breaks.
    #[php(defaults(timeout_ms = -1, max = 1024))]
    pub fn poll(&self, timeout_ms: i64, max: i64) -> PhpResult<ZBox<ZendHashTable>> {
        worker_poll::poll(&self.state, timeout_ms, max)
    }

    /// A file descriptor that is readable while `poll()` has work: events to
    /// hand out (also those read while `sendToUser()`, `info()`... waited for
    /// their answer) or commands to write, for programs with their own loop:
    /// `$events = fopen('php://fd/' . $worker->eventFd(), 'r');` then
    /// `stream_select()` on it, or Revolt's `EventLoop::onReadable($events, ...)`,
    /// and call `poll(0)` when it is readable. The descriptor belongs to the
    /// worker: `php://fd/` opens a duplicate, which the stream may close.
    ///
    /// @throws \Switchboard\Exception once the worker is no longer attached.
    pub fn event_fd(&self) -> PhpResult<i64> {
        match self.state.with(|worker| worker.readiness_fd()) {
            Some(Ok(fd)) => Ok(i64::from(fd)),
            Some(Err(e)) => Err(error(e.to_string())),
            None => Err(error("the worker is no longer attached to the operator")),
        }
    }

    /// Facts about an open connection, as the operator knows it, or null if it
    /// is closed or unknown (or the worker is no longer attached): the keys of
    /// `Server::info()`. One round trip, after the commands queued before it.
    pub fn info(&self, id: i64) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        let asked = self.state.ask(Request::Info { id: wire_id(id) });
        match asked.map_err(|e| error(e.to_string()))? {
            Some(Reply::Info(facts)) => Ok(Some(convert::facts(&facts))),
            Some(Reply::Error {
                code: ErrorCode::UnknownConnection,
                ..
            }) => Ok(None),
            Some(Reply::Error { message, .. }) => Err(error(message)),
            _ => Ok(None),
        }
    }

    /// Sends a text (valid UTF-8) or binary message.
    ///
    /// @throws \Switchboard\Exception if a text message is not valid UTF-8.
    #[php(defaults(binary = false))]
    pub fn send(&self, id: i64, data: BinarySlice<u8>, binary: bool) -> PhpResult<bool> {
        done(self.state.send(wire_id(id), kind(binary), &data))
    }

    /// Starts the close handshake.
    ///
    /// @throws \Switchboard\Exception for a code other than 1000-1003, 1007-1009,
    /// 1011-1014, 3000-4999, or a reason longer than 123 bytes.
    #[php(defaults(code = 1000, reason = "\"\""))]
    pub fn close(&self, id: i64, code: i64, reason: &str) -> PhpResult<bool> {
        let code = convert::close_code(code)?;
        done(self.state.command(Request::Close {
            id: wire_id(id),
            code,
            reason: reason.into(),
        }))
    }

    /// Sends to every open connection, except `$except` (0: none).
    #[php(defaults(binary = false, except = 0))]
    pub fn broadcast(&self, data: BinarySlice<u8>, binary: bool, except: i64) -> PhpResult<bool> {
        done(self.state.command(Request::Broadcast {
            kind: kind(binary),
            data: data.to_vec(),
            except: wire_id(except),
        }))
    }

    /// Adds the connection to a topic.
    pub fn subscribe(&self, id: i64, topic: &str) -> PhpResult<bool> {
        done(self.state.command(Request::Subscribe {
            id: wire_id(id),
            topic: topic.into(),
        }))
    }

    /// Removes the connection from a topic.
    pub fn unsubscribe(&self, id: i64, topic: &str) -> PhpResult<bool> {
        done(self.state.command(Request::Unsubscribe {
            id: wire_id(id),
            topic: topic.into(),
        }))
    }

    /// Sends to every subscriber of a topic, on every worker, except `$except` (0: none).
    #[php(defaults(binary = false, except = 0))]
    pub fn publish(
        &self,
        topic: &str,
        data: BinarySlice<u8>,
        binary: bool,
        except: i64,
    ) -> PhpResult<bool> {
        done(self.state.command(Request::Publish {
            topic: topic.into(),
            kind: kind(binary),
            data: data.to_vec(),
            except: wire_id(except),
        }))
    }

    /// Binds the connection to a user id (a user may have many connections).
    pub fn bind_user(&self, id: i64, user: &str) -> PhpResult<bool> {
        done(self.state.command(Request::BindUser {
            id: wire_id(id),
            user: user.into(),
        }))
    }

    /// Removes the connection's user binding.
    pub fn unbind_user(&self, id: i64) -> PhpResult<bool> {
        done(self.state.command(Request::UnbindUser { id: wire_id(id) }))
    }

    /// Sends to every connection bound to the user; returns how many. Unlike the
    /// other commands it waits for the operator's answer (one round trip, after
    /// the commands queued before it); 0 once the worker is no longer attached.
    #[php(defaults(binary = false))]
    pub fn send_to_user(&self, user: &str, data: BinarySlice<u8>, binary: bool) -> PhpResult<i64> {
        let reply = self
            .state
            .ask(Request::SendToUser {
                user: user.into(),
                kind: kind(binary),
                data: data.to_vec(),
            })
            .map_err(|e| error(e.to_string()))?;
        match reply {
            Some(Reply::Ok { count }) => Ok(i64::try_from(count).unwrap_or(i64::MAX)),
            Some(Reply::Error { message, .. }) => Err(error(message)),
            _ => Ok(0),
        }
    }

    /// The connections bound to the user, on every worker (one round trip, as
    /// `sendToUser`); empty once the worker is no longer attached.
    pub fn user_connections(&self, user: &str) -> PhpResult<Vec<i64>> {
        let asked = self
            .state
            .ask(Request::UserConnections { user: user.into() });
        match asked.map_err(|e| error(e.to_string()))? {
            Some(Reply::Ids(ids)) => Ok(ids.into_iter().map(|id| id as i64).collect()),
            Some(Reply::Error { message, .. }) => Err(error(message)),
            _ => Ok(Vec::new()),
        }
    }

    /// The operator's counters by name: the server's (`connections`,
    /// `messages_in`, ..., `closed_by_peer`, ...), the control socket's and the
    /// workers' (`workers`, `backlog_events`, `backlog_refused`...). One round
    /// trip; empty once the worker is no longer attached.
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let asked = self.state.ask(Request::Stats);
        let mut ht = ZendHashTable::new();
        match asked.map_err(|e| error(e.to_string()))? {
            Some(Reply::Stats(stats)) => {
                for (name, value) in stats {
                    let _ = ht.insert(name.as_str(), i64::try_from(value).unwrap_or(i64::MAX));
                }
            }
            Some(Reply::Error { message, .. }) => return Err(error(message)),
            _ => {}
        }
        Ok(ht)
    }

    /// Accepts a pending handshake, with optional
    /// `['user' => string, 'subprotocol' => string, 'headers' => [name => value]]`.
    /// The `open` handler runs next. False if the handshake was already decided.
    pub fn accept(&self, id: i64, options: Option<&ZendHashTable>) -> PhpResult<bool> {
        let accept = accept_options(options).map_err(error)?;
        done(self.state.accept(id_from_php(id), accept))
    }

    /// Refuses a pending handshake with an HTTP status (400-599) and a body.
    /// False if the handshake was already decided.
    #[php(defaults(status = 403, body = "\"\""))]
    pub fn reject(&self, id: i64, status: i64, body: &str) -> PhpResult<bool> {
        let status = refusal_status(status).map_err(error)?;
        done(self.state.reject(id_from_php(id), status, body))
    }

    /// Calls `$callback(int $timer)` every `$seconds` (at least 0.001) while
    /// `run()` runs; returns the timer id.
    pub fn every(&self, seconds: f64, callback: Callback) -> PhpResult<i64> {
        self.add_timer(seconds, true, callback)
    }

    /// Calls `$callback(int $timer)` once after `$seconds`; returns the timer id.
    pub fn after(&self, seconds: f64, callback: Callback) -> PhpResult<i64> {
        self.add_timer(seconds, false, callback)
    }

    /// Cancels a timer; false if it had already ended or never existed.
    pub fn clear_timer(&self, timer: i64) -> bool {
        let removed = self.state.timers.borrow_mut().cancel(timer);
        removed.is_some()
    }
}

impl Worker {
    fn add_timer(&self, seconds: f64, repeat: bool, callback: Callback) -> PhpResult<i64> {
        let delay = timers::delay(seconds, repeat).ok_or_else(|| {
            let (name, least) = if repeat {
                ("every", "0.001")
            } else {
                ("after", "0")
            };
            error(format!(
                "{name}(): {seconds} is not a number of seconds from {least} to one year"
            ))
        })?;
        Ok(self.state.timers.borrow_mut().add(delay, repeat, callback))
    }
}
