//! Server configuration: every limit exists, has a sane default, and is checked at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::error::Error;
use crate::protocol::handshake::{HandshakeConfig, NoMatchingSubprotocol, OriginPolicy};
use crate::reactor::conn::Timeouts;
use crate::reactor::settings::Settings;

/// Everything a server can be told. Build with [`Config::new`] and the setters; values
/// are checked by [`Config::validate`], which [`crate::server::Server::start`] calls.
#[derive(Debug, Clone)]
pub struct Config {
    /// Each address, and whether it speaks TLS.
    pub(crate) listen: Vec<(SocketAddr, bool)>,
    /// Certificate chain and private key (PEM files) for the TLS listeners.
    pub(crate) tls: Option<(PathBuf, PathBuf)>,
    pub(crate) threads: usize,
    pub(crate) per_loop: bool,
    pub(crate) reuse_port: bool,
    pub(crate) max_connections: usize,
    pub(crate) max_message_size: usize,
    pub(crate) max_buffered: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) idle_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) max_head_size: usize,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) no_matching_subprotocol: NoMatchingSubprotocol,
    pub(crate) origins: OriginPolicy,
    pub(crate) authorize: bool,
    pub(crate) static_dir: Option<PathBuf>,
    pub(crate) event_queue_events: usize,
    pub(crate) event_queue_bytes: usize,
    pub(crate) max_unhandled_messages: usize,
    pub(crate) max_unhandled_bytes: usize,
}

/// The values [`Config::validate`] accepts, public so that the bindings refer
/// to them instead of writing them again.
pub mod limits {
    use std::ops::RangeInclusive;
    use std::time::Duration;
    pub const THREADS: RangeInclusive<usize> = 0..=255;
    pub const MAX_CONNECTIONS: RangeInclusive<usize> = 1..=usize::MAX;
    pub const MAX_MESSAGE_SIZE: RangeInclusive<usize> = 1..=1 << 31;
    pub const MAX_BUFFERED: RangeInclusive<usize> = 1024..=usize::MAX;
    pub const MAX_HEAD_SIZE: RangeInclusive<usize> = 256..=1 << 20;
    pub const EVENT_QUEUE: RangeInclusive<usize> = 1..=usize::MAX;
    /// Every timeout and interval: more than 0, at most a year (so that
    /// deadlines cannot overflow).
    pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
}

/// Defaults, public so the bindings can document them.
pub mod defaults {
    use std::time::Duration;
    pub const MAX_CONNECTIONS: usize = 100_000;
    pub const MAX_MESSAGE_SIZE: usize = 1 << 20;
    pub const MAX_BUFFERED: usize = 4 << 20;
    pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
    pub const PING_INTERVAL: Duration = Duration::from_secs(30);
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
    pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
    pub const MAX_HEAD_SIZE: usize = 8 * 1024;
    pub const EVENT_QUEUE_EVENTS: usize = 64 * 1024;
    pub const EVENT_QUEUE_BYTES: usize = 64 << 20;
    /// Per connection: 256 messages (a deep pipeline: held at 256 and read
    /// again at 128, before the application runs out of its messages) and
    /// 256 KiB (a few reads of 1 KiB messages; a larger message is taken
    /// alone). 256 flooding connections fill their share before the event
    /// queue's own bound stops every connection.
    pub const MAX_UNHANDLED_MESSAGES: usize = 256;
    pub const MAX_UNHANDLED_BYTES: usize = 256 * 1024;
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: Vec::new(),
            tls: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            per_loop: false,
            reuse_port: false,
            max_connections: defaults::MAX_CONNECTIONS,
            max_message_size: defaults::MAX_MESSAGE_SIZE,
            max_buffered: defaults::MAX_BUFFERED,
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT,
            ping_interval: Some(defaults::PING_INTERVAL),
            idle_timeout: defaults::IDLE_TIMEOUT,
            close_timeout: defaults::CLOSE_TIMEOUT,
            max_head_size: defaults::MAX_HEAD_SIZE,
            subprotocols: Vec::new(),
            no_matching_subprotocol: NoMatchingSubprotocol::default(),
            origins: OriginPolicy::default(),
            authorize: false,
            static_dir: None,
            event_queue_events: defaults::EVENT_QUEUE_EVENTS,
            event_queue_bytes: defaults::EVENT_QUEUE_BYTES,
            max_unhandled_messages: defaults::MAX_UNHANDLED_MESSAGES,
            max_unhandled_bytes: defaults::MAX_UNHANDLED_BYTES,
        }
    }
}

