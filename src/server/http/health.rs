//! Health endpoints for load balancers, orchestrators and people.
//!
//! - `/health`: liveness. The process is up and serving HTTP; no dependency is
//!   touched, so a slow database never gets a healthy process restarted.
//! - `/health/deep`: readiness, as `application/health+json`: Postgres, Redis and the
//!   search index, checked concurrently with short timeouts. 200 for pass or warn,
//!   503 for fail. The answer is reused for two seconds, so the endpoint cannot be
//!   used to hammer the dependencies.

use std::{
    sync::{Arc, Mutex},
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
    state::AppState,
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
pub struct HealthCache(Mutex<Option<(Instant, Arc<Report>)>>);

/// One dependency's check: its `application/health+json` entry and what the
/// dashboard's tile shows.
pub struct Check {
    pub name: &'static str,
    /// Its key in the `checks` object ("postgres:responseTime").
    key: &'static str,
    pub status: Status,
    /// The observation, for people ("1.3 ms", "12 changes behind").
    pub observed: String,
    pub output: Option<String>,
    entry: Value,
}

pub struct Report {
    pub status: Status,
    pub checks: Vec<Check>,
}

impl Report {
    fn body(&self) -> String {
        let mut checks = serde_json::Map::new();
        for check in &self.checks {
            checks.insert(check.key.to_owned(), json!([check.entry]));
        }
        json!({ "status": self.status, "checks": checks }).to_string()
    }
}

/// The deep check, run at most once every two seconds.
pub async fn report(state: &AppState) -> Arc<Report> {
    let reused = state
        .health
        .0
        .lock()
        .ok()
        .and_then(|last| last.clone())
        .filter(|(at, _)| at.elapsed() < REUSE_FOR);
    if let Some((_, report)) = reused {
        return report;
    }
    let report = Arc::new(check(state).await);
    if let Ok(mut last) = state.health.0.lock() {
        *last = Some((Instant::now(), report.clone()));
    }
    report
}

/// `GET /health/deep` on the site: the verdict for anyone (a load balancer's probe),
/// the checks' details only for admins (they name versions, counts and errors).
pub async fn deep(
    State(state): State<AppState>,
    user: Option<axum::Extension<crate::domain::CurrentUser>>,
) -> Response {
    let admin = user.is_some_and(|axum::Extension(user)| user.role == crate::domain::Role::Admin);
    answer(&state, admin).await
}

/// `GET /health/deep` on the metrics address (a private network): with the details.
pub async fn deep_private(State(state): State<AppState>) -> Response {
    answer(&state, true).await
}

async fn answer(state: &AppState, details: bool) -> Response {
    let report = report(state).await;
    let code = if report.status == Status::Fail {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        code,
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        if details {
            report.body()
        } else {
            json!({ "status": report.status }).to_string()
        },
    )
        .into_response()
}

async fn check(state: &AppState) -> Report {
    let (postgres, redis) = tokio::join!(check_postgres(state), check_redis(state));
    let index = check_index(&state.search.index.status());
    let checks = vec![postgres, redis, index];
    Report {
        status: checks
            .iter()
            .map(|check| check.status)
            .max()
            .unwrap_or(Status::Pass),
        checks,
    }
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

fn millis_check(
    name: &'static str,
    key: &'static str,
    status: Status,
    millis: f64,
    output: Option<String>,
) -> Check {
    Check {
        name,
        key,
        status,
        observed: crate::domain::format::amount(millis, "ms"),
        entry: entry(
            status,
            "datastore",
            json!(round(millis)),
            "ms",
            output.clone(),
        ),
        output,
    }
}

async fn check_postgres(state: &AppState) -> Check {
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
    millis_check("Postgres", "postgres:responseTime", status, millis, output)
}

async fn check_redis(state: &AppState) -> Check {
    let Some(redis) = &state.redis else {
        let output = Some("REDIS_URL is not set: caches are per process".to_owned());
        return Check {
            name: "Redis",
            key: "redis:responseTime",
            status: Status::Warn,
            observed: "not configured".to_owned(),
            entry: entry(Status::Warn, "datastore", Value::Null, "ms", output.clone()),
            output,
        };
    };
    let started = Instant::now();
    let result = tokio::time::timeout(CHECK_TIMEOUT, redis.ping::<String>(None)).await;
    let millis = started.elapsed().as_secs_f64() * 1_000.0;
    let (status, output) = match result {
        Ok(Ok(_)) => (Status::Pass, None),
        Ok(Err(_)) | Err(_) => (Status::Fail, Some("Redis did not answer".to_owned())),
    };
    millis_check("Redis", "redis:responseTime", status, millis, output)
}

fn check_index(index: &IndexStatus) -> Check {
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
    let mut value = entry(
        status,
        "component",
        json!(index.lag),
        "changes",
        output.clone(),
    );
    value["documents"] = json!(index.documents);
    value["position"] = json!(index.position);
    value["state"] = serde_json::to_value(&index.state).unwrap_or(Value::Null)["state"].clone();
    Check {
        name: "Search index",
        key: "search-index:lag",
        status,
        observed: format!("{} behind, {} documents", index.lag, index.documents),
        output,
        entry: value,
    }
}

fn round(millis: f64) -> f64 {
    (millis * 100.0).round() / 100.0
}
