//! `Switchboard\Server`: the PHP class. Methods are thin: they check arguments,
//! call the engine's handle or the loop in `run.rs`, and map errors — a
//! connection that is gone answers `false`, a wrong argument throws.

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use switchboard::control::server::{ControlOptions, ControlServer};
use switchboard::server::{Error, MessageKind};

use crate::callback::Callback;
use crate::construct::constructed_already;
use crate::convert::{self, id_from_php, optional_id};
use crate::exception::error;
use crate::handshake::{accept_options, refusal_status};
use crate::options;
use crate::run;
use crate::signals;
use crate::state::{On, State};
use crate::timers;

/// A WebSocket server. The engine's I/O threads hold every connection (with
/// `'threads' => 0` there are none: the engine runs inside `run()` and `poll()`);
/// handlers run on the PHP thread inside `run()`, or events are taken with `poll()`.
///
/// Connection ids are ints (never 0). Methods that address a connection return
/// false when it is closed or unknown, or when the server is stopped; invalid
/// arguments throw `\Switchboard\Exception`.
#[php_class]
#[php(name = "Switchboard\\Server")]
pub struct Server {
    state: State,
}

/// `true` when done, `false` when the connection is closed or unknown, the
/// handshake was already decided, or the server is stopped; other errors
/// (invalid arguments) throw.
fn done(result: Result<(), Error>) -> PhpResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(Error::UnknownConnection(_) | Error::ShutDown | Error::NotPending(_)) => Ok(false),
        Err(e) => Err(error(e.to_string())),
    }
}

pub fn kind(binary: bool) -> MessageKind {
    if binary {
        MessageKind::Binary
    } else {
        MessageKind::Text
    }
}

#[php_impl]
impl Server {
    /// Version of the extension.
    pub const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// Starts listening at once (the I/O threads accept connections and queue
    /// their events until `run()` or `poll()` takes them; with `'threads' => 0`
    /// clients are served only inside `run()` and `poll()`).
    ///
    /// @throws \Switchboard\Exception for an unknown option, a wrong value, or an
    /// address that cannot be bound.
    pub fn __construct(options: &ZendHashTable) -> PhpResult<Self> {
        if constructed_already::<Server>() {
            // Replacing the state would free it under a running `run()`.
            return Err(error("the server is already constructed"));
        }
        refuse_web_sapi()?;
        let options = options::parse(options).map_err(error)?;
        let server =
            signals::with_signals_blocked(|| switchboard::server::Server::start(&options.config))
                .map_err(|e| match e {
                Error::Config { option, message } => {
                    error(format!("option \"{option}\": {message}"))
                }
                e => error(e.to_string()),
            })?;
        let control = match &options.control {
            Some(address) => {
                let control_options = ControlOptions {
                    secret: options.control_secret.clone(),
                    ..ControlOptions::default()
                };
                let started = signals::with_signals_blocked(|| {
                    ControlServer::start(server.handle(), address, control_options)
                });
                Some(started.map_err(|e| match e {
                    Error::Config { option, message } => {
                        error(format!("option \"{option}\": {message}"))
                    }
                    e => error(format!("option \"control\": {e}")),
                })?)
            }
            None => None,
        };
        Ok(Server {
            state: State::new(server, options.authorize, control),
        })
    }

    /// Sets the handler for an event, replacing any earlier one:
    /// `open(int $id, array $request)`, `message(int $id, string $data, bool $binary)`,
    /// `close(int $id, int $code, string $reason, bool $clean)`,
    /// `handshake(int $id, array $request): bool|int|array|null` (needs the
    /// `authorize` option), `error(\Throwable $e, string $event, ?int $id)`.
    pub fn on(&self, event: &str, handler: Callback) -> PhpResult<()> {
        let on = On::parse(event).ok_or_else(|| {
            error(format!(
                "unknown event \"{event}\"; the events are: {}",
                On::NAMES
            ))
        })?;
        if on == On::Handshake && !self.state.authorize {
            return Err(error(
                "a handshake handler needs the authorize option: new Server(['authorize' => true, ...])",
            ));
        }
        self.state.set_handler(on, Some(handler));
        Ok(())
    }

    /// Serves: calls the handlers and timers until `stop()` is called (from a
    /// handler, a timer or a signal handler), SIGINT/SIGTERM arrive (unless the
    /// script handles them itself), or the server stops. Returns after a graceful
    /// shutdown (clients receive close code 1001).
    pub fn run(&self) -> PhpResult<()> {
        run::run(&self.state)
    }

    /// Graceful shutdown: inside `run()` it makes `run()` return; elsewhere it
    /// shuts down at once (blocking until clients are closed). Idempotent.
    pub fn stop(&self) {
        match self.state.mode.get() {
            crate::state::Mode::Running => self.state.stop_requested.set(true),
            _ => run::shutdown(&self.state, false),
        }
    }

