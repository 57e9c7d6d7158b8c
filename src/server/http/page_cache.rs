//! Search pages (and the directory's first page) rendered once and served to everyone
//! with the same role.
//!
//! A search page is the same for every user of a role but for what names the user and
//! the response's script nonce: the signed-in user's email (the account menu) and, in
//! any page that shows it, their id. So a page is rendered for a stand-in user whose
//! email, id and nonce are this process's own random tokens, and kept as a template:
//! the HTML cut at those tokens, each piece compressed once (raw deflate, ended with a
//! sync flush so the pieces join on byte boundaries). Serving it is a copy: the
//! pieces, the user's own values between them as stored (uncompressed) deflate blocks,
//! one empty final block and the gzip trailer, whose CRC is combined from the pieces'
//! CRCs. No render, no compression, no search.
//!
//! A template is as current as the search cache's answers (see
//! [`crate::server::search::CachedPage::serves`]): served while the index has not moved
//! since it was rendered, or for half a second after; never to a session that has
//! itself written a change the template predates. Past that, a search page is kept by
//! the answer it shows: served while the search cache still gives that very answer
//! (checked against every change since, see `search::changes`) with its filters named
//! the same, so a steady stream of edits elsewhere does not retire every page within
//! half a second. The directory's first page lists from Postgres, which the index
//! follows within moments of each change: the first rule alone keeps it as current.
//!
//! Only the directory's first page (`/`, nothing after it) and canonical search URLs
//! are cached (the parameters the search reads, in the order it writes them: no
//! `notice`, no later page of the directory, nothing else), for clients that accept
//! gzip, and
//! for users whose email needs no escaping in HTML or in a JavaScript string (anyone
//! else gets the page rendered for them). Pages that are not a 200 are not kept.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};
use uuid::Uuid;

use super::security::{PageNonce, page_csp};
use crate::{
    domain::{CurrentUser, Role, SearchQuery},
    server::{
        cache::Flights,
        context::Answered,
        monitor::window::now_ms,
        search::{CachedPage, fresh_enough},
        state::AppState,
    },
};

/// The largest page a template is made of (a search page is about 80 KB).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// A kept page lives at most this long even if nothing changes.
const TIME_TO_LIVE: Duration = Duration::from_secs(300);

/// Says whether a response came from a kept page (`hit`) or was rendered (`miss`).
pub const CACHE_HEADER: &str = "x-page-cache";

/// What goes into a hole of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hole {
    Nonce,
    Email,
    Id,
}

/// The stand-in values a template is rendered with: random for each process, so no
/// contact's data can contain them by chance or by design.
struct Tokens {
    nonce: leptos::nonce::Nonce,
    email: String,
    id: Uuid,
}

impl Tokens {
    fn new() -> Self {
        let random = Uuid::new_v4().simple().to_string();
        Tokens {
            nonce: leptos::nonce::Nonce::new(),
            email: format!("stand-in-{random}"),
            id: Uuid::new_v4(),
        }
    }

    fn holes(&self) -> [(Hole, String); 3] {
        [
            (Hole::Nonce, self.nonce.to_string()),
            (Hole::Email, self.email.clone()),
            (Hole::Id, self.id.to_string()),
        ]
    }
}

/// A page cut at its holes: `pieces[0] hole[0] pieces[1] … hole[n-1] pieces[n]`.
#[derive(Debug, PartialEq)]
struct Template {
    pieces: Vec<String>,
    holes: Vec<Hole>,
}

impl Template {
    fn cut(html: &str, tokens: &[(Hole, String)]) -> Template {
        let mut pieces = Vec::new();
        let mut holes = Vec::new();
        let mut rest = html;
        loop {
            let next = tokens
                .iter()
                .filter_map(|(hole, token)| rest.find(token.as_str()).map(|at| (at, *hole, token)))
                .min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, hole, token)) => {
                    pieces.push(rest[..at].to_owned());
                    holes.push(hole);
                    rest = &rest[at + token.len()..];
                }
                None => {
                    pieces.push(rest.to_owned());
                    return Template { pieces, holes };
                }
            }
        }
    }

    fn fill(&self, values: &Values) -> String {
        let mut out =
            String::with_capacity(self.pieces.iter().map(String::len).sum::<usize>() + 256);
        for (n, piece) in self.pieces.iter().enumerate() {
            out.push_str(piece);
            if let Some(hole) = self.holes.get(n) {
                out.push_str(values.get(*hole));
            }
        }
        out
    }
}

