//! Builds the dashboard's snapshot from the fleet's rollups: the status strip over the
//! last five minutes, and the charts and tables over the chosen period.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::{
    domain::dashboard::{
        Bar, CacheRow, Chart, Dashboard, ErrorRow, InstanceRow, LatencyRow, Level, LimitedRow,
        Line, Period, PoolPanel, RedisPanel, SlowRow, StatePanel, Tile, VitalRow,
    },
    server::{
        error::Result,
        http::health::{self, Status},
        state::AppState,
    },
};

use super::{
    COARSE_SECONDS, Tier, now_seconds,
    rollup::{
        DURATION_BUCKETS, Hist, LAYOUT_SHIFT, Rollup, SHIFT_BUCKETS, VITAL_BUCKETS, VITAL_SECONDS,
        merge_fleet, merge_per_instance, series_label,
    },
    rules::{self, REQUESTS, SEARCHES},
};

/// The span the status strip judges.
const RECENT_SECONDS: i64 = 300;
/// How many rows the tables of routes and clients show.
const TOP: usize = 10;

fn millis(seconds: Option<f64>) -> Option<f64> {
    seconds.map(|seconds| seconds * 1_000.0)
}

fn latency_row(name: &str, hist: &Hist, bounds: &[f64]) -> LatencyRow {
    LatencyRow {
        name: name.to_owned(),
        count: hist.count(),
        p50_ms: millis(hist.quantile(bounds, 0.5)),
        p90_ms: millis(hist.quantile(bounds, 0.9)),
        p99_ms: millis(hist.quantile(bounds, 0.99)),
        p999_ms: millis(hist.quantile(bounds, 0.999)).filter(|_| hist.count() >= 1_000),
    }
}

fn is_failure(key: &str) -> bool {
    series_label(key, "status") == Some("5xx")
}

