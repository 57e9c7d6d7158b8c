//! Prometheus metrics: the process's recorder, the HTTP request histogram, and the
//! `/metrics` endpoint (admins only, see `auth::needed_role`).
//!
//! Names and units follow the Prometheus and OpenTelemetry conventions; histograms
//! have explicit buckets. Labels never hold user ids or raw queries: the route label
//! is the route's template (or the server function's fixed path).

use std::{
    collections::HashSet,
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::layers::FanoutBuilder;

use crate::server::monitor::{
    self,
    rollup::{DURATION_BUCKETS, LAYOUT_SHIFT, SHIFT_BUCKETS, VITAL_BUCKETS, VITAL_SECONDS},
    window::WindowRecorder,
};

/// The process's recorder, installed on first use (once per process: the tests run
/// many apps in one): Prometheus's, for `/metrics`, and the dashboard's window
/// (`monitor::window`), with the same buckets.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let prometheus = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_duration_seconds".to_owned()),
                DURATION_BUCKETS,
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Suffix("_wait_time_seconds".to_owned()),
                    DURATION_BUCKETS,
                )
            })
            .and_then(|builder| {
                builder
                    .set_buckets_for_metric(Matcher::Full(VITAL_SECONDS.to_owned()), VITAL_BUCKETS)
            })
            .and_then(|builder| {
                builder
                    .set_buckets_for_metric(Matcher::Full(LAYOUT_SHIFT.to_owned()), SHIFT_BUCKETS)
            })
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = prometheus.handle();
        let both = FanoutBuilder::default()
            .add_recorder(prometheus)
            .add_recorder(WindowRecorder(monitor::window().clone()))
            .build();
        if let Err(error) = metrics::set_global_recorder(both) {
            // Another recorder is installed already (an embedding program's): this
            // one's `/metrics` and dashboard then stay empty.
            tracing::warn!(%error, "a metrics recorder was installed already");
        }
        handle
    })
}

/// Every few seconds: samples the gauges (database pool, search index, open sessions,
/// import jobs) and keeps the recorder's histograms bounded.
pub async fn upkeep(
    db: sqlx::PgPool,
    index: std::sync::Arc<crate::server::search::SearchIndex>,
    sessions: crate::server::auth::Sessions,
    max_connections: u32,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (open_sessions, imports) = tokio::join!(
            tokio::time::timeout(Duration::from_secs(2), sessions.count_active()),
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT count(*) FILTER (WHERE status = 'running'), \
                        count(*) FILTER (WHERE status = 'ready') \
                 FROM import_jobs WHERE status IN ('running', 'ready')",
            )
            .fetch_one(&db),
        );
        if let Ok(Ok(count)) = open_sessions {
            metrics::gauge!("sessions_active").set(count as f64);
        }
        if let Ok((running, ready)) = imports {
            metrics::gauge!("import_jobs", "state" => "running").set(running as f64);
            metrics::gauge!("import_jobs", "state" => "ready").set(ready as f64);
        }
        let (size, idle) = (db.size(), db.num_idle() as u32);
        metrics::gauge!("db_pool_connections", "state" => "in_use")
            .set(f64::from(size.saturating_sub(idle)));
        metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
        metrics::gauge!("db_pool_connections_max").set(f64::from(max_connections));
        let status = index.status();
        metrics::gauge!("search_index_documents").set(status.documents as f64);
        metrics::gauge!("search_index_lag_changes").set(status.lag as f64);
        handle().run_upkeep();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The server functions' paths: fixed, so each may be a label value of its own.
fn server_function_paths() -> &'static HashSet<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| {
        leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect()
    })
}

/// The label for a request's route: its template, never the raw path.
fn route_label(path: &str, matched: Option<&str>) -> String {
    if let Some(known) = server_function_paths().get(path) {
        return (*known).to_owned();
    }
    match matched {
        Some(template) if !template.contains("{*") => template.to_owned(),
        _ if path.starts_with("/pkg/") => "/pkg/{file}".to_owned(),
        _ => "other".to_owned(),
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Who a response was for, left by `auth::authenticate` for the request log.
#[derive(Clone, Copy)]
pub struct ServedUser(pub uuid::Uuid);

/// Counts a request in `http_server_active_requests` for as long as it lives (a
/// request cancelled midway included).
struct Active;

impl Active {
    fn start() -> Self {
        metrics::gauge!("http_server_active_requests").increment(1.0);
        Active
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        metrics::gauge!("http_server_active_requests").decrement(1.0);
    }
}

/// Times every request: `http_server_request_duration_seconds` by method, route
/// template and status class (the time to the response head), and logs it: one line
/// per request (in the request's span, so with its id) with route, status, latency
/// and user; at WARN when slower than `ROSTER_SLOW_REQUEST_MS`. Requests being
/// answered are counted in `http_server_active_requests`.
pub async fn track(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let _active = Active::start();
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let request_id = crate::server::context::request_id(request.headers()).to_owned();
    let route = route_label(
        request.uri().path(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let user = response
        .extensions()
        .get::<ServedUser>()
        .map(|user| user.0.to_string());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if elapsed >= Duration::from_millis(state.config.slow_request_ms) {
        tracing::warn!(route, status, latency_ms, user, "slow request");
        metrics::counter!("http_server_slow_requests_total", "route" => route.clone()).increment(1);
        monitor::window().record_slow(&route, status, latency_ms, &request_id);
    } else {
        tracing::info!(route, status, latency_ms, user, "request");
    }
    metrics::histogram!(
        "http_server_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => status_class(status),
    )
    .record(elapsed.as_secs_f64());
    response
}

/// `GET /metrics`: the Prometheus text format.
pub async fn scrape() -> Response {
    let mut response = handle().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_by_template() {
        assert_eq!(
            route_label("/contacts/123", Some("/contacts/{id}")),
            "/contacts/{id}"
        );
        assert_eq!(route_label("/pkg/roster.wasm", None), "/pkg/{file}");
        assert_eq!(route_label("/no/such/page", None), "other");
        assert_eq!(
            route_label("/api/not-a-function", Some("/api/{*fn_name}")),
            "other"
        );
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
    }
}
