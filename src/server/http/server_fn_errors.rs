//! Gives server-function errors their real HTTP status.
//!
//! The server-function runtime answers every error with 500, including the ones that
//! are the client's fault (a malformed argument) or nobody's (a missing contact).
//! This layer reads the [`AppError`] in such a response and sets the status it stands
//! for. An internal error raised before the function body ran (so without a request
//! id) is logged here and given the request's id, so the user can still quote one.

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::Response,
};
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

use crate::error::AppError;

/// Server-function error bodies are a short JSON object; anything longer is not one.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn set_status(request: Request, next: Next) -> Response {
    let request_id = crate::server::context::request_id(request.headers()).to_owned();
    let response = next.run(request).await;
    // Redirects (a form posted without JavaScript) carry the error in their URL instead.
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }

    let (mut parts, body) = response.into_parts();
    let mut error = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => AppError::de(bytes),
        Err(cause) => {
            tracing::error!(request_id, %cause, "unreadable server function error");
            AppError::Internal {
                request_id: String::new(),
            }
        }
    };
    if let AppError::Internal { request_id: id } = &mut error
        && id.is_empty()
    {
        tracing::error!(request_id, "server function failed before its body ran");
        id.clone_from(&request_id);
    }
    parts.status =
        StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(error.ser()))
}
