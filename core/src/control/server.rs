//! Serving a control socket: a thread accepts, and each control connection
//! gets a thread of its own that reads a batch of commands, runs them against
//! the server's [`Handle`] and writes the batch's replies in one write.
//! Connections are few and long-lived (one per PHP-FPM worker, say), so a
//! thread each is simple and cheap; their number is bounded.

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::api::error::Error;
use crate::api::handle::{Accept, Handle};
use crate::bridge::id::ConnId;
use crate::control::address::{ControlAddress, Stream};
use crate::control::hub::{BacklogLimits, Hub};
use crate::control::outbox::Outbox;
use crate::control::wire::{
    decode_request, encode_reply, ConnFacts, ErrorCode, Reply, Request, Role, WorkerOpen,
};

/// How a control socket is served.
#[derive(Debug, Clone)]
pub struct ControlOptions {
    /// Required of every connection when set; always required over TCP.
    pub secret: Option<String>,
    /// Control connections served at once; more are refused with "busy".
    pub max_connections: usize,
    /// Workers may attach and handle the connections' events, which this
    /// control server then takes from the server (so nothing else may): how
    /// much waits while no worker takes it. `None`: clients only.
    pub workers: Option<BacklogLimits>,
}

impl Default for ControlOptions {
    fn default() -> ControlOptions {
        ControlOptions {
            secret: None,
            max_connections: MAX_CONNECTIONS,
            workers: None,
        }
    }
}

/// The default bound on control connections served at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Room for a command's fields around its message.
const FRAME_OVERHEAD: usize = 64 * 1024;
/// The largest frame before `HELLO` (which is small): a stranger cannot make
/// the server buffer a message-sized frame.
const MAX_HELLO: usize = 4 * 1024;

/// A control socket being served. Dropping it stops it: the socket closes,
/// open control connections are shut down and their threads joined.
pub struct ControlServer {
    inner: Arc<Inner>,
    address: ControlAddress,
    acceptor: Option<JoinHandle<()>>,
    /// The listening socket's descriptor, shut down at stop to end `accept`.
    listener_fd: RawFd,
    /// Takes the server's events for the workers, when they may attach.
    dispatcher: Option<JoinHandle<()>>,
    /// The socket file we created, removed at stop.
    path: Option<PathBuf>,
}

struct Inner {
    handle: Handle,
    options: ControlOptions,
    /// The largest frame accepted: the server's largest message and room.
    max_frame: usize,
    stopping: AtomicBool,
    /// Each open connection's socket (to shut it down at stop) and thread.
    conns: Mutex<Vec<Open>>,
    /// Quiet commands that failed (they get no reply).
    quiet_failures: AtomicU64,
    /// The workers and who handles which connection, when workers may attach.
    hub: Option<Arc<Hub>>,
    next_worker: AtomicU64,
}

struct Open {
    stream: Stream,
    thread: Option<JoinHandle<()>>,
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl ControlServer {
    /// Binds `address` and serves it against `handle`. A Unix socket file is
    /// created with mode 0660 (a stale one from a dead server is replaced; one
    /// that a live server answers on is an error). TCP needs a secret.
    pub fn start(
        handle: Handle,
        address: &ControlAddress,
        options: ControlOptions,
    ) -> Result<ControlServer, Error> {
        let (listener, path) = bind(address, &options)?;
        let listener_fd = match &listener {
            Listener::Unix(l) => l.as_raw_fd(),
            Listener::Tcp(l) => l.as_raw_fd(),
        };
        let address = match &listener {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(bound) => ControlAddress::Tcp(bound.to_string()),
                Err(e) => return Err(Error::io("the control socket's address", e)),
            },
            Listener::Unix(_) => address.clone(),
        };
        let max_frame = handle.max_message_size().saturating_add(FRAME_OVERHEAD);
        let hub = options
            .workers
            .map(|limits| Arc::new(Hub::new(handle.clone(), limits)));
        let inner = Arc::new(Inner {
            hub,
            next_worker: AtomicU64::new(1),
            handle,
            options,
            max_frame,
            stopping: AtomicBool::new(false),
            conns: Mutex::new(Vec::new()),
            quiet_failures: AtomicU64::new(0),
        });
        let acceptor = {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("switchboard-control".into())
                .spawn(move || accept_loop(&inner, listener))
                .map_err(|e| Error::io("starting the control socket's thread", e))?
        };
        let dispatcher = match &inner.hub {
            Some(hub) => {
                let (inner, hub) = (inner.clone(), hub.clone());
                let thread = std::thread::Builder::new()
                    .name("switchboard-dispatch".into())
                    .spawn(move || dispatch(&inner, &hub))
                    .map_err(|e| Error::io("starting the dispatcher's thread", e))?;
                Some(thread)
            }
            None => None,
        };
        Ok(ControlServer {
            inner,
            address,
            acceptor: Some(acceptor),
            listener_fd,
            dispatcher,
            path,
        })
    }

