//! Rollups: what one instance measured over one interval, in a form that adds up.
//! Counters and histogram buckets add; gauges keep the latest value over time and add
//! (or take the largest) across instances. The dashboard merges the fleet's rollups
//! for a period, per instance and for the whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Buckets (seconds) for every `*_duration_seconds` and `*_wait_time_seconds`
/// histogram: from a cached search to the request timeout, finest where Roster's
/// requests are. Between 1 and 10 ms they follow the E24 series of preferred numbers
/// with 1.4 added (each bound at most 15% above the last), so a percentile there is
/// told within 15% of its value.
pub const DURATION_BUCKETS: &[f64] = &[
    0.00025, 0.0005, 0.00075, // under a millisecond: cached answers
    0.001, 0.0011, 0.0012, 0.0013, 0.0014, 0.0015, 0.0016, 0.0018, 0.002, 0.0022, 0.0024, 0.0027,
    0.003, 0.0033, 0.0036, 0.0039, 0.0043, 0.0047, 0.005, 0.0056, 0.0062, 0.0068, 0.0075, 0.0082,
    0.0091, // 1 to 10 ms
    0.01, 0.012, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0,
];

/// Buckets (seconds) for the timing web vitals (LCP, INP, FCP, TTFB), around web.dev's
/// good/poor thresholds.
pub const VITAL_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 30.0,
];

/// Buckets for the cumulative layout shift score (no unit).
pub const SHIFT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0,
];

pub const VITAL_SECONDS: &str = "browser_web_vital_seconds";
pub const LAYOUT_SHIFT: &str = "browser_cumulative_layout_shift";

/// The buckets a histogram of this name uses, here and in `/metrics`.
pub fn bounds_for(name: &str) -> &'static [f64] {
    match name {
        VITAL_SECONDS => VITAL_BUCKETS,
        LAYOUT_SHIFT => SHIFT_BUCKETS,
        _ => DURATION_BUCKETS,
    }
}

/// A series' key: `name|label=value|…`, labels sorted (`|` never occurs in our label
/// values, which are all fixed words or route templates).
pub fn series_key<'a>(name: &str, labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut labels: Vec<(&str, &str)> = labels.into_iter().collect();
    labels.sort_unstable();
    let mut key = name.to_owned();
    for (label, value) in labels {
        key.push('|');
        key.push_str(label);
        key.push('=');
        key.push_str(value);
    }
    key
}

/// The metric name of a series key.
pub fn series_name(key: &str) -> &str {
    key.split('|').next().unwrap_or(key)
}

/// A label's value in a series key.
pub fn series_label<'a>(key: &'a str, label: &str) -> Option<&'a str> {
    key.split('|')
        .skip(1)
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == label)
        .map(|(_, value)| value)
}

/// Bucket counts (the last one above every bound) and the sum of the samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Hist {
    pub counts: Vec<u64>,
    pub sum: f64,
}

impl Hist {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn add(&mut self, other: &Hist) {
        if self.counts.is_empty() {
            self.counts = other.counts.clone();
        } else if self.counts.len() == other.counts.len() {
            for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
                *mine += theirs;
            }
        } else {
            // Another build's buckets: leave them out rather than mix them up.
            return;
        }
        self.sum += other.sum;
    }

    /// The `q` quantile, interpolated within its bucket (as Prometheus's
    /// `histogram_quantile` does); samples above the last bound count as the last bound.
    pub fn quantile(&self, bounds: &[f64], q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 || self.counts.len() != bounds.len() + 1 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut below = 0u64;
        for (index, count) in self.counts.iter().enumerate() {
            let through = below + count;
            if *count > 0 && through as f64 >= rank {
                let Some(&upper) = bounds.get(index) else {
                    return bounds.last().copied();
                };
                let lower = if index == 0 { 0.0 } else { bounds[index - 1] };
                let within = (rank - below as f64) / *count as f64;
                return Some(lower + (upper - lower) * within.clamp(0.0, 1.0));
            }
            below = through;
        }
        bounds.last().copied()
    }
}

/// The last error of a kind, with its log line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorSeen {
    pub count: u64,
    pub last_at_ms: i64,
    pub request_id: String,
    pub log_line: String,
}

