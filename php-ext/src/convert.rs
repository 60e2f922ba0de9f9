//! Engine values as PHP values: ids, binary-safe strings, the request, events,
//! connection info and counters.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use switchboard::control::wire::{ConnFacts, WorkerOpen};
use switchboard::server::{ConnId, ConnInfo, Error, Event, Open, Request, Stats};

use crate::exception::error;

/// Connection ids travel as PHP ints: the same 64 bits, so every id round-trips
/// (ids of I/O threads above 127 read as negative numbers).
pub fn id_to_php(id: ConnId) -> i64 {
    id.as_u64() as i64
}

pub fn id_from_php(id: i64) -> ConnId {
    ConnId::from_u64(id as u64)
}

/// `0` means "nobody", as in `broadcast($data, except: 0)`.
pub fn optional_id(id: i64) -> Option<ConnId> {
    (id != 0).then(|| id_from_php(id))
}

/// A PHP string holding exactly these bytes.
pub fn bytes(data: &[u8]) -> Zval {
    let mut z = Zval::new();
    z.set_zend_string(ZendStr::new(data, false));
    z
}

pub fn long(n: i64) -> Zval {
    let mut z = Zval::new();
    z.set_long(n);
    z
}

pub fn boolean(b: bool) -> Zval {
    let mut z = Zval::new();
    z.set_bool(b);
    z
}

pub fn array(ht: ZBox<ZendHashTable>) -> Zval {
    let mut z = Zval::new();
    z.set_hashtable(ht);
    z
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Inserts into an array built here; a failure is impossible for the plain values
/// used (it would only mean a value that cannot become a zval).
fn put(ht: &mut ZendHashTable, key: &str, value: impl IntoZval) {
    let _ = ht.insert(key, value);
}

fn optional_string(value: Option<&str>) -> Zval {
    match value {
        Some(s) => bytes(s.as_bytes()),
        None => {
            let mut z = Zval::new();
            z.set_null();
            z
        }
    }
}

/// The handshake request as `['method', 'path', 'query', 'peer', 'subprotocol',
/// 'protocols', 'headers' => [lowercase name => value], 'cookies' => [name => value]]`.
pub fn request(open: &Open) -> Zval {
    array(request_table(open))
}

/// A worker's `open` request: `request()`'s keys plus `resumed` (true when the
/// connection comes from a worker that left), `user` (?string) and `topics`
/// (list), what it had then, for the new worker to rebuild its state.
pub fn worker_request(open: &WorkerOpen) -> Zval {
    let mut ht = request_table(&switchboard::control::worker_event::to_open(open));
    put(&mut ht, "resumed", open.resumed);
    put(&mut ht, "user", optional_string(open.user.as_deref()));
    let mut topics = ZendHashTable::new();
    for topic in &open.topics {
        let _ = topics.push(bytes(topic.as_bytes()));
    }
    put(&mut ht, "topics", array(topics));
    array(ht)
}

fn request_table(open: &Open) -> ZBox<ZendHashTable> {
    let req = &open.request;
    let mut ht = ZendHashTable::new();
    put(&mut ht, "method", bytes(req.method.as_bytes()));
    put(&mut ht, "path", bytes(req.path.as_bytes()));
    put(&mut ht, "query", bytes(req.query.as_bytes()));
    put(&mut ht, "peer", bytes(open.peer.to_string().as_bytes()));
    put(
        &mut ht,
        "subprotocol",
        optional_string(open.subprotocol.as_deref()),
    );
    let mut protocols = ZendHashTable::new();
    for p in req.offered_subprotocols() {
        let _ = protocols.push(bytes(p.as_bytes()));
    }
    put(&mut ht, "protocols", array(protocols));
    put(&mut ht, "headers", array(headers(req)));
    put(&mut ht, "cookies", array(cookies(req)));
    ht
}

/// Header names lowercased; a repeated header's values joined with `, ` (`; ` for
/// cookies), as a PHP application expects one value per name.
fn headers(req: &Request) -> ZBox<ZendHashTable> {
    let mut merged: Vec<(String, String)> = Vec::with_capacity(req.headers.len());
    for (name, value) in &req.headers {
        let name = name.to_ascii_lowercase();
        match merged.iter_mut().find(|(n, _)| *n == name) {
            Some((n, v)) => {
                v.push_str(if n == "cookie" { "; " } else { ", " });
                v.push_str(value);
            }
            None => merged.push((name, value.clone())),
        }
    }
    let mut ht = ZendHashTable::with_capacity(u32::try_from(merged.len()).unwrap_or(8));
    for (name, value) in merged {
        put(&mut ht, &name, bytes(value.as_bytes()));
    }
    ht
}

/// Every cookie of the Cookie header(s); the first of a repeated name wins.
fn cookies(req: &Request) -> ZBox<ZendHashTable> {
    let mut ht = ZendHashTable::new();
    let pairs = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.split_once('='));
    for (name, value) in pairs {
        let name = name.trim_matches([' ', '\t']);
        let value = value.trim_matches([' ', '\t']);
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if !name.is_empty() && ht.get(name).is_none() {
            put(&mut ht, name, bytes(value.as_bytes()));
        }
    }
    ht
}