pub async fn build(state: &AppState, period: Period) -> Result<Dashboard> {
    let monitor = &state.monitor;
    let now = now_seconds();
    let from = now - period.seconds();
    let long = period.seconds() > 3_600;
    // Five-minute rollups are published when their five minutes end: before that,
    // the ten-second ones stand in for them.
    let cut = now.div_euclid(COARSE_SECONDS) * COARSE_SECONDS;
    let fine_from = if long {
        cut.min(now - RECENT_SECONDS)
    } else {
        from.min(now - RECENT_SECONDS)
    };
    let (mut fine, coarse, report) = tokio::join!(
        monitor.rollups(Tier::Fine, fine_from),
        async {
            if long {
                monitor.rollups(Tier::Coarse, from).await
            } else {
                Vec::new()
            }
        },
        health::report(state),
    );
    fine.push(monitor.open_interval());

    let in_period: Vec<&Rollup> = if long {
        coarse
            .iter()
            .filter(|rollup| rollup.start < cut)
            .chain(fine.iter().filter(|rollup| rollup.start >= cut))
            .collect()
    } else {
        fine.iter().filter(|rollup| rollup.start >= from).collect()
    };
    let recent: Vec<&Rollup> = fine
        .iter()
        .filter(|rollup| rollup.start >= now - RECENT_SECONDS)
        .collect();
    let readings = recent
        .iter()
        .map(|rollup| rollup.start)
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;

    let mut tiles = rules::evaluate_all(&merge_fleet(recent.iter().copied()), readings);
    tiles.extend(report.checks.iter().map(|check| {
        Tile {
            name: check.name.to_owned(),
            level: match check.status {
                Status::Pass => Level::Ok,
                Status::Warn => Level::Warn,
                Status::Fail => Level::Crit,
            },
            value: check.observed.clone(),
            threshold: "from the deep health check".to_owned(),
            note: check
                .output
                .clone()
                .unwrap_or_else(|| "answering".to_owned()),
        }
    }));

    let per_instance = merge_per_instance(in_period.iter().copied());
    let fleet = merge_fleet(in_period.iter().copied());
    let (traffic, latency, redis_chart) = charts(&in_period, period, now);

    Ok(Dashboard {
        period,
        generated_at_ms: super::window::now_ms(),
        served_by: monitor.instance().to_owned(),
        tiles,
        instances: instances(&per_instance),
        traffic,
        latency,
        searches: fleet
            .histograms_by(SEARCHES, "kind")
            .iter()
            .map(|(kind, hist)| latency_row(kind, hist, DURATION_BUCKETS))
            .collect(),
        search_histogram: bars(&fleet.histogram(SEARCHES, |_| true), DURATION_BUCKETS),
        cache: cache_rows(&fleet),
        pool: PoolPanel {
            in_use: fleet.gauge("db_pool_connections|state=in_use"),
            idle: fleet.gauge("db_pool_connections|state=idle"),
            max: fleet.gauge("db_pool_connections_max"),
            acquire: Some(latency_row(
                "acquire",
                &fleet.histogram("db_client_connection_wait_time_seconds", |_| true),
                DURATION_BUCKETS,
            )),
            queries: fleet
                .histograms_by("db_client_operation_duration_seconds", "operation")
                .iter()
                .map(|(operation, hist)| latency_row(operation, hist, DURATION_BUCKETS))
                .collect(),
        },
        redis: RedisPanel {
            commands: fleet
                .histograms_by("redis_command_duration_seconds", "operation")
                .iter()
                .map(|(operation, hist)| latency_row(operation, hist, DURATION_BUCKETS))
                .collect(),
            errors: fleet.counter_total("redis_errors_total"),
        },
        redis_chart,
        state: StatePanel {
            sessions_active: fleet.gauge("sessions_active"),
            index_documents: fleet.gauge("search_index_documents"),
            index_lag: fleet.gauge("search_index_lag_changes"),
            imports_running: fleet.gauge("import_jobs|state=running"),
            imports_waiting: fleet.gauge("import_jobs|state=ready"),
            import_rows: fleet.counter_total("import_rows_total"),
        },
        routes: slowest_routes(&fleet),
        slow: slow_requests(&per_instance),
        errors: errors(&per_instance),
        limited: limited(state, &fleet).await,
        attacked_admins: state
            .limiter
            .attacked_admins()
            .await
            .into_iter()
            .map(|(email, at)| crate::domain::dashboard::AttackedAdmin {
                email,
                last_at_ms: at * 1_000,
            })
            .collect(),
        vitals: vitals(&fleet),
    })
}

fn instances(per_instance: &BTreeMap<String, Rollup>) -> Vec<InstanceRow> {
    per_instance
        .iter()
        .map(|(instance, rollup)| {
            let requests = rollup.histogram(REQUESTS, |_| true);
            InstanceRow {
                instance: instance.clone(),
                last_seen_ms: (rollup.start + rollup.seconds) * 1_000,
                requests: requests.count(),
                errors: rollup.histogram(REQUESTS, is_failure).count(),
                p99_ms: millis(requests.quantile(DURATION_BUCKETS, 0.99)),
                pool_in_use: rollup.gauge("db_pool_connections|state=in_use"),
                pool_max: rollup.gauge("db_pool_connections_max"),
                index_documents: rollup.gauge("search_index_documents"),
                index_lag: rollup.gauge("search_index_lag_changes"),
            }
        })
        .collect()
}

