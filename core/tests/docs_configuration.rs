//! docs/configuration.md against the code, so that option defaults and ranges are written
//! once, in the engine, and the document cannot drift from them:
//!
//! - every default written in the table is the constant in `switchboard::server::defaults`;
//! - every range written in the table is the one `Config::validate` enforces: its bounds
//!   are accepted and the values just outside are refused, naming the option;
//! - every option key of the PHP extension and every `sb_config_*` function of the C
//!   header has its row, so no option goes undocumented; the echo flags written exist.
//!
//! Only the public API and the files themselves are used.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use switchboard::server::{defaults, Config};

const DOC: &str = "docs/configuration.md";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Count,
    Bytes,
    Time,
}

/// A documented amount in base units (a count, bytes, or nanoseconds) and its kind.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Amount(u128, Kind);

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Kind::Count => write!(f, "{}", self.0),
            Kind::Bytes => write!(f, "{} B", self.0),
            Kind::Time => write!(f, "{:?}", Duration::from_nanos(self.0 as u64)),
        }
    }
}

/// One row of the options table.
struct Row {
    option: String,
    c: String,
    flag: String,
    default: String,
    range: String,
}

#[test]
fn configuration_doc_matches_the_code() {
    let rows = options_table(&read(DOC));
    let mut problems = Vec::new();
    check_defaults(&rows, &mut problems);
    check_ranges(&rows, &mut problems);
    check_bindings(&rows, &mut problems);
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{DOC} disagrees with the code:\n  {}",
        problems.join("\n  ")
    );
}

/// The engine's defaults, by option (the table's `option` column).
fn engine_defaults() -> Vec<(&'static str, Amount)> {
    let count = |n: usize| Amount(n as u128, Kind::Count);
    let bytes = |n: usize| Amount(n as u128, Kind::Bytes);
    let time = |d: Duration| Amount(d.as_nanos(), Kind::Time);
    vec![
        ("max_connections", count(defaults::MAX_CONNECTIONS)),
        ("max_message_size", bytes(defaults::MAX_MESSAGE_SIZE)),
        ("max_buffered", bytes(defaults::MAX_BUFFERED)),
        ("max_head_size", bytes(defaults::MAX_HEAD_SIZE)),
        ("handshake_timeout", time(defaults::HANDSHAKE_TIMEOUT)),
        ("idle_timeout", time(defaults::IDLE_TIMEOUT)),
        ("close_timeout", time(defaults::CLOSE_TIMEOUT)),
        ("ping_interval", time(defaults::PING_INTERVAL)),
        ("event_queue_events", count(defaults::EVENT_QUEUE_EVENTS)),
        ("event_queue_bytes", bytes(defaults::EVENT_QUEUE_BYTES)),
        (
            "max_unhandled_messages",
            count(defaults::MAX_UNHANDLED_MESSAGES),
        ),
        ("max_unhandled_bytes", bytes(defaults::MAX_UNHANDLED_BYTES)),
    ]
}

/// Sets an option to a value in base units and says what kind of value it takes; `None`
/// for an option this test does not know.
fn set(config: &mut Config, option: &str, value: u128) -> Option<Kind> {
    let n = || usize::try_from(value).expect("a size that fits in usize");
    let d = || Duration::from_nanos(u64::try_from(value).expect("a duration below 584 years"));
    let (kind, _) = match option {
        "threads" => (Kind::Count, config.threads(n())),
        "max_connections" => (Kind::Count, config.max_connections(n())),
        "max_message_size" => (Kind::Bytes, config.max_message_size(n())),
        "max_buffered" => (Kind::Bytes, config.max_buffered(n())),
        "max_head_size" => (Kind::Bytes, config.max_head_size(n())),
        "handshake_timeout" => (Kind::Time, config.handshake_timeout(d())),
        "idle_timeout" => (Kind::Time, config.idle_timeout(d())),
        "close_timeout" => (Kind::Time, config.close_timeout(d())),
        "ping_interval" => (Kind::Time, config.ping_interval(Some(d()))),
        "event_queue_events" => (
            Kind::Count,
            config.event_queue(n(), defaults::EVENT_QUEUE_BYTES),
        ),
        "event_queue_bytes" => (
            Kind::Bytes,
            config.event_queue(defaults::EVENT_QUEUE_EVENTS, n()),
        ),
        "max_unhandled_messages" => (
            Kind::Count,
            config.max_unhandled(n(), defaults::MAX_UNHANDLED_BYTES),
        ),
        "max_unhandled_bytes" => (
            Kind::Bytes,
            config.max_unhandled(defaults::MAX_UNHANDLED_MESSAGES, n()),
        ),
        _ => return None,
    };
    Some(kind)
}

