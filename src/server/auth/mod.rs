//! Accounts and sessions on the server: who is signed in, what their role lets them
//! do, signing in and out, and managing users.
//!
//! A session holds a [`SignedIn`] once its user has signed in. [`authenticate`] reads
//! it on every request (one Redis round trip, which also checks it against the
//! account's current state: see [`sessions`]), enforces the idle timeout and the absolute
//! lifetime, and hands the request on with a [`CurrentUser`] in its extensions, or
//! answers for it: pages send a stranger to `/login`, the API answers 401, and if the
//! session store is unreachable both answer 503.

pub mod password;
pub mod sessions;
pub mod users;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    domain::{CurrentUser, Role},
    error::AppError,
    server::{
        http::{metrics::ServedUser, pages},
        state::AppState,
    },
};
pub use sessions::{SIGNED_IN_KEY, Sessions};

/// What a session holds about its user once they signed in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    /// Unix seconds.
    pub signed_in_at: i64,
    /// Unix seconds, updated at most once a minute (each update is a session write).
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The directory signed in to: a session is refused by any other.
    pub directory_id: Uuid,
    /// The account's session generation at sign-in: a later change ends the session.
    pub generation: i64,
}

/// How often a session's last-seen time (and so its idle expiry) is moved on: each
/// move is a session write, so at most once a minute (and often enough for a short
/// idle timeout to be kept by activity).
fn touch_every_secs(idle_secs: i64) -> i64 {
    (idle_secs / 10).clamp(1, 60)
}

/// Paths anyone may reach: signing in, health checks and static files.
pub fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/api/sign-in"
            | "/api/notice"
            | "/api/vitals"
            | "/health"
            | "/health/deep"
            | "/favicon.svg"
            | "/robots.txt"
            | "/vitals.js"
    ) || path.starts_with("/pkg/")
}

/// Whether a path is answered with data for scripts rather than with a page.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Resolves the session's user and enforces its timeouts; the user goes on in the
/// request's extensions.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let public = is_public(&path);
    let session = request.extensions().get::<Session>().cloned();
    let user = match session {
        Some(session) => match current_user(&session, &state).await {
            Ok(user) => user,
            Err(error) if !public => {
                tracing::warn!(%error, error_kind = "session_store", "the session store is unreachable");
                metrics::counter!("session_store_errors_total").increment(1);
                return unavailable(&path);
            }
            Err(_) => None,
        },
        None => None,
    };
    let served = user.as_ref().map(|user| ServedUser(user.id));
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    let mut response = next.run(request).await;
    if let Some(served) = served {
        response.extensions_mut().insert(served);
    }
    response
}

/// The least role a request needs, by its method and path: `None` for public paths.
/// Server functions check their own role too (some reads are for editors); this is
/// the outer wall, which refuses before any argument is read.
pub fn needed_role(method: &Method, path: &str) -> Option<Role> {
    if is_public(path) {
        None
    } else if path.starts_with("/api/admin/")
        || path == "/admin"
        || path.starts_with("/admin/")
        || path == "/metrics"
    {
        Some(Role::Admin)
    } else if (is_api(path) && *method != Method::GET && path != "/api/sign-out")
        || is_for_editors(path)
    {
        Some(Role::Editor)
    } else {
        Some(Role::Viewer)
    }
}

/// Reads and pages that serve changing the directory: the forms and the import.
fn is_for_editors(path: &str) -> bool {
    matches!(
        path,
        "/api/contact-form"
            | "/api/bulk-preview"
            | "/api/import-job"
            | "/api/recent-imports"
            | "/import"
            | "/bulk"
            | "/contacts/new"
    ) || path.starts_with("/import/")
        || (path.starts_with("/contacts/")
            && (path.ends_with("/edit") || path.ends_with("/delete") || path.ends_with("/merge")))
}

