//! The constructor's options array, checked by name and type, as an engine `Config`.
//! Every error names the option and the values it accepts.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use ext_php_rs::types::{ZendHashTable, Zval};
use switchboard::control::address::ControlAddress;
use switchboard::server::{defaults, limits, Config, NoMatchingSubprotocol};

use crate::convert::type_name;

/// Every option with what it accepts, in the order the documentation lists them.
pub const OPTIONS: &[(&str, &str)] = &[
    (
        "listen",
        "an \"IP:port\" (or \"tls://IP:port\") string or a list of them (required)",
    ),
    ("threads", "an int{range} (0: no I/O thread)"),
    ("reuse_port", "a bool"),
    ("max_connections", "an int{range}"),
    ("max_message_size", "an int{range} (bytes)"),
    ("max_buffered", "an int{range} (bytes)"),
    ("max_head_size", "an int{range} (bytes)"),
    ("handshake_timeout", "a number of seconds greater than 0"),
    ("idle_timeout", "a number of seconds greater than 0"),
    ("close_timeout", "a number of seconds greater than 0"),
    ("ping_interval", "a number of seconds (0 or null: no pings)"),
    ("subprotocols", "a string or a list of strings"),
    ("require_subprotocol", "a bool"),
    ("allowed_origins", "a string or a list of strings"),
    ("allow_missing_origin", "a bool"),
    ("authorize", "a bool"),
    ("static_dir", "a directory path string, or null"),
    ("event_queue_events", "an int{range}"),
    ("event_queue_bytes", "an int{range}"),
    ("max_unhandled_messages", "an int{range}"),
    ("max_unhandled_bytes", "an int{range} (bytes)"),
    ("tls_cert", "a path string (a PEM certificate chain)"),
    ("tls_key", "a path string (a PEM private key)"),
    (
        "control",
        "a control socket address string (\"unix:/path\" or \"tcp:HOST:PORT\"), or null",
    ),
    ("control_secret", "a string"),
];

/// What the options decide.
pub struct Options {
    pub config: Config,
    pub authorize: bool,
    /// The control socket to open with the server, and its secret.
    pub control: Option<ControlAddress>,
    pub control_secret: Option<String>,
}

/// Reads and checks the options array.
pub fn parse(options: &ZendHashTable) -> Result<Options, String> {
    let mut config = Config::new();
    let mut authorize = false;
    let mut listen = false;
    let mut ping_interval = Some(defaults::PING_INTERVAL);
    let mut queue = (defaults::EVENT_QUEUE_EVENTS, defaults::EVENT_QUEUE_BYTES);
    let mut unhandled = (
        defaults::MAX_UNHANDLED_MESSAGES,
        defaults::MAX_UNHANDLED_BYTES,
    );
    let (mut tls_cert, mut tls_key) = (None, None);
    let (mut control, mut control_secret) = (None, None);
    for (key, value) in options.iter() {
        let name = key.to_string();
        let Some(&(name, accepts_template)) = OPTIONS.iter().find(|(n, _)| *n == name) else {
            let known: Vec<&str> = OPTIONS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown option \"{name}\"; the options are: {}",
                known.join(", ")
            ));
        };
        let bad = || {
            format!(
                "option \"{name}\" must be {}, {} given",
                accepts(name, accepts_template),
                describe(value)
            )
        };
        match name {
            "listen" => {
                for addr in strings(value).ok_or_else(bad)? {
                    config.listen_str(&addr).map_err(|_| {
                        format!(
                            "option \"listen\": {addr:?} is not an IP:port (or tls://IP:port) address"
                        )
                    })?;
                    listen = true;
                }
            }
            "threads" => {
                config.threads(int(value, limits::THREADS).ok_or_else(bad)?);
            }
            "reuse_port" => {
                config.reuse_port(value.bool().ok_or_else(bad)?);
            }
            "max_connections" => {
                config.max_connections(int(value, limits::MAX_CONNECTIONS).ok_or_else(bad)?);
            }
            "max_message_size" => {
                config.max_message_size(int(value, limits::MAX_MESSAGE_SIZE).ok_or_else(bad)?);
            }
            "max_buffered" => {
                config.max_buffered(int(value, limits::MAX_BUFFERED).ok_or_else(bad)?);
            }
            "max_head_size" => {
                config.max_head_size(int(value, limits::MAX_HEAD_SIZE).ok_or_else(bad)?);
            }
            "handshake_timeout" => {
                config.handshake_timeout(positive_seconds(value).ok_or_else(bad)?);
            }
            "idle_timeout" => {
                config.idle_timeout(positive_seconds(value).ok_or_else(bad)?);
            }
            "close_timeout" => {
                config.close_timeout(positive_seconds(value).ok_or_else(bad)?);
            }
            "ping_interval" => {
                ping_interval = if value.is_null() {
                    None
                } else {
                    let t = seconds(value).ok_or_else(bad)?;
                    (!t.is_zero()).then_some(t)
                };
            }
            "subprotocols" => {
                for p in strings(value).ok_or_else(bad)? {
                    config.subprotocol(&p);
                }
            }
            "require_subprotocol" => {
                if value.bool().ok_or_else(bad)? {
                    config.no_matching_subprotocol(NoMatchingSubprotocol::Reject);
                }
            }
            "allowed_origins" => {
                for o in strings(value).ok_or_else(bad)? {
                    config.allow_origin(&o);
                }
            }
            "allow_missing_origin" => {
                config.allow_missing_origin(value.bool().ok_or_else(bad)?);
            }
            "authorize" => {
                authorize = value.bool().ok_or_else(bad)?;
                config.authorize(authorize);
            }
            "static_dir" => {
                let dir = if value.is_null() {
                    None
                } else {
                    Some(PathBuf::from(value.str().ok_or_else(bad)?))
                };
                config.static_dir(dir);
            }
            "event_queue_events" => queue.0 = int(value, limits::EVENT_QUEUE).ok_or_else(bad)?,
            "event_queue_bytes" => queue.1 = int(value, limits::EVENT_QUEUE).ok_or_else(bad)?,
            "max_unhandled_messages" => {
                unhandled.0 = int(value, limits::EVENT_QUEUE).ok_or_else(bad)?;
            }
            "max_unhandled_bytes" => {
                unhandled.1 = int(value, limits::EVENT_QUEUE).ok_or_else(bad)?;
            }
            "tls_cert" => tls_cert = Some(PathBuf::from(value.str().ok_or_else(bad)?)),
            "tls_key" => tls_key = Some(PathBuf::from(value.str().ok_or_else(bad)?)),
            "control" if value.is_null() => control = None,
            "control" => {
                let text = value.str().ok_or_else(bad)?;
                let address =
                    ControlAddress::parse(text).map_err(|e| format!("option \"control\": {e}"))?;
                control = Some(address);
            }
            "control_secret" => {
                control_secret = Some(value.str().ok_or_else(bad)?.to_string());
            }
            _ => return Err(bad()),
        }
    }
    if !listen {
        return Err(
            "option \"listen\" is required: an \"IP:port\" string or a list of them".into(),
        );
    }
    match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => {
            config.tls(cert, key);
        }
        (None, None) => {}
        _ => return Err("options \"tls_cert\" and \"tls_key\" go together".into()),
    }
    config.ping_interval(ping_interval);
    config.event_queue(queue.0, queue.1);
    config.max_unhandled(unhandled.0, unhandled.1);
    Ok(Options {
        config,
        authorize,
        control,
        control_secret: control_secret.filter(|s| !s.is_empty()),
    })
}