fn check_defaults(rows: &[Row], problems: &mut Vec<String>) {
    let engine = engine_defaults();
    for (option, value) in &engine {
        match rows.iter().find(|r| r.option == *option) {
            None => problems.push(format!("{option}: no row, but the engine has a default")),
            Some(row) => match amount(&row.default) {
                Some(doc) if doc == *value => {}
                Some(doc) => problems.push(format!(
                    "{option}: the default is written as {:?} ({doc}), the engine's is {value}",
                    row.default
                )),
                None => problems.push(format!(
                    "{option}: the default {:?} is not an amount, the engine's is {value}",
                    row.default
                )),
            },
        }
    }
    for row in rows {
        let known = engine.iter().any(|(option, _)| *option == row.option);
        if amount(&row.default).is_some() && !known {
            problems.push(format!(
                "{}: the default {:?} has no constant in switchboard::server::defaults",
                row.option, row.default
            ));
        }
    }
}

/// A configuration that passes `validate`, to change one option in. Pings are off (except
/// when probing them) so that a short idle timeout is valid on its own.
fn base(option: &str) -> Config {
    let mut config = Config::new();
    config.listen_str("127.0.0.1:0").expect("a valid address");
    if option != "ping_interval" {
        config.ping_interval(None);
    }
    config
}

fn check_ranges(rows: &[Row], problems: &mut Vec<String>) {
    if let Err(e) = base("").validate() {
        problems.push(format!("the defaults themselves are refused: {e}"));
    }
    for row in rows {
        let option = row.option.as_str();
        if row.range == "—" {
            if set(&mut base(option), option, 1).is_some() {
                problems.push(format!("{option}: a number with no documented range"));
            }
            continue;
        }
        let Some((low, high)) = range(&row.range, rows) else {
            problems.push(format!("{option}: cannot read the range {:?}", row.range));
            continue;
        };
        // Errors name the option; both bounds of a pair share one name.
        let name = if option.starts_with("event_queue") {
            "event_queue"
        } else if option.starts_with("max_unhandled") {
            "max_unhandled"
        } else {
            option
        };
        let mut probe = |value: Amount, accepted: bool, what: &str| {
            let mut config = base(option);
            let problem = match set(&mut config, option, value.0) {
                Some(kind) if kind == value.1 => None,
                Some(kind) => Some(format!("the range is in {:?}, it takes {kind:?}", value.1)),
                None => Some("this test does not know how to set it".to_string()),
            };
            if let Some(problem) = problem {
                problems.push(format!("{option}: {problem}"));
                return;
            }
            match (config.validate(), accepted) {
                (Ok(()), true) => {}
                (Err(e), false)
                    if e.to_string()
                        .starts_with(&format!("invalid option {name}:")) => {}
                (Ok(()), false) => problems.push(format!(
                    "{option}: {what}, {value}, was accepted; the range is written as {:?}",
                    row.range
                )),
                (Err(e), _) => problems.push(format!(
                    "{option}: {what}, {value}, was refused ({e}); the range is written as {:?}",
                    row.range
                )),
            }
        };
        if let Some(low) = low {
            probe(low, true, "the lower bound");
            if low.0 > 0 {
                let below = Amount(low.0 - 1, low.1);
                probe(below, false, "the value just below the range");
            }
        }
        if let Some(high) = high {
            probe(high, true, "the upper bound");
            let above = Amount(high.0 + 1, high.1);
            probe(above, false, "the value just above the range");
        }
    }
}

/// A range such as `0..255`, `≥ 1 KiB`, `> 0 s`, or `> 0 s, < idle_timeout` (a bound set by
/// another option's documented default): its inclusive lower and upper bounds.
fn range(text: &str, rows: &[Row]) -> Option<(Option<Amount>, Option<Amount>)> {
    let (mut low, mut high) = (None, None);
    for part in text.split(',').map(str::trim) {
        if let Some((a, b)) = part.split_once("..") {
            (low, high) = (Some(amount(a)?), Some(amount(b)?));
        } else if let Some(a) = part.strip_prefix('≥') {
            low = Some(amount(a)?);
        } else if let Some(a) = part.strip_prefix('>') {
            let Amount(value, kind) = amount(a)?;
            low = Some(Amount(value + 1, kind));
        } else if let Some(other) = part.strip_prefix('<') {
            let row = rows.iter().find(|r| r.option == other.trim())?;
            let Amount(value, kind) = amount(&row.default)?;
            high = Some(Amount(value.checked_sub(1)?, kind));
        } else {
            return None;
        }
    }
    Some((low, high))
}

