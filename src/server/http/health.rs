//! Health endpoints for load balancers and orchestrators.

use axum::{http::header, response::IntoResponse};

/// Liveness: the process is up and serving HTTP. Touches no dependency, so a slow
/// database never gets a healthy process restarted.
pub async fn live() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/health+json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        r#"{"status":"pass"}"#,
    )
}
