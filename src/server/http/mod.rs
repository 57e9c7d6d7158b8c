//! The HTTP surface: routes, middleware and the handlers that are not Leptos pages.

mod export;
pub mod health;
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
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use super::{context::REQUEST_ID_HEADER, startup::AppState};
use crate::ui::{App, shell};

/// The app's routes, generated once per process. Generating them sets a process-wide
/// flag in leptos_server under which any resource first polled meanwhile never
/// completes (leptos-rs/leptos#4773): generated again while another app in the same
/// process serves (as the integration tests run many), a page could hang.
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole router, layers included.
pub fn router(state: AppState) -> Router {
    let routes = routes();
    let request_id = axum::http::HeaderName::from_static(REQUEST_ID_HEADER);

    Router::new()
        .route("/health", get(health::live))
        .route("/health/deep", get(health::deep))
        .route(
            "/import/upload",
            post(upload::upload).layer(upload::body_limit()),
        )
        .route("/export.csv", get(export::csv))
        .route("/export.vcf", get(export::vcard))
        .route("/contacts/{id}/vcard", get(export::contact_vcard))
        .leptos_routes_with_context(&state, routes, || {}, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(server_fn_errors::set_status))
        .layer(
            // Outermost first: the id exists before anything logs, and is echoed back.
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(
                    move |request: &axum::http::Request<axum::body::Body>| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("-");
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
