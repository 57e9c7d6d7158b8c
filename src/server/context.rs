//! What a server function gets to work with: the application state and the id of the
//! request it serves, both taken from the Leptos context that the router provides.

use leptos::prelude::use_context;

use super::{error::Error, state::AppState};
use crate::{
    domain::{CurrentUser, Role},
    error::AppError,
};

/// The session key holding the index position of the session's last change.
const WRITTEN_KEY: &str = "written";

/// The session key holding when (milliseconds since the epoch) the session's last
/// change was committed, kept only where a read replica is configured: its reads go to
/// the primary until the replica has replayed that far (`db::replica`).
const WRITTEN_AT_KEY: &str = "written_at";

/// The header carrying the request id (set by the request-id layer if the client sent none).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request id in `headers`, or "-" before the request-id layer has set one.
pub fn request_id(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
}

/// The index position of the last change `session` wrote (0 if none; see
/// [`RequestContext::note_written`]).
pub async fn written_position_of(session: &tower_sessions::Session) -> i64 {
    number_in(session, WRITTEN_KEY).await
}

/// When `session`'s last change was committed (milliseconds since the epoch), as the
/// read replica's choice needs it: 0 without a replica (nothing is noted then) or
/// without a session.
pub async fn written_at_for(state: &AppState, session: Option<&tower_sessions::Session>) -> i64 {
    match session {
        Some(session) if state.reads.has_replica() => number_in(session, WRITTEN_AT_KEY).await,
        _ => 0,
    }
}

/// The number `session` holds under `key`, 0 if none (or unreadable).
async fn number_in(session: &tower_sessions::Session, key: &str) -> i64 {
    session.get::<i64>(key).await.ok().flatten().unwrap_or(0)
}

/// A request extension saying its searches must reflect the index up to this position
/// whatever its session says: a page rendered to be served to many (see
/// [`crate::server::http::page_cache`]) must be as current as any of them needs.
#[derive(Clone, Copy, Debug)]
pub struct MustReflect(pub i64);

/// A request extension holding the search's answer a page rendered to be kept must
/// show: the one it is then kept by (see [`crate::server::http::page_cache`]). Taken
/// by the page's own search of the same query instead of asking the search cache again,
/// which might by then hold another computation of it.
#[derive(Clone)]
pub struct Answered {
    pub answer: std::sync::Arc<crate::server::search::CachedPage>,
    /// Whether it came from the search cache (the page says "cached") or was computed.
    pub kept: bool,
}

impl Answered {
    /// A search's answer to keep a page by; none for one from Postgres (before the
    /// first index), which is not kept.
    pub fn from_found(found: crate::server::search::Found) -> Option<Answered> {
        use crate::server::search::Found;
        match found {
            Found::Kept(answer) => Some(Answered { answer, kept: true }),
            Found::Computed(answer) => Some(Answered {
                answer,
                kept: false,
            }),
            Found::Fallback(_) => None,
        }
    }

    /// The answer as the search found it.
    pub fn into_found(self) -> crate::server::search::Found {
        use crate::server::search::Found;
        if self.kept {
            Found::Kept(self.answer)
        } else {
            Found::Computed(self.answer)
        }
    }
}

pub struct RequestContext {
    pub state: AppState,
    pub request_id: String,
    /// The client's address (see [`client_ip`]).
    pub client_ip: Option<std::net::IpAddr>,
    /// Who is signed in, if anyone.
    pub user: Option<CurrentUser>,
    session: Option<tower_sessions::Session>,
    must_reflect: i64,
    /// The answer this request's page must show, when it is rendered to be kept.
    pub answered: Option<Answered>,
}

