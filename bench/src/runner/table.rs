//! The comparison's output: one table (a row per scenario metric, a column
//! per server, then each server's ratio to the baseline; after a TLS
//! scenario, each server's TLS / plain ratio) and one JSON line.

use crate::json::Json;
use crate::report::{format_value, Better, Report};

use super::suite::Scenario;

/// Above this much CPU used by other processes (in % of one core), a run is
/// reported as disturbed.
const DISTURBED_PCT: f64 = 20.0;

pub struct Outcome {
    pub scenario: Scenario,
    /// One report per server, in the servers' order.
    pub reports: Vec<Report>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 && a.is_finite() && b.is_finite() => Some(a / b),
        _ => None,
    }
}

/// What a cell shows for a figure of `r`: "n/a" when the run did not apply.
fn cell(r: &Report, value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    if r.na.is_some() {
        return "n/a".into();
    }
    value.map_or_else(|| "-".into(), show)
}

/// For a TLS scenario: its plain twin's outcome and the headline figure's
/// key and label.
fn plain_twin<'a>(
    o: &Outcome,
    outcomes: &'a [Outcome],
) -> Option<(&'a Outcome, &'static str, &'static str)> {
    let plain = o.scenario.plain_key()?;
    let (key, label) = o.scenario.load.headline()?;
    let twin = outcomes.iter().find(|p| p.scenario.key == plain)?;
    Some((twin, key, label))
}

/// Keys of the metrics any server reported for a scenario, in report order.
fn keys(o: &Outcome) -> Vec<(&'static str, &'static str, Better)> {
    let mut keys: Vec<(&'static str, &'static str, Better)> = Vec::new();
    for r in &o.reports {
        for m in &r.metrics {
            if !keys.iter().any(|k| k.0 == m.key) {
                keys.push((m.key, m.label, m.better));
            }
        }
    }
    keys
}

pub fn print_table(servers: &[String], baseline: usize, outcomes: &[Outcome]) {
    let others: Vec<usize> = (0..servers.len()).filter(|&i| i != baseline).collect();
    let label_w = 32;
    let col_w = servers.iter().map(|s| s.len()).max().unwrap_or(0).max(13) + 2;
    let base = &servers[baseline];
    let mut header = format!("{:<label_w$}", "scenario / metric");
    for s in servers {
        header.push_str(&format!("{s:>col_w$}"));
    }
    for &i in &others {
        let r = format!("{}/{base}", servers[i]);
        header.push_str(&format!("{:>w$}", r, w = col_w.max(r.len() + 2)));
    }
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    for o in outcomes {
        println!("{}", o.scenario.title);
        for (key, label, better) in keys(o) {
            let arrow = match better {
                Better::Higher => " (+)",
                Better::Lower => " (-)",
                Better::Info => "",
            };
            let mut line = format!("{:<label_w$}", format!("  {label}{arrow}"));
            for r in &o.reports {
                let value = cell(r, r.get(key), |v| format_value(Some(v)));
                line.push_str(&format!("{value:>col_w$}"));
            }
            for &i in &others {
                let r = format!("{}/{base}", servers[i]);
                let w = col_w.max(r.len() + 2);
                let cell = if better == Better::Info {
                    String::new()
                } else if o.reports[i].na.is_some() || o.reports[baseline].na.is_some() {
                    "n/a".into()
                } else {
                    ratio(o.reports[i].get(key), o.reports[baseline].get(key))
                        .map_or("-".into(), |x| format!("{x:.2}x"))
                };
                line.push_str(&format!("{cell:>w$}"));
            }
            println!("{line}");
        }
        if keys(o).is_empty() {
            // Every server was n/a: one row says so.
            let mut line = format!("{:<label_w$}", "  (not run)");
            for r in &o.reports {
                line.push_str(&format!("{:>col_w$}", cell(r, None, |_| String::new())));
            }
            println!("{line}");
        }
        if let Some((twin, key, label)) = plain_twin(o, outcomes) {
            let mut line = format!("{:<label_w$}", format!("  TLS / plain ({label})"));
            for (r, p) in o.reports.iter().zip(&twin.reports) {
                let x = ratio(r.get(key), p.get(key));
                line.push_str(&format!("{:>col_w$}", cell(r, x, |x| format!("{x:.2}x"))));
            }
            println!("{line}");
        }
        if o.reports.iter().any(|r| r.errors > 0) {
            let mut line = format!("{:<label_w$}", "  ERRORS");
            for r in &o.reports {
                line.push_str(&format!("{:>col_w$}", r.errors));
            }
            println!("{line}");
        }
    }
    println!("(+) higher is better, (-) lower is better; ratios are server / {base}");
    let disturbed: Vec<String> = outcomes
        .iter()
        .flat_map(|o| {
            o.reports.iter().enumerate().filter_map(move |(i, r)| {
                let other = r.get("other_cpu_pct")?;
                (other > DISTURBED_PCT)
                    .then(|| format!("{} on {} ({other:.0}%)", o.scenario.title, servers[i]))
            })
        })
        .collect();
    if !disturbed.is_empty() {
        println!(
            "warning: other processes used CPU during: {}; rerun on a quiet machine or with --repeat",
            disturbed.join(", ")
        );
    }
    for o in outcomes {
        for (i, r) in o.reports.iter().enumerate() {
            if let Some(e) = &r.first_error {
                println!(
                    "{} on {}: {} error(s), first: {e}",
                    o.scenario.title, servers[i], r.errors
                );
            }
            if let Some(why) = &r.na {
                println!("{} on {}: n/a ({why})", o.scenario.title, servers[i]);
            }
        }
        // Notes (the TLS session, how the certificate was checked), each
        // once with the servers it applies to.
        let mut notes: Vec<(&String, Vec<&str>)> = Vec::new();
        for (i, r) in o.reports.iter().enumerate() {
            for n in &r.notes {
                match notes.iter_mut().find(|(m, _)| *m == n) {
                    Some((_, on)) => on.push(&servers[i]),
                    None => notes.push((n, vec![&servers[i]])),
                }
            }
        }
        for (n, on) in notes {
            println!("{} ({}): {n}", o.scenario.title, on.join(", "));
        }
    }
}