/// A request slower than the threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlowRequest {
    pub at_ms: i64,
    pub route: String,
    pub status: u16,
    pub millis: f64,
    pub request_id: String,
}

/// How many slow requests a rollup keeps (the slowest).
pub const SLOW_KEPT: usize = 20;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub instance: String,
    /// The interval: Unix seconds and its length.
    pub start: i64,
    pub seconds: i64,
    #[serde(default)]
    pub counters: BTreeMap<String, u64>,
    #[serde(default)]
    pub gauges: BTreeMap<String, f64>,
    #[serde(default)]
    pub histograms: BTreeMap<String, Hist>,
    /// By error kind.
    #[serde(default)]
    pub errors: BTreeMap<String, ErrorSeen>,
    /// Refusals by `policy|client`.
    #[serde(default)]
    pub limited: BTreeMap<String, u64>,
    #[serde(default)]
    pub slow: Vec<SlowRequest>,
}

/// How a gauge combines across instances: pool sizes add up; the rest describe shared
/// things (sessions, the database's import jobs) or replicas (the index), so the fleet
/// shows the largest.
fn gauges_add_across(name: &str) -> bool {
    name.starts_with("db_pool_")
}

impl Rollup {
    /// Adds what came in `later` (the same instance, the following interval).
    pub fn absorb_later(&mut self, later: &Rollup) {
        if self.instance.is_empty() {
            self.instance = later.instance.clone();
            self.start = later.start;
        }
        self.start = self.start.min(later.start);
        self.seconds = (later.start + later.seconds - self.start).max(self.seconds);
        self.add_events(later);
        for (key, value) in &later.gauges {
            self.gauges.insert(key.clone(), *value);
        }
    }

    /// Adds what another instance measured over the same time.
    pub fn absorb_peer(&mut self, peer: &Rollup) {
        if self.seconds == 0 {
            self.start = peer.start;
            self.seconds = peer.seconds;
        }
        self.add_events(peer);
        for (key, value) in &peer.gauges {
            let entry = self.gauges.entry(key.clone()).or_insert(0.0);
            *entry = if gauges_add_across(series_name(key)) {
                *entry + value
            } else {
                entry.max(*value)
            };
        }
    }

    fn add_events(&mut self, other: &Rollup) {
        for (key, value) in &other.counters {
            *self.counters.entry(key.clone()).or_default() += value;
        }
        for (key, hist) in &other.histograms {
            self.histograms.entry(key.clone()).or_default().add(hist);
        }
        for (kind, seen) in &other.errors {
            let mine = self.errors.entry(kind.clone()).or_default();
            mine.count += seen.count;
            if seen.last_at_ms >= mine.last_at_ms {
                mine.last_at_ms = seen.last_at_ms;
                mine.request_id = seen.request_id.clone();
                mine.log_line = seen.log_line.clone();
            }
        }
        for (client, count) in &other.limited {
            *self.limited.entry(client.clone()).or_default() += count;
        }
        self.slow.extend(other.slow.iter().cloned());
        keep_slowest(&mut self.slow);
    }

    /// Every counter of a metric, added up.
    pub fn counter_total(&self, name: &str) -> u64 {
        self.counters
            .iter()
            .filter(|(key, _)| series_name(key) == name)
            .map(|(_, value)| value)
            .sum()
    }

    /// Every histogram of a metric whose labels pass `filter`, merged.
    pub fn histogram(&self, name: &str, filter: impl Fn(&str) -> bool) -> Hist {
        let mut merged = Hist::default();
        for (key, hist) in &self.histograms {
            if series_name(key) == name && filter(key) {
                merged.add(hist);
            }
        }
        merged
    }

    /// A metric's histograms grouped by one label's value.
    pub fn histograms_by(&self, name: &str, label: &str) -> BTreeMap<String, Hist> {
        let mut groups: BTreeMap<String, Hist> = BTreeMap::new();
        for (key, hist) in &self.histograms {
            if series_name(key) == name {
                let value = series_label(key, label).unwrap_or("").to_owned();
                groups.entry(value).or_default().add(hist);
            }
        }
        groups
    }

    /// A gauge by its full series key.
    pub fn gauge(&self, key: &str) -> Option<f64> {
        self.gauges.get(key).copied()
    }
}

