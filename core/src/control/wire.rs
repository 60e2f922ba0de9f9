//! The control protocol's frames (docs/control-protocol.md): what a client
//! sends the operator and what the operator answers. Sans-IO: frames are
//! encoded into a byte vector and decoded from a byte slice, bounded.
//!
//! A frame is a 4-byte big-endian length (of what follows), a type byte and
//! the type's fields: integers big-endian, byte strings and text as a 4-byte
//! length and the bytes.

use std::fmt;

use crate::api::handle::ConnInfo;
use crate::bridge::event::MessageKind;

/// The first frame's text: protocol and version.
pub const MAGIC: &str = "switchboard-control/1";
/// A command with this bit in its type wants no reply (fire and forget).
pub const QUIET: u8 = 0x40;

/// What a connection to the control socket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends commands (publish, send...) and reads their replies.
    Client = 1,
    /// Also handles connections: receives their events (see `ToWorker`).
    Worker = 2,
}

/// A command to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The first frame of every connection.
    Hello {
        role: Role,
        secret: String,
    },
    Send {
        id: u64,
        kind: MessageKind,
        data: Vec<u8>,
    },
    /// `except` 0: nobody excepted.
    Publish {
        topic: String,
        kind: MessageKind,
        data: Vec<u8>,
        except: u64,
    },
    SendToUser {
        user: String,
        kind: MessageKind,
        data: Vec<u8>,
    },
    Broadcast {
        kind: MessageKind,
        data: Vec<u8>,
        except: u64,
    },
    Close {
        id: u64,
        code: u16,
        reason: String,
    },
    Subscribe {
        id: u64,
        topic: String,
    },
    Unsubscribe {
        id: u64,
        topic: String,
    },
    BindUser {
        id: u64,
        user: String,
    },
    UnbindUser {
        id: u64,
    },
    UserConnections {
        user: String,
    },
    Stats,
    /// Facts about one connection (answered with `Reply::Info`).
    Info {
        id: u64,
    },
    /// Worker: send me no more events; `Detached` marks the last one.
    Detach,
    /// Worker: completes a pending handshake (see `Handle::accept`).
    Accept {
        id: u64,
        subprotocol: Option<String>,
        headers: Vec<(String, String)>,
        user: Option<String>,
    },
    /// Worker: refuses a pending handshake with an HTTP status.
    Reject {
        id: u64,
        status: u16,
        body: String,
    },
}

/// What the operator sends a worker: events of the connections it handles,
/// and the replies to its commands, in one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToWorker {
    Reply(Reply),
    /// Boxed: the other frames are small, and they move often.
    Open(Box<WorkerOpen>),
    Message {
        id: u64,
        kind: MessageKind,
        data: Vec<u8>,
    },
    Close {
        id: u64,
        code: u16,
        reason: String,
        clean: bool,
    },
    /// After `Detach`: no event follows.
    Detached,
}

/// A connection handed to a worker: new (its handshake just completed, or
/// waits for `Accept` when `pending`), or `resumed` from a worker that left,
/// with the user and topics it had.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkerOpen {
    pub id: u64,
    pub peer: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub subprotocol: Option<String>,
    pub pending: bool,
    pub resumed: bool,
    pub user: Option<String>,
    pub topics: Vec<String>,
}

/// The operator's answer to one command, in the order of the commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Done; `count` is what the command counts (connections reached by
    /// `SendToUser`), else 0. Also the answer to `Hello`.
    Ok {
        count: u64,
    },
    Ids(Vec<u64>),
    /// The server's counters by name.
    Stats(Vec<(String, u64)>),
    Info(Box<ConnFacts>),
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// The answer to `Info`: what `Handle::info` tells of an open connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnFacts {
    pub id: u64,
    pub peer: String,
    pub path: String,
    pub query: String,
    pub subprotocol: Option<String>,
    pub user: Option<String>,
    pub pending: bool,
    pub connected_for_ms: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub buffered: u64,
}

