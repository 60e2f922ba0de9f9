//! Latency histogram: log-linear buckets (32 per power of two, so within ~3%),
//! fixed size, constant time to record. Histograms of several generator
//! processes travel as text (`encode`, `decode`) and add up (`merge`), so the
//! quantiles of a run with several generators are those of all its recordings.

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values below this are their own bucket.
const LINEAR: u64 = 2 * SUB;
const BUCKETS: usize = (LINEAR + (64 - SUB_BITS as u64 - 1) * SUB) as usize;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let shift = exp - SUB_BITS;
    let mantissa = (v >> shift) & (SUB - 1);
    (LINEAR + u64::from(exp - SUB_BITS - 1) * SUB + mantissa) as usize
}

/// The middle of the values that fall into bucket `i`.
fn value_of(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let exp = (i - LINEAR) / SUB + u64::from(SUB_BITS) + 1;
    let mantissa = (i - LINEAR) % SUB;
    let shift = exp - u64::from(SUB_BITS);
    let low = (SUB | mantissa) << shift;
    low + (1u64 << shift) / 2
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        if let Some(c) = self.counts.get_mut(index(v)) {
            *c += 1;
        }
        self.total += 1;
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value below which a fraction `q` (0..=1) of the recordings fall.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return value_of(i).min(self.max);
            }
        }
        self.max
    }

    /// Adds every recording of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (c, o) in self.counts.iter_mut().zip(&other.counts) {
            *c += o;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// One line of text: the maximum, then `BUCKET:COUNT` for every bucket in
    /// use, comma-separated.
    pub fn encode(&self) -> String {
        let buckets: Vec<String> = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, c)| format!("{i}:{c}"))
            .collect();
        format!("{} {}", self.max, buckets.join(","))
    }

    /// Reads what `encode` wrote.
    pub fn decode(text: &str) -> Result<Histogram, String> {
        let bad = || format!("not a histogram: {text:?}");
        let mut parts = text.trim().splitn(2, ' ');
        let max: u64 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
        let mut h = Histogram {
            max,
            ..Histogram::default()
        };
        for pair in parts
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.is_empty())
        {
            let (i, c) = pair.split_once(':').ok_or_else(bad)?;
            let (i, c): (usize, u64) =
                (i.parse().map_err(|_| bad())?, c.parse().map_err(|_| bad())?);
            let slot = h.counts.get_mut(i).ok_or_else(bad)?;
            *slot += c;
            h.total += c;
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for v in (0..1_000_000u64).step_by(7).chain([u64::MAX / 2, u64::MAX]) {
            let i = index(v);
            assert!(i < BUCKETS, "{v}");
            assert!(i >= last, "{v}");
            last = i;
            let mid = value_of(i);
            let err = mid.abs_diff(v) as f64 / (v.max(1)) as f64;
            assert!(err <= 0.032, "{v} -> {mid}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.04, "{p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.04, "{p99}");
        assert_eq!(h.quantile(1.0), 1_000_000);
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }

    #[test]
    fn merged_quantiles_are_those_of_all_recordings() {
        // Two generators with very different latencies: the merged median is
        // that of the union, not the mean of the two medians.
        let (mut fast, mut slow, mut all) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        for v in 1..=3000u64 {
            fast.record(v * 10);
            all.record(v * 10);
        }
        for v in 1..=1000u64 {
            slow.record(v * 10_000);
            all.record(v * 10_000);
        }
        let travelled = Histogram::decode(&slow.encode()).expect("decodes");
        let mut merged = Histogram::decode(&fast.encode()).expect("decodes");
        merged.merge(&travelled);
        assert_eq!(merged.count(), 4000);
        for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(merged.quantile(q), all.quantile(q), "q {q}");
        }
        assert_eq!(merged.quantile(1.0), 10_000_000);
        let empty = Histogram::decode(&Histogram::default().encode()).expect("decodes");
        assert_eq!((empty.count(), empty.quantile(0.5)), (0, 0));
        for bad in ["", "x", "5 1", "5 1:x", "5 999999:1"] {
            assert!(Histogram::decode(bad).is_err(), "{bad:?}");
        }
    }
}
