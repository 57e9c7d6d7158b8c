//! The process's own running totals, for the dashboard: a metrics recorder installed
//! beside the Prometheus one (every `metrics::counter!`/`histogram!`/`gauge!` reaches
//! both), with fixed buckets so that intervals subtract and instances add; and the
//! events that are not metrics (errors with their log line, slow requests, refused
//! clients), which may name request ids and clients and so never become labels.
//!
//! It is one per process, like the metrics recorder: each [`super::Monitor`] keeps
//! its own previous totals and takes differences, so several apps in one process
//! (as in the tests) each see every change.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_util::registry::{Registry, Storage};

use super::rollup::{ErrorSeen, Hist, Rollup, SlowRequest, bounds_for, series_key};

/// How many errors and slow requests the process remembers between two rollups.
const EVENTS_KEPT: usize = 500;
/// How many refused clients it counts separately; the rest are counted together.
const CLIENTS_KEPT: usize = 1_000;

/// The process's window.
pub fn window() -> &'static Arc<Window> {
    static WINDOW: OnceLock<Arc<Window>> = OnceLock::new();
    WINDOW.get_or_init(|| Arc::new(Window::new()))
}

/// A histogram with fixed buckets (see [`bounds_for`]) and the sum of its samples.
pub struct FixedHistogram {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
}

impl FixedHistogram {
    fn new(bounds: &'static [f64]) -> Self {
        FixedHistogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    fn snapshot(&self) -> Hist {
        Hist {
            counts: self
                .counts
                .iter()
                .map(|count| count.load(Ordering::Relaxed))
                .collect(),
            sum: f64::from_bits(self.sum_bits.load(Ordering::Relaxed)),
        }
    }
}

impl HistogramFn for FixedHistogram {
    fn record(&self, value: f64) {
        if !value.is_finite() {
            return;
        }
        let index = self.bounds.partition_point(|bound| *bound < value);
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }
}

struct FixedStorage;

impl Storage<Key> for FixedStorage {
    type Counter = Arc<AtomicU64>;
    type Gauge = Arc<AtomicU64>;
    type Histogram = Arc<FixedHistogram>;

    fn counter(&self, _: &Key) -> Self::Counter {
        Arc::new(AtomicU64::new(0))
    }

    fn gauge(&self, _: &Key) -> Self::Gauge {
        Arc::new(AtomicU64::new(0f64.to_bits()))
    }

    fn histogram(&self, key: &Key) -> Self::Histogram {
        Arc::new(FixedHistogram::new(bounds_for(key.name())))
    }
}

#[derive(Default)]
struct Events {
    /// The number of the last event recorded.
    seq: u64,
    errors: VecDeque<(u64, String, ErrorSeen)>,
    slow: VecDeque<(u64, SlowRequest)>,
    /// Refusals by `policy|client`, since the process started.
    limited: HashMap<String, u64>,
}

pub struct Window {
    registry: Registry<Key, FixedStorage>,
    events: Mutex<Events>,
}

/// The running totals at one moment.
#[derive(Default)]
pub struct Totals {
    counters: HashMap<String, u64>,
    histograms: HashMap<String, Hist>,
    gauges: BTreeMap<String, f64>,
    limited: HashMap<String, u64>,
    seq: u64,
}

fn key_of(key: &Key) -> String {
    series_key(
        key.name(),
        key.labels().map(|label| (label.key(), label.value())),
    )
}

impl Window {
    fn new() -> Self {
        Window {
            registry: Registry::new(FixedStorage),
            events: Mutex::new(Events::default()),
        }
    }

    fn events(&self) -> std::sync::MutexGuard<'_, Events> {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An error of `kind`, with the line the log got for it.
    pub fn record_error(&self, kind: &str, request_id: &str, log_line: String) {
        let mut events = self.events();
        events.seq += 1;
        let seen = ErrorSeen {
            count: 1,
            last_at_ms: now_ms(),
            request_id: request_id.to_owned(),
            log_line,
        };
        let seq = events.seq;
        events.errors.push_back((seq, kind.to_owned(), seen));
        if events.errors.len() > EVENTS_KEPT {
            events.errors.pop_front();
        }
    }

    /// A request slower than the configured threshold.
    pub fn record_slow(&self, route: &str, status: u16, millis: f64, request_id: &str) {
        let mut events = self.events();
        events.seq += 1;
        let request = SlowRequest {
            at_ms: now_ms(),
            route: route.to_owned(),
            status,
            millis,
            request_id: request_id.to_owned(),
        };
        let seq = events.seq;
        events.slow.push_back((seq, request));
        if events.slow.len() > EVENTS_KEPT {
            events.slow.pop_front();
        }
    }

    /// A client refused by a rate limit (a user id or an address).
    pub fn record_limited(&self, policy: &str, client: &str) {
        let mut events = self.events();
        let mut key = format!("{policy}|{client}");
        if !events.limited.contains_key(&key) && events.limited.len() >= CLIENTS_KEPT {
            key = format!("{policy}|others");
        }
        *events.limited.entry(key).or_default() += 1;
    }