impl From<&ConnInfo> for ConnFacts {
    fn from(info: &ConnInfo) -> ConnFacts {
        ConnFacts {
            id: info.id.as_u64(),
            peer: info.peer.to_string(),
            path: info.path.clone(),
            query: info.query.clone(),
            subprotocol: info.subprotocol.clone(),
            user: info.user.clone(),
            pending: info.pending,
            connected_for_ms: u64::try_from(info.connected_for.as_millis()).unwrap_or(u64::MAX),
            messages_in: info.messages_in,
            messages_out: info.messages_out,
            bytes_in: info.bytes_in,
            bytes_out: info.bytes_out,
            buffered: info.buffered as u64,
        }
    }
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A malformed or unknown frame; the operator closes the connection.
    BadFrame = 1,
    /// Wrong secret or protocol; the operator closes the connection.
    Unauthorized = 2,
    UnknownConnection = 3,
    /// Refused as invalid: text that is not UTF-8, a close code or reason not
    /// allowed, a connection whose handshake is not pending...
    Invalid = 4,
    ShutDown = 5,
    /// The operator serves no more control connections.
    Busy = 6,
}

impl ErrorCode {
    fn from_u16(code: u16) -> Option<ErrorCode> {
        use ErrorCode::*;
        [
            BadFrame,
            Unauthorized,
            UnknownConnection,
            Invalid,
            ShutDown,
            Busy,
        ]
        .into_iter()
        .find(|c| *c as u16 == code)
    }
}

/// A frame that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad control frame: {}", self.0)
    }
}

impl std::error::Error for WireError {}

mod types {
    pub const HELLO: u8 = 0x01;
    pub const SEND: u8 = 0x10;
    pub const PUBLISH: u8 = 0x11;
    pub const SEND_TO_USER: u8 = 0x12;
    pub const BROADCAST: u8 = 0x13;
    pub const CLOSE: u8 = 0x14;
    pub const SUBSCRIBE: u8 = 0x15;
    pub const UNSUBSCRIBE: u8 = 0x16;
    pub const BIND_USER: u8 = 0x17;
    pub const UNBIND_USER: u8 = 0x18;
    pub const USER_CONNECTIONS: u8 = 0x19;
    pub const STATS: u8 = 0x1a;
    pub const INFO: u8 = 0x1b;
    pub const DETACH: u8 = 0x20;
    pub const ACCEPT: u8 = 0x21;
    pub const REJECT: u8 = 0x22;
    pub const OK: u8 = 0x80;
    pub const IDS: u8 = 0x81;
    pub const STATS_REPLY: u8 = 0x82;
    pub const INFO_REPLY: u8 = 0x83;
    pub const ERROR: u8 = 0x8f;
    pub const EVENT_OPEN: u8 = 0x90;
    pub const EVENT_MESSAGE: u8 = 0x91;
    pub const EVENT_CLOSE: u8 = 0x92;
    pub const DETACHED: u8 = 0x93;
}

