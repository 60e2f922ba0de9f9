//! What a mode measured: named metrics plus an error count, printed as text
//! lines and as one JSON object.

use crate::histogram::Histogram;
use crate::json::Json;
use crate::meter::Window;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Context only (CPU use, counts): no better direction.
    Info,
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub key: &'static str,
    pub label: &'static str,
    pub value: Option<f64>,
    pub better: Better,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub mode: &'static str,
    pub metrics: Vec<Metric>,
    /// Failed validations, lost replies, failed connections.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Context for the figures, such as what TLS session they were made on.
    pub notes: Vec<String>,
    /// Set when the run did not apply to the server (why): its figures are
    /// "n/a", not errors.
    pub na: Option<String>,
    /// With several generator processes: each one's own figures, in order.
    pub parts: Vec<Vec<(&'static str, Option<f64>)>>,
}

impl Report {
    pub fn new(mode: &'static str) -> Report {
        Report {
            mode,
            metrics: Vec::new(),
            errors: 0,
            first_error: None,
            notes: Vec::new(),
            na: None,
            parts: Vec::new(),
        }
    }

    pub fn not_applicable(mode: &'static str, why: String) -> Report {
        let mut r = Report::new(mode);
        r.na = Some(why);
        r
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub fn failed(mode: &'static str, why: String) -> Report {
        let mut r = Report::new(mode);
        r.error(why);
        r
    }

    pub fn add(
        &mut self,
        key: &'static str,
        label: &'static str,
        value: Option<f64>,
        better: Better,
    ) {
        self.metrics.push(Metric {
            key,
            label,
            value,
            better,
        });
    }

    pub fn error(&mut self, why: String) {
        self.errors += 1;
        self.first_error.get_or_insert(why);
    }

    pub fn errors(&mut self, n: u64, why: Option<String>) {
        self.errors += n;
        if n > 0 {
            if let Some(why) = why {
                self.first_error.get_or_insert(why);
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| m.value)
    }

    /// Latency quantiles (recorded in ns) as p50/p99/p99.9 in microseconds.
    pub fn add_latency(&mut self, what: &'static [&'static str; 3], h: &Histogram) {
        let us = |q: f64| (h.count() > 0).then(|| h.quantile(q) as f64 / 1000.0);
        self.add("p50_us", what[0], us(0.5), Better::Lower);
        self.add("p99_us", what[1], us(0.99), Better::Lower);
        self.add("p999_us", what[2], us(0.999), Better::Lower);
    }

    /// Server and generator CPU use over the window.
    pub fn add_cpu(&mut self, w: &Window) {
        self.add(
            "server_cpu_pct",
            "server CPU %",
            w.server_cpu_pct(),
            Better::Info,
        );
        self.add(
            "gen_cpu_pct",
            "generator CPU %",
            Some(w.own_cpu_pct()),
            Better::Info,
        );
        self.add(
            "other_cpu_pct",
            "other CPU % (noise)",
            w.other_cpu_pct(),
            Better::Info,
        );
    }

    pub fn print_text(&self) {
        println!("{}:", self.mode);
        for m in &self.metrics {
            println!("  {:<28} {:>14}", m.label, format_value(m.value));
        }
        println!("  {:<28} {:>14}", "errors", self.errors);
        if let Some(e) = &self.first_error {
            println!("  first error: {e}");
        }
        for n in &self.notes {
            println!("  note: {n}");
        }
        for part in &self.parts {
            let figures: Vec<String> = part
                .iter()
                .map(|(k, v)| match v {
                    Some(n) if n.fract() == 0.0 && (n.abs() < 1000.0 || *k == "pid") => {
                        format!("{k} {n}")
                    }
                    _ => format!("{k} {}", format_value(*v)),
                })
                .collect();
            println!("  {}", figures.join(", "));
        }
    }

    pub fn to_json(&self) -> Json {
        let mut fields = vec![
            ("mode".to_string(), Json::str(self.mode)),
            (
                "metrics".to_string(),
                Json::obj(self.metrics.iter().map(|m| (m.key, Json::opt(m.value)))),
            ),
            ("errors".to_string(), Json::Num(self.errors as f64)),
            (
                "first_error".to_string(),
                self.first_error.clone().map_or(Json::Null, Json::Str),
            ),
        ];
        if !self.notes.is_empty() {
            let notes = self.notes.iter().cloned().map(Json::Str).collect();
            fields.push(("notes".to_string(), Json::Arr(notes)));
        }
        if !self.parts.is_empty() {
            let parts = self
                .parts
                .iter()
                .map(|p| Json::obj(p.iter().map(|(k, v)| (*k, Json::opt(*v)))))
                .collect();
            fields.push(("per_generator".to_string(), Json::Arr(parts)));
        }
        Json::Obj(fields)
    }
}

/// 1,234,567 / 123.4 / 1.23; "-" when unknown.
pub fn format_value(v: Option<f64>) -> String {
    let Some(v) = v else { return "-".into() };
    if !v.is_finite() {
        return "-".into();
    }
    if v.abs() >= 1000.0 {
        let digits = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            out.insert(0, '-');
        }
        out
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::format_value;

    #[test]
    fn formats() {
        assert_eq!(format_value(Some(1234567.4)), "1,234,567");
        assert_eq!(format_value(Some(999.94)), "999.9");
        assert_eq!(format_value(Some(1.234)), "1.23");
        assert_eq!(format_value(Some(-12345.0)), "-12,345");
        assert_eq!(format_value(None), "-");
    }
}