/// Requests and errors per second, request latency, Redis latency: one point per step.
fn charts(rollups: &[&Rollup], period: Period, now: i64) -> (Chart, Chart, Chart) {
    let step = period.step_seconds();
    let points = (period.seconds() / step) as usize;
    let start = (now - period.seconds()).div_euclid(step) * step + step;
    let mut buckets: Vec<Vec<&Rollup>> = vec![Vec::new(); points];
    for rollup in rollups {
        let index = (rollup.start - start).div_euclid(step);
        if let Ok(index) = usize::try_from(index)
            && index < points
        {
            buckets[index].push(rollup);
        }
    }
    let mut lines: [Vec<Option<f64>>; 6] = Default::default();
    for (index, bucket) in buckets.iter().enumerate() {
        let merged = merge_fleet(bucket.iter().copied());
        let bucket_start = start + index as i64 * step;
        // The last point covers only the time that has passed.
        let covered = (now.min(bucket_start + step) - bucket_start).max(1) as f64;
        let requests = merged.histogram(REQUESTS, |_| true);
        let measured = !bucket.is_empty();
        lines[0].push(measured.then(|| requests.count() as f64 / covered));
        lines[1].push(
            measured.then(|| merged.histogram(REQUESTS, is_failure).count() as f64 / covered),
        );
        for (line, q) in [(2, 0.5), (3, 0.95), (4, 0.99)] {
            lines[line].push(millis(requests.quantile(DURATION_BUCKETS, q)));
        }
        lines[5].push(millis(
            merged
                .histogram("redis_command_duration_seconds", |_| true)
                .quantile(DURATION_BUCKETS, 0.95),
        ));
    }
    let [requests, errors, p50, p95, p99, redis] = lines;
    let chart = |unit: &str, lines: Vec<(&str, Vec<Option<f64>>)>| Chart {
        start,
        step_seconds: step,
        unit: unit.to_owned(),
        lines: lines
            .into_iter()
            .map(|(label, values)| Line {
                label: label.to_owned(),
                values,
            })
            .collect(),
    };
    (
        chart(
            "per second",
            vec![("requests", requests), ("errors (5xx)", errors)],
        ),
        chart("ms", vec![("p50", p50), ("p95", p95), ("p99", p99)]),
        chart("ms", vec![("Redis p95", redis)]),
    )
}

fn bound_label(bound: f64, unit_seconds: bool) -> String {
    if unit_seconds {
        if bound < 1.0 {
            format!("≤{} ms", bound * 1_000.0)
        } else {
            format!("≤{bound} s")
        }
    } else {
        format!("≤{bound}")
    }
}

fn bars(hist: &Hist, bounds: &[f64]) -> Vec<Bar> {
    if hist.counts.len() != bounds.len() + 1 {
        return Vec::new();
    }
    let mut bars: Vec<Bar> = bounds
        .iter()
        .zip(&hist.counts)
        .map(|(bound, count)| Bar {
            label: bound_label(*bound, true),
            count: *count,
        })
        .collect();
    bars.push(Bar {
        label: format!(">{} s", bounds.last().copied().unwrap_or_default()),
        count: hist.counts.last().copied().unwrap_or_default(),
    });
    bars
}

fn cache_rows(fleet: &Rollup) -> Vec<CacheRow> {
    let mut rows: BTreeMap<String, CacheRow> = BTreeMap::new();
    for (key, value) in &fleet.counters {
        let name = super::rollup::series_name(key);
        if name != "cache_hits_total" && name != "cache_misses_total" {
            continue;
        }
        let namespace = series_label(key, "namespace").unwrap_or("").to_owned();
        let row = rows.entry(namespace.clone()).or_insert(CacheRow {
            namespace,
            hits: 0,
            misses: 0,
        });
        if name == "cache_hits_total" {
            row.hits += value;
        } else {
            row.misses += value;
        }
    }
    rows.into_values().collect()
}

fn slowest_routes(fleet: &Rollup) -> Vec<LatencyRow> {
    let mut routes: Vec<LatencyRow> = fleet
        .histograms_by(REQUESTS, "route")
        .iter()
        .map(|(route, hist)| latency_row(route, hist, DURATION_BUCKETS))
        .collect();
    routes.sort_by(|a, b| {
        b.p99_ms
            .unwrap_or_default()
            .total_cmp(&a.p99_ms.unwrap_or_default())
    });
    routes.truncate(TOP);
    routes
}

fn slow_requests(per_instance: &BTreeMap<String, Rollup>) -> Vec<SlowRow> {
    let mut slow: Vec<SlowRow> = per_instance
        .iter()
        .flat_map(|(instance, rollup)| {
            rollup.slow.iter().map(move |request| SlowRow {
                at_ms: request.at_ms,
                route: request.route.clone(),
                status: request.status,
                millis: request.millis,
                request_id: request.request_id.clone(),
                instance: instance.clone(),
            })
        })
        .collect();
    slow.sort_by(|a, b| b.millis.total_cmp(&a.millis));
    slow.truncate(super::rollup::SLOW_KEPT);
    slow
}

