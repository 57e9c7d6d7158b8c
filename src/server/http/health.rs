//! Health endpoints for load balancers, orchestrators and people.
//!
//! - `/health`: liveness. The process is up and serving HTTP; no dependency is
//!   touched, so a slow database never gets a healthy process restarted.
//! - `/health/deep`: readiness, as `application/health+json`: Postgres, Redis and the
//!   search index, checked concurrently with short timeouts. 200 for pass or warn,
//!   503 for fail. The answer is reused for two seconds, so the endpoint cannot be
//!   used to hammer the dependencies.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use fred::interfaces::ClientLike;
use serde::Serialize;
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::server::{
    search::{IndexState, IndexStatus},
    startup::AppState,
};

const CONTENT_TYPE: &str = "application/health+json";
const CHECK_TIMEOUT: Duration = Duration::from_millis(1_000);
const REUSE_FOR: Duration = Duration::from_secs(2);
/// Changes behind Postgres above which a ready index is reported as lagging.
const LAG_WARNING: i64 = 10_000;

pub async fn live() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        r#"{"status":"pass"}"#,
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

/// The last deep check and when it ran.
#[derive(Default)]
pub struct HealthCache(Mutex<Option<(Instant, StatusCode, String)>>);

pub async fn deep(State(state): State<AppState>) -> Response {
    let reused = state
        .health
        .0
        .lock()
        .ok()
        .and_then(|last| last.clone())
        .filter(|(at, _, _)| at.elapsed() < REUSE_FOR);
    let (status, body) = match reused {
        Some((_, status, body)) => (status, body),
        None => {
            let (status, body) = check(&state).await;
            if let Ok(mut last) = state.health.0.lock() {
                *last = Some((Instant::now(), status, body.clone()));
            }
            (status, body)
        }
    };
    (
        status,
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn check(state: &AppState) -> (StatusCode, String) {
    let (postgres, redis) = tokio::join!(check_postgres(state), check_redis(state));
    let index = check_index(&state.search.index.status());
    let overall = [postgres.0, redis.0, index.0]
        .into_iter()
        .max()
        .unwrap_or(Status::Pass);
    let body = json!({
        "status": overall,
        "checks": {
            "postgres:responseTime": [postgres.1],
            "redis:responseTime": [redis.1],
            "search-index:lag": [index.1],
        }
    });
    let code = if overall == Status::Fail {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, body.to_string())
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn entry(
    status: Status,
    component: &str,
    value: Value,
    unit: &str,
    output: Option<String>,
) -> Value {
    let mut entry = json!({
        "componentType": component,
        "status": status,
        "observedValue": value,
        "observedUnit": unit,
        "time": now(),
    });
    if let Some(output) = output {
        entry["output"] = Value::String(output);
    }
    entry
}

async fn check_postgres(state: &AppState) -> (Status, Value) {
    let started = Instant::now();
    let result = tokio::time::timeout(
        CHECK_TIMEOUT,
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.db),
    )
    .await;
    let millis = started.elapsed().as_secs_f64() * 1_000.0;
    let (status, output) = match result {
        Ok(Ok(_)) => (Status::Pass, None),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: Postgres failed");
            (Status::Fail, Some("Postgres did not answer".to_owned()))
        }
        Err(_) => (Status::Fail, Some("Postgres timed out".to_owned())),
    };
    (
        status,
        entry(status, "datastore", json!(round(millis)), "ms", output),
    )
}

async fn check_redis(state: &AppState) -> (Status, Value) {
    let Some(redis) = &state.redis else {
        return (
            Status::Warn,
            entry(
                Status::Warn,
                "datastore",
                Value::Null,
                "ms",
                Some("REDIS_URL is not set: caches are per process".to_owned()),
            ),
        );
    };
    let started = Instant::now();
    let result = tokio::time::timeout(CHECK_TIMEOUT, redis.ping::<String>(None)).await;
    let millis = started.elapsed().as_secs_f64() * 1_000.0;
    let (status, output) = match result {
        Ok(Ok(_)) => (Status::Pass, None),
        Ok(Err(_)) | Err(_) => (Status::Fail, Some("Redis did not answer".to_owned())),
    };
    (
        status,
        entry(status, "datastore", json!(round(millis)), "ms", output),
    )
}

fn check_index(index: &IndexStatus) -> (Status, Value) {
    let (status, output) = match &index.state {
        IndexState::Ready if index.lag > LAG_WARNING => (
            Status::Warn,
            Some(format!("{} changes behind Postgres", index.lag)),
        ),
        IndexState::Ready => (Status::Pass, None),
        IndexState::Starting => (Status::Warn, Some("opening the index".to_owned())),
        IndexState::Building { indexed, total } => {
            let percent = if *total == 0 {
                100
            } else {
                indexed * 100 / total
            };
            (
                Status::Warn,
                Some(format!(
                    "building the index: {percent}% ({indexed} of {total} contacts)"
                )),
            )
        }
        IndexState::Failed { reason } if index.serving => (Status::Warn, Some(reason.clone())),
        IndexState::Failed { reason } => (Status::Fail, Some(reason.clone())),
    };
    let mut value = entry(status, "component", json!(index.lag), "changes", output);
    value["documents"] = json!(index.documents);
    value["position"] = json!(index.position);
    value["state"] = serde_json::to_value(&index.state).unwrap_or(Value::Null)["state"].clone();
    (status, value)
}

fn round(millis: f64) -> f64 {
    (millis * 100.0).round() / 100.0
}