/// Appends `request` as one frame (with `quiet`, the operator sends no reply).
pub fn encode_request(request: &Request, quiet: bool, out: &mut Vec<u8>) {
    use types::*;
    if let Request::Send { id, kind, data } = request {
        return encode_send(*id, *kind, data, quiet, out);
    }
    let mut w = Writer::start(out);
    let q = if quiet { QUIET } else { 0 };
    match request {
        Request::Hello { role, secret } => {
            w.u8(HELLO).text(MAGIC).u8(*role as u8).text(secret);
        }
        Request::Send { .. } => {}
        Request::Publish {
            topic,
            kind,
            data,
            except,
        } => {
            w.u8(PUBLISH | q)
                .text(topic)
                .kind(*kind)
                .bytes(data)
                .u64(*except);
        }
        Request::SendToUser { user, kind, data } => {
            w.u8(SEND_TO_USER | q).text(user).kind(*kind).bytes(data);
        }
        Request::Broadcast { kind, data, except } => {
            w.u8(BROADCAST | q).kind(*kind).bytes(data).u64(*except);
        }
        Request::Close { id, code, reason } => {
            w.u8(CLOSE | q).u64(*id).u16(*code).text(reason);
        }
        Request::Subscribe { id, topic } => {
            w.u8(SUBSCRIBE | q).u64(*id).text(topic);
        }
        Request::Unsubscribe { id, topic } => {
            w.u8(UNSUBSCRIBE | q).u64(*id).text(topic);
        }
        Request::BindUser { id, user } => {
            w.u8(BIND_USER | q).u64(*id).text(user);
        }
        Request::UnbindUser { id } => {
            w.u8(UNBIND_USER | q).u64(*id);
        }
        Request::UserConnections { user } => {
            w.u8(USER_CONNECTIONS).text(user);
        }
        Request::Stats => {
            w.u8(STATS);
        }
        Request::Info { id } => {
            w.u8(INFO).u64(*id);
        }
        Request::Detach => {
            w.u8(DETACH | q);
        }
        Request::Accept {
            id,
            subprotocol,
            headers,
            user,
        } => {
            w.u8(ACCEPT | q)
                .u64(*id)
                .text(subprotocol.as_deref().unwrap_or(""));
            w.pairs(headers).text(user.as_deref().unwrap_or(""));
        }
        Request::Reject { id, status, body } => {
            w.u8(REJECT | q).u64(*id).u16(*status).text(body);
        }
    }
    w.finish();
}

/// Appends an event (or the end marker) for a worker as one frame; replies
/// are written with `encode_reply`.
pub fn encode_to_worker(frame: &ToWorker, out: &mut Vec<u8>) {
    use types::*;
    match frame {
        ToWorker::Reply(reply) => return encode_reply(reply, out),
        ToWorker::Message { id, kind, data } => return encode_message_event(*id, *kind, data, out),
        _ => {}
    }
    let mut w = Writer::start(out);
    match frame {
        ToWorker::Reply(_) | ToWorker::Message { .. } => {}
        ToWorker::Open(open) => {
            let flags = u8::from(open.pending) | u8::from(open.resumed) << 1;
            w.u8(EVENT_OPEN)
                .u64(open.id)
                .text(&open.peer)
                .text(&open.path);
            w.text(&open.query).pairs(&open.headers);
            w.text(open.subprotocol.as_deref().unwrap_or("")).u8(flags);
            w.text(open.user.as_deref().unwrap_or(""))
                .u32(open.topics.len() as u32);
            for topic in &open.topics {
                w.text(topic);
            }
        }
        ToWorker::Close {
            id,
            code,
            reason,
            clean,
        } => {
            w.u8(EVENT_CLOSE)
                .u64(*id)
                .u16(*code)
                .text(reason)
                .u8(u8::from(*clean));
        }
        ToWorker::Detached => {
            w.u8(DETACHED);
        }
    }
    w.finish();
}

/// Decodes what the operator sent a worker, as `decode_request` does.
/// A `SEND`, encoded from borrowed bytes (a worker's hot path).
pub fn encode_send(id: u64, kind: MessageKind, data: &[u8], quiet: bool, out: &mut Vec<u8>) {
    let q = if quiet { QUIET } else { 0 };
    let mut w = Writer::start(out);
    w.u8(types::SEND | q).u64(id).kind(kind).bytes(data);
    w.finish();
}

/// A message event, encoded from borrowed bytes (the operator's hot path).
pub fn encode_message_event(id: u64, kind: MessageKind, data: &[u8], out: &mut Vec<u8>) {
    let mut w = Writer::start(out);
    w.u8(types::EVENT_MESSAGE).u64(id).kind(kind).bytes(data);
    w.finish();
}

