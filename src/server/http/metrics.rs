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

/// Request durations, seconds: from a cached search (well under a millisecond) to
/// the request timeout.
const REQUEST_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's recorder, installed on first use (once per process: the tests run
/// many apps in one).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_duration_seconds".to_owned()),
                REQUEST_BUCKETS,
            )
            .expect("the buckets are not empty");
        match builder.install_recorder() {
            Ok(handle) => handle,
            Err(error) => {
                // Another recorder is installed already (an embedding program's):
                // keep a private one so `/metrics` still answers.
                tracing::warn!(%error, "a metrics recorder was installed already");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Every few seconds: samples the gauges (database pool, search index) and keeps the
/// recorder's histograms bounded.
pub async fn upkeep(
    db: sqlx::PgPool,
    index: std::sync::Arc<crate::server::search::SearchIndex>,
    max_connections: u32,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
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

/// Times every request: `http_server_request_duration_seconds` by method, route
/// template and status class (the time to the response head), and logs it: one line
/// per request (in the request's span, so with its id) with route, status, latency
/// and user; at WARN when slower than `ROSTER_SLOW_REQUEST_MS`.
pub async fn track(
    axum::extract::State(state): axum::extract::State<crate::server::startup::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
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