/// One response's values for the holes.
struct Values {
    nonce: String,
    email: String,
    id: String,
}

impl Values {
    fn get(&self, hole: Hole) -> &str {
        match hole {
            Hole::Nonce => &self.nonce,
            Hole::Email => &self.email,
            Hole::Id => &self.id,
        }
    }
}

/// Whether `text` reads the same escaped for HTML text, an HTML attribute, JSON and a
/// JavaScript string, so it can go into any hole as it is.
fn needs_no_escaping(text: &str) -> bool {
    text.len() < 1024
        && text.chars().all(|ch| {
            !matches!(
                ch,
                '&' | '<' | '>' | '"' | '\'' | '\\' | '\u{2028}' | '\u{2029}'
            ) && !ch.is_control()
        })
}

/// A template compressed: each piece as raw deflate ending on a byte boundary, with
/// the CRC and length of its text.
struct Compressed {
    pieces: Vec<Piece>,
    holes: Vec<Hole>,
    /// Bytes of the pieces, compressed.
    size: usize,
}

struct Piece {
    deflated: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
}

const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// An empty stored block marked final: the end of the deflate stream.
const FINAL_BLOCK: [u8; 5] = [1, 0, 0, 0xff, 0xff];

impl Compressed {
    fn new(template: &Template) -> std::io::Result<Self> {
        use std::io::Write as _;
        let mut pieces = Vec::with_capacity(template.pieces.len());
        let mut size = 0;
        for text in &template.pieces {
            let mut crc = crc32fast::Hasher::new();
            crc.update(text.as_bytes());
            let deflated = if text.is_empty() {
                Vec::new()
            } else {
                // The fastest level, as responses are compressed (`http::router`): a
                // page is rendered and kept on every miss, and at the default level
                // (6) compressing it was 11% of the server's CPU under distinct
                // searches, for pieces a few percent smaller.
                let mut encoder =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(text.as_bytes())?;
                // A sync flush: everything so far, then an empty stored block, which
                // ends the output on a byte boundary without ending the stream. The
                // encoder's end of stream (written when it drops) goes to the emptied
                // buffer left behind, not into the piece.
                encoder.flush()?;
                std::mem::take(encoder.get_mut())
            };
            size += deflated.len();
            pieces.push(Piece {
                deflated,
                crc,
                len: text.len() as u64,
            });
        }
        Ok(Compressed {
            pieces,
            holes: template.holes.clone(),
            size,
        })
    }

    /// The page as one gzip member, with `values` in the holes (each under 64 KiB,
    /// see [`needs_no_escaping`]).
    fn gzip(&self, values: &Values) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size + 64 + self.holes.len() * 64);
        out.extend_from_slice(&GZIP_HEADER);
        let mut crc = crc32fast::Hasher::new();
        let mut length: u64 = 0;
        for (n, piece) in self.pieces.iter().enumerate() {
            out.extend_from_slice(&piece.deflated);
            crc.combine(&piece.crc);
            length += piece.len;
            if let Some(hole) = self.holes.get(n) {
                let value = values.get(*hole).as_bytes();
                // A stored block, not final: its length, the length's complement, the bytes.
                let len = value.len() as u16;
                out.push(0);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&(!len).to_le_bytes());
                out.extend_from_slice(value);
                let mut value_crc = crc32fast::Hasher::new();
                value_crc.update(value);
                crc.combine(&value_crc);
                length += value.len() as u64;
            }
        }
        out.extend_from_slice(&FINAL_BLOCK);
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE: the length modulo 2^32.
        out.extend_from_slice(&(length as u32).to_le_bytes());
        out
    }
}

/// A kept page and what it reflects.
struct Entry {
    page: Compressed,
    headers: HeaderMap,
    position: i64,
    rendered_at_ms: i64,
    /// For a search page, the search's answer it shows (kept by the search cache) and
    /// the names its choice filters had: while the search cache still gives that very
    /// answer, and the names are the same, the page is too, however far the index has
    /// moved on.
    shows: Option<(Arc<CachedPage>, u64)>,
}

