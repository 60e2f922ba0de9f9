//! The application's side of the server: cheap to clone, usable from any thread.

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::api::error::Error;
use crate::api::joined::Joined;
use crate::bridge::command::{header, Command};
use crate::bridge::event::Event;
use crate::bridge::event::MessageKind;
use crate::bridge::event::{Handler, Incoming};
use crate::bridge::event_queue::Taken;
use crate::bridge::id::ConnId;
use crate::bridge::registry::ConnMeta;
use crate::bridge::stats::Stats;
use crate::fastpath::cork;
use crate::fastpath::direct;
use crate::fastpath::hand_over::hand_over;
use crate::fastpath::pool;
use crate::protocol::close::is_server_code;
use crate::reactor::shared::Shared;

/// Facts about one open connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    pub id: ConnId,
    pub peer: SocketAddr,
    pub path: String,
    pub query: String,
    pub subprotocol: Option<String>,
    pub user: Option<String>,
    /// True while the handshake waits for the application's `accept` or `reject`.
    pub pending: bool,
    pub connected_for: Duration,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Outbound bytes queued and not yet written to the socket.
    pub buffered: usize,
}

/// How to answer a pending handshake positively.
#[derive(Debug, Clone, Default)]
pub struct Accept {
    /// Overrides the subprotocol; must be one the client offered.
    pub subprotocol: Option<String>,
    /// Extra response headers, such as `Set-Cookie`.
    pub headers: Vec<(String, String)>,
    /// Binds the connection to a user at once (see [`Handle::bind_user`]).
    pub user: Option<String>,
}

/// With I/O threads, the most events one `serve` call takes from the queue.
const SERVE_BATCH: usize = 1024;
/// How often `run` looks whether the server has finished, in modes where
/// nothing wakes it when that happens.
const RUN_TICK: Duration = Duration::from_millis(100);