pub fn decode_to_worker(input: &[u8], max: usize) -> Result<Option<(ToWorker, usize)>, WireError> {
    use types::*;
    let Some((body, used)) = frame(input, max)? else {
        return Ok(None);
    };
    let ty = *body
        .first()
        .ok_or_else(|| WireError("an empty frame".into()))?;
    if ty < EVENT_OPEN {
        return Ok(decode_reply(input, max)?.map(|(reply, used)| (ToWorker::Reply(reply), used)));
    }
    let mut r = Reader(&body[1..]);
    let frame = match ty {
        EVENT_OPEN => {
            let (id, peer, path, query) = (r.u64()?, r.text()?, r.text()?, r.text()?);
            let headers = r.pairs()?;
            let subprotocol = r.optional_text()?;
            let flags = r.u8()?;
            let user = r.optional_text()?;
            let n = r.count(4)?;
            let topics = (0..n).map(|_| r.text()).collect::<Result<_, _>>()?;
            ToWorker::Open(Box::new(WorkerOpen {
                id,
                peer,
                path,
                query,
                headers,
                subprotocol,
                pending: flags & 1 != 0,
                resumed: flags & 2 != 0,
                user,
                topics,
            }))
        }
        EVENT_MESSAGE => ToWorker::Message {
            id: r.u64()?,
            kind: r.kind()?,
            data: r.bytes()?,
        },
        EVENT_CLOSE => ToWorker::Close {
            id: r.u64()?,
            code: r.u16()?,
            reason: r.text()?,
            clean: r.u8()? != 0,
        },
        DETACHED => ToWorker::Detached,
        other => return Err(WireError(format!("unknown event type 0x{other:02x}"))),
    };
    r.end()?;
    Ok(Some((frame, used)))
}

/// Appends `reply` as one frame.
pub fn encode_reply(reply: &Reply, out: &mut Vec<u8>) {
    use types::*;
    let mut w = Writer::start(out);
    match reply {
        Reply::Ok { count } => {
            w.u8(OK).u64(*count);
        }
        Reply::Ids(ids) => {
            w.u8(IDS).u32(ids.len() as u32);
            for id in ids {
                w.u64(*id);
            }
        }
        Reply::Stats(stats) => {
            w.u8(STATS_REPLY).u32(stats.len() as u32);
            for (name, value) in stats {
                w.text(name).u64(*value);
            }
        }
        Reply::Info(f) => {
            w.u8(INFO_REPLY).u64(f.id).text(&f.peer).text(&f.path);
            w.text(&f.query)
                .text(f.subprotocol.as_deref().unwrap_or(""))
                .text(f.user.as_deref().unwrap_or(""));
            w.u8(u8::from(f.pending)).u64(f.connected_for_ms);
            w.u64(f.messages_in)
                .u64(f.messages_out)
                .u64(f.bytes_in)
                .u64(f.bytes_out)
                .u64(f.buffered);
        }
        Reply::Error { code, message } => {
            w.u8(ERROR).u16(*code as u16).text(message);
        }
    }
    w.finish();
}