pub struct PageCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    flights: Flights<Entry>,
    tokens: Tokens,
    enabled: bool,
}

impl PageCache {
    /// A cache holding at most `megabytes` of compressed pages (0: none is kept).
    pub fn new(megabytes: u64) -> Self {
        PageCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(megabytes * 1024 * 1024)
                .weigher(|key: &String, entry: &Arc<Entry>| {
                    u32::try_from(key.len() + entry.page.size + 1024).unwrap_or(u32::MAX)
                })
                .time_to_live(TIME_TO_LIVE)
                .build(),
            flights: Flights::default(),
            tokens: Tokens::new(),
            enabled: megabytes > 0,
        }
    }
}

/// Whether the client takes gzip (named with a weight above 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|param| {
                param
                    .trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// What a request needs for the cache to answer it.
struct Plan {
    key: String,
    role: Role,
    values: Values,
    seen: i64,
    position: i64,
    /// The search, when the page is one (not the directory's first page).
    search: Option<SearchQuery>,
}

impl Plan {
    /// The plan for `request`, if the cache may answer it, and the session whose last
    /// write it must reflect (read by the caller: nothing borrowed from the request may
    /// be held while waiting).
    fn read(
        state: &AppState,
        cache: &PageCache,
        request: &Request,
    ) -> Option<(Plan, Option<tower_sessions::Session>)> {
        if !cache.enabled || request.method() != Method::GET || request.uri().path() != "/" {
            return None;
        }
        let raw = request.uri().query().unwrap_or_default();
        let query = SearchQuery::from_query_string(raw);
        let canonical = query.to_query_string();
        if canonical != raw || !accepts_gzip(request.headers()) {
            return None;
        }
        let user = request.extensions().get::<CurrentUser>()?;
        let nonce = request.extensions().get::<PageNonce>()?;
        if !needs_no_escaping(&user.email) {
            return None;
        }
        // Before the first index (a page says results are limited), or when this
        // instance's index is behind what the session itself wrote (the search waits
        // for it), the page is rendered as usual.
        state.search.index.current()?;
        let plan = Plan {
            key: format!("{}|{canonical}", user.role.as_str()),
            role: user.role,
            values: Values {
                nonce: nonce.0.to_string(),
                email: user.email.clone(),
                id: user.id.to_string(),
            },
            seen: 0,
            position: state.search.index.position(),
            search: (!query.is_browse()).then_some(query),
        };
        let session = request
            .extensions()
            .get::<tower_sessions::Session>()
            .cloned();
        Some((plan, session))
    }
}

fn count(hit: bool) {
    if hit {
        metrics::counter!("cache_hits_total", "namespace" => "pages", "layer" => "memory")
            .increment(1);
    } else {
        metrics::counter!("cache_misses_total", "namespace" => "pages").increment(1);
    }
}

/// The middleware: answers from a kept page when it can, else renders the page as a
/// template (once for everyone asking it at the same moment), keeps it, and answers
/// from that.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let cache = state.pages.clone();
    let Some((mut plan, session)) = Plan::read(&state, &cache, &request) else {
        return next.run(request).await;
    };
    if let Some(session) = session {
        plan.seen = crate::server::context::written_position_of(&session).await;
        if plan.seen > plan.position {
            // This instance's index is behind the session's own change: the search waits.
            return next.run(request).await;
        }
    }
    let now = now_ms();
    let kept = cache.entries.get(&plan.key);
    let mut fresh = kept.as_ref().is_some_and(|entry| {
        fresh_enough(
            entry.position,
            entry.rendered_at_ms,
            plan.seen,
            plan.position,
            now,
        )
    });
    // The index moved on since the page was rendered: a search page still holds if the
    // search cache still gives the answer it shows (no change since touches it).
    if !fresh
        && let (Some(entry), Some(query)) = (&kept, &plan.search)
        && let Some((shown, names)) = &entry.shows
    {
        fresh = shows(&state, query.clone(), plan.seen)
            .await
            .is_some_and(|(now, now_named)| {
                shown.is_same_answer(&now.answer) && *names == now_named
            });
    }
    if let Some(entry) = kept.filter(|_| fresh) {
        count(true);
        // Every kept page holds a search (the directory's first page its filter counts),
        // and the dashboard counts the searches people make however they are answered.
        crate::server::search::record_duration("page", started);
        return respond(
            &entry,
            &plan.values,
            Some(true).filter(|_| state.config.expose_page_cache_header),
        );
    }
    count(false);
    let flight = format!("{}@{}", plan.key, plan.position);
    let rendered = cache
        .flights
        .run(&flight, || async {
            // The answer the page will show, at the position it is rendered at (the
            // page's own search then takes it from the search cache).
            let shown = match &plan.search {
                Some(query) => shows(&state, query.clone(), plan.position).await,
                None => None,
            };
            render(&cache, &plan, shown, request, next).await
        })
        .await;
    match rendered {
        Ok(entry) => respond(
            &entry,
            &plan.values,
            Some(false).filter(|_| state.config.expose_page_cache_header),
        ),
        Err(response) => response,
    }
}

