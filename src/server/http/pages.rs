//! Answers made outside the Leptos app: small static pages for a person (503, 429)
//! and server-function errors for scripts, both with the app's stylesheet and no
//! script of their own.

use axum::{
    body::Body,
    http::{HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};
use leptos::server_fn::error::FromServerFnError as _;

use crate::error::AppError;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn with_headers(mut response: Response, headers: &[(HeaderName, String)]) -> Response {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name.clone(), value);
        }
    }
    response
}

/// A page for a person: a title, a sentence, and a way on. With `refresh_secs`, the
/// browser tries the address again by itself after that many seconds.
pub fn error_page_with_refresh(
    status: StatusCode,
    title: &str,
    message: &str,
    refresh_secs: Option<u64>,
    headers: &[(HeaderName, String)],
) -> Response {
    let refresh = refresh_secs
        .map(|secs| format!(r#"<meta http-equiv="refresh" content="{secs}">"#))
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">{refresh}<title>{title} · Roster</title>
<link rel="stylesheet" href="{stylesheet}"><link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>
<body><header class="topbar"><a class="brand" href="/"><span class="brand-mark" aria-hidden="true">R</span>Roster</a></header>
<main id="main" class="status-page"><h1>{title}</h1><p>{message}</p><p><a href="">Try again</a> · <a href="/">Go to the directory</a></p></main>
</body></html>"#,
        title = escape(title),
        message = escape(message),
        stylesheet = super::assets::stylesheet(),
    );
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(html))
        .unwrap_or_default();
    with_headers(response, headers)
}

pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    headers: &[(HeaderName, String)],
) -> Response {
    error_page_with_refresh(status, title, message, None, headers)
}

/// A server-function error, as the browser's generated client reads it.
pub fn api_error(error: &AppError, headers: &[(HeaderName, String)]) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(error.ser()))
        .unwrap_or_default();
    with_headers(response, headers)
}