    /// The address served; for `tcp:` with port 0, the port bound.
    pub fn address(&self) -> &ControlAddress {
        &self.address
    }

    /// Stops serving (as dropping does).
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        if self.inner.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        // Wake the acceptor blocked in accept (which then fails): it sees
        // `stopping` and ends. Connecting to the socket would not do when its
        // file was removed or taken over meanwhile.
        // SAFETY: the acceptor thread owns the listener and is still running
        // (joined below), so the descriptor is open.
        unsafe { libc::shutdown(self.listener_fd, libc::SHUT_RDWR) };
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        if let Some(dispatcher) = self.dispatcher.take() {
            let _ = dispatcher.join();
        }
        if let Some(hub) = self
            .inner
            .hub
            .as_ref()
            .filter(|_| self.inner.handle.is_finished())
        {
            // Every event was routed: the workers learn that none follows.
            hub.end_all();
            for outbox in hub.outboxes() {
                outbox.wait_below(1, std::time::Duration::from_secs(2));
            }
        }
        let open = std::mem::take(&mut *self.inner.lock_conns());
        for conn in &open {
            conn.stream.shutdown();
        }
        for mut conn in open {
            if let Some(thread) = conn.thread.take() {
                let _ = thread.join();
            }
        }
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.shut();
    }
}

impl Inner {
    fn lock_conns(&self) -> MutexGuard<'_, Vec<Open>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn bind(
    address: &ControlAddress,
    options: &ControlOptions,
) -> Result<(Listener, Option<PathBuf>), Error> {
    let context = |what: &str| format!("{what} control socket {address}");
    match address {
        ControlAddress::Unix(path) => {
            remove_stale(path).map_err(|e| Error::config("control", e))?;
            let listener =
                UnixListener::bind(path).map_err(|e| Error::io(context("binding the"), e))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
                .map_err(|e| Error::io(context("setting the mode of the"), e))?;
            Ok((Listener::Unix(listener), Some(path.clone())))
        }
        ControlAddress::Tcp(addr) => {
            if options.secret.as_deref().unwrap_or("").is_empty() {
                return Err(Error::config(
                    "control_secret",
                    "a tcp: control socket needs a secret",
                ));
            }
            let listener =
                TcpListener::bind(addr).map_err(|e| Error::io(context("binding the"), e))?;
            Ok((Listener::Tcp(listener), None))
        }
    }
}

/// A socket file nobody answers on is left over from a server that died:
/// remove it. One that answers belongs to a live server.
fn remove_stale(path: &Path) -> Result<(), String> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(()); // nothing there
    };
    if !meta.file_type().is_socket() {
        return Err(format!("{} exists and is not a socket", path.display()));
    }
    if UnixStream::connect(path).is_ok() {
        return Err(format!("{} is in use by a running server", path.display()));
    }
    std::fs::remove_file(path).map_err(|e| format!("removing the stale {}: {e}", path.display()))
}

fn accept_loop(inner: &Arc<Inner>, listener: Listener) {
    loop {
        let accepted = match &listener {
            Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
            Listener::Tcp(l) => l.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
        };
        if inner.stopping.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut stream) = accepted else {
            // Out of descriptors, or the peer gave up: try the next one soon.
            std::thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        let mut conns = inner.lock_conns();
        conns.retain_mut(|c| !c.thread.as_ref().is_some_and(JoinHandle::is_finished));
        if conns.len() >= inner.options.max_connections {
            drop(conns);
            refuse(&mut stream, ErrorCode::Busy, "too many control connections");
            continue;
        }
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        let serving = inner.clone();
        let thread = std::thread::Builder::new()
            .name("switchboard-control-conn".into())
            .spawn(move || serve(&serving, stream));
        if let Ok(thread) = thread {
            conns.push(Open {
                stream: clone,
                thread: Some(thread),
            });
        }
    }
}

/// Answers with one error and closes.
fn refuse(stream: &mut Stream, code: ErrorCode, message: &str) {
    let mut out = Vec::new();
    encode_reply(
        &Reply::Error {
            code,
            message: message.into(),
        },
        &mut out,
    );
    let _ = stream.write_all(&out);
    stream.shutdown();
}

