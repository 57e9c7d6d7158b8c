//! Static files and how long browsers may keep them.
//!
//! - `/pkg/*` (the JS, wasm and CSS that `cargo leptos build --release --precompress`
//!   writes): served precompressed (brotli, else gzip, as the browser accepts) from the
//!   files built beside them; with content-hashed names (`hash-files`, detected by the
//!   `hash.txt` beside the binary) they are `immutable` for a year, else revalidated.
//! - Pages and everything else: `no-store` when someone is signed in (the directory's
//!   contents are never written to a browser's or a proxy's disk), else `private,
//!   no-cache`, unless the handler said otherwise. Responses that
//!   are not precompressed are compressed on the fly (`CompressionLayer` in the router);
//!   pages are rendered whole, so nothing is held back.

use std::path::Path;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::Response,
};
use tower_http::services::ServeDir;

use crate::server::state::AppState;

/// A year, for files whose name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Kept, but checked with the server before each use.
pub const REVALIDATE: &str = "no-cache";
/// Pages and data for someone not signed in: per user, checked before each use.
pub const PRIVATE: &str = "private, no-cache";
/// Anything answered to someone signed in: never stored.
pub const NO_STORE: &str = "no-store";

fn hash_file() -> Option<std::path::PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
}

/// Whether this build's assets have content-hashed names: cargo-leptos then writes
/// `hash.txt` beside the server binary (where Leptos looks for it too).
pub fn hashed() -> bool {
    hash_file().is_some_and(|file| file.is_file())
}

/// The stylesheet's address, for the pages written without Leptos (`pages.rs`).
pub fn stylesheet() -> &'static str {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let hash = hash_file()
            .and_then(|file| std::fs::read_to_string(file).ok())
            .and_then(|text| {
                text.lines().find_map(|line| {
                    line.trim()
                        .strip_prefix("css:")
                        .map(|hash| hash.trim().to_owned())
                })
            });
        match hash {
            Some(hash) => format!("/pkg/roster.{hash}.css"),
            None => "/pkg/roster.css".to_owned(),
        }
    })
}

/// `/pkg`, served precompressed with the cache policy of the build.
pub fn pkg(site_root: &Path, pkg_dir: &str, hashed: bool) -> Router<AppState> {
    let policy = HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE });
    let files = ServeDir::new(site_root.join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service(&format!("/{pkg_dir}"), files)
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let policy = policy.clone();
            async move {
                let mut response = next.run(request).await;
                if matches!(
                    response.status(),
                    StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
                ) {
                    response.headers_mut().insert(header::CACHE_CONTROL, policy);
                } else {
                    // A missing file may appear with the next deployment.
                    response
                        .headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                }
                response
            }
        }))
}

/// [`NO_STORE`] on every response to someone signed in, [`PRIVATE`] on the others,
/// unless the response sets its own policy.
pub async fn default_policy(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let signed_in = response
        .extensions()
        .get::<crate::server::http::metrics::ServedUser>()
        .is_some();
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(if signed_in {
            NO_STORE
        } else {
            PRIVATE
        }));
    response
}