impl RequestContext {
    /// The context of the request being served. Fails only if called outside a request,
    /// which is a bug, reported as an internal error.
    pub fn current() -> Result<Self, AppError> {
        let parts = use_context::<axum::http::request::Parts>();
        let request_id = parts
            .as_ref()
            .map_or("-", |parts| request_id(&parts.headers))
            .to_owned();
        let user = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned());
        let session = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<tower_sessions::Session>().cloned());
        let must_reflect = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<MustReflect>())
            .map_or(0, |position| position.0);
        let answered = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<Answered>().cloned());
        match use_context::<AppState>() {
            Some(state) => Ok(RequestContext {
                client_ip: parts.as_ref().and_then(|parts| {
                    let peer = parts
                        .extensions
                        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                        .map(|info| info.0.ip());
                    client_ip(peer, &parts.headers, &state.config.trusted_proxies)
                }),
                state,
                request_id,
                user,
                session,
                must_reflect,
                answered,
            }),
            None => {
                tracing::error!(
                    request_id,
                    "server function called without application state"
                );
                Err(AppError::Internal { request_id })
            }
        }
    }

    /// The context of a request whose user must have `role` (or a higher one): the
    /// check every server function starts with. A stranger gets 401, a user whose
    /// role falls short 403, whatever the page they came from showed them.
    pub fn with_role(role: Role) -> Result<Self, AppError> {
        let cx = Self::current()?;
        let refusal = match &cx.user {
            None => AppError::Unauthorized,
            Some(user) if user.role.allows(role) => return Ok(cx),
            Some(user) => {
                tracing::info!(
                    request_id = cx.request_id,
                    user = %user.id,
                    role = %user.role,
                    needed = %role,
                    "refused: role too low"
                );
                AppError::Forbidden
            }
        };
        cx.finish(Err(refusal.into()))
    }

    /// The signed-in user (present whenever [`Self::with_role`] succeeded).
    pub fn signed_in(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }

    /// Who is making a change, for the audit log.
    pub fn actor(&self) -> super::db::audit::Actor {
        super::db::audit::Actor {
            name: self.user.as_ref().map(|user| user.email.clone()),
            user_id: self.user.as_ref().map(|user| user.id),
            ip: self.client_ip,
            request_id: Some(self.request_id.clone()),
        }
    }

    /// The search index position up to which this session has made changes itself (0
    /// if none): its searches reflect at least those. See `SearchService::search`.
    pub async fn written_position(&self) -> i64 {
        let written = match &self.session {
            Some(session) => written_position_of(session).await,
            None => 0,
        };
        written.max(self.must_reflect)
    }

    /// A connection for a read that tolerates a little lag (a page showing contacts, a
    /// company, history): the read replica's when it is in step and has this
    /// session's own last change, else the primary's (see `db::replica`).
    pub async fn read_connection(&self) -> Result<super::db::replica::ReadConnection, Error> {
        let written_ms = written_at_for(&self.state, self.session.as_ref()).await;
        Ok(self.state.reads.acquire(written_ms).await?)
    }

    /// Notes, after a change this session made is committed and applied to this
    /// instance's index, that its searches must reflect it from now on (even where
    /// others may for a moment be served an answer from before it). A failure to note
    /// it is logged, not the change's failure: the answer is at most half a second old.
    pub async fn note_written(&self) {
        let Some(session) = &self.session else {
            return;
        };
        if self.state.reads.has_replica()
            && let Err(error) = session
                .insert(WRITTEN_AT_KEY, super::db::replica::now_ms())
                .await
        {
            tracing::warn!(request_id = self.request_id, %error, "could not note a write in the session");
        }
        let position = self.state.search.index.position();
        if self.written_position().await >= position {
            return;
        }
        if let Err(error) = session.insert(WRITTEN_KEY, position).await {
            tracing::warn!(request_id = self.request_id, %error, "could not note a write in the session");
        }
    }

    /// Whether the request is a plain form post from a browser without JavaScript
    /// (which follows redirects and expects a page, not data).
    pub fn is_plain_form_post() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        })
    }

    /// Ends a server function that a plain form may have posted. Without JavaScript a
    /// refusal would otherwise be lost (the browser is sent back to the form's page):
    /// its message is kept as a short-lived notice and the page is asked to show it
    /// (`?notice=`). Hydrated callers get the error itself, as from [`Self::finish`].
    pub async fn finish_action<T: Default>(&self, result: Result<T, Error>) -> Result<T, AppError> {
        let error = match result {
            Err(error) if Self::is_plain_form_post() => error.into_app_error(&self.request_id),
            other => return self.finish(other),
        };
        let back = use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(axum::http::header::REFERER)
                    .and_then(|value| value.to_str().ok())
                    .map(same_origin_path)
            })
            .unwrap_or_else(|| "/".to_owned());
        let notice = crate::domain::edit::Notice {
            message: error.to_string(),
        };
        match super::db::drafts::stash(&self.state.db, &notice).await {
            Ok(key) => {
                leptos_axum::redirect(&with_notice(&back, &key.to_string()));
                Ok(T::default())
            }
            Err(_) => self.finish(Err(Error::App(error))),
        }
    }

    /// Ends a server function: passes its value through, or logs and maps its error.
    /// The error's status becomes the response's, whether the function was called over
    /// HTTP or while rendering a page (so a missing contact's page answers 404).
    pub fn finish<T>(&self, result: Result<T, Error>) -> Result<T, AppError> {
        result.map_err(|error| {
            let error = error.into_app_error(&self.request_id);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
                && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
            {
                response.set_status(status);
            }
            error
        })
    }
}

