//! The command line: the server's options, the control socket and the
//! backlog, each flag checked with a message that names it.

use std::path::PathBuf;
use std::time::Duration;

use switchboard::control::address::ControlAddress;
use switchboard::control::hub::BacklogLimits;
use switchboard::server::Config;

pub const USAGE: &str =
    "usage: switchboard --control unix:PATH|tcp:HOST:PORT [--control-secret S] \
[--listen ADDR]... [--threads N] [--authorize] [--backlog-bytes BYTES] [--backlog-seconds SECS] \
[--max-connections N] [--max-message-size BYTES] [--max-buffered BYTES] \
[--handshake-timeout SECS] [--idle-timeout SECS] [--ping-interval SECS] [--close-timeout SECS] \
[--subprotocol NAME]... [--allow-origin PATTERN]... [--static-dir DIR] \
[--tls-cert FILE --tls-key FILE] [--event-queue-bytes BYTES] \
[--http-publish IP:PORT --http-key KEY] \
(ADDR: IP:PORT, or tls://IP:PORT; default 127.0.0.1:9001)";

/// What the command line asks for.
pub struct Args {
    pub config: Config,
    pub control: ControlAddress,
    pub secret: Option<String>,
    pub backlog: BacklogLimits,
    /// `POST /publish` on this address, with this bearer key.
    pub http_publish: Option<(String, String)>,
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut config = Config::new();
    let mut control = None;
    let mut secret = std::env::var("SWITCHBOARD_CONTROL_SECRET").ok();
    let mut backlog = BacklogLimits::default();
    let mut http_publish = None;
    let mut http_key = std::env::var("SWITCHBOARD_HTTP_KEY").ok();
    let mut listen = false;
    let (mut cert, mut key) = (None::<PathBuf>, None::<PathBuf>);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "-h" | "--help" => return Err("help".into()),
            "--authorize" => {
                config.authorize(true);
                continue;
            }
            _ => {}
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let v = value.as_str();
        match flag.as_str() {
            "--control" => {
                control = Some(ControlAddress::parse(v).map_err(|e| format!("--control: {e}"))?)
            }
            "--control-secret" => secret = Some(value),
            "--http-publish" => http_publish = Some(value),
            "--http-key" => http_key = Some(value),
            "--backlog-bytes" => backlog.bytes = number(&flag, v)?,
            "--backlog-seconds" => backlog.age = seconds(&flag, v)?,
            "--listen" => {
                config.listen_str(v).map_err(|e| format!("--listen: {e}"))?;
                listen = true;
            }
            "--threads" => {
                config.threads(number(&flag, v)?);
            }
            "--max-connections" => {
                config.max_connections(number(&flag, v)?);
            }
            "--max-message-size" => {
                config.max_message_size(number(&flag, v)?);
            }
            "--max-buffered" => {
                config.max_buffered(number(&flag, v)?);
            }
            "--handshake-timeout" => {
                config.handshake_timeout(seconds(&flag, v)?);
            }
            "--idle-timeout" => {
                config.idle_timeout(seconds(&flag, v)?);
            }
            "--close-timeout" => {
                config.close_timeout(seconds(&flag, v)?);
            }
            "--ping-interval" => {
                let every = seconds(&flag, v)?;
                config.ping_interval((!every.is_zero()).then_some(every));
            }
            "--subprotocol" => {
                config.subprotocol(v);
            }
            "--allow-origin" => {
                config.allow_origin(v);
            }
            "--static-dir" => {
                config.static_dir(Some(PathBuf::from(v)));
            }
            "--event-queue-bytes" => {
                let events = switchboard::server::defaults::EVENT_QUEUE_EVENTS;
                config.event_queue(events, number(&flag, v)?);
            }
            "--tls-cert" => cert = Some(PathBuf::from(v)),
            "--tls-key" => key = Some(PathBuf::from(v)),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    match (cert, key) {
        (Some(cert), Some(key)) => {
            config.tls(cert, key);
        }
        (None, None) => {}
        _ => return Err("--tls-cert and --tls-key go together".into()),
    }
    if !listen {
        config
            .listen_str("127.0.0.1:9001")
            .map_err(|e| e.to_string())?;
    }
    let control = control.ok_or("--control is required: where workers and clients attach")?;
    let http_key = http_key.filter(|k| !k.is_empty());
    let http_publish = match (http_publish, http_key) {
        (Some(addr), Some(key)) => Some((addr, key)),
        (Some(_), None) => {
            return Err("--http-publish needs --http-key (or SWITCHBOARD_HTTP_KEY)".into())
        }
        (None, _) => None,
    };
    Ok(Args {
        config,
        control,
        secret: secret.filter(|s| !s.is_empty()),
        backlog,
        http_publish,
    })
}

fn number(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not a whole number"))
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag}: {value:?} is not a number of seconds"))
}