    /// For programs with their own loop: up to `$max` events as arrays with a
    /// `type` of `open` (`id`, `request`), `message` (`id`, `data`, `binary`),
    /// `close` (`id`, `code`, `reason`, `clean`) or `handshake` (`id`, `request`).
    /// Waits up to `$timeout_ms` for the first (-1: until one arrives or the server
    /// stops); returns early, possibly empty, after a pcntl signal handler ran.
    /// Timers that are due fire here too, as under `run()`. With `'threads' => 0`, clients are read and
    /// written only inside `poll()` (sends go out at the next call): call it
    /// regularly.
    #[php(defaults(timeout_ms = -1, max = 1024))]
    pub fn poll(&self, timeout_ms: i64, max: i64) -> PhpResult<ZBox<ZendHashTable>> {
        run::poll(&self.state, timeout_ms, max)
    }

    /// Sends a text (valid UTF-8) or binary message. False if the connection is gone.
    ///
    /// @throws \Switchboard\Exception if a text message is not valid UTF-8.
    #[php(defaults(binary = false))]
    pub fn send(&self, id: i64, data: BinarySlice<u8>, binary: bool) -> PhpResult<bool> {
        done(self.state.handle.send(id_from_php(id), kind(binary), &data))
    }

    /// Starts the close handshake.
    ///
    /// @throws \Switchboard\Exception for a code other than 1000-1003, 1007-1009, 1011-1014,
    /// 3000-4999, or a reason longer than 123 bytes.
    #[php(defaults(code = 1000, reason = "\"\""))]
    pub fn close(&self, id: i64, code: i64, reason: &str) -> PhpResult<bool> {
        // A code beyond 16 bits gets the engine's message, with the number as given.
        let code = convert::close_code(code)?;
        done(self.state.handle.close(id_from_php(id), code, reason))
    }

    /// Sends to every open connection, except `$except` (0: none).
    #[php(defaults(binary = false, except = 0))]
    pub fn broadcast(&self, data: BinarySlice<u8>, binary: bool, except: i64) -> PhpResult<bool> {
        done(
            self.state
                .handle
                .broadcast(kind(binary), &data, optional_id(except)),
        )
    }

    /// Adds the connection to a topic.
    pub fn subscribe(&self, id: i64, topic: &str) -> PhpResult<bool> {
        done(self.state.handle.subscribe(id_from_php(id), topic))
    }

    /// Removes the connection from a topic.
    pub fn unsubscribe(&self, id: i64, topic: &str) -> PhpResult<bool> {
        done(self.state.handle.unsubscribe(id_from_php(id), topic))
    }

    /// Sends to every subscriber of a topic, except `$except` (0: none).
    #[php(defaults(binary = false, except = 0))]
    pub fn publish(
        &self,
        topic: &str,
        data: BinarySlice<u8>,
        binary: bool,
        except: i64,
    ) -> PhpResult<bool> {
        done(
            self.state
                .handle
                .publish(topic, kind(binary), &data, optional_id(except)),
        )
    }

    /// Binds the connection to a user id (a user may have many connections).
    pub fn bind_user(&self, id: i64, user: &str) -> PhpResult<bool> {
        done(self.state.handle.bind_user(id_from_php(id), user))
    }

    /// Removes the connection's user binding.
    pub fn unbind_user(&self, id: i64) -> PhpResult<bool> {
        done(self.state.handle.unbind_user(id_from_php(id)))
    }

    /// Sends to every connection bound to the user; returns how many (0 when the
    /// server is stopped).
    #[php(defaults(binary = false))]
    pub fn send_to_user(&self, user: &str, data: BinarySlice<u8>, binary: bool) -> PhpResult<i64> {
        match self.state.handle.send_to_user(user, kind(binary), &data) {
            Ok(n) => Ok(i64::try_from(n).unwrap_or(i64::MAX)),
            Err(Error::ShutDown) => Ok(0),
            Err(e) => Err(error(e.to_string())),
        }
    }

    /// The open connections bound to the user.
    pub fn user_connections(&self, user: &str) -> Vec<i64> {
        self.state
            .handle
            .user_connections(user)
            .into_iter()
            .map(convert::id_to_php)
            .collect()
    }

    /// Accepts a pending handshake (`authorize` option), with optional
    /// `['user' => string, 'subprotocol' => string, 'headers' => [name => value]]`.
    /// The `open` handler runs next. False if the handshake was already decided
    /// or the client left.
    pub fn accept(&self, id: i64, options: Option<&ZendHashTable>) -> PhpResult<bool> {
        let accept = accept_options(options).map_err(error)?;
        done(self.state.accept(id_from_php(id), accept))
    }