/// The search cache's current answer to `query` for a session that has seen changes up
/// to `seen` (and whether it was kept there), with the key of the names its choice
/// filters show; `None` when there is no answer to keep a page by (no index yet, or an
/// error, which the render reports).
async fn shows(state: &AppState, query: SearchQuery, seen: i64) -> Option<(Answered, u64)> {
    let answered = Answered::from_found(state.search.answer(query, seen).await.ok()?)?;
    let names = state
        .search
        .choice_names_key(&answered.answer.page)
        .await
        .ok()?;
    Some((answered, names))
}

/// Renders the page for the stand-in user of the plan's role and keeps it; a page that
/// is not a 200 is not kept, but answered (filled in for this user) as the error.
async fn render(
    cache: &PageCache,
    plan: &Plan,
    shows: Option<(Answered, u64)>,
    request: Request,
    next: Next,
) -> Result<Arc<Entry>, Response> {
    let (mut parts, _) = request.into_parts();
    parts.headers.remove(header::COOKIE);
    parts.headers.remove(header::ACCEPT_ENCODING);
    parts.extensions.remove::<tower_sessions::Session>();
    parts.extensions.insert(CurrentUser {
        id: cache.tokens.id,
        email: cache.tokens.email.clone(),
        role: plan.role,
    });
    parts
        .extensions
        .insert(PageNonce(cache.tokens.nonce.clone()));
    // Kept as current as the index now is, however the search cache could answer, and
    // showing the answer it is kept by.
    parts
        .extensions
        .insert(crate::server::context::MustReflect(plan.position));
    if let Some((answered, _)) = &shows {
        parts.extensions.insert(answered.clone());
    }
    let request_id = crate::server::context::request_id(&parts.headers).to_owned();
    let response = next.run(Request::from_parts(parts, Body::empty())).await;

    let (mut head, body) = response.into_parts();
    let html = match axum::body::to_bytes(body, MAX_PAGE_BYTES)
        .await
        .map_err(|error| error.to_string())
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).map_err(|error| error.to_string()))
    {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(request_id, error_kind = "page_cache", %error, "a rendered page could not be read");
            return Err(super::pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                &format!(
                    "Roster could not show this page. If it happens again, quote request {request_id}."
                ),
                &[],
            ));
        }
    };
    let template = Template::cut(&html, &cache.tokens.holes());
    for name in [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::SET_COOKIE,
        header::CONTENT_SECURITY_POLICY,
    ] {
        head.headers.remove(name);
    }
    let is_html = head
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    let compressed = (head.status == StatusCode::OK && is_html).then(|| {
        // Compressing into memory does not fail; if it ever did, the page still goes out.
        Compressed::new(&template)
            .inspect_err(|error| tracing::error!(request_id, error_kind = "page_cache", %error, "a page could not be compressed"))
            .ok()
    })
    .flatten();
    let Some(page) = compressed else {
        let mut response = Response::from_parts(head, Body::from(template.fill(&plan.values)));
        set_policy(&mut response, &plan.values);
        return Err(response);
    };
    let entry = Arc::new(Entry {
        page,
        headers: head.headers,
        position: plan.position,
        rendered_at_ms: now_ms(),
        shows: shows.map(|(answered, names)| (answered.answer, names)),
    });
    cache.entries.insert(plan.key.clone(), entry.clone());
    Ok(entry)
}

