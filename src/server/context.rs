//! What a server function gets to work with: the application state and the id of the
//! request it serves, both taken from the Leptos context that the router provides.

use leptos::prelude::use_context;

use super::{error::Error, startup::AppState};
use crate::error::AppError;

/// The header carrying the request id (set by the request-id layer if the client sent none).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub struct RequestContext {
    pub state: AppState,
    pub request_id: String,
    /// The client's address as this server saw the connection.
    pub client_ip: Option<std::net::IpAddr>,
}

impl RequestContext {
    /// The context of the request being served. Fails only if called outside a request,
    /// which is a bug, reported as an internal error.
    pub fn current() -> Result<Self, AppError> {
        let parts = use_context::<axum::http::request::Parts>();
        let request_id = parts
            .as_ref()
            .and_then(|parts| {
                parts
                    .headers
                    .get(REQUEST_ID_HEADER)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "-".to_owned());
        let client_ip = parts.as_ref().and_then(|parts| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip())
        });
        match use_context::<AppState>() {
            Some(state) => Ok(RequestContext {
                state,
                request_id,
                client_ip,
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

    /// Who is making a change, for the audit log.
    pub fn actor(&self) -> super::db::audit::Actor {
        super::db::audit::Actor {
            name: None,
            ip: self.client_ip,
            request_id: Some(self.request_id.clone()),
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