/// The thread-safe handle applications use: events out, commands in.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    /// Moves up to `max` events into `out`, waiting up to `timeout` for the first
    /// (`None`: until one arrives or the server has stopped). Returns how many.
    pub fn wait(&self, out: &mut Vec<Event>, max: usize, timeout: Option<Duration>) -> usize {
        if direct::serving() {
            return 0; // inside `serve`: its loop is busy on this thread
        }
        let max = max.max(1);
        match self.shared.drivers() {
            [] => {
                // The replies to the previous batch go out now, in one wake per loop.
                cork::uncork(&self.shared);
                cork::dispatching(&self.shared, None);
                self.settle(self.shared.queue(0).take(out, max, timeout))
            }
            [inline] => {
                cork::uncork(&self.shared);
                cork::dispatching(&self.shared, Some(0));
                inline.wait(&self.shared, out, max, timeout, |t| self.settle(t))
            }
            _ => 0, // per-loop serving: the loops are served by `run`
        }
    }

    /// Like [`wait`](Self::wait), but hands each event to `handler`, borrowed,
    /// instead of moving it into a vector. Returns how many were handled.
    ///
    /// In inline mode (`threads(0)`) this is the fastest way to serve: the
    /// loop calls `handler` for each message as it decodes it, with the bytes
    /// still in its read buffer, and a `send` or `send_owned` to that same
    /// connection from the handler goes straight into its output: no copy of
    /// the message, no command. Other events, and messages that arrive behind
    /// them in the same turn, are handed over after the turn, in order. With
    /// I/O threads it takes a batch as `wait` does.
    ///
    /// Called from inside a handler, `wait` and `serve` return 0 at once, and
    /// `Server::shutdown` only starts the shutdown: the loop is busy on this
    /// thread, and the next calls finish it. A panic in the handler goes on to
    /// the caller of `serve` once the loop is in order again; the events not yet
    /// handed over stay queued for the next call.
    pub fn serve(&self, timeout: Option<Duration>, mut handler: impl FnMut(Incoming<'_>)) -> usize {
        match self.shared.drivers() {
            [] => {
                if direct::serving() {
                    return 0;
                }
                let _serving = direct::serve_guard();
                cork::uncork(&self.shared);
                cork::dispatching(&self.shared, None);
                let mut events = Vec::new();
                let queue = self.shared.queue(0);
                let n = self.settle(queue.take(&mut events, SERVE_BATCH, timeout));
                hand_over(queue, &mut handler, &mut events);
                n
            }
            [_] => self.serve_loop(0, timeout, &mut handler),
            _ => 0, // per-loop serving: the loops are served by `run`
        }
    }

    /// `serve` on the loop `index`, which this thread drives.
    fn serve_loop(&self, index: usize, timeout: Option<Duration>, handler: Handler<'_>) -> usize {
        if direct::serving() {
            return 0;
        }
        let _serving = direct::serve_guard();
        cork::uncork(&self.shared);
        cork::dispatching(&self.shared, Some(index));
        let inline = &self.shared.drivers()[index];
        inline.serve(&self.shared, timeout, handler, |t| self.settle(t))
    }

    /// Serves until the server has shut down and every event was handled,
    /// handing each event to a handler that `make` builds (given the loop's
    /// index) — the one call that serves in every mode:
    ///
    /// - per-loop serving ([`Config::per_loop`]): one thread per loop (this
    ///   thread runs loop 0), each with its own handler, called by its loop in
    ///   place as inline mode does. A handler may keep per-loop state without a
    ///   lock; the events of one connection always come to the same loop, in order.
    /// - inline mode and I/O threads: one handler, on this thread, as with
    ///   [`serve`](Self::serve) in a loop.
    ///
    /// A handler that panics loses the event it was handling; its loop (and
    /// every other) goes on serving, and the panic is reported by the panic
    /// hook. End it with [`shutdown`](Self::shutdown), from a handler or
    /// anywhere, or `Server::shutdown` from another thread.
    ///
    /// [`Config::per_loop`]: crate::server::Config::per_loop
    pub fn run<H>(&self, make: impl Fn(usize) -> H + Sync) -> Result<(), Error>
    where
        H: FnMut(Incoming<'_>),
    {
        if direct::serving() {
            return Err(Error::Busy);
        }
        let loops = self.shared.drivers().len();
        if loops <= 1 {
            let mut handler = make(0);
            while !self.is_finished() {
                let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                    self.serve(Some(RUN_TICK), &mut handler)
                }));
            }
            return Ok(());
        }
        let make = &make;
        let mut threads = Joined::default();
        for index in 1..loops {
            let builder = std::thread::Builder::new().name(format!("switchboard-loop-{index}"));
            // SAFETY: the thread borrows `self` and `make`, which outlive it:
            // `threads` joins every thread before `run` returns, or unwinds.
            let thread =
                unsafe { builder.spawn_unchecked(move || self.run_loop(index, make(index))) };
            match thread {
                Ok(thread) => threads.push(thread),
                Err(e) => {
                    // Without a thread for every loop, nobody may serve.
                    self.shutdown();
                    return Err(Error::io("starting a loop thread", e));
                }
            }
        }
        self.run_loop(0, make(0));
        Ok(())
    }

    /// Serves loop `index` on this thread until it has stopped.
    fn run_loop(&self, index: usize, mut handler: impl FnMut(Incoming<'_>)) {
        while !self.shared.queue(index).is_drained() {
            let _ = panic::catch_unwind(AssertUnwindSafe(|| {
                self.serve_loop(index, None, &mut handler)
            }));
        }
    }

    /// Starts a graceful shutdown and returns at once: the loops stop
    /// accepting, deliver the commands already queued, close every client
    /// with 1001 and wait for their replies (up to the close timeout). `run`
    /// returns when it is done; in inline mode the following `wait`/`serve`
    /// calls do the work. Sending fails with [`Error::ShutDown`] from now on.
    pub fn shutdown(&self) {
        if self.shared.shutting_down.swap(true, Ordering::AcqRel) {
            return;
        }
        for l in &self.shared.loops {
            l.push(Command::Shutdown);
        }
    }

    /// Finishes a take: barriers passed release their connections, and a queue
    /// that left its full state lets the loops read again. Returns the count.
    fn settle(&self, taken: Taken) -> usize {
        for id in taken.release {
            if self.shared.loop_of(id).is_some() {
                self.shared.loops[id.loop_index()].push(Command::Release(id));
            }
        }
        for id in taken.resume_conns {
            if self.shared.loop_of(id).is_some() {
                self.shared.loops[id.loop_index()].push(Command::Resume(id));
            }
        }
        if taken.resume {
            for l in &self.shared.loops {
                let _ = l.waker.wake();
            }
        }
        taken.count
    }

    /// Empties `events`, keeping their message buffers for this thread's next
    /// `send`s instead of freeing them: a loop that calls this on each handled
    /// batch sends without going to the allocator.
    pub fn recycle(&self, events: &mut Vec<Event>) {
        pool::give_all(events.drain(..).filter_map(|event| match event {
            Event::Message { data, .. } => Some(data),
            _ => None,
        }));
    }

    /// Keeps one message buffer for this thread's next `send`s (see `recycle`).
    pub fn recycle_buffer(&self, data: Vec<u8>) {
        pool::give(data);
    }

    /// A file descriptor that is readable while events are waiting, for the
    /// caller's own `poll`/`epoll` loop. Owned by the server; do not close it.
    ///
    /// In inline mode (`threads(0)`) this is the loop's own epoll fd, readable when
    /// sockets or queued events need a `wait`; call `wait` at least every 50 ms
    /// anyway, since timers (pings, timeouts) advance only inside it.
    ///
    /// Not for per-loop serving, where `run` serves every loop.
    pub fn event_fd(&self) -> RawFd {
        let queue_fd = self.shared.queue(0).raw_fd();
        match self.shared.drivers().first() {
            Some(inline) => inline.poll_fd(),
            None => queue_fd,
        }
    }

    /// Wakes the I/O loops for commands this thread issued since its last `wait`.
    ///
    /// Commands from a thread that dispatches events (calls `wait`) are corked:
    /// the loops are woken once, at its next `wait`, instead of once per command.
    /// A thread that sends after `wait` and then does not call `wait` again soon
    /// should call `flush`; otherwise the loops take the commands on their next
    /// timer tick (within 50 ms), and the readiness fd stays readable meanwhile.
    ///
    /// In inline mode this runs one turn of the loop without waiting, unless
    /// another thread is running it (which then sends the commands).
    pub fn flush(&self) {
        cork::uncork(&self.shared);
        if let [inline] = self.shared.drivers() {
            inline.flush(&self.shared);
        }
    }

    /// Corks the commands this thread issues from now on, as for a thread
    /// that dispatches events (a control connection's thread, which runs its
    /// commands in batches): they reach the loops at `uncork_commands`, one
    /// wake per loop instead of one lock and wake per command.
    pub(crate) fn cork_commands(&self) {
        cork::dispatching(&self.shared, None);
    }

    /// Hands the commands corked since `cork_commands` to the loops.
    pub(crate) fn uncork_commands(&self) {
        cork::uncork(&self.shared);
    }

    /// True once the server has stopped and every event was taken.
    pub fn is_finished(&self) -> bool {
        self.shared.queues.iter().all(|q| q.is_drained())
    }

    /// The largest message a client may send (`Config::max_message_size`).
    pub fn max_message_size(&self) -> usize {
        self.shared.settings.max_message_size
    }

    /// The addresses the server listens on (with the ports actually bound).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.shared.local_addrs
    }

    /// Sends one message. Text must be valid UTF-8.
    pub fn send(&self, id: ConnId, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        check_payload(kind, data)?;
        self.check_running()?;
        // The door is open only for a connection the loop is reading: live.
        if direct::send(&self.shared, id, |out| {
            let (header, n) = header(kind, data.len());
            out.push_bytes(&[&header[..n as usize], data]);
            data.len()
        }) {
            return Ok(());
        }
        self.check_live(id)?;
        let data = pool::copy_of(data);
        self.to_loop(id, || Command::Send { id, kind, data })
    }

    /// Sends one message, taking the buffer: large payloads are queued without a
    /// copy (the frame header goes out as a separate piece of the same write).
    pub fn send_owned(&self, id: ConnId, kind: MessageKind, data: Vec<u8>) -> Result<(), Error> {
        check_payload(kind, &data)?;
        self.check_running()?;
        let mut data = Some(data);
        if direct::send(&self.shared, id, |out| {
            let data = data.take().unwrap_or_default();
            let (header, n) = header(kind, data.len());
            let len = data.len();
            out.push_frame(&header[..n as usize], data);
            len
        }) {
            return Ok(());
        }
        self.check_live(id)?;
        let data = data.unwrap_or_default();
        self.to_loop(id, || Command::Send { id, kind, data })
    }

    /// Starts the close handshake with `code` and `reason` (at most 123 bytes).
    pub fn close(&self, id: ConnId, code: u16, reason: &str) -> Result<(), Error> {
        check_close(code, reason)?;
        self.check_live(id)?;
        self.to_loop(id, || Command::Close {
            id,
            code,
            reason: reason.to_string(),
        })
    }

    /// Sends one message to every open connection, except `except`. Encoded once.
    pub fn broadcast(
        &self,
        kind: MessageKind,
        data: &[u8],
        except: Option<ConnId>,
    ) -> Result<(), Error> {
        self.fan_out(None, kind, data, except)
    }

    /// Facts about an open connection.
    pub fn info(&self, id: ConnId) -> Result<ConnInfo, Error> {
        let m = self.live(id)?;
        Ok(ConnInfo {
            id,
            peer: m.peer,
            path: m.path.clone(),
            query: m.query.clone(),
            subprotocol: m.subprotocol(),
            user: m.user().map(|u| u.to_string()),
            pending: m.pending.load(Ordering::Relaxed),
            connected_for: m.opened_at.elapsed(),
            messages_in: m.messages_in.load(Ordering::Relaxed),
            messages_out: m.messages_out.load(Ordering::Relaxed),
            bytes_in: m.bytes_in.load(Ordering::Relaxed),
            bytes_out: m.bytes_out.load(Ordering::Relaxed),
            buffered: m.buffered.load(Ordering::Relaxed),
        })
    }

    /// Reads the TLS certificate and key files again (a renewed certificate)
    /// without a restart: new connections use them, open ones keep their
    /// session. On an error, naming the file, the certificate in use stays.
    pub fn reload_tls(&self) -> Result<(), Error> {
        match &self.shared.tls {
            Some(files) => files.reload().map_err(Error::from),
            None => Err(Error::config(
                "tls_cert",
                "no TLS certificate is configured",
            )),
        }
    }

    /// The server's counters, summed over all loops.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        for l in &self.shared.loops {
            l.stats.add_to(&mut s);
        }
        s
    }

    /// Each loop's counters, in loop order: how connections and work are
    /// spread over the loops.
    pub fn loop_stats(&self) -> Vec<Stats> {
        let each = |l: &crate::bridge::loop_shared::LoopShared| {
            let mut s = Stats::default();
            l.stats.add_to(&mut s);
            s
        };
        self.shared.loops.iter().map(each).collect()
    }

    /// Completes a pending handshake with `101 Switching Protocols`.
    pub fn accept(&self, id: ConnId, accept: Accept) -> Result<(), Error> {
        let meta = self.pending(id)?;
        if let Some(p) = &accept.subprotocol {
            if !meta.offered_subprotocols.iter().any(|o| o == p) {
                return Err(Error::SubprotocolNotOffered(p.clone()));
            }
        }
        for (name, value) in &accept.headers {
            let bad = |s: &str| s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
            if name.is_empty()
                || name.contains(':')
                || name.contains(' ')
                || bad(name)
                || bad(value)
            {
                return Err(Error::InvalidHeader(format!("{name}: {value}")));
            }
        }
        claim(&meta)?;
        if let Some(user) = &accept.user {
            self.bind(&meta, user);
        }
        let subprotocol = accept.subprotocol.or_else(|| meta.subprotocol());
        meta.set_subprotocol(subprotocol.clone());
        self.to_loop(id, || Command::Accept {
            id,
            subprotocol,
            headers: accept.headers,
        })
    }

    /// Refuses a pending handshake with an HTTP status (400–599) and a short body.
    pub fn reject(&self, id: ConnId, status: u16, body: &str) -> Result<(), Error> {
        check_refusal(status)?;
        let meta = self.pending(id)?;
        claim(&meta)?;
        self.to_loop(id, || Command::Reject {
            id,
            status,
            body: body.to_string(),
        })
    }

    pub(super) fn check_running(&self) -> Result<(), Error> {
        if self.shared.shutting_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        Ok(())
    }

    pub(super) fn live(&self, id: ConnId) -> Result<Arc<ConnMeta>, Error> {
        self.check_running()?;
        self.shared
            .loop_of(id)
            .and_then(|l| l.registry.get(id))
            .ok_or(Error::UnknownConnection(id))
    }

    pub(super) fn check_live(&self, id: ConnId) -> Result<(), Error> {
        self.check_running()?;
        match self.shared.loop_of(id) {
            Some(l) if l.registry.is_live(id) => Ok(()),
            _ => Err(Error::UnknownConnection(id)),
        }
    }

    fn pending(&self, id: ConnId) -> Result<Arc<ConnMeta>, Error> {
        let meta = self.live(id)?;
        if !meta.pending.load(Ordering::Relaxed) {
            return Err(Error::NotPending(id));
        }
        Ok(meta)
    }

    /// Queues the command `make` builds for `id`'s loop. Built late, by the
    /// queue itself, so that it can be built in its slot (see `cork::deliver`).
    pub(super) fn to_loop(&self, id: ConnId, make: impl FnOnce() -> Command) -> Result<(), Error> {
        self.shared
            .loop_of(id)
            .ok_or(Error::UnknownConnection(id))?;
        cork::deliver(&self.shared, id.loop_index(), make);
        Ok(())
    }

    pub(super) fn deliver(&self, index: usize, command: Command) {
        cork::deliver(&self.shared, index, || command);
    }
}

/// Takes the pending decision for this caller, so two racing calls cannot both answer.
fn claim(meta: &ConnMeta) -> Result<(), Error> {
    meta.pending
        .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
        .map(|_| ())
        .map_err(|_| Error::NotPending(meta.id))
}

/// The argument checks of the sending methods, also applied by workers
/// before a command leaves them (`control/check.rs`): text must be UTF-8.
pub(crate) fn check_payload(kind: MessageKind, data: &[u8]) -> Result<(), Error> {
    if kind == MessageKind::Text && std::str::from_utf8(data).is_err() {
        return Err(Error::InvalidUtf8);
    }
    Ok(())
}

/// A close code an application may send, and a reason a close frame can carry.
pub(crate) fn check_close(code: u16, reason: &str) -> Result<(), Error> {
    if !is_server_code(code) {
        return Err(Error::InvalidCloseCode(code));
    }
    if reason.len() > 123 {
        return Err(Error::ReasonTooLong(reason.len()));
    }
    Ok(())
}

/// An HTTP status that refuses a handshake (400-599).
pub(crate) fn check_refusal(status: u16) -> Result<(), Error> {
    if !(400..=599).contains(&status) {
        return Err(Error::InvalidStatus(status));
    }
    Ok(())
}