/// `int`, or `int(7)`, for messages.
fn describe(value: &Zval) -> String {
    match (value.long(), value.str()) {
        (Some(n), _) => format!("int({n})"),
        (_, Some(s)) if s.len() <= 40 => format!("string({s:?})"),
        _ => type_name(value).to_string(),
    }
}

fn int(value: &Zval, range: RangeInclusive<usize>) -> Option<usize> {
    let n = usize::try_from(value.long()?).ok()?;
    range.contains(&n).then_some(n)
}

/// The range an int option takes, from the engine's limits.
fn range_of(name: &str) -> Option<RangeInclusive<usize>> {
    Some(match name {
        "threads" => limits::THREADS,
        "max_connections" => limits::MAX_CONNECTIONS,
        "max_message_size" => limits::MAX_MESSAGE_SIZE,
        "max_buffered" => limits::MAX_BUFFERED,
        "max_head_size" => limits::MAX_HEAD_SIZE,
        "event_queue_events" | "event_queue_bytes" => limits::EVENT_QUEUE,
        "max_unhandled_messages" | "max_unhandled_bytes" => limits::EVENT_QUEUE,
        _ => return None,
    })
}

/// What an option accepts, its `{range}` written from the engine's limits.
fn accepts(name: &str, template: &str) -> String {
    let range = match range_of(name) {
        Some(r) if *r.end() == usize::MAX => format!(" of at least {}", r.start()),
        Some(r) => format!(" from {} to {}", r.start(), r.end()),
        None => String::new(),
    };
    template.replace("{range}", &range)
}

/// A non-negative, finite number of seconds, at most the engine's longest
/// duration (so that deadlines cannot overflow).
fn seconds(value: &Zval) -> Option<Duration> {
    let s = match value.long() {
        Some(n) => n as f64,
        None => value.double()?,
    };
    if !(0.0..=limits::MAX_DURATION.as_secs_f64()).contains(&s) {
        return None;
    }
    Duration::try_from_secs_f64(s).ok()
}

fn positive_seconds(value: &Zval) -> Option<Duration> {
    seconds(value).filter(|d| !d.is_zero())
}

/// A string, or a list (any array) of strings.
fn strings(value: &Zval) -> Option<Vec<String>> {
    if let Some(s) = value.str() {
        return Some(vec![s.to_string()]);
    }
    value
        .array()?
        .values()
        .map(|v| v.str().map(str::to_string))
        .collect()
}