impl Config {
    /// A configuration with every default and no listen address yet.
    pub fn new() -> Config {
        Config::default()
    }

    /// Adds an address to listen on (IPv4 or IPv6; port 0 picks a free port,
    /// reported by [`crate::server::Server::local_addrs`]).
    pub fn listen(&mut self, addr: SocketAddr) -> &mut Self {
        self.listen.push((addr, false));
        self
    }

    /// Adds an address whose clients speak TLS (`wss://`), with the certificate
    /// given to [`Config::tls`]. Plain and TLS listeners can be mixed.
    pub fn listen_tls(&mut self, addr: SocketAddr) -> &mut Self {
        self.listen.push((addr, true));
        self
    }

    /// Parses and adds an address such as `127.0.0.1:9001` or `[::1]:0`;
    /// `tls://127.0.0.1:9443` adds a TLS listener (see [`Config::listen_tls`]).
    pub fn listen_str(&mut self, addr: &str) -> Result<&mut Self, Error> {
        let (tls, rest) = match addr.strip_prefix("tls://") {
            Some(rest) => (true, rest),
            None => (false, addr),
        };
        let parsed = rest.parse().map_err(|_| {
            Error::config(
                "listen",
                format!("{addr:?} is not an IP:port address (or tls://IP:port)"),
            )
        })?;
        Ok(if tls {
            self.listen_tls(parsed)
        } else {
            self.listen(parsed)
        })
    }

