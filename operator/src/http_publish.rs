//! `POST /publish` over plain HTTP, for languages without a control client:
//! a bearer key, a JSON body naming a target and a payload (or a list of
//! them), and a JSON answer. One short-lived thread per request; bodies are
//! bounded. See docs/deploy.md.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::control::server::same_secret;
use switchboard::http::{http_response, RequestParser};
use switchboard::server::{ConnId, Handle, MessageKind};

/// Requests served at once; more get 503.
const MAX_REQUESTS: usize = 64;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long, and how much, a closing connection reads what the client still sends.
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 256 * 1024;
/// The largest request head.
const MAX_HEAD: usize = 8 * 1024;

/// Serves `POST /publish` on `listener` until the process ends.
pub fn serve(listener: TcpListener, handle: Handle, key: String) {
    let busy = Arc::new(AtomicUsize::new(0));
    let key = Arc::new(key);
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if busy.fetch_add(1, Ordering::AcqRel) >= MAX_REQUESTS {
            busy.fetch_sub(1, Ordering::AcqRel);
            answer(
                &mut stream,
                503,
                &json!({"error": "too many requests at once"}),
            );
            continue;
        }
        let (handle, key, busy) = (handle.clone(), key.clone(), busy.clone());
        let spawned = std::thread::Builder::new()
            .name("switchboard-http".into())
            .spawn(move || {
                serve_one(&mut stream, &handle, &key);
                busy.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            // The stream went with the closure: the client sees its connection close.
        }
    }
}

/// Binds the endpoint's address (TCP, usually 127.0.0.1).
pub fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), String> {
    let listener = TcpListener::bind(addr).map_err(|e| format!("--http-publish {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("--http-publish {addr}: {e}"))?;
    Ok((listener, local))
}

fn serve_one(stream: &mut TcpStream, handle: &Handle, key: &str) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let max_body = handle
        .max_message_size()
        .saturating_mul(2)
        .saturating_add(64 * 1024);
    let (status, body) = match read_request(stream, key, max_body) {
        Ok(body) => publish(handle, &body),
        Err((status, message)) => (status, json!({ "error": message })),
    };
    answer(stream, status, &body);
    linger(stream);
}

/// Closes gently: a request refused before its body was read (a wrong key,
/// say) leaves bytes unread, and closing on them sends a reset that can
/// destroy the answer before the client reads it. So the write side closes
/// first and what the client still sends is read and dropped, within bounds.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let mut sink = [0u8; 4096];
    let mut left = LINGER_BYTES;
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// The request's JSON body, once the method, path, key and length are right.
fn read_request(
    stream: &mut TcpStream,
    key: &str,
    max_body: usize,
) -> Result<Value, (u16, String)> {
    let mut parser = RequestParser::new(MAX_HEAD);
    let mut chunk = [0u8; 16 * 1024];
    let (request, mut body) = loop {
        let n = stream
            .read(&mut chunk)
            .map_err(|e| (400, format!("reading the request: {e}")))?;
        if n == 0 {
            return Err((400, "the request ended early".into()));
        }
        match parser.feed(&chunk[..n]) {
            Ok(Some((request, used))) => break (request, chunk[used..n].to_vec()),
            Ok(None) => continue,
            Err(e) => return Err((e.status, e.reason)),
        }
    };
    if request.method != "POST" || request.path != "/publish" {
        return Err((404, "only POST /publish is served here".into()));
    }
    let bearer = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|given| same_secret(given.as_bytes(), key.as_bytes())) {
        return Err((401, "a valid Authorization: Bearer key is required".into()));
    }
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .ok_or((411, "Content-Length is required".to_string()))?;
    if length > max_body {
        return Err((
            413,
            format!("the body is {length} bytes; at most {max_body} are allowed"),
        ));
    }
    while body.len() < length {
        let n = stream
            .read(&mut chunk)
            .map_err(|e| (400, format!("reading the body: {e}")))?;
        if n == 0 {
            return Err((400, "the body ended early".into()));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    serde_json::from_slice(&body).map_err(|e| (400, format!("the body is not JSON: {e}")))
}

/// Runs one publish or a list of them; 200 with a result per item (a count
/// or an error), or 400 when the body has no item.
fn publish(handle: &Handle, body: &Value) -> (u16, Value) {
    let items: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        item => vec![item],
    };
    if items.is_empty() {
        return (400, json!({"error": "no message to publish"}));
    }
    let results: Vec<Value> = items
        .into_iter()
        .map(|item| match publish_one(handle, item) {
            Ok(count) => json!({ "ok": true, "count": count }),
            Err(message) => json!({ "ok": false, "error": message }),
        })
        .collect();
    (200, json!({ "results": results }))
}

/// One item: `{"topic"|"user"|"id"|"broadcast": ..., "data": "text"}` or
/// `"data_base64"` for a binary message. Returns connections reached where
/// known (`user`), else 0.
fn publish_one(handle: &Handle, item: &Value) -> Result<u64, String> {
    let (kind, data) = payload(item)?;
    let except = item
        .get("except")
        .and_then(Value::as_u64)
        .map(ConnId::from_u64);
    let result = if let Some(topic) = item.get("topic").and_then(Value::as_str) {
        handle.publish(topic, kind, &data, except).map(|()| 0)
    } else if let Some(user) = item.get("user").and_then(Value::as_str) {
        handle.send_to_user(user, kind, &data).map(|n| n as u64)
    } else if let Some(id) = item.get("id").and_then(Value::as_u64) {
        handle.send(ConnId::from_u64(id), kind, &data).map(|()| 1)
    } else if item.get("broadcast") == Some(&Value::Bool(true)) {
        handle.broadcast(kind, &data, except).map(|()| 0)
    } else {
        return Err("name a target: \"topic\", \"user\", \"id\" or \"broadcast\": true".into());
    };
    result.map_err(|e| e.to_string())
}

fn payload(item: &Value) -> Result<(MessageKind, Vec<u8>), String> {
    if let Some(text) = item.get("data").and_then(Value::as_str) {
        return Ok((MessageKind::Text, text.as_bytes().to_vec()));
    }
    if let Some(encoded) = item.get("data_base64").and_then(Value::as_str) {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("data_base64: {e}"))?;
        return Ok((MessageKind::Binary, data));
    }
    Err("give the message as \"data\" (text) or \"data_base64\" (binary)".into())
}

fn answer(stream: &mut TcpStream, status: u16, body: &Value) {
    let body = body.to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("Connection", "close"),
    ];
    let _ = stream.write_all(&http_response(status, &headers, body.as_bytes()));
}