/// Turns away strangers from everything that is not public, and users from what their
/// role does not allow (after the rate limits, which count these requests too).
pub async fn authorize(request: Request, next: Next) -> Response {
    let Some(needed) = needed_role(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    match request.extensions().get::<CurrentUser>() {
        None => sign_in_required(request.uri(), request.headers()),
        Some(user) if user.role.allows(needed) => next.run(request).await,
        Some(user) => {
            tracing::warn!(
                user = %user.id,
                role = %user.role,
                needed = %needed,
                path = request.uri().path(),
                security_event = "forbidden",
                "refused at the outer wall: the role does not allow this"
            );
            forbidden(request.uri().path())
        }
    }
}

/// The signed-in user of `session`, or `None` if nobody is, or the session ran past its
/// idle timeout or its lifetime (it is then ended).
async fn current_user(
    session: &Session,
    state: &AppState,
) -> Result<Option<CurrentUser>, tower_sessions::session::Error> {
    let Some(mut signed) = session.get::<SignedIn>(SIGNED_IN_KEY).await? else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let config = &state.config;
    let idle = now - signed.last_seen_at;
    let age = now - signed.signed_in_at;
    if idle > config.session_idle_timeout().as_secs() as i64
        || age > config.session_lifetime().as_secs() as i64
    {
        session.flush().await?;
        return Ok(None);
    }
    if idle >= touch_every_secs(config.session_idle_timeout().as_secs() as i64) {
        signed.last_seen_at = now;
        session.insert(SIGNED_IN_KEY, &signed).await?;
    }
    Ok(Some(CurrentUser {
        id: signed.user_id,
        email: signed.email,
        role: signed.role,
    }))
}

/// For the routes outside server functions that only editors may use (exports and
/// the import upload); server functions check their role themselves.
pub async fn editors_only(request: Request, next: Next) -> Response {
    let role = request
        .extensions()
        .get::<CurrentUser>()
        .map(|user| user.role);
    if role.is_some_and(|role| role.can_edit()) {
        return next.run(request).await;
    }
    tracing::warn!(
        path = request.uri().path(),
        security_event = "forbidden",
        "refused: only editors may use this"
    );
    forbidden(request.uri().path())
}

/// 403, for a person or for a script.
pub fn forbidden(path: &str) -> Response {
    if is_api(path) {
        return pages::api_error(&AppError::Forbidden, &[]);
    }
    pages::error_page(
        StatusCode::FORBIDDEN,
        "Not allowed",
        &AppError::Forbidden.to_string(),
        &[],
    )
}

/// A stranger asked for something private: pages go to the sign-in page (which
/// comes back here after), scripts get 401.
fn sign_in_required(uri: &Uri, headers: &HeaderMap) -> Response {
    if is_api(uri.path()) || !wants_html(headers) {
        return pages::api_error(&AppError::Unauthorized, &[]);
    }
    let back = uri
        .path_and_query()
        .map(|path| path.as_str())
        .unwrap_or("/");
    Redirect::to(&format!("/login?next={}", encode_component(back))).into_response()
}

/// The session store cannot be reached: a page saying so, or the API's 503.
pub fn unavailable(path: &str) -> Response {
    if is_api(path) {
        return pages::api_error(&AppError::Unavailable, &[]);
    }
    pages::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Roster is temporarily unavailable",
        "Roster cannot reach its session store just now, so it cannot tell who you are. \
         This usually passes within seconds: please try again in a moment.",
        &[(header::RETRY_AFTER, "5".to_owned())],
    )
}

/// Whether the caller is a browser asking for a page (else a script).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|accept| accept.contains("text/html") || accept.contains("*/*"))
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Where to go after signing in: a path on this site, never another site's address.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.starts_with("/login")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sign_in_health_and_assets_are_public() {
        for path in [
            "/login",
            "/api/sign-in",
            "/health",
            "/health/deep",
            "/pkg/roster.wasm",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/contacts/x",
            "/api/search",
            "/export.csv",
            "/export-3.0.vcf",
            "/admin/users",
            "/loginx",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }

    #[test]
    fn the_outer_wall_asks_for_a_role_by_method_and_path() {
        assert_eq!(needed_role(&Method::POST, "/api/sign-in"), None);
        assert_eq!(needed_role(&Method::GET, "/api/search"), Some(Role::Viewer));
        assert_eq!(
            needed_role(&Method::POST, "/api/sign-out"),
            Some(Role::Viewer)
        );
        assert_eq!(
            needed_role(&Method::POST, "/api/save-contact"),
            Some(Role::Editor)
        );
        assert_eq!(
            needed_role(&Method::GET, "/api/admin/users"),
            Some(Role::Admin)
        );
        assert_eq!(needed_role(&Method::GET, "/admin/users"), Some(Role::Admin));
        assert_eq!(needed_role(&Method::GET, "/metrics"), Some(Role::Admin));
        assert_eq!(
            needed_role(&Method::GET, "/contacts/new"),
            Some(Role::Editor)
        );
        assert_eq!(
            needed_role(&Method::GET, "/contacts/x/edit"),
            Some(Role::Editor)
        );
        assert_eq!(
            needed_role(&Method::GET, "/api/bulk-preview"),
            Some(Role::Editor)
        );
        assert_eq!(needed_role(&Method::GET, "/contacts/x"), Some(Role::Viewer));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/contacts/1?tab=history")),
            "/contacts/1?tab=history"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/login?next=/")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(encode_component("/?q=a b&x"), "/%3Fq%3Da%20b%26x");
    }
}
