//! Protections every response and every change goes through: security headers
//! (pages add a Content-Security-Policy with their own nonce, see `ui::shell`), the
//! cross-site request check, and the empty 500 that the session layer gives when it
//! cannot save, turned into a page that says what happened.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse as _, Response},
};

use super::pages;
use crate::server::{auth::is_api, state::AppState};

/// The policy of everything that is not a page: no scripts at all.
const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// The policy of a page whose inline scripts carry `nonce` (the hydration loader and
/// the serialized resources); the wasm module needs `'wasm-unsafe-eval'`.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), \
     usb=(), xr-spatial-tracking=()";

/// The nonce of the page this request renders: made here, handed to the page's render
/// (see `http::router`), and named in the response's policy.
#[derive(Clone)]
pub struct PageNonce(pub leptos::nonce::Nonce);

/// Adds the security headers to every response. A page (HTML) may run its own inline
/// scripts, those that carry its nonce; anything else runs no script.
pub async fn headers(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Only what may render a page gets a nonce (not the API nor static files, the
    // bulk of requests).
    let path = request.uri().path();
    let nonce = (!is_api(path) && !path.starts_with("/pkg/")).then(leptos::nonce::Nonce::new);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(PageNonce(nonce.clone()));
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let is_page = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = nonce
            .filter(|_| is_page)
            .and_then(|nonce| HeaderValue::from_str(&page_csp(&nonce)).ok());
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            policy.unwrap_or(HeaderValue::from_static(DEFAULT_CSP)),
        );
    }
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, "x-content-type-options", "nosniff");
    set(
        headers,
        "referrer-policy",
        "strict-origin-when-cross-origin",
    );
    set(headers, "permissions-policy", PERMISSIONS_POLICY);
    set(headers, "x-frame-options", "DENY");
    set(headers, "cross-origin-opener-policy", "same-origin");
    if state.config.https {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// Refuses state-changing requests that a browser sent from another site: any method
/// but GET, HEAD and OPTIONS must come from this origin (or one the CORS allow-list
/// names). Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); a
/// request that says neither is allowed only without cookies (a script signing in):
/// one carrying a session cookie without saying where it comes from is refused, as an
/// old or odd browser could send it from anywhere.
pub async fn same_origin_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || is_same_origin(request.headers(), &state.config.cors_allowed_origins)
    {
        return next.run(request).await;
    }
    tracing::warn!(
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        security_event = "cross_site_refused",
        "refused a cross-site request"
    );
    metrics::counter!("csrf_refused_total").increment(1);
    pages::error_page(
        StatusCode::FORBIDDEN,
        "Request refused",
        "This request came from another site, so Roster refused it. \
         If you meant to make this change, make it from Roster's own page.",
        &[],
    )
}

fn is_same_origin(headers: &HeaderMap, allowed: &[String]) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    let origin = text(header::ORIGIN);
    let allowed_origin = origin.is_some_and(|origin| {
        allowed
            .iter()
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    });
    if allowed_origin {
        return true;
    }
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        return matches!(site, "same-origin" | "none");
    }
    match origin {
        None => !headers.contains_key(header::COOKIE),
        Some(origin) => {
            let host = text(header::HOST);
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .filter(|rest| !rest.contains('/'));
            matches!((origin_host, host), (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host))
        }
    }
}

/// Keeps a caller's `X-Request-Id` only when a trusted proxy sent it and only in a
/// short, safe form; otherwise the request-id layer makes a new one. A client's own id
/// would be copied into the logs and into every audit row the request causes: of any
/// length, and able to pose as another request.
///
/// Also warns (once per process) when requests arrive through a proxy that is not
/// trusted: their client addresses are then the proxy's, which skews rate limits and
/// the audit log.
pub async fn trusted_request_id(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let trusted = peer.is_some_and(|ip| {
        state
            .config
            .trusted_proxies
            .iter()
            .any(|network| network.contains(&ip))
    });
    let headers = request.headers_mut();
    let keep = trusted
        && headers
            .get(crate::server::context::REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_safe_request_id);
    if !keep {
        headers.remove(crate::server::context::REQUEST_ID_HEADER);
    }
    if !trusted && headers.contains_key("x-forwarded-for") {
        static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(
                proxy = ?peer,
                security_event = "untrusted_proxy",
                "requests arrive with X-Forwarded-For from an address not in ROSTER_TRUSTED_PROXIES: \
                 the header is ignored, so rate limits and the audit log see the proxy's address \
                 for every client. Add the proxy to ROSTER_TRUSTED_PROXIES if it is yours."
            );
        }
    }
    next.run(request).await
}

/// A request id worth keeping: 1 to 64 letters, digits, `-`, `_`, `.` or `:`.
pub fn is_safe_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':'))
}

/// Bodies smaller than the general limit, for routes that take only a few fields
/// (and anyone may reach): path, most bytes.
const SMALL_BODIES: [(&str, usize); 3] = [
    ("/api/sign-in", 8 * 1024),
    ("/api/sign-out", 1024),
    ("/api/vitals", 8 * 1024),
];

/// The body limit of `path` when it is below the general one.
pub fn small_body_limit(path: &str) -> Option<usize> {
    SMALL_BODIES
        .iter()
        .find(|(small, _)| *small == path)
        .map(|(_, limit)| *limit)
}

/// Applies [`small_body_limit`]: a longer declared body is refused with 413 before it
/// is read, and an undeclared one is cut off at the limit (its reader then fails).
pub async fn small_bodies(request: Request, next: Next) -> Response {
    let Some(limit) = small_body_limit(request.uri().path()) else {
        return next.run(request).await;
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The request is too large.",
        )
            .into_response();
    }
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// The session layer answers an empty 500 when it cannot save a session (the store is
/// down): the person gets the page explaining it instead.
pub async fn explain_session_failures(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        return crate::server::auth::unavailable(&path);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        assert!(is_safe_request_id("4f1c0f0e-6a2b-4d7e-9b1a-0c2d3e4f5a6b"));
        assert!(is_safe_request_id("lb-01:abc_123.x"));
        assert!(!is_safe_request_id(""));
        assert!(!is_safe_request_id(&"a".repeat(65)));
        assert!(!is_safe_request_id("admin did it"));
        assert!(!is_safe_request_id("x\u{1b}[31m"));
    }

    #[test]
    fn same_origin_is_told_from_the_headers() {
        let none: [String; 0] = [];
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &none
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            &none
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            &none
        ));
        assert!(is_same_origin(
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]),
            &none
        ));
        assert!(!is_same_origin(
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:3000")
            ]),
            &none
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "null"), ("host", "x")]),
            &none
        ));
        assert!(is_same_origin(&headers(&[]), &none), "not a browser");
        assert!(
            !is_same_origin(&headers(&[("cookie", "roster=x")]), &none),
            "a session cookie from who knows where"
        );
        let allowed = ["https://intranet.example".to_owned()];
        assert!(is_same_origin(
            &headers(&[
                ("origin", "https://intranet.example"),
                ("sec-fetch-site", "cross-site")
            ]),
            &allowed
        ));
    }
}