fn set_policy(response: &mut Response, values: &Values) {
    if let Ok(policy) = HeaderValue::from_str(&page_csp(&values.nonce)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
}

/// The kept page filled in for this user; `hit` (whether it was kept already) is told
/// in a header only when the settings ask for it (tests), never to clients otherwise.
fn respond(entry: &Entry, values: &Values, hit: Option<bool>) -> Response {
    let mut response = Response::new(Body::from(entry.page.gzip(values)));
    *response.headers_mut() = entry.headers.clone();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(hit) = hit {
        headers.insert(
            CACHE_HEADER,
            HeaderValue::from_static(if hit { "hit" } else { "miss" }),
        );
    }
    set_policy(&mut response, values);
    response
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn tokens() -> Vec<(Hole, String)> {
        vec![
            (Hole::Nonce, "NONCE".to_owned()),
            (Hole::Email, "EMAIL".to_owned()),
            (Hole::Id, "ID".to_owned()),
        ]
    }

    fn values() -> Values {
        Values {
            nonce: "n0nc3-_".to_owned(),
            email: "ada@example.com".to_owned(),
            id: String::new(),
        }
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .expect("a valid gzip stream whose CRC and length check out");
        text
    }

    #[test]
    fn a_page_is_cut_at_every_token_and_filled_back_with_each_users_values() {
        let html =
            "NONCE<p>EMAIL</p>IDID<script nonce=\"NONCE\">{\"email\":\"EMAIL\"}</script>NONCE";
        let template = Template::cut(html, &tokens());
        assert_eq!(
            template.holes,
            [
                Hole::Nonce,
                Hole::Email,
                Hole::Id,
                Hole::Id,
                Hole::Nonce,
                Hole::Email,
                Hole::Nonce
            ]
        );
        let expected = html
            .replace("NONCE", "n0nc3-_")
            .replace("EMAIL", "ada@example.com")
            .replace("ID", "");
        assert_eq!(template.fill(&values()), expected);
    }

    #[test]
    fn pieces_joined_with_stored_values_are_one_valid_gzip_stream() {
        // Long enough that the pieces span several deflate blocks and the window.
        let rows: String = (0..4000)
            .map(|n| {
                format!(
                    "<tr><td>Contact {n}</td><td>contact{n}@example.com</td></tr>",
                    n = n * 7919 % 10007
                )
            })
            .collect();
        for html in [
            String::new(),
            "no holes at all".to_owned(),
            "NONCE".to_owned(),
            "NONCEEMAIL".to_owned(),
            format!("<head nonce=NONCE>{rows}<script nonce=NONCE>ID</script>"),
            format!("{rows}EMAIL{rows}"),
        ] {
            let template = Template::cut(&html, &tokens());
            let compressed = Compressed::new(&template).unwrap();
            let gzip = compressed.gzip(&values());
            assert_eq!(
                gunzip(&gzip),
                template.fill(&values()),
                "{}",
                &html[..html.len().min(40)]
            );
            if html.len() > 100_000 {
                assert!(gzip.len() < html.len() / 5, "the pieces are compressed");
            }
        }
    }

    #[test]
    fn only_values_that_read_the_same_in_every_context_are_filled_in() {
        for plain in [
            "ada@example.com",
            "zoë.lindqvist@example.org",
            "a+b_c-d@x.io",
        ] {
            assert!(needs_no_escaping(plain), "{plain}");
        }
        for special in [
            "o'brien@example.com",
            "a\"b@example.com",
            "<b>@example.com",
            "a&b@example.com",
            "back\\slash@example.com",
            "line\u{2028}break@example.com",
            "tab\t@example.com",
        ] {
            assert!(!needs_no_escaping(special), "{special:?}");
        }
        assert!(!needs_no_escaping(&"a".repeat(2000)));
    }

    #[test]
    fn gzip_is_used_only_when_the_client_takes_it() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            headers
        };
        for taken in [
            "gzip",
            "br, gzip",
            "gzip, deflate, br, zstd",
            "GZIP;q=0.5",
            "br;q=1, gzip; q=0.1",
        ] {
            assert!(accepts_gzip(&headers(taken)), "{taken}");
        }
        for refused in ["br", "identity", "gzip;q=0", "gzip; q=0.000", "x-gzip2"] {
            assert!(!accepts_gzip(&headers(refused)), "{refused}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