/// The slowest first, at most [`SLOW_KEPT`].
fn keep_slowest(slow: &mut Vec<SlowRequest>) {
    slow.sort_by(|a, b| b.millis.total_cmp(&a.millis));
    slow.truncate(SLOW_KEPT);
}

/// The rollups of many instances over a span merged into one: each instance's in time
/// order first (so its gauges end at its latest value), then across instances.
pub fn merge_fleet<'a>(rollups: impl IntoIterator<Item = &'a Rollup>) -> Rollup {
    let per_instance = merge_per_instance(rollups);
    let mut fleet = Rollup::default();
    for rollup in per_instance.values() {
        fleet.absorb_peer(rollup);
    }
    fleet.instance = String::new();
    fleet
}

/// Each instance's rollups over a span merged into one, by instance.
pub fn merge_per_instance<'a>(
    rollups: impl IntoIterator<Item = &'a Rollup>,
) -> BTreeMap<String, Rollup> {
    let mut sorted: Vec<&Rollup> = rollups.into_iter().collect();
    sorted.sort_by_key(|rollup| rollup.start);
    let mut per_instance: BTreeMap<String, Rollup> = BTreeMap::new();
    for rollup in sorted {
        per_instance
            .entry(rollup.instance.clone())
            .or_default()
            .absorb_later(rollup);
    }
    per_instance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: &[f64]) -> Hist {
        let mut hist = Hist {
            counts: vec![0; DURATION_BUCKETS.len() + 1],
            sum: 0.0,
        };
        for value in values {
            let index = DURATION_BUCKETS.partition_point(|bound| bound < value);
            hist.counts[index] += 1;
            hist.sum += value;
        }
        hist
    }

    fn rollup(instance: &str, start: i64) -> Rollup {
        Rollup {
            instance: instance.to_owned(),
            start,
            seconds: 10,
            ..Rollup::default()
        }
    }

    #[test]
    fn series_keys_sort_labels_and_read_back() {
        let key = series_key("requests", [("status", "2xx"), ("route", "/contacts/{id}")]);
        assert_eq!(key, "requests|route=/contacts/{id}|status=2xx");
        assert_eq!(series_name(&key), "requests");
        assert_eq!(series_label(&key, "route"), Some("/contacts/{id}"));
        assert_eq!(series_label(&key, "method"), None);
        assert_eq!(series_name("plain"), "plain");
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        // 100 samples between 20 and 25 ms: all in the (0.02, 0.025] bucket.
        let samples: Vec<f64> = (0..100).map(|i| 0.02001 + f64::from(i) * 0.00005).collect();
        let h = hist(&samples);
        let p50 = h.quantile(DURATION_BUCKETS, 0.5).unwrap();
        assert!((p50 - 0.0225).abs() < 1e-9, "{p50}");
        let p99 = h.quantile(DURATION_BUCKETS, 0.99).unwrap();
        assert!(p99 > 0.0245 && p99 <= 0.025, "{p99}");
        assert_eq!(Hist::default().quantile(DURATION_BUCKETS, 0.5), None);
        // Above the last bound: reported as the last bound.
        assert_eq!(hist(&[100.0]).quantile(DURATION_BUCKETS, 0.5), Some(30.0));
        // A slow tail moves p95, not p50.
        let mut mixed = vec![0.002; 94];
        mixed.extend([2.0; 6]);
        let h = hist(&mixed);
        assert!(h.quantile(DURATION_BUCKETS, 0.5).unwrap() <= 0.0025);
        assert!(h.quantile(DURATION_BUCKETS, 0.95).unwrap() > 1.0);
    }

    /// Request times as they come: most fast, a tail up to three times slower.
    /// Whatever the p99 between 1 and 10 ms, the histogram tells it within 15%.
    #[test]
    fn a_p99_between_one_and_ten_ms_is_told_apart() {
        for exact in [1.05, 1.15, 1.7, 2.3, 3.45, 4.1, 5.3, 6.5, 7.9, 9.5] {
            // 10,000 samples: 9,900 spread up to the p99, 100 above it.
            let at = |share: f64, low: f64, high: f64| (low + (high - low) * share) / 1_000.0;
            let mut samples: Vec<f64> = (0..9_900)
                .map(|i| at(f64::from(i) / 9_900.0, exact * 0.2, exact))
                .collect();
            samples.extend((1..=100).map(|i| at(f64::from(i) / 100.0, exact, exact * 3.0)));
            let found = hist(&samples).quantile(DURATION_BUCKETS, 0.99).unwrap() * 1_000.0;
            assert!(
                (found - exact).abs() <= exact * 0.15,
                "a p99 of {exact} ms read as {found:.3} ms"
            );
        }
    }

    #[test]
    fn merging_adds_counts_keeps_latest_gauges_and_combines_instances() {
        let mut a1 = rollup("a", 100);
        a1.counters.insert("hits|namespace=search".into(), 3);
        a1.histograms.insert("lat".into(), hist(&[0.002, 0.003]));
        a1.gauges
            .insert("db_pool_connections|state=in_use".into(), 4.0);
        a1.gauges.insert("sessions_active".into(), 7.0);
        let mut a2 = rollup("a", 110);
        a2.counters.insert("hits|namespace=search".into(), 2);
        a2.histograms.insert("lat".into(), hist(&[0.2]));
        a2.gauges
            .insert("db_pool_connections|state=in_use".into(), 1.0);
        a2.gauges.insert("sessions_active".into(), 9.0);
        let mut b1 = rollup("b", 105);
        b1.counters.insert("hits|namespace=search".into(), 10);
        b1.gauges
            .insert("db_pool_connections|state=in_use".into(), 5.0);
        b1.gauges.insert("sessions_active".into(), 8.0);

        // Given in any order.
        let fleet = merge_fleet([&a2, &b1, &a1]);
        assert_eq!(fleet.counter_total("hits"), 15);
        assert_eq!(fleet.histogram("lat", |_| true).count(), 3);
        // a's latest in-use (1) plus b's (5); the shared gauge is the largest latest.
        assert_eq!(fleet.gauge("db_pool_connections|state=in_use"), Some(6.0));
        assert_eq!(fleet.gauge("sessions_active"), Some(9.0));

        let per_instance = merge_per_instance([&a2, &b1, &a1]);
        assert_eq!(per_instance["a"].counter_total("hits"), 5);
        assert_eq!(per_instance["a"].start, 100);
        assert_eq!(per_instance["a"].seconds, 20);
        assert_eq!(per_instance["b"].gauge("sessions_active"), Some(8.0));
    }

    #[test]
    fn merging_keeps_the_latest_error_and_the_slowest_requests() {
        let mut first = rollup("a", 0);
        first.errors.insert(
            "database".into(),
            ErrorSeen {
                count: 2,
                last_at_ms: 1_000,
                request_id: "r1".into(),
                log_line: "one".into(),
            },
        );
        let mut second = rollup("b", 0);
        second.errors.insert(
            "database".into(),
            ErrorSeen {
                count: 1,
                last_at_ms: 2_000,
                request_id: "r2".into(),
                log_line: "two".into(),
            },
        );
        for (index, millis) in (0..30).map(|i| (i, f64::from(i) * 100.0)) {
            let target = if index % 2 == 0 {
                &mut first
            } else {
                &mut second
            };
            target.slow.push(SlowRequest {
                at_ms: 0,
                route: "/".into(),
                status: 200,
                millis,
                request_id: format!("s{index}"),
            });
        }
        first.limited.insert("search|1.2.3.4".into(), 3);
        second.limited.insert("search|1.2.3.4".into(), 4);
        let fleet = merge_fleet([&first, &second]);
        let seen = &fleet.errors["database"];
        assert_eq!((seen.count, seen.request_id.as_str()), (3, "r2"));
        assert_eq!(fleet.slow.len(), SLOW_KEPT);
        assert_eq!(fleet.slow[0].millis, 2_900.0);
        assert_eq!(fleet.limited["search|1.2.3.4"], 7);
    }

    #[test]
    fn histograms_of_other_buckets_are_left_out() {
        let mut mine = hist(&[0.01]);
        mine.add(&Hist {
            counts: vec![5, 5],
            sum: 1.0,
        });
        assert_eq!(mine.count(), 1);
        let mut empty = Hist::default();
        empty.add(&hist(&[0.01, 0.02]));
        assert_eq!(empty.count(), 2);
    }
}