/// Serves one control connection until it closes or breaks the protocol.
fn serve(inner: &Inner, mut stream: Stream) {
    let mut input: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut peer: Option<Peer> = None;
    let mut chunk = vec![0u8; 64 * 1024];
    inner.handle.cork_commands();
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        input.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        let ended = loop {
            let max = if peer.is_some() {
                inner.max_frame
            } else {
                MAX_HELLO
            };
            match decode_request(&input[at..], max) {
                Ok(Some((request, quiet, used))) => {
                    at += used;
                    let Some(who) = &peer else {
                        match hello(inner, &request, &stream) {
                            Ok(Peer::Client) => {
                                encode_reply(&Reply::Ok { count: 0 }, &mut out);
                                peer = Some(Peer::Client);
                            }
                            Ok(worker) => peer = Some(worker), // answered in its outbox
                            Err(message) => {
                                refuse(&mut stream, ErrorCode::Unauthorized, &message);
                                return;
                            }
                        }
                        continue;
                    };
                    let reply = match (who, request) {
                        (Peer::Worker(key, _), Request::Detach) => {
                            if let Some(hub) = &inner.hub {
                                hub.detach(*key);
                            }
                            continue; // answered by the Detached marker
                        }
                        (_, request) => execute(inner, request),
                    };
                    if !quiet {
                        encode_reply(&reply, &mut out);
                    } else if matches!(reply, Reply::Error { .. }) {
                        inner.quiet_failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(None) => break false,
                Err(e) => {
                    let error = Reply::Error {
                        code: ErrorCode::BadFrame,
                        message: e.to_string(),
                    };
                    encode_reply(&error, &mut out);
                    break true;
                }
            }
        };
        input.drain(..at);
        // The batch's commands go to the loops before its replies say they were done.
        inner.handle.uncork_commands();
        if !out.is_empty() {
            let written = match &peer {
                // A worker's replies share the stream of its events.
                Some(Peer::Worker(_, outbox)) => outbox.push(|o| o.append(&mut out)),
                _ => write_out(&mut stream, &mut out).is_ok(),
            };
            if !written {
                break;
            }
        }
        if ended {
            stream.shutdown();
            break;
        }
    }
    if let (Some(Peer::Worker(key, outbox)), Some(hub)) = (&peer, &inner.hub) {
        hub.gone(*key);
        outbox.close();
    }
}

/// Who is on a control connection, once it said hello.
enum Peer {
    Client,
    /// Its key in the hub, and what it is sent.
    Worker(u64, Arc<Outbox>),
}

/// Checks the first frame; a worker is attached to the hub.
fn hello(inner: &Inner, request: &Request, stream: &Stream) -> Result<Peer, String> {
    check_hello(inner, request)?;
    let Request::Hello {
        role: Role::Worker, ..
    } = request
    else {
        return Ok(Peer::Client);
    };
    let Some(hub) = &inner.hub else {
        return Err("this server takes no workers".into());
    };
    let writer = stream
        .try_clone()
        .map_err(|e| format!("cannot serve the worker: {e}"))?;
    let outbox = Outbox::start(writer).map_err(|e| format!("cannot serve the worker: {e}"))?;
    let key = inner.next_worker.fetch_add(1, Ordering::Relaxed);
    // The hello's answer goes first: attaching may send events at once.
    outbox.push(|o| encode_reply(&Reply::Ok { count: 0 }, o));
    hub.attach(key, outbox.clone());
    Ok(Peer::Worker(key, outbox))
}

/// Takes the server's events and hands them to the workers. A worker that
/// falls behind gets none until it catches up: its connections' events wait
/// in the hub's bounded backlog, and the other workers' go on.
fn dispatch(inner: &Inner, hub: &Hub) {
    let tick = Some(std::time::Duration::from_millis(100));
    while !inner.stopping.load(Ordering::Acquire) && !inner.handle.is_finished() {
        // In inline mode this thread runs the event loop itself, and messages
        // go from its read buffer straight into the workers' frames.
        inner.handle.serve(tick, |event| hub.route(event));
        hub.flush();
    }
}

fn write_out(stream: &mut Stream, out: &mut Vec<u8>) -> io::Result<()> {
    stream.write_all(out)?;
    out.clear();
    Ok(())
}

fn check_hello(inner: &Inner, request: &Request) -> Result<(), String> {
    let Request::Hello { secret, .. } = request else {
        return Err("the first frame must be HELLO".into());
    };
    match &inner.options.secret {
        Some(want) if !same_secret(want.as_bytes(), secret.as_bytes()) => {
            Err("wrong secret".into())
        }
        _ => Ok(()),
    }
}

/// Compares secrets in time independent of where they differ (also used by
/// the operator's HTTP endpoint for its key).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

/// Runs one command against the server, noting for the hub what a resumed
/// connection must carry (user, topics, whether its handshake still waits).
fn execute(inner: &Inner, request: Request) -> Reply {
    let handle = &inner.handle;
    let note = |id: u64, change: &dyn Fn(&mut WorkerOpen)| {
        if let Some(hub) = &inner.hub {
            hub.note(id, change);
        }
    };
    let id = ConnId::from_u64;
    let except = |raw: u64| (raw != 0).then(|| ConnId::from_u64(raw));
    let done = |result: Result<(), Error>| result.map(|()| 0);
    let result = match request {
        Request::Hello { .. } | Request::Detach => {
            return Reply::Error {
                code: ErrorCode::BadFrame,
                message: "HELLO comes once, first; DETACH is for workers".into(),
            }
        }
        Request::Send { id: to, kind, data } => done(handle.send_owned(id(to), kind, data)),
        Request::Publish {
            topic,
            kind,
            data,
            except: x,
        } => done(handle.publish(&topic, kind, &data, except(x))),
        Request::SendToUser { user, kind, data } => {
            handle.send_to_user(&user, kind, &data).map(|n| n as u64)
        }
        Request::Broadcast {
            kind,
            data,
            except: x,
        } => done(handle.broadcast(kind, &data, except(x))),
        Request::Close {
            id: to,
            code,
            reason,
        } => done(handle.close(id(to), code, &reason)),
        Request::Subscribe { id: to, topic } => {
            let result = handle.subscribe(id(to), &topic);
            if result.is_ok() {
                note(to, &|o| {
                    if !o.topics.contains(&topic) {
                        o.topics.push(topic.clone());
                    }
                });
            }
            done(result)
        }
        Request::Unsubscribe { id: to, topic } => {
            note(to, &|o| o.topics.retain(|t| *t != topic));
            done(handle.unsubscribe(id(to), &topic))
        }
        Request::BindUser { id: to, user } => {
            let result = handle.bind_user(id(to), &user);
            if result.is_ok() {
                note(to, &|o| o.user = Some(user.clone()));
            }
            done(result)
        }
        Request::UnbindUser { id: to } => {
            note(to, &|o| o.user = None);
            done(handle.unbind_user(id(to)))
        }
        Request::Accept {
            id: to,
            subprotocol,
            headers,
            user,
        } => {
            let accept = Accept {
                subprotocol,
                headers,
                user: user.clone(),
            };
            let result = handle.accept(id(to), accept);
            if result.is_ok() {
                note(to, &|o| {
                    o.pending = false;
                    if user.is_some() {
                        o.user = user.clone();
                    }
                });
            }
            done(result)
        }
        Request::Reject {
            id: to,
            status,
            body,
        } => done(handle.reject(id(to), status, &body)),
        Request::UserConnections { user } => {
            let ids = handle.user_connections(&user);
            return Reply::Ids(ids.into_iter().map(ConnId::as_u64).collect());
        }
        Request::Stats => return Reply::Stats(stats(inner)),
        Request::Info { id: of } => match handle.info(id(of)) {
            Ok(info) => return Reply::Info(Box::new(ConnFacts::from(&info))),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(count) => Reply::Ok { count },
        Err(e) => Reply::Error {
            code: code_of(&e),
            message: e.to_string(),
        },
    }
}

fn code_of(e: &Error) -> ErrorCode {
    match e {
        Error::UnknownConnection(_) => ErrorCode::UnknownConnection,
        Error::ShutDown => ErrorCode::ShutDown,
        _ => ErrorCode::Invalid,
    }
}

/// The server's counters by name, as `Stats` names them, and the control
/// socket's own.
fn stats(inner: &Inner) -> Vec<(String, u64)> {
    let s = inner.handle.stats();
    let open = |c: &&Open| !c.thread.as_ref().is_some_and(JoinHandle::is_finished);
    let control_connections = inner.lock_conns().iter().filter(open).count() as u64;
    let c = s.closed_by;
    let server = [
        ("connections", s.connections),
        ("accepted", s.accepted),
        ("handshakes_failed", s.handshakes_failed),
        ("messages_in", s.messages_in),
        ("messages_out", s.messages_out),
        ("bytes_in", s.bytes_in),
        ("bytes_out", s.bytes_out),
        ("dropped", s.dropped),
        ("closed_by_peer", c.peer),
        ("closed_by_application", c.application),
        ("closed_by_protocol_error", c.protocol_error),
        ("closed_by_idle_timeout", c.idle_timeout),
        ("closed_by_slow_consumer", c.slow_consumer),
        ("closed_by_abnormal", c.abnormal),
        ("closed_by_shutdown", c.shutdown),
        ("control_connections", control_connections),
        (
            "control_quiet_failures",
            inner.quiet_failures.load(Ordering::Relaxed),
        ),
    ];
    let mut stats: Vec<(String, u64)> = server
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    if let Some(hub) = &inner.hub {
        let h = hub.stats();
        for (name, value) in [
            ("workers", h.workers),
            ("backlog_events", h.backlog_events),
            ("backlog_bytes", h.backlog_bytes),
            ("backlog_refused", h.refused),
        ] {
            stats.push((name.to_string(), value));
        }
    }
    stats
}
