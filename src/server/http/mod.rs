//! The HTTP surface: routes, middleware and the handlers that are not Leptos pages.

pub mod assets;
pub mod export;
pub mod health;
pub mod metrics;
pub mod page_cache;
pub mod pages;
mod panics;
pub mod rate_limit;
pub mod security;
pub mod serve;
mod server_fn_errors;
mod upload;

use axum::{
    Router, middleware,
    routing::{get, post},
};
use std::sync::OnceLock;

use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use super::{auth, context::REQUEST_ID_HEADER, state::AppState};
use crate::ui::{App, shell};

/// The app's routes, generated once per process. Generating them sets a process-wide
/// flag in leptos_server under which any resource first polled meanwhile never
/// completes (leptos-rs/leptos#4773): generated again while another app in the same
/// process serves (as the integration tests run many), a page could hang.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole router, layers included. Outermost first: request id, trace, request
/// metrics, security headers, compression, cache policy, panic recovery, the
/// cross-site check, the session (Redis) and who it belongs to, rate limits, the
/// sign-in requirement, the directory pages kept for reuse; then the routes, all but
/// the import upload with a body limit and a time limit.
pub fn router(state: AppState) -> Router {
    let routes = routes();
    let request_id = axum::http::HeaderName::from_static(REQUEST_ID_HEADER);
    let config = state.config.clone();

    // Exporting is for editors (and admins), as is importing.
    let exports = Router::new()
        .route("/export.csv", get(export::csv))
        .route("/export.vcf", get(export::vcard))
        .route("/export-3.0.vcf", get(export::vcard3))
        .route("/export-google.csv", get(export::google))
        .route("/export-outlook.csv", get(export::outlook))
        .route("/contacts/{id}/vcard", get(export::contact_vcard))
        .route_layer(middleware::from_fn(auth::editors_only));
    let static_files = assets::pkg(
        std::path::Path::new(&*state.leptos_options.site_root),
        &state.leptos_options.site_pkg_dir,
        state.leptos_options.hash_files,
    );
    let bounded = Router::new()
        .merge(static_files)
        .route("/health", get(health::live))
        .route("/health/deep", get(health::deep))
        .route("/metrics", get(metrics::scrape))
        .route("/api/vitals", post(crate::server::monitor::vitals::receive))
        .route("/photos/{name}", get(crate::server::photos::serve))
        .merge(exports)
        .leptos_routes_with_context(&state, routes, page_nonce, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(server_fn_errors::set_status))
        .layer(
            ServiceBuilder::new()
                .map_response(|response: axum::http::Response<_>| {
                    response.map(axum::body::Body::new)
                })
                .layer(middleware::from_fn(security::small_bodies))
                .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    config.request_timeout(),
                )),
        );
    // The upload streams its file to disk for as long as it takes, under its own cap.
    let uploads = Router::new()
        .route(
            "/import/upload",
            post(upload::upload).layer(upload::body_limit()),
        )
        .route_layer(middleware::from_fn(auth::editors_only));

    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(config.session_cookie_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            config.session_idle_timeout().as_secs() as i64,
        )));

    let mut router = bounded
        .merge(uploads)
        // The contact form with a photo: read here, under its own bounds, after the
        // caller's role is checked and before the server function's body limit.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::server::photos::read_form_with_photo,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            page_cache::serve,
        ))
        .layer(middleware::from_fn(auth::authorize))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::enforce,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(sessions)
        .layer(middleware::from_fn(security::explain_session_failures))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::same_origin_writes,
        ));
    if !config.cors_allowed_origins.is_empty() {
        router = router.layer(cors(&config.cors_allowed_origins));
    }
    router
        .layer(middleware::from_fn(panics::recover))
        .layer(middleware::from_fn(assets::default_policy))
        // Compressed as it is sent, unless it already is (the precompressed assets). At
        // the fastest settings (brotli 1, gzip 1): a 73 KB results page becomes about
        // 12 KB either way, where brotli's default of 4 saved 1.5 KB more for several
        // times the CPU and a large table allocated and cleared for every response.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::compression::CompressionLevel::Precise(1)),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(
            // Outermost first: the id exists before anything logs, and is echoed back.
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    security::trusted_request_id,
                ))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(
                    move |request: &axum::http::Request<axum::body::Body>| {
                        let id = super::context::request_id(request.headers());
                        tracing::info_span!(
                            "request",
                            request_id = %id,
                            method = %request.method(),
                            path = %request.uri().path(),
                        )
                    },
                ))
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(state)
}

/// Gives the page the nonce that the security headers name in its policy.
fn page_nonce() {
    if let Some(nonce) = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<security::PageNonce>().cloned())
    {
        leptos::prelude::provide_context(nonce.0);
    }
}

/// Cross-origin calls from the configured origins only, with their cookies.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<axum::http::HeaderValue> = origins
        .iter()
        .filter_map(|origin| origin.trim_end_matches('/').parse().ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([axum::http::header::CONTENT_TYPE, axum::http::header::ACCEPT])
}