    /// Every total now.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        self.registry.visit_counters(|key, counter| {
            totals
                .counters
                .insert(key_of(key), counter.load(Ordering::Relaxed));
        });
        self.registry.visit_gauges(|key, gauge| {
            totals
                .gauges
                .insert(key_of(key), f64::from_bits(gauge.load(Ordering::Relaxed)));
        });
        self.registry.visit_histograms(|key, histogram| {
            totals.histograms.insert(key_of(key), histogram.snapshot());
        });
        let events = self.events();
        totals.limited = events.limited.clone();
        totals.seq = events.seq;
        totals
    }

    /// What changed from `before` to `now`, as a rollup (without instance or interval).
    pub fn difference(&self, before: &Totals, now: &Totals) -> Rollup {
        let mut rollup = Rollup::default();
        for (key, value) in &now.counters {
            let delta = value.saturating_sub(before.counters.get(key).copied().unwrap_or(0));
            if delta > 0 {
                rollup.counters.insert(key.clone(), delta);
            }
        }
        for (key, hist) in &now.histograms {
            let earlier = before.histograms.get(key);
            let counts: Vec<u64> = hist
                .counts
                .iter()
                .enumerate()
                .map(|(index, count)| {
                    count.saturating_sub(
                        earlier
                            .and_then(|earlier| earlier.counts.get(index).copied())
                            .unwrap_or(0),
                    )
                })
                .collect();
            if counts.iter().any(|count| *count > 0) {
                let sum = hist.sum - earlier.map_or(0.0, |earlier| earlier.sum);
                rollup.histograms.insert(key.clone(), Hist { counts, sum });
            }
        }
        rollup.gauges = now.gauges.clone();
        for (key, value) in &now.limited {
            let delta = value.saturating_sub(before.limited.get(key).copied().unwrap_or(0));
            if delta > 0 {
                rollup.limited.insert(key.clone(), delta);
            }
        }
        let events = self.events();
        for (_, kind, seen) in events
            .errors
            .iter()
            .filter(|(seq, ..)| *seq > before.seq && *seq <= now.seq)
        {
            let mine = rollup.errors.entry(kind.clone()).or_default();
            mine.count += 1;
            mine.last_at_ms = seen.last_at_ms;
            mine.request_id = seen.request_id.clone();
            mine.log_line = seen.log_line.clone();
        }
        rollup.slow = events
            .slow
            .iter()
            .filter(|(seq, _)| *seq > before.seq && *seq <= now.seq)
            .map(|(_, request)| request.clone())
            .collect();
        rollup.slow.sort_by(|a, b| b.millis.total_cmp(&a.millis));
        rollup.slow.truncate(super::rollup::SLOW_KEPT);
        rollup
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// The recorder that feeds the window (installed beside Prometheus's).
pub struct WindowRecorder(pub Arc<Window>);

impl Recorder for WindowRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.0
            .registry
            .get_or_create_counter(key, |counter| Counter::from_arc(counter.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.0
            .registry
            .get_or_create_gauge(key, |gauge| Gauge::from_arc(gauge.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.0
            .registry
            .get_or_create_histogram(key, |histogram| Histogram::from_arc(histogram.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Level;

    static META: Metadata<'static> = Metadata::new("test", Level::INFO, None);

    #[test]
    fn differences_hold_what_happened_between_two_totals() {
        let window = Arc::new(Window::new());
        let recorder = WindowRecorder(window.clone());
        let requests = Key::from_parts("requests_total", vec![metrics::Label::new("kind", "a")]);
        let latency = Key::from_name("work_duration_seconds");
        recorder.register_counter(&requests, &META).increment(5);
        recorder.register_histogram(&latency, &META).record(0.003);
        let before = window.totals();

        recorder.register_counter(&requests, &META).increment(2);
        recorder.register_histogram(&latency, &META).record(0.2);
        recorder.register_histogram(&latency, &META).record(0.2);
        recorder
            .register_gauge(&Key::from_name("in_use"), &META)
            .set(3.0);
        window.record_error("database", "req-1", "line".into());
        window.record_slow("/", 200, 1500.0, "req-2");
        window.record_limited("search", "10.0.0.1");
        let now = window.totals();

        let rollup = window.difference(&before, &now);
        assert_eq!(rollup.counters["requests_total|kind=a"], 2);
        let hist = &rollup.histograms["work_duration_seconds"];
        assert_eq!(hist.count(), 2);
        assert!((hist.sum - 0.4).abs() < 1e-9);
        assert_eq!(rollup.gauges["in_use"], 3.0);
        assert_eq!(rollup.errors["database"].request_id, "req-1");
        assert_eq!(rollup.slow[0].request_id, "req-2");
        assert_eq!(rollup.limited["search|10.0.0.1"], 1);

        // Nothing new: nothing but the gauges.
        let later = window.totals();
        let quiet = window.difference(&now, &later);
        assert!(quiet.counters.is_empty() && quiet.histograms.is_empty());
        assert!(quiet.errors.is_empty() && quiet.slow.is_empty() && quiet.limited.is_empty());
    }

    #[test]
    fn refused_clients_beyond_the_limit_are_counted_together() {
        let window = Window::new();
        for client in 0..CLIENTS_KEPT + 5 {
            window.record_limited("read", &client.to_string());
        }
        let totals = window.totals();
        assert_eq!(totals.limited.len(), CLIENTS_KEPT + 1);
        assert_eq!(totals.limited["read|others"], 5);
    }
}