fn errors(per_instance: &BTreeMap<String, Rollup>) -> Vec<ErrorRow> {
    let mut rows: BTreeMap<String, ErrorRow> = BTreeMap::new();
    for (instance, rollup) in per_instance {
        for (kind, seen) in &rollup.errors {
            let row = rows.entry(kind.clone()).or_insert(ErrorRow {
                kind: kind.clone(),
                count: 0,
                last_at_ms: i64::MIN,
                request_id: String::new(),
                log_line: String::new(),
                instance: String::new(),
            });
            row.count += seen.count;
            if seen.last_at_ms > row.last_at_ms {
                row.last_at_ms = seen.last_at_ms;
                row.request_id = seen.request_id.clone();
                row.log_line = seen.log_line.clone();
                row.instance = instance.clone();
            }
        }
    }
    let mut rows: Vec<ErrorRow> = rows.into_values().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.last_at_ms));
    rows
}

/// Refused clients, most refused first; users by their email.
async fn limited(state: &AppState, fleet: &Rollup) -> Vec<LimitedRow> {
    let mut rows: Vec<(String, String, u64)> = fleet
        .limited
        .iter()
        .filter_map(|(key, count)| {
            let (policy, client) = key.split_once('|')?;
            Some((policy.to_owned(), client.to_owned(), *count))
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.2));
    rows.truncate(TOP);
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|(_, client, _)| client.parse().ok())
        .collect();
    let emails: BTreeMap<Uuid, String> = if ids.is_empty() {
        BTreeMap::new()
    } else {
        sqlx::query_as::<_, (Uuid, String)>("SELECT id, email FROM users WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&state.db)
            .await
            .map(|rows| rows.into_iter().collect())
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "could not name the refused users");
                BTreeMap::new()
            })
    };
    rows.into_iter()
        .map(|(policy, client, count)| LimitedRow {
            client: client
                .parse::<Uuid>()
                .ok()
                .and_then(|id| emails.get(&id).cloned())
                .unwrap_or(client),
            policy,
            count,
        })
        .collect()
}

/// web.dev's thresholds: good at or below the first, poor above the second.
fn rating(value: f64, good: f64, poor: f64) -> &'static str {
    if value <= good {
        "good"
    } else if value <= poor {
        "needs improvement"
    } else {
        "poor"
    }
}

fn vitals(fleet: &Rollup) -> Vec<VitalRow> {
    let by_name = fleet.histograms_by(VITAL_SECONDS, "name");
    let mut rows: Vec<VitalRow> = [
        ("lcp", "LCP", 2_500.0, 4_000.0),
        ("inp", "INP", 200.0, 500.0),
        ("fcp", "FCP", 1_800.0, 3_000.0),
        ("ttfb", "TTFB", 800.0, 1_800.0),
    ]
    .into_iter()
    .map(|(label, name, good, poor)| {
        let hist = by_name.get(label).cloned().unwrap_or_default();
        let p75 = millis(hist.quantile(VITAL_BUCKETS, 0.75));
        VitalRow {
            name: name.to_owned(),
            p75,
            unit: "ms".to_owned(),
            samples: hist.count(),
            rating: p75.map_or("", |p75| rating(p75, good, poor)).to_owned(),
        }
    })
    .collect();
    let shift = fleet.histogram(LAYOUT_SHIFT, |_| true);
    let p75 = shift.quantile(SHIFT_BUCKETS, 0.75);
    rows.insert(
        1,
        VitalRow {
            name: "CLS".to_owned(),
            p75,
            unit: String::new(),
            samples: shift.count(),
            rating: p75.map_or("", |p75| rating(p75, 0.1, 0.25)).to_owned(),
        },
    );
    rows
}