/// The client's address: the connection's peer, or, when the peer is a trusted proxy,
/// the last address in `X-Forwarded-For` that is not one (a client can put anything
/// at the start of that header, so it is read from the right).
pub fn client_ip(
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for entry in forwarded.iter().rev() {
        match entry.parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(&ip) => nearest = ip,
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(nearest)
}

/// The path and query of a Referer, never another site's address: a path that a
/// browser would read as an address of its own (`//host`, `/\host`) or that holds a
/// control character becomes `/`.
fn same_origin_path(referer: &str) -> String {
    let path = match referer.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => referer,
    };
    let leaves_the_site = !path.starts_with('/')
        || path.starts_with("//")
        || path.starts_with("/\\")
        || path.chars().any(|c| c.is_control() || c == '\\');
    if leaves_the_site { "/" } else { path }.to_owned()
}

/// `path` with `notice=key` as its only notice.
fn with_notice(path: &str, key: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("notice="))
        .collect();
    let notice = format!("notice={key}");
    pairs.push(&notice);
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let headers = |value: &'static str| {
            let mut map = axum::http::HeaderMap::new();
            map.insert(
                "x-forwarded-for",
                axum::http::HeaderValue::from_static(value),
            );
            map
        };
        let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
        let proxy: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // Not from a trusted proxy: the header is ignored.
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), &headers("198.51.100.1"), &proxy),
            Some(ip("203.0.113.9"))
        );
        // Through the proxy: the nearest address that is not a proxy, read from the
        // right (a client may have put anything at the start).
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.2")),
                &headers("6.6.6.6, 198.51.100.1, 10.0.0.7"),
                &proxy
            ),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &axum::http::HeaderMap::new(), &proxy),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), &headers("1.2.3.4"), &[]),
            Some(ip("10.0.0.2"))
        );
    }

    #[test]
    fn notices_go_back_to_the_same_site_only() {
        assert_eq!(
            same_origin_path("http://127.0.0.1:3000/bulk?a=1"),
            "/bulk?a=1"
        );
        assert_eq!(same_origin_path("https://evil.example"), "/");
        assert_eq!(same_origin_path("//evil.example/x"), "/");
        // A Referer whose path starts like another address (a crafted link).
        assert_eq!(
            same_origin_path("http://127.0.0.1:3000//evil.example/x"),
            "/"
        );
        assert_eq!(
            same_origin_path("http://127.0.0.1:3000/\\evil.example"),
            "/"
        );
        assert_eq!(same_origin_path("http://127.0.0.1:3000/a\\b"), "/");
        assert_eq!(same_origin_path("http://127.0.0.1:3000/a\tb"), "/");
        assert_eq!(
            with_notice("/bulk?a=1&notice=old", "k"),
            "/bulk?a=1&notice=k"
        );
        assert_eq!(with_notice("/contacts/x", "k"), "/contacts/x?notice=k");
    }
}