/// Decodes the request at the start of `input`: `Ok(None)` until a whole
/// frame is there; else the request, whether it is quiet, and the bytes used.
/// A frame longer than `max` is an error, found from its length alone.
pub fn decode_request(
    input: &[u8],
    max: usize,
) -> Result<Option<(Request, bool, usize)>, WireError> {
    use types::*;
    let Some((body, used)) = frame(input, max)? else {
        return Ok(None);
    };
    let mut r = Reader(body);
    let ty = r.u8()?;
    let quiet = ty & QUIET != 0;
    let request = match ty & !QUIET {
        HELLO if !quiet => {
            let magic = r.text()?;
            if magic != MAGIC {
                return Err(WireError(format!("expected {MAGIC:?}, got {magic:?}")));
            }
            let role = match r.u8()? {
                1 => Role::Client,
                2 => Role::Worker,
                other => return Err(WireError(format!("unknown role {other}"))),
            };
            Request::Hello {
                role,
                secret: r.text()?,
            }
        }
        SEND => Request::Send {
            id: r.u64()?,
            kind: r.kind()?,
            data: r.bytes()?,
        },
        PUBLISH => Request::Publish {
            topic: r.text()?,
            kind: r.kind()?,
            data: r.bytes()?,
            except: r.u64()?,
        },
        SEND_TO_USER => Request::SendToUser {
            user: r.text()?,
            kind: r.kind()?,
            data: r.bytes()?,
        },
        BROADCAST => Request::Broadcast {
            kind: r.kind()?,
            data: r.bytes()?,
            except: r.u64()?,
        },
        CLOSE => Request::Close {
            id: r.u64()?,
            code: r.u16()?,
            reason: r.text()?,
        },
        SUBSCRIBE => Request::Subscribe {
            id: r.u64()?,
            topic: r.text()?,
        },
        UNSUBSCRIBE => Request::Unsubscribe {
            id: r.u64()?,
            topic: r.text()?,
        },
        BIND_USER => Request::BindUser {
            id: r.u64()?,
            user: r.text()?,
        },
        UNBIND_USER => Request::UnbindUser { id: r.u64()? },
        USER_CONNECTIONS => Request::UserConnections { user: r.text()? },
        STATS => Request::Stats,
        INFO => Request::Info { id: r.u64()? },
        DETACH => Request::Detach,
        ACCEPT => Request::Accept {
            id: r.u64()?,
            subprotocol: r.optional_text()?,
            headers: r.pairs()?,
            user: r.optional_text()?,
        },
        REJECT => Request::Reject {
            id: r.u64()?,
            status: r.u16()?,
            body: r.text()?,
        },
        other => return Err(WireError(format!("unknown command type 0x{other:02x}"))),
    };
    r.end()?;
    let question = matches!(
        request,
        Request::UserConnections { .. } | Request::Stats | Request::Info { .. }
    );
    if quiet && question {
        return Err(WireError("a question cannot be quiet".into()));
    }
    Ok(Some((request, quiet, used)))
}

/// Decodes the reply at the start of `input`, as `decode_request` does.
pub fn decode_reply(input: &[u8], max: usize) -> Result<Option<(Reply, usize)>, WireError> {
    use types::*;
    let Some((body, used)) = frame(input, max)? else {
        return Ok(None);
    };
    let mut r = Reader(body);
    let reply = match r.u8()? {
        OK => Reply::Ok { count: r.u64()? },
        IDS => {
            let n = r.count(8)?;
            Reply::Ids((0..n).map(|_| r.u64()).collect::<Result<_, _>>()?)
        }
        STATS_REPLY => {
            let n = r.count(12)?;
            let pair = |r: &mut Reader| Ok::<_, WireError>((r.text()?, r.u64()?));
            Reply::Stats((0..n).map(|_| pair(&mut r)).collect::<Result<_, _>>()?)
        }
        INFO_REPLY => Reply::Info(Box::new(ConnFacts {
            id: r.u64()?,
            peer: r.text()?,
            path: r.text()?,
            query: r.text()?,
            subprotocol: r.optional_text()?,
            user: r.optional_text()?,
            pending: r.u8()? != 0,
            connected_for_ms: r.u64()?,
            messages_in: r.u64()?,
            messages_out: r.u64()?,
            bytes_in: r.u64()?,
            bytes_out: r.u64()?,
            buffered: r.u64()?,
        })),
        ERROR => {
            let code = r.u16()?;
            let code = ErrorCode::from_u16(code)
                .ok_or_else(|| WireError(format!("unknown error code {code}")))?;
            Reply::Error {
                code,
                message: r.text()?,
            }
        }
        other => return Err(WireError(format!("unknown reply type 0x{other:02x}"))),
    };
    r.end()?;
    Ok(Some((reply, used)))
}

/// The body of the frame at the start of `input` and the bytes it takes.
fn frame(input: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, WireError> {
    let Some(header) = input.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if len == 0 {
        return Err(WireError("an empty frame".into()));
    }
    if len > max {
        return Err(WireError(format!(
            "a frame of {len} bytes; at most {max} are allowed"
        )));
    }
    Ok(input.get(4..4 + len).map(|body| (body, 4 + len)))
}

/// Writes one frame's fields, then its length in front.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
}

