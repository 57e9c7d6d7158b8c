//! The rate limits on requests: per client address for those not signed in (server
//! functions and the API only), per user and kind of request for those signed in.
//! Static files and health checks are never counted. Sign-in has limits of its own,
//! checked by the sign-in itself (`server::auth::users::sign_in`).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, Method, StatusCode},
    middleware::Next,
    response::Response,
};

use super::pages;
use crate::{
    domain::CurrentUser,
    error::AppError,
    server::{
        auth::{is_api, is_public},
        context::client_ip,
        limits::{Decision, Kind},
        state::AppState,
    },
};

/// What a signed-in user's request counts as.
fn kind_of(method: &Method, path: &str, query: Option<&str>) -> Kind {
    if path == "/import/upload" {
        Kind::Upload
    } else if path == "/api/vitals" {
        // A browser's report on the page it just showed: part of reading.
        Kind::Read
    } else if !matches!(*method, Method::GET | Method::HEAD) {
        Kind::Write
    } else if path == "/api/search"
        || path == "/api/directory-view"
        || (path == "/" && query.is_some_and(|query| !query.is_empty()))
    {
        // The search box asks for the directory's results as one types.
        Kind::Search
    } else {
        Kind::Read
    }
}

/// Whether a request by someone not signed in is counted: calls to server functions
/// and the data endpoints, not pages (which send them to sign in) nor static files.
fn counts_when_anonymous(path: &str) -> bool {
    is_api(path)
        || path.starts_with("/export.")
        || path.starts_with("/export-")
        || path == "/import/upload"
        || (path.starts_with("/contacts/") && path.ends_with("/vcard"))
}

/// Never counted: static files and health checks.
fn never_counted(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/health")
        || (is_public(path) && !is_api(path) && path != "/login")
}

pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if never_counted(path) {
        return next.run(request).await;
    }
    let (kind, subject) = match request.extensions().get::<CurrentUser>() {
        Some(user) => (
            kind_of(request.method(), path, request.uri().query()),
            user.id.to_string(),
        ),
        None if counts_when_anonymous(path) => {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip());
            let ip = client_ip(peer, request.headers(), &state.config.trusted_proxies);
            (Kind::Anonymous, crate::server::limits::client_group(ip))
        }
        None => return next.run(request).await,
    };
    let decision = state.limiter.take(kind, &subject).await;
    if !decision.allowed {
        tracing::info!(policy = kind.name(), path, "rate limited");
        return too_many(path, &decision);
    }
    let mut response = next.run(request).await;
    for (name, value) in decision.headers() {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// 429 with `Retry-After` and the rate-limit headers: the error for scripts, a page
/// that retries by itself for a person.
pub fn too_many(path: &str, decision: &Decision) -> Response {
    let retry = decision.retry_after_secs();
    let mut headers: Vec<(HeaderName, String)> = decision
        .headers()
        .into_iter()
        .map(|(name, value)| (HeaderName::from_static(name), value))
        .collect();
    headers.push((axum::http::header::RETRY_AFTER, retry.to_string()));
    if is_api(path) {
        return pages::api_error(
            &AppError::TooManyRequests {
                retry_after_secs: retry,
            },
            &headers,
        );
    }
    pages::error_page_with_refresh(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        &format!(
            "You have made more requests than Roster allows in a short time. \
             This page will try again by itself in {retry} s."
        ),
        Some(retry),
        &headers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_by_kind() {
        assert_eq!(kind_of(&Method::GET, "/api/search", None), Kind::Search);
        assert_eq!(
            kind_of(&Method::GET, "/api/directory-view", Some("query=q%3Dann")),
            Kind::Search
        );
        assert_eq!(kind_of(&Method::GET, "/", Some("q=ann")), Kind::Search);
        assert_eq!(kind_of(&Method::GET, "/", None), Kind::Read);
        assert_eq!(
            kind_of(&Method::GET, "/api/contact", Some("id=1")),
            Kind::Read
        );
        assert_eq!(
            kind_of(&Method::POST, "/api/save-contact", None),
            Kind::Write
        );
        assert_eq!(kind_of(&Method::POST, "/import/upload", None), Kind::Upload);
    }

    #[test]
    fn static_files_are_never_counted() {
        assert!(never_counted("/pkg/roster.wasm"));
        assert!(never_counted("/favicon.svg"));
        assert!(never_counted("/health/deep"));
        assert!(!never_counted("/api/sign-in"));
        assert!(!never_counted("/"));
        assert!(counts_when_anonymous("/api/search"));
        assert!(counts_when_anonymous("/export.csv"));
        assert!(counts_when_anonymous("/export-3.0.vcf"));
        assert!(!counts_when_anonymous("/login"));
    }
}
