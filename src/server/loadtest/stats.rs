//! What a load-test phase measured: every latency by request kind (kept whole, so the
//! percentiles are exact), and failures by kind and cause.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::Mutex,
    time::{Duration, Instant},
};

#[derive(Default)]
pub struct Recorder {
    inner: Mutex<Recorded>,
}

#[derive(Default)]
struct Recorded {
    /// Microseconds, by request kind.
    latencies: BTreeMap<&'static str, Vec<u32>>,
    /// (request kind, cause) → count.
    errors: BTreeMap<(&'static str, String), u64>,
    /// Outcomes that are not errors but worth counting (an edit refused as a conflict).
    notes: BTreeMap<&'static str, u64>,
}

impl Recorder {
    pub fn latency(&self, kind: &'static str, took: Duration) {
        let micros = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.lock().latencies.entry(kind).or_default().push(micros);
    }

    pub fn error(&self, kind: &'static str, cause: impl Into<String>) {
        *self.lock().errors.entry((kind, cause.into())).or_default() += 1;
    }

    pub fn note(&self, what: &'static str) {
        *self.lock().notes.entry(what).or_default() += 1;
    }

    pub fn requests(&self) -> usize {
        self.lock().latencies.values().map(Vec::len).sum()
    }

    pub fn error_count(&self) -> u64 {
        self.lock().errors.values().sum()
    }

    /// Each kind's percentiles.
    pub fn by_kind(&self) -> Vec<(&'static str, Summary)> {
        self.lock()
            .latencies
            .iter()
            .map(|(kind, values)| (*kind, Summary::of(&mut values.clone())))
            .collect()
    }

    /// The latencies of every kind together (for a closed-loop run of one kind).
    pub fn all(&self) -> Summary {
        let recorded = self.lock();
        let mut all: Vec<u32> = recorded.latencies.values().flatten().copied().collect();
        Summary::of(&mut all)
    }

    /// A Markdown table: one row per kind, requests per second over `elapsed`.
    pub fn table(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let mut out = String::from(
            "| request | count | per s | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|\n",
        );
        for (kind, summary) in self.by_kind() {
            let _ = writeln!(
                out,
                "| {kind} | {} | {:.0} | {} |",
                summary.count,
                summary.count as f64 / seconds,
                summary.cells()
            );
        }
        out
    }

    /// Failures and notes as Markdown lines ("none" when there were none).
    pub fn failures(&self) -> String {
        let recorded = self.lock();
        let mut out = String::new();
        if recorded.errors.is_empty() {
            out.push_str("Errors: none.\n");
        } else {
            out.push_str("Errors:\n");
            for ((kind, cause), count) in &recorded.errors {
                let _ = writeln!(out, "- {kind}: {cause} × {count}");
            }
        }
        for (what, count) in &recorded.notes {
            let _ = writeln!(out, "- {what}: {count}");
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Exact percentiles of a set of latencies (microseconds).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: u32,
    pub p95: u32,
    pub p99: u32,
    pub max: u32,
}

impl Summary {
    pub fn of(values: &mut [u32]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        values.sort_unstable();
        // Nearest rank: the smallest value with at least q of the values at or below it.
        let at = |q: f64| {
            let rank = (q * values.len() as f64).ceil() as usize;
            values[rank.clamp(1, values.len()) - 1]
        };
        Summary {
            count: values.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: values[values.len() - 1],
        }
    }

    /// "p50 | p95 | p99 | max" in milliseconds, for a table row.
    pub fn cells(&self) -> String {
        let ms = |micros: u32| format!("{:.1}", f64::from(micros) / 1000.0);
        format!(
            "{} | {} | {} | {}",
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// Times one request: the clock runs from sending to the last byte of the body.
/// Returns the status and body, or records why there is none.
pub async fn timed(
    recorder: &Recorder,
    kind: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<(reqwest::StatusCode, bytes::Bytes)> {
    timed_from(recorder, kind, request, Instant::now()).await
}

/// [`timed`], the latency counted from `started`: for an open model, the moment the
/// request was due, so a request held back by a slow one before it counts the wait.
pub async fn timed_from(
    recorder: &Recorder,
    kind: &'static str,
    request: reqwest::RequestBuilder,
    started: Instant,
) -> Option<(reqwest::StatusCode, bytes::Bytes)> {
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            recorder.latency(kind, started.elapsed());
            recorder.error(kind, cause(&error));
            return None;
        }
    };
    let status = response.status();
    match response.bytes().await {
        Ok(body) => {
            recorder.latency(kind, started.elapsed());
            if status.is_success() {
                Some((status, body))
            } else {
                recorder.error(kind, format!("HTTP {}", status.as_u16()));
                None
            }
        }
        Err(error) => {
            recorder.latency(kind, started.elapsed());
            recorder.error(kind, cause(&error));
            None
        }
    }
}

pub(super) fn cause(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "body cut short".to_owned()
    } else {
        // The innermost cause says what happened (reset, closed before the answer…).
        let mut source: &dyn std::error::Error = error;
        while let Some(inner) = source.source() {
            source = inner;
        }
        format!("connection failed: {source}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut values: Vec<u32> = (1..=200).collect();
        let summary = Summary::of(&mut values);
        assert_eq!(
            summary,
            Summary {
                count: 200,
                p50: 100,
                p95: 190,
                p99: 198,
                max: 200
            }
        );
        let mut one = vec![7];
        let single = Summary::of(&mut one);
        assert_eq!((single.p50, single.p99, single.max), (7, 7, 7));
        assert_eq!(Summary::of(&mut []).count, 0);
    }

    #[test]
    fn the_table_and_failures_read_per_kind() {
        let recorder = Recorder::default();
        for micros in [1000, 2000, 3000, 4000] {
            recorder.latency("search", Duration::from_micros(micros));
        }
        recorder.latency("page", Duration::from_millis(12));
        recorder.error("search", "HTTP 503");
        recorder.error("search", "HTTP 503");
        recorder.note("edit conflicts");
        let table = recorder.table(Duration::from_secs(2));
        assert!(
            table.contains("| page | 1 | 0 | 12.0 | 12.0 | 12.0 | 12.0 |"),
            "{table}"
        );
        assert!(
            table.contains("| search | 4 | 2 | 2.0 | 4.0 | 4.0 | 4.0 |"),
            "{table}"
        );
        assert_eq!(recorder.requests(), 5);
        assert_eq!(recorder.error_count(), 2);
        let failures = recorder.failures();
        assert!(failures.contains("- search: HTTP 503 × 2"), "{failures}");
        assert!(failures.contains("- edit conflicts: 1"), "{failures}");
        assert_eq!(Recorder::default().failures(), "Errors: none.\n");
    }
}
