//! The server's own view, from `GET /metrics` scraped around each phase: the projection lag
//! histogram (commit → applied) and the server-side duration of `PATCH /core/me`.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::cpu::Usage;
use crate::http::Api;

/// Every sample of one scrape: (metric name, labels as written) → value.
pub type Scrape = BTreeMap<(String, String), f64>;

pub async fn scrape(api: &Api) -> Option<Scrape> {
    Some(parse(&api.text("/metrics").await.ok()?))
}

/// The Prometheus text format, as far as this needs it (no escaped quotes in labels).
fn parse(text: &str) -> Scrape {
    let mut samples = Scrape::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((key, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match key.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (key, ""),
        };
        samples.insert((name.to_string(), labels.to_string()), value);
    }
    samples
}

/// A Prometheus histogram summed over the label sets that matched.
#[derive(Debug, Default, Clone)]
pub struct Hist {
    /// (upper bound in seconds, cumulative count)
    pub buckets: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: f64,
}

impl Hist {
    /// `name`'s samples in `after` minus those in `before`, over label sets containing `filter`.
    fn between(before: &Scrape, after: &Scrape, name: &str, filter: &str) -> Self {
        let delta = |suffix: &str| {
            let mut by_le: BTreeMap<String, f64> = BTreeMap::new();
            let metric = format!("{name}{suffix}");
            for ((n, labels), v) in after
                .iter()
                .filter(|((n, l), _)| *n == metric && l.contains(filter))
            {
                let old = before
                    .get(&(n.clone(), labels.clone()))
                    .copied()
                    .unwrap_or(0.0);
                let le = labels
                    .split("le=\"")
                    .nth(1)
                    .map(|s| s.trim_end_matches('"').to_string());
                *by_le.entry(le.unwrap_or_default()).or_default() += v - old;
            }
            by_le
        };
        let mut buckets: Vec<(f64, f64)> = delta("_bucket")
            .into_iter()
            .map(|(le, c)| {
                (
                    if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().unwrap_or(f64::NAN)
                    },
                    c,
                )
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self {
            buckets,
            sum: delta("_sum").values().sum(),
            count: delta("_count").values().sum(),
        }
    }

    /// The upper bound of the bucket holding the `q` quantile, in milliseconds.
    pub fn quantile_bound_ms(&self, q: f64) -> Option<f64> {
        let rank = q * self.count;
        self.buckets
            .iter()
            .find(|(_, c)| *c >= rank)
            .map(|(le, _)| le * 1000.0)
    }

    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.sum / self.count * 1000.0)
    }
}

/// What the server reported for one phase.
#[derive(Default)]
pub struct ServerSide {
    pub available: bool,
    /// Server-side duration of `PATCH /core/me`.
    pub patch: Hist,
    /// Commit → applied in the `user_profiles` read model.
    pub projection_lag: Hist,
    /// Optimistic-concurrency conflicts retried by the server.
    pub conflicts: f64,
    /// Cores busy during the phase.
    pub cpu: Usage,
    /// Not yet relayed / applied when the phase ended.
    pub backlog: Backlog,
    /// How long relay and projection then took to catch up, and whether they did.
    pub drain: (Duration, bool),
}

impl ServerSide {
    pub fn between(before: &Option<Scrape>, after: &Option<Scrape>) -> Self {
        let (Some(before), Some(after)) = (before, after) else {
            return Self::default();
        };
        const HTTP: &str = "annals_http_request_duration_seconds";
        const PATCH_ME: &str = "method=\"PATCH\",route=\"/core/me\"";
        const PROFILES: &str = "projection=\"user_profiles\"";
        let conflicts = |s: &Scrape| -> f64 {
            s.iter()
                .filter(|((n, _), _)| n == "annals_command_conflicts_total")
                .map(|(_, v)| v)
                .sum()
        };
        Self {
            available: true,
            patch: Hist::between(before, after, HTTP, PATCH_ME),
            projection_lag: Hist::between(before, after, "annals_projection_lag_seconds", PROFILES),
            conflicts: conflicts(after) - conflicts(before),
            ..Self::default()
        }
    }
}

/// Events not yet published by the relay / not yet applied to `user_profiles`, per `/readyz`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Backlog {
    pub relay: Option<i64>,
    pub profiles: Option<i64>,
}

impl Backlog {
    pub async fn read(api: &Api) -> Self {
        let Ok(text) = api.text("/readyz").await else {
            return Self::default();
        };
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Self::default();
        };
        let profiles = body["projections"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == "user_profiles"))
            .and_then(|p| p["pending_events"].as_i64());
        Self {
            relay: body["relay"]["pending_events"].as_i64(),
            profiles,
        }
    }

    fn empty(&self) -> bool {
        self.relay.unwrap_or(0) == 0 && self.profiles.unwrap_or(0) == 0
    }
}

/// Waits (at most `limit`) until relay and projection have caught up; returns how long it took
/// and whether they did.
pub async fn drain(api: &Api, limit: Duration) -> (Duration, bool) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if Backlog::read(api).await.empty() {
            return (started.elapsed(), true);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (started.elapsed(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_differences_and_bucket_quantiles() {
        let before = parse(
            "# TYPE lag_seconds histogram\n\
             lag_seconds_bucket{projection=\"p\",le=\"0.01\"} 5\n\
             lag_seconds_bucket{projection=\"p\",le=\"0.1\"} 5\n\
             lag_seconds_bucket{projection=\"p\",le=\"+Inf\"} 5\n\
             lag_seconds_sum{projection=\"p\"} 0.02\n\
             lag_seconds_count{projection=\"p\"} 5\n",
        );
        let after = parse(
            "lag_seconds_bucket{projection=\"p\",le=\"0.01\"} 95\n\
             lag_seconds_bucket{projection=\"p\",le=\"0.1\"} 104\n\
             lag_seconds_bucket{projection=\"p\",le=\"+Inf\"} 105\n\
             lag_seconds_sum{projection=\"p\"} 1.02\n\
             lag_seconds_count{projection=\"p\"} 105\n\
             lag_seconds_count{projection=\"q\"} 7\n",
        );
        let h = Hist::between(&before, &after, "lag_seconds", "projection=\"p\"");
        assert_eq!(h.count, 100.0);
        assert_eq!(h.quantile_bound_ms(0.5), Some(10.0));
        assert_eq!(h.quantile_bound_ms(0.99), Some(100.0));
        assert_eq!(h.quantile_bound_ms(1.0), Some(f64::INFINITY));
        assert!((h.mean_ms().unwrap() - 10.0).abs() < 1e-9);
    }
}
