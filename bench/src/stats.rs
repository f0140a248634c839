//! Latency histograms (HdrHistogram, microsecond resolution) and their printing.
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies from 1 µs to 1 minute, 3 significant digits.
#[derive(Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, 60_000_000, 3).expect("static bounds"))
    }
}

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        self.0.saturating_record((d.as_micros() as u64).max(1));
    }

    pub fn add(&mut self, other: &Latencies) {
        self.0.add(&other.0).expect("same bounds");
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// The `q` quantile (0..=1) in milliseconds, `None` without samples.
    pub fn ms(&self, q: f64) -> Option<f64> {
        (self.len() > 0).then(|| self.0.value_at_quantile(q) as f64 / 1000.0)
    }

    pub fn max_ms(&self) -> Option<f64> {
        (self.len() > 0).then(|| self.0.max() as f64 / 1000.0)
    }
}

/// Milliseconds printed with 2 significant-ish digits; "–" when missing.
pub struct Ms(pub Option<f64>);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("–"),
            Some(v) if v.abs() >= 100.0 => write!(f, "{v:.0}"),
            Some(v) if v.abs() >= 10.0 => write!(f, "{v:.1}"),
            Some(v) => write!(f, "{v:.2}"),
        }
    }
}

/// A rate or a count with thousands separators: 12,345.
pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(-999.0), "-999");
        assert_eq!(Ms(Some(1.234)).to_string(), "1.23");
        assert_eq!(Ms(Some(123.4)).to_string(), "123");
        assert_eq!(Ms(None).to_string(), "–");
        let mut l = Latencies::default();
        (1..=100).for_each(|ms| l.record(Duration::from_millis(ms)));
        assert!((l.ms(0.5).unwrap() - 50.0).abs() < 0.1);
    }
}