pub fn json_line(
    suite: &str,
    servers: &[(String, String)],
    baseline: usize,
    outcomes: &[Outcome],
    generators: usize,
) -> Json {
    let names: Vec<&String> = servers.iter().map(|(n, _)| n).collect();
    let scenarios = outcomes.iter().map(|o| {
        let results = o.reports.iter().enumerate().map(|(i, r)| {
            if let Some(why) = &r.na {
                return (
                    names[i].clone(),
                    Json::obj([("na", Json::str(why.clone()))]),
                );
            }
            let mut fields: Vec<(String, Json)> = r
                .metrics
                .iter()
                .map(|m| (m.key.to_string(), Json::opt(m.value)))
                .collect();
            fields.push(("errors".into(), Json::Num(r.errors as f64)));
            if !r.notes.is_empty() {
                let notes = r.notes.iter().cloned().map(Json::Str).collect();
                fields.push(("notes".into(), Json::Arr(notes)));
            }
            (names[i].clone(), Json::Obj(fields))
        });
        let ratios = (0..names.len()).filter(|&i| i != baseline).map(|i| {
            let fields = keys(o)
                .into_iter()
                .filter(|k| k.2 != Better::Info)
                .map(|(key, _, _)| {
                    let x = ratio(o.reports[i].get(key), o.reports[baseline].get(key));
                    (
                        key.to_string(),
                        Json::opt(x.map(|x| (x * 1000.0).round() / 1000.0)),
                    )
                });
            (names[i].clone(), Json::Obj(fields.collect()))
        });
        let mut fields = vec![
            ("scenario".to_string(), Json::str(o.scenario.key)),
            ("results".to_string(), Json::Obj(results.collect())),
            ("ratios".to_string(), Json::Obj(ratios.collect())),
        ];
        if let Some((twin, key, _)) = plain_twin(o, outcomes) {
            let per_server = o
                .reports
                .iter()
                .zip(&twin.reports)
                .enumerate()
                .map(|(i, (r, p))| {
                    let x = ratio(r.get(key), p.get(key));
                    (
                        names[i].clone(),
                        Json::opt(x.map(|x| (x * 1000.0).round() / 1000.0)),
                    )
                });
            fields.push((
                "tls_over_plain".to_string(),
                Json::Obj(per_server.collect()),
            ));
        }
        Json::Obj(fields)
    });
    let ok = outcomes
        .iter()
        .all(|o| o.reports.iter().all(|r| r.errors == 0));
    let mut head = vec![
        ("suite", Json::str(suite)),
        ("baseline", Json::str(names[baseline].clone())),
    ];
    if generators > 1 {
        // Echo and handshake scenarios ran on this many generator processes.
        head.push(("generators", Json::Num(generators as f64)));
    }
    Json::obj(
        head.into_iter().chain([
            (
                "servers",
                Json::Arr(
                    servers
                        .iter()
                        .map(|(n, c)| {
                            Json::obj([
                                ("name", Json::str(n.clone())),
                                ("cmd", Json::str(c.clone())),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("scenarios", Json::Arr(scenarios.collect())),
            ("ok", Json::Bool(ok)),
        ]),
    )
}