/// What `poll()` returns for one event. `handshake` is an `Open` waiting for
/// `accept()`/`reject()`; `request` is passed in because the caller keeps a copy.
pub fn event(event: &Event, request: Option<Zval>) -> Zval {
    let mut ht = ZendHashTable::new();
    match event {
        Event::Open(open) => {
            let kind = if open.pending { "handshake" } else { "open" };
            put(&mut ht, "type", kind);
            put(&mut ht, "id", id_to_php(open.id));
            put(
                &mut ht,
                "request",
                request.unwrap_or_else(|| self::request(open)),
            );
        }
        Event::Message { id, kind, data } => {
            put(&mut ht, "type", "message");
            put(&mut ht, "id", id_to_php(*id));
            put(&mut ht, "data", bytes(data));
            put(
                &mut ht,
                "binary",
                *kind == switchboard::server::MessageKind::Binary,
            );
        }
        Event::Close(close) => {
            put(&mut ht, "type", "close");
            put(&mut ht, "id", id_to_php(close.id));
            put(&mut ht, "code", i64::from(close.code));
            put(&mut ht, "reason", bytes(close.reason.as_bytes()));
            put(&mut ht, "clean", close.clean);
        }
    }
    array(ht)
}

/// An `open` event for a handshake the application accepted.
pub fn accepted(id: ConnId, request: Zval) -> Zval {
    opened("open", id, request)
}

/// An `open` or `handshake` event with its request.
pub fn opened(kind: &str, id: ConnId, request: Zval) -> Zval {
    let mut ht = ZendHashTable::new();
    put(&mut ht, "type", kind);
    put(&mut ht, "id", id_to_php(id));
    put(&mut ht, "request", request);
    array(ht)
}

/// `info()`'s array.
pub fn info(info: &ConnInfo) -> ZBox<ZendHashTable> {
    facts(&ConnFacts::from(info))
}

/// A close code as 16 bits; one beyond gets the engine's message for a code
/// not allowed, with the number as given.
pub fn close_code(code: i64) -> PhpResult<u16> {
    u16::try_from(code).map_err(|_| {
        let message = Error::InvalidCloseCode(0).to_string();
        error(message.replacen(" 0 ", &format!(" {code} "), 1))
    })
}

/// The array of `Server::info()` and `Worker::info()`.
pub fn facts(f: &ConnFacts) -> ZBox<ZendHashTable> {
    let mut ht = ZendHashTable::new();
    put(&mut ht, "id", id_to_php(ConnId::from_u64(f.id)));
    put(&mut ht, "peer", bytes(f.peer.as_bytes()));
    put(&mut ht, "path", bytes(f.path.as_bytes()));
    put(&mut ht, "query", bytes(f.query.as_bytes()));
    put(
        &mut ht,
        "subprotocol",
        optional_string(f.subprotocol.as_deref()),
    );
    put(&mut ht, "user", optional_string(f.user.as_deref()));
    put(&mut ht, "pending", f.pending);
    put(&mut ht, "connected_for", f.connected_for_ms as f64 / 1000.0);
    put(&mut ht, "messages_in", count(f.messages_in));
    put(&mut ht, "messages_out", count(f.messages_out));
    put(&mut ht, "bytes_in", count(f.bytes_in));
    put(&mut ht, "bytes_out", count(f.bytes_out));
    put(&mut ht, "buffered", count(f.buffered));
    ht
}

/// `stats()`'s array.
pub fn stats(s: &Stats) -> ZBox<ZendHashTable> {
    let mut ht = ZendHashTable::new();
    put(&mut ht, "connections", count(s.connections));
    put(&mut ht, "accepted", count(s.accepted));
    put(&mut ht, "handshakes_failed", count(s.handshakes_failed));
    put(&mut ht, "messages_in", count(s.messages_in));
    put(&mut ht, "messages_out", count(s.messages_out));
    put(&mut ht, "bytes_in", count(s.bytes_in));
    put(&mut ht, "bytes_out", count(s.bytes_out));
    put(&mut ht, "dropped", count(s.dropped));
    let c = &s.closed_by;
    let mut by = ZendHashTable::new();
    put(&mut by, "peer", count(c.peer));
    put(&mut by, "application", count(c.application));
    put(&mut by, "protocol_error", count(c.protocol_error));
    put(&mut by, "idle_timeout", count(c.idle_timeout));
    put(&mut by, "slow_consumer", count(c.slow_consumer));
    put(&mut by, "abnormal", count(c.abnormal));
    put(&mut by, "shutdown", count(c.shutdown));
    put(&mut ht, "closed_by", array(by));
    ht
}

/// PHP's name for a value's type, for error messages.
pub fn type_name(z: &Zval) -> &'static str {
    if z.is_long() {
        "int"
    } else if z.is_double() {
        "float"
    } else if z.is_string() {
        "string"
    } else if z.is_bool() {
        "bool"
    } else if z.is_array() {
        "array"
    } else if z.is_null() {
        "null"
    } else if z.is_object() {
        "object"
    } else {
        "resource"
    }
}