impl<'a> Writer<'a> {
    fn start(out: &'a mut Vec<u8>) -> Writer<'a> {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        Writer { out, start }
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.out.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32);
        self.out.extend_from_slice(v);
        self
    }
    fn text(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }
    fn pairs(&mut self, pairs: &[(String, String)]) -> &mut Self {
        self.u32(pairs.len() as u32);
        for (name, value) in pairs {
            self.text(name).text(value);
        }
        self
    }
    fn kind(&mut self, kind: MessageKind) -> &mut Self {
        self.u8(match kind {
            MessageKind::Text => 1,
            MessageKind::Binary => 2,
        })
    }
    fn finish(&mut self) {
        let len = (self.out.len() - self.start - 4) as u32;
        self.out[self.start..self.start + 4].copy_from_slice(&len.to_be_bytes());
    }
}

/// Reads one frame's fields; every read is checked against what is left.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        if self.0.len() < n {
            return Err(WireError("a frame ends inside a field".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let mut b = [0; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }
    /// A count of items of at least `each` bytes, checked against what is left
    /// so that it cannot make us allocate more than the frame holds.
    fn count(&mut self, each: usize) -> Result<usize, WireError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(each) > self.0.len() {
            return Err(WireError(format!(
                "a count of {n} items does not fit the frame"
            )));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn text(&mut self) -> Result<String, WireError> {
        String::from_utf8(self.bytes()?).map_err(|_| WireError("text that is not UTF-8".into()))
    }
    /// Text where empty means none.
    fn optional_text(&mut self) -> Result<Option<String>, WireError> {
        let text = self.text()?;
        Ok((!text.is_empty()).then_some(text))
    }
    fn pairs(&mut self) -> Result<Vec<(String, String)>, WireError> {
        let n = self.count(8)?;
        (0..n).map(|_| Ok((self.text()?, self.text()?))).collect()
    }
    fn kind(&mut self) -> Result<MessageKind, WireError> {
        match self.u8()? {
            1 => Ok(MessageKind::Text),
            2 => Ok(MessageKind::Binary),
            other => Err(WireError(format!("unknown message kind {other}"))),
        }
    }
    fn end(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError(format!(
                "{} bytes after the last field",
                self.0.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1 << 20;

    fn requests() -> Vec<Request> {
        let text = MessageKind::Text;
        vec![
            Request::Hello {
                role: Role::Client,
                secret: "s3cret".into(),
            },
            Request::Send {
                id: 7,
                kind: MessageKind::Binary,
                data: vec![0, 255],
            },
            Request::Publish {
                topic: "news".into(),
                kind: text,
                data: b"hi".to_vec(),
                except: 9,
            },
            Request::SendToUser {
                user: "ann".into(),
                kind: text,
                data: Vec::new(),
            },
            Request::Broadcast {
                kind: text,
                data: b"all".to_vec(),
                except: 0,
            },
            Request::Close {
                id: 1,
                code: 4000,
                reason: "bye".into(),
            },
            Request::Subscribe {
                id: 2,
                topic: "t".into(),
            },
            Request::Unsubscribe {
                id: 2,
                topic: "t".into(),
            },
            Request::BindUser {
                id: 3,
                user: "bob".into(),
            },
            Request::UnbindUser { id: 3 },
            Request::UserConnections { user: "bob".into() },
            Request::Stats,
            Request::Info { id: 6 },
            Request::Detach,
            Request::Accept {
                id: 4,
                subprotocol: Some("chat".into()),
                headers: vec![("Set-Cookie".into(), "a=b".into())],
                user: None,
            },
            Request::Reject {
                id: 5,
                status: 403,
                body: "no".into(),
            },
        ]
    }

    #[test]
    fn worker_frames_round_trip() {
        let frames = [
            ToWorker::Reply(Reply::Ok { count: 1 }),
            ToWorker::Open(Box::new(WorkerOpen {
                id: 1,
                peer: "127.0.0.1:5000".into(),
                path: "/chat".into(),
                query: "a=1".into(),
                headers: vec![("Origin".into(), "https://x".into())],
                subprotocol: None,
                pending: true,
                resumed: true,
                user: Some("ann".into()),
                topics: vec!["news".into(), "sport".into()],
            })),
            ToWorker::Message {
                id: 2,
                kind: MessageKind::Binary,
                data: vec![1, 2],
            },
            ToWorker::Close {
                id: 2,
                code: 1000,
                reason: "bye".into(),
                clean: true,
            },
            ToWorker::Detached,
        ];
        let mut stream = Vec::new();
        for frame in &frames {
            encode_to_worker(frame, &mut stream);
        }
        let mut at = 0;
        for frame in frames {
            let (got, used) = decode_to_worker(&stream[at..], MAX).unwrap().unwrap();
            assert_eq!(got, frame);
            at += used;
        }
        assert_eq!(at, stream.len());
    }

    #[test]
    fn requests_round_trip_one_by_one_and_batched() {
        let mut batch = Vec::new();
        for (i, request) in requests().into_iter().enumerate() {
            let question = matches!(
                request,
                Request::Hello { .. }
                    | Request::UserConnections { .. }
                    | Request::Stats
                    | Request::Info { .. }
            );
            let quiet = i % 2 == 1 && !question;
            let mut one = Vec::new();
            encode_request(&request, quiet, &mut one);
            assert_eq!(
                decode_request(&one, MAX),
                Ok(Some((request.clone(), quiet, one.len())))
            );
            // Every prefix is incomplete, never an error.
            for cut in 0..one.len() {
                assert_eq!(
                    decode_request(&one[..cut], MAX),
                    Ok(None),
                    "{request:?} cut at {cut}"
                );
            }
            batch.extend_from_slice(&one);
        }
        let mut at = 0;
        let mut n = 0;
        while let Some((_, _, used)) = decode_request(&batch[at..], MAX).unwrap() {
            at += used;
            n += 1;
        }
        assert_eq!((n, at), (requests().len(), batch.len()));
    }

    #[test]
    fn replies_round_trip() {
        let replies = [
            Reply::Ok { count: 3 },
            Reply::Info(Box::new(ConnFacts {
                id: 7,
                peer: "127.0.0.1:5000".into(),
                path: "/chat".into(),
                query: "a=1".into(),
                subprotocol: Some("chat".into()),
                user: None,
                pending: true,
                connected_for_ms: 1500,
                messages_in: 1,
                messages_out: 2,
                bytes_in: 3,
                bytes_out: 4,
                buffered: 5,
            })),
            Reply::Ids(vec![1, 2, u64::MAX]),
            Reply::Stats(vec![("connections".into(), 5), ("dropped".into(), 0)]),
            Reply::Error {
                code: ErrorCode::UnknownConnection,
                message: "gone".into(),
            },
        ];
        for reply in replies {
            let mut out = Vec::new();
            encode_reply(&reply, &mut out);
            assert_eq!(decode_reply(&out, MAX), Ok(Some((reply, out.len()))));
        }
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        let bad: [&[u8]; 7] = [
            &[0, 0, 0, 0],                                               // empty
            &[0, 0, 0, 1, 0x7f],                                         // unknown type
            &[0, 0, 0, 2, 0x10, 1],                                      // ends inside a field
            &[0, 0, 0, 14, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0, 0, 0, 0], // kind 9
            &[0, 0, 0, 2, 0x1a, 0],    // a byte after the last field
            &[0xff, 0xff, 0xff, 0xff], // longer than allowed
            &[0, 0, 0, 5, 0x81, 0xff, 0xff, 0xff, 0xff], // a count past the frame
        ];
        for input in bad {
            let request = decode_request(input, MAX);
            let reply = decode_reply(input, MAX);
            assert!(request.is_err() || reply.is_err(), "{input:?}");
        }
        let mut hello = Vec::new();
        encode_request(
            &Request::Hello {
                role: Role::Client,
                secret: String::new(),
            },
            false,
            &mut hello,
        );
        hello[9] = b'X'; // the magic
        assert!(decode_request(&hello, MAX).is_err());
    }
}
