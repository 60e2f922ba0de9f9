//! Starting and stopping a server: listeners, loops, threads.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use mio::net::TcpListener;
use mio::{Interest, Poll, Waker};
use socket2::{Domain, Protocol, Socket, Type};

use crate::api::config::Config;
use crate::api::error::Error;
use crate::api::handle::Handle;
use crate::api::joined::Joined;
use crate::bridge::event_queue::{ConnBounds, EventQueue};
use crate::bridge::loop_shared::LoopShared;
use crate::bridge::registry::Registry;
use crate::bridge::stats::LoopStats;
use crate::fastpath::inline::Inline;
use crate::reactor::event_loop::{listener_token, EventLoop, WAKER};
use crate::reactor::shared::Shared;
use crate::transport::tls_config::TlsFiles;

/// A running server. Dropping it shuts it down gracefully.
pub struct Server {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    stopped: bool,
}

impl Server {
    /// Validates `config`, binds every listen address and starts the I/O threads.
    pub fn start(config: &Config) -> Result<Server, Error> {
        config.validate()?;
        let tls = match &config.tls {
            Some((cert, key)) => Some(TlsFiles::load(cert, key).map_err(Error::from)?),
            None => None,
        };
        raise_fd_limit();
        let mut listeners = Vec::new();
        let mut local_addrs = Vec::new();
        for (addr, _) in &config.listen {
            let listener = bind(*addr, config.reuse_port)?;
            local_addrs.push(
                listener
                    .local_addr()
                    .map_err(|e| Error::io("local address", e))?,
            );
            listeners.push(listener);
        }
        let mut polls = Vec::new();
        let mut loops = Vec::new();
        // Inline mode still has one loop; the application's thread runs it.
        for _ in 0..config.threads.max(1) {
            let poll = Poll::new().map_err(|e| Error::io("creating an event loop", e))?;
            let waker =
                Waker::new(poll.registry(), WAKER).map_err(|e| Error::io("creating a waker", e))?;
            loops.push(LoopShared {
                commands: Mutex::new(Vec::new()),
                queued: AtomicBool::new(false),
                waker,
                registry: Registry::default(),
                stats: LoopStats::default(),
            });
            polls.push(poll);
        }
        for (i, listener) in listeners.iter_mut().enumerate() {
            polls[0]
                .registry()
                .register(listener, listener_token(i), Interest::READABLE)
                .map_err(|e| Error::io("registering a listener", e))?;
        }
        // Per-loop serving: a queue per loop, for the events its thread hands
        // over after a turn. Otherwise one, fed by every loop.
        let per_loop = config.per_loop && config.threads > 0;
        let mut queues = Vec::new();
        for _ in 0..if per_loop { config.threads } else { 1 } {
            let per_connection = ConnBounds {
                events: config.max_unhandled_messages,
                bytes: config.max_unhandled_bytes,
            };
            let queue = EventQueue::with_conn_bounds(
                config.event_queue_events,
                config.event_queue_bytes,
                per_connection,
            )
            .map_err(|e| Error::io("creating the event queue", e))?;
            queues.push(queue);
        }
        let shared = Arc::new(Shared {
            settings: config.settings(),
            loops,
            queues,
            users: Mutex::new(HashMap::new()),
            open: AtomicUsize::new(0),
            shutting_down: AtomicBool::new(false),
            local_addrs,
            drivers: OnceLock::new(),
            tls,
        });
        if config.threads == 0 || per_loop {
            return Server::start_driven(shared, polls, listeners);
        }
        let mut threads = Vec::new();
        let mut listeners = Some(listeners);
        for (index, poll) in polls.into_iter().enumerate() {
            let mine = if index == 0 {
                listeners.take().unwrap_or_default()
            } else {
                Vec::new()
            };
            let event_loop = EventLoop::new(index, poll, shared.clone(), mine);
            let thread = std::thread::Builder::new()
                .name(format!("switchboard-io-{index}"))
                .spawn(move || event_loop.run())
                .map_err(|e| Error::io("starting an I/O thread", e));
            match thread {
                Ok(t) => threads.push(t),
                Err(e) => {
                    let mut partial = Server {
                        shared,
                        threads,
                        stopped: false,
                    };
                    partial.stop();
                    return Err(e);
                }
            }
        }
        Ok(Server {
            shared,
            threads,
            stopped: false,
        })
    }

    /// Inline mode and per-loop serving: the loops are driven by the
    /// application's threads (`Handle::wait`, `serve`, `run`); loop 0 accepts.
    fn start_driven(
        shared: Arc<Shared>,
        polls: Vec<Poll>,
        listeners: Vec<TcpListener>,
    ) -> Result<Server, Error> {
        let mut listeners = Some(listeners);
        let mut drivers = Vec::new();
        for (index, poll) in polls.into_iter().enumerate() {
            let mine = listeners.take().unwrap_or_default();
            let event_loop = EventLoop::new(index, poll, shared.clone(), mine);
            let inline =
                Inline::new(event_loop).map_err(|e| Error::io("watching the event queue", e))?;
            drivers.push(inline);
        }
        let _ = shared.drivers.set(drivers);
        Ok(Server {
            shared,
            threads: Vec::new(),
            stopped: false,
        })
    }

    /// A handle for the application; clone it freely, use it from any thread.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// The bound addresses, in the order they were configured.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.shared.local_addrs
    }

    /// Graceful shutdown: stops accepting, delivers every command already queued,
    /// closes every client with 1001 and waits for their replies (up to the close
    /// timeout), then releases all sockets. Returns when it is done. Events already
    /// queued (and the final `Close` events) can still be taken from a handle.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.handle().shutdown();
        if self.shared.is_driven() && crate::fastpath::direct::serving() {
            // Inside a handler a loop is busy on this thread: the next turns
            // close the connections, and then end it.
            return;
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        // Loops nobody drives (or whose threads are done) are finished here,
        // side by side: each waits up to the close timeout for its clients.
        match self.shared.drivers() {
            [] => {}
            [inline] => inline.stop(),
            drivers => {
                let mut threads = Joined::default();
                for inline in drivers {
                    // SAFETY: `threads` joins the thread before `inline` (owned by
                    // `self.shared`) can go away.
                    let thread =
                        unsafe { std::thread::Builder::new().spawn_unchecked(|| inline.stop()) };
                    match thread {
                        Ok(thread) => threads.push(thread),
                        Err(_) => inline.stop(),
                    }
                }
            }
        }
        for queue in &self.shared.queues {
            queue.finish();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn bind(addr: SocketAddr, reuse_port: bool) -> Result<TcpListener, Error> {
    let context = |what: &str| format!("{what} {addr}");
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| Error::io(context("creating a socket for"), e))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| Error::io(context("SO_REUSEADDR on"), e))?;
    if reuse_port {
        socket
            .set_reuse_port(true)
            .map_err(|e| Error::io(context("SO_REUSEPORT on"), e))?;
    }
    if addr.is_ipv6() {
        socket
            .set_only_v6(true)
            .map_err(|e| Error::io(context("IPV6_V6ONLY on"), e))?;
    }
    socket
        .bind(&addr.into())
        .map_err(|e| Error::io(context("binding"), e))?;
    socket
        .listen(4096)
        .map_err(|e| Error::io(context("listening on"), e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| Error::io(context("non-blocking mode on"), e))?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Raises the open-file soft limit to the hard limit: each client is a descriptor.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