    /// Refuses a pending handshake with an HTTP status (400-599) and a body.
    /// False if the handshake was already decided or the client left.
    #[php(defaults(status = 403, body = "\"\""))]
    pub fn reject(&self, id: i64, status: i64, body: &str) -> PhpResult<bool> {
        let status = refusal_status(status).map_err(error)?;
        done(self.state.reject(id_from_php(id), status, body))
    }

    /// Facts about an open connection, or null if it is closed or unknown: `id`,
    /// `peer`, `path`, `query`, `subprotocol`, `user`, `pending`, `connected_for`
    /// (seconds), `messages_in`, `messages_out`, `bytes_in`, `bytes_out`, `buffered`.
    pub fn info(&self, id: i64) -> Option<ZBox<ZendHashTable>> {
        self.state
            .handle
            .info(id_from_php(id))
            .ok()
            .map(|i| convert::info(&i))
    }

    /// Reads the `tls_cert` and `tls_key` files again (a renewed certificate)
    /// without a restart: new connections use them, open ones keep their session.
    ///
    /// @throws \Switchboard\Exception naming the file when it cannot be used (the
    /// certificate in use stays), or when the server has no TLS.
    pub fn reload_tls(&self) -> PhpResult<()> {
        self.state
            .handle
            .reload_tls()
            .map_err(|e| error(e.to_string()))
    }

    /// The server's counters: `connections` (open now), `accepted`,
    /// `handshakes_failed`, `messages_in`, `messages_out`, `bytes_in`, `bytes_out`,
    /// `dropped`, and `closed_by` => [`peer`, `application`, `protocol_error`,
    /// `idle_timeout`, `slow_consumer`, `abnormal`, `shutdown`].
    pub fn stats(&self) -> ZBox<ZendHashTable> {
        convert::stats(&self.state.handle.stats())
    }

    /// A file descriptor that is readable while `poll()` has work (events
    /// waiting; with `'threads' => 0`, also sockets to read), for programs with
    /// their own event loop: `$events = fopen('php://fd/' . $server->eventFd(), 'r');`
    /// then `stream_select()` on it, or Revolt's `EventLoop::onReadable($events, ...)`,
    /// and call `poll(0)` when it is readable (and at least every 50 ms with
    /// `'threads' => 0`, so that pings and timeouts run). The descriptor belongs to
    /// the server: `php://fd/` opens a duplicate, which the stream may close.
    pub fn event_fd(&self) -> i64 {
        i64::from(self.state.handle.event_fd())
    }

    /// The addresses listened on, as "IP:port" (with the real port for port 0).
    pub fn addresses(&self) -> Vec<String> {
        self.state
            .handle
            .local_addrs()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Calls `$callback(int $timer)` every `$seconds` (at least 0.001) while
    /// `run()` or `poll()` runs; returns the timer id.
    pub fn every(&self, seconds: f64, callback: Callback) -> PhpResult<i64> {
        let delay = timers::delay(seconds, true).ok_or_else(|| {
            error(format!(
                "every(): {seconds} is not a number of seconds from 0.001 to one year"
            ))
        })?;
        Ok(self.state.timers.borrow_mut().add(delay, true, callback))
    }

    /// Calls `$callback(int $timer)` once after `$seconds`; returns the timer id.
    pub fn after(&self, seconds: f64, callback: Callback) -> PhpResult<i64> {
        let delay = timers::delay(seconds, false).ok_or_else(|| {
            error(format!(
                "after(): {seconds} is not a number of seconds from 0 to one year"
            ))
        })?;
        Ok(self.state.timers.borrow_mut().add(delay, false, callback))
    }

    /// Cancels a timer; false if it had already ended or never existed.
    pub fn clear_timer(&self, timer: i64) -> bool {
        let removed = self.state.timers.borrow_mut().cancel(timer);
        removed.is_some()
    }
}

/// A `Server` started by a web request (PHP-FPM, CGI, Apache's module) would
/// take clients from the real server (with `reuse_port`) or fail to bind, and
/// drop its clients with 1001 when the request ends: refuse it, and say what
/// to use instead.
fn refuse_web_sapi() -> PhpResult<()> {
    let sapi = ext_php_rs::zend::SapiModule::get();
    let name = if sapi.name.is_null() {
        String::new()
    } else {
        // SAFETY: the SAPI's name is a NUL-terminated string that lives as long as the process.
        unsafe { std::ffi::CStr::from_ptr(sapi.name) }
            .to_string_lossy()
            .into_owned()
    };
    drop(sapi);
    if matches!(
        name.as_str(),
        "fpm-fcgi" | "cgi-fcgi" | "apache2handler" | "litespeed"
    ) {
        return Err(error(format!(
            "Switchboard\\Server cannot run inside a web request ({name}): it would take clients \
             from the running server and drop them when the request ends. Publish to the \
             running server with Switchboard\\Client instead (docs/deploy.md)"
        )));
    }
    Ok(())
}