/// `100000`, `8 KiB`, `2 GiB`, `1 B`, `10 s`, `500 ms` in base units.
fn amount(text: &str) -> Option<Amount> {
    let mut words = text.split_whitespace();
    let number: u128 = words.next()?.parse().ok()?;
    let (factor, kind) = match words.next() {
        None => (1, Kind::Count),
        Some("B") => (1, Kind::Bytes),
        Some("KiB") => (1 << 10, Kind::Bytes),
        Some("MiB") => (1 << 20, Kind::Bytes),
        Some("GiB") => (1 << 30, Kind::Bytes),
        Some("s") => (1_000_000_000, Kind::Time),
        Some("ms") => (1_000_000, Kind::Time),
        Some(_) => return None,
    };
    if words.next().is_some() {
        return None;
    }
    Some(Amount(number * factor, kind))
}

fn check_bindings(rows: &[Row], problems: &mut Vec<String>) {
    let php_keys = php_option_keys(&read("php-ext/src/options.rs"));
    if php_keys.is_empty() {
        problems.push("found no option keys in php-ext/src/options.rs".into());
    }
    for key in &php_keys {
        if !rows.iter().any(|r| r.option == *key) {
            problems.push(format!("PHP option {key:?} has no row"));
        }
    }
    for row in rows.iter().filter(|r| !php_keys.contains(&r.option)) {
        problems.push(format!(
            "{}: not an option key of the PHP extension",
            row.option
        ));
    }

    let documented: Vec<String> = rows
        .iter()
        .flat_map(|r| words_starting(&r.c, "sb_config_"))
        .collect();
    for function in words_starting(&read("include/switchboard.h"), "sb_config_") {
        let lifecycle = function == "sb_config_new" || function == "sb_config_free";
        if !lifecycle && !documented.contains(&function) {
            problems.push(format!("C function {function} has no row"));
        }
    }

    let echo = read("core/examples/echo.rs");
    let usage = echo
        .split("const USAGE")
        .nth(1)
        .and_then(|u| u.split("\";").next());
    let echo_flags = words_starting(usage.unwrap_or_default(), "--");
    for row in rows {
        for flag in words_starting(&row.flag, "--") {
            if !echo_flags.contains(&flag) {
                problems.push(format!(
                    "{}: the echo example has no flag {flag}",
                    row.option
                ));
            }
        }
    }
}

/// The keys of `OPTIONS` in php-ext/src/options.rs: the first string of each tuple.
fn php_option_keys(source: &str) -> Vec<String> {
    let start = source.find("pub const OPTIONS").unwrap_or(source.len());
    let list = &source[start..];
    let list = &list[..list.find("];").unwrap_or(list.len())];
    let mut keys = Vec::new();
    let mut rest = list;
    while let Some(open) = rest.find('(') {
        rest = rest[open + 1..].trim_start();
        if let Some(literal) = rest.strip_prefix('"') {
            if let Some(end) = literal.find('"') {
                keys.push(literal[..end].to_string());
            }
        }
    }
    keys
}

/// Every identifier-like word (letters, digits, `_`, `-`) that starts with `prefix`.
fn words_starting(text: &str, prefix: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| w.starts_with(prefix) && w.len() > prefix.len())
        .map(str::to_string)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The rows of the table whose header has `option`, `default` and `range` columns (a
/// header cell is known by its first word, as in `option (PHP key)`).
fn options_table(doc: &str) -> Vec<Row> {
    let cells = |line: &str| -> Vec<String> {
        let line = line.trim().trim_start_matches('|').trim_end_matches('|');
        line.split('|').map(|c| c.trim().replace('`', "")).collect()
    };
    let first_words = |line: &str| -> Vec<String> {
        let first = |c: &String| c.split_whitespace().next().unwrap_or_default().to_string();
        cells(line).iter().map(first).collect()
    };
    let mut lines = doc.lines().skip_while(|line| {
        let words = first_words(line);
        !["option", "default", "range"]
            .iter()
            .all(|h| words.iter().any(|w| w == h))
    });
    let header = first_words(
        lines
            .next()
            .unwrap_or_else(|| panic!("{DOC}: no options table")),
    );
    let column = |name: &str| {
        header
            .iter()
            .position(|w| w == name)
            .unwrap_or_else(|| panic!("{DOC}: the options table has no column {name:?}"))
    };
    let (option, c, flag) = (column("option"), column("C"), column("echo"));
    let (default, range) = (column("default"), column("range"));
    lines
        .skip(1) // |---|---|
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let row = cells(line);
            let cell = |i: usize| row.get(i).cloned().unwrap_or_default();
            Row {
                option: cell(option),
                c: cell(c),
                flag: cell(flag),
                default: cell(default),
                range: cell(range),
            }
        })
        .collect()
}

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}