    /// The certificate chain and private key, PEM files, for TLS listeners. They
    /// are read when the server starts, and again by
    /// [`Handle::reload_tls`](crate::server::Handle::reload_tls); an error names
    /// the file (option `tls_cert` or `tls_key`).
    pub fn tls(&mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> &mut Self {
        self.tls = Some((cert.into(), key.into()));
        self
    }

    /// I/O threads, each with its own event loop (default: available cores; 0–255).
    ///
    /// 0 is inline mode: no I/O thread; the one loop runs inside [`Handle::wait`]
    /// on the application's thread. It is the fastest choice when the application
    /// and the loop share one core and handlers are quick, but nothing is read,
    /// written or timed while a handler runs, and `wait` must be called regularly.
    ///
    /// [`Handle::wait`]: super::Handle::wait
    pub fn threads(&mut self, n: usize) -> &mut Self {
        self.threads = n;
        self
    }

    /// Per-loop serving (default off): every I/O loop calls the application's
    /// handler itself, on its own thread, as inline mode does on one. Serve
    /// with [`Handle::run`], which runs `threads` loops (one per core is the
    /// point) and gives each its own handler. Handlers on different loops run
    /// at the same time; commands to connections of other loops cross in
    /// batches, and topics, users and broadcast span every loop.
    ///
    /// Off, `threads` I/O loops feed one queue of events that the application
    /// takes with [`Handle::wait`] or [`Handle::serve`] on threads of its own.
    /// With `threads(0)` this setting changes nothing: the one loop is inline.
    ///
    /// [`Handle::run`]: super::Handle::run
    /// [`Handle::wait`]: super::Handle::wait
    /// [`Handle::serve`]: super::Handle::serve
    pub fn per_loop(&mut self, on: bool) -> &mut Self {
        self.per_loop = on;
        self
    }

    /// Sets `SO_REUSEPORT` so several processes can share a port (default off).
    pub fn reuse_port(&mut self, on: bool) -> &mut Self {
        self.reuse_port = on;
        self
    }

    /// Open WebSocket connections beyond this get `503` at handshake time (default 100,000).
    pub fn max_connections(&mut self, n: usize) -> &mut Self {
        self.max_connections = n;
        self
    }

    /// Largest message accepted from a client; larger closes with 1009 (default 1 MiB).
    pub fn max_message_size(&mut self, bytes: usize) -> &mut Self {
        self.max_message_size = bytes;
        self
    }

    /// Outbound bytes queued for one client before it is closed with 1008 as a slow
    /// reader (default 4 MiB).
    pub fn max_buffered(&mut self, bytes: usize) -> &mut Self {
        self.max_buffered = bytes;
        self
    }

    /// Time a client has to complete its handshake, and the application to authorize it (default 10 s).
    pub fn handshake_timeout(&mut self, t: Duration) -> &mut Self {
        self.handshake_timeout = t;
        self
    }

    /// A peer silent for this long is pinged (default 30 s; `None` disables pings).
    pub fn ping_interval(&mut self, t: Option<Duration>) -> &mut Self {
        self.ping_interval = t;
        self
    }

    /// A peer from which nothing arrives for this long is dropped (default 75 s).
    pub fn idle_timeout(&mut self, t: Duration) -> &mut Self {
        self.idle_timeout = t;
        self
    }

    /// After sending a close frame, how long to wait for the peer's (default 5 s).
    pub fn close_timeout(&mut self, t: Duration) -> &mut Self {
        self.close_timeout = t;
        self
    }

    /// Largest handshake request head; larger gets `431` (default 8 KiB).
    pub fn max_head_size(&mut self, bytes: usize) -> &mut Self {
        self.max_head_size = bytes;
        self
    }

    /// Adds a supported subprotocol; earlier ones are preferred.
    pub fn subprotocol(&mut self, name: &str) -> &mut Self {
        self.subprotocols.push(name.to_string());
        self
    }

    /// What to do when the client offers subprotocols and none is supported
    /// (default: accept with none).
    pub fn no_matching_subprotocol(&mut self, answer: NoMatchingSubprotocol) -> &mut Self {
        self.no_matching_subprotocol = answer;
        self
    }

    /// Adds an allowed origin: exact (`https://app.example.com`), a pattern
    /// (`*.example.com`), or `*` for any. With none, a browser's request is
    /// accepted only from the same origin (the `Origin`'s host and port are the
    /// request's `Host`), which stops cross-site WebSocket hijacking.
    pub fn allow_origin(&mut self, pattern: &str) -> &mut Self {
        self.origins.allowed.push(pattern.to_string());
        self
    }

    /// Whether requests without an `Origin` header are allowed (default true).
    pub fn allow_missing_origin(&mut self, allow: bool) -> &mut Self {
        self.origins.allow_missing = allow;
        self
    }

    /// When on, each handshake is delivered as a pending `Open` event and waits for
    /// the application's `accept` or `reject` (default off).
    pub fn authorize(&mut self, on: bool) -> &mut Self {
        self.authorize = on;
        self
    }

    /// Serves plain files from this directory to non-upgrade GET requests (`/` → `index.html`).
    pub fn static_dir(&mut self, dir: Option<PathBuf>) -> &mut Self {
        self.static_dir = dir;
        self
    }

    /// Bound of the event queue towards the application, in events and payload bytes
    /// (defaults 65,536 and 64 MiB). When full, the loops stop reading sockets.
    pub fn event_queue(&mut self, events: usize, bytes: usize) -> &mut Self {
        self.event_queue_events = events;
        self.event_queue_bytes = bytes;
        self
    }

    /// Per connection, the most messages and payload bytes waiting in the event
    /// queue for the application (defaults 256 and 256 KiB; more than 0). A
    /// connection past either is not read (TCP pushes back on that client
    /// alone) until the application has taken its waiting events down to half;
    /// meanwhile the queue hands out the connections' events in turns, so one
    /// flooding client cannot starve the others. See docs/fairness.md.
    pub fn max_unhandled(&mut self, messages: usize, bytes: usize) -> &mut Self {
        self.max_unhandled_messages = messages;
        self.max_unhandled_bytes = bytes;
        self
    }

    /// Checks every value; the error names the option.
    pub fn validate(&self) -> Result<(), Error> {
        if self.listen.is_empty() {
            return Err(Error::config("listen", "at least one address is required"));
        }
        if self.listen.iter().any(|&(_, tls)| tls) && self.tls.is_none() {
            return Err(Error::config(
                "tls_cert",
                "a tls:// listener needs a certificate and key (tls_cert, tls_key)",
            ));
        }
        let sizes = [
            ("threads", self.threads, limits::THREADS, "must be 0 to 255"),
            (
                "max_connections",
                self.max_connections,
                limits::MAX_CONNECTIONS,
                "must be at least 1",
            ),
            (
                "max_message_size",
                self.max_message_size,
                limits::MAX_MESSAGE_SIZE,
                "must be 1 byte to 2 GiB",
            ),
            (
                "max_buffered",
                self.max_buffered,
                limits::MAX_BUFFERED,
                "must be at least 1024 bytes",
            ),
            (
                "max_head_size",
                self.max_head_size,
                limits::MAX_HEAD_SIZE,
                "must be 256 bytes to 1 MiB",
            ),
        ];
        for (option, value, range, message) in sizes {
            if !range.contains(&value) {
                return Err(Error::config(option, message));
            }
        }
        let positive = [
            ("handshake_timeout", self.handshake_timeout),
            ("idle_timeout", self.idle_timeout),
            ("close_timeout", self.close_timeout),
        ];
        for (option, value) in positive {
            if value.is_zero() {
                return Err(Error::config(option, "must be greater than 0"));
            }
            if value > limits::MAX_DURATION {
                return Err(Error::config(option, "must be at most a year"));
            }
        }
        if let Some(ping) = self.ping_interval {
            if ping.is_zero() {
                return Err(Error::config(
                    "ping_interval",
                    "must be greater than 0 (or none)",
                ));
            }
            if ping >= self.idle_timeout {
                return Err(Error::config(
                    "ping_interval",
                    "must be shorter than idle_timeout, so a live peer can answer in time",
                ));
            }
        }
        for p in &self.subprotocols {
            let token = !p.is_empty() && p.bytes().all(|b| b.is_ascii_graphic() && b != b',');
            if !token {
                return Err(Error::config(
                    "subprotocols",
                    format!("{p:?} is not a token"),
                ));
            }
        }
        if let Some(dir) = &self.static_dir {
            if !dir.is_dir() {
                return Err(Error::config(
                    "static_dir",
                    format!("{} is not a directory", dir.display()),
                ));
            }
        }
        let queue = [self.event_queue_events, self.event_queue_bytes];
        if !queue.iter().all(|n| limits::EVENT_QUEUE.contains(n)) {
            return Err(Error::config(
                "event_queue",
                "bounds must be greater than 0",
            ));
        }
        let unhandled = [self.max_unhandled_messages, self.max_unhandled_bytes];
        if !unhandled.iter().all(|n| limits::EVENT_QUEUE.contains(n)) {
            return Err(Error::config(
                "max_unhandled",
                "bounds must be greater than 0",
            ));
        }
        Ok(())
    }

    /// The part of the configuration the loops act on.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            max_connections: self.max_connections,
            max_message_size: self.max_message_size,
            max_buffered: self.max_buffered,
            authorize: self.authorize,
            static_dir: self.static_dir.clone(),
            timeouts: Timeouts {
                handshake: self.handshake_timeout,
                ping: self.ping_interval,
                idle: self.idle_timeout,
                close: self.close_timeout,
            },
            handshake: self.handshake(),
            tls_listeners: self.listen.iter().map(|&(_, tls)| tls).collect(),
        }
    }

    pub(crate) fn handshake(&self) -> HandshakeConfig {
        HandshakeConfig {
            max_head_size: self.max_head_size,
            subprotocols: self.subprotocols.clone(),
            no_matching_subprotocol: self.no_matching_subprotocol,
            origins: self.origins.clone(),
        }
    }
}
