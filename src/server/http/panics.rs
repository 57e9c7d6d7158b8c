//! A panic while answering becomes a 500 with the request id, not a dropped connection.
//!
//! Without this, a panic in a handler (our code or a library's) unwinds into hyper,
//! which closes the connection: the browser shows a network error and the user has
//! nothing to quote. Here the panic is logged once with its message and the request
//! id, counted as an internal error, and answered as any other internal error is: a
//! page for a person, the server-function error for the browser's client. A panic
//! while the body streams, after the head has gone, cannot be answered this way; the
//! pages render in full before their head is sent (`SsrMode::Async`), so that leaves
//! only the bodies we stream ourselves (exports), which do not panic on bad input.

use std::{any::Any, panic::AssertUnwindSafe};

use axum::{
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::Response,
};
use futures_util::FutureExt as _;

use super::pages;
use crate::error::AppError;

pub async fn recover(request: Request, next: Next) -> Response {
    let request_id = crate::server::context::request_id(request.headers()).to_owned();
    let wants_data = request.uri().path().starts_with("/api/")
        || request
            .headers()
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| !accept.contains("text/html"));
    // The handler's future owns nothing that a panic could leave half-changed for
    // another request: shared state lives behind locks that recover from poisoning
    // (or_poisoned) and in Postgres and Redis.
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            metrics::counter!("errors_total", "kind" => "panic").increment(1);
            tracing::error!(
                request_id,
                panic = panic_message(panic.as_ref()),
                error_kind = "panic",
                "request panicked"
            );
            let error = AppError::Internal { request_id };
            if wants_data {
                pages::api_error(&error, &[])
            } else {
                pages::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    &error.to_string(),
                    &[],
                )
            }
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, http::Request, middleware, routing::get};
    use tower::ServiceExt as _;

    use super::{panic_message, recover};
    use crate::server::context::REQUEST_ID_HEADER;
    use axum::http::{StatusCode, header};

    async fn render_boom() -> &'static str {
        panic!("rendering failed at row 3")
    }

    async fn api_boom() -> &'static str {
        panic!("server function failed")
    }

    async fn answer(path: &str, accept: &str) -> (StatusCode, String, String) {
        let app = Router::new()
            .route("/boom", get(render_boom))
            .route("/api/boom", get(api_boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(middleware::from_fn(recover));
        let request = Request::get(path)
            .header(REQUEST_ID_HEADER, "req-42")
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_panicking_page_is_a_500_page_with_the_request_id_and_no_internals() {
        let (status, content_type, body) = answer("/boom", "text/html,*/*").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(body.contains("req-42"), "{body}");
        assert!(
            !body.contains("row 3"),
            "the panic's message leaked: {body}"
        );
    }

    #[tokio::test]
    async fn a_panicking_server_function_is_its_internal_error() {
        let (status, content_type, body) = answer("/api/boom", "application/json").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(content_type, "application/json");
        assert!(body.contains("req-42"), "{body}");
        assert!(!body.contains("server function failed"), "{body}");
    }

    #[tokio::test]
    async fn answers_without_a_panic_pass_through() {
        let (status, _, body) = answer("/fine", "text/html").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "fine"));
    }

    #[test]
    fn reads_both_kinds_of_panic_payload() {
        let literal = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "plain");
        let formatted = std::panic::catch_unwind(|| panic!("row {}", 7)).unwrap_err();
        assert_eq!(panic_message(formatted.as_ref()), "row 7");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "(no message)");
    }
}
