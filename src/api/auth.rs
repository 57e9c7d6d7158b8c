//! Signing in and out, and who is signed in.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{domain::CurrentUser, error::AppError};

/// Signs in and goes on to `next` (a path on this site; the directory by default).
/// A wrong email or password gets one message, in the same time.
#[server(prefix = "/api", endpoint = "sign-in")]
pub async fn sign_in(
    email: String,
    password: String,
    #[server(default)] next: Option<String>,
) -> Result<String, AppError> {
    use crate::server::{
        RequestContext,
        auth::{safe_next, users},
    };
    let cx = RequestContext::current()?;
    let result = async {
        let session = leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|_| AppError::Unavailable)?;
        let user_agent = use_context::<axum::http::request::Parts>().and_then(|parts| {
            parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        });
        let attempt = users::Attempt {
            email,
            password,
            ip: cx.client_ip,
            user_agent,
        };
        users::sign_in(&cx.state, &session, attempt).await?;
        let next = safe_next(next.as_deref());
        // The sign-in page's form is a plain post: the browser goes on to `next`. A
        // script calling this (the load test) gets `next` and goes there itself.
        if RequestContext::is_plain_form_post() {
            leptos_axum::redirect(&next);
        }
        Ok(next)
    }
    .await;
    // When to try again: after the limit's delay, or (too many sign-ins waiting for a
    // password check) in a few seconds.
    let retry_after = match &result {
        Err(crate::server::error::Error::App(AppError::TooManyRequests { retry_after_secs })) => {
            Some(*retry_after_secs)
        }
        Err(crate::server::error::Error::App(AppError::Unavailable)) => Some(3),
        _ => None,
    };
    if let Some(retry_after) = retry_after
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.insert_header(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(retry_after),
        );
    }
    cx.finish_action(result).await
}

/// Ends the session and goes to the sign-in page.
#[server(prefix = "/api", endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::{RequestContext, auth::users};
    let cx = RequestContext::current()?;
    let result = async {
        if let Ok(session) = leptos_axum::extract::<tower_sessions::Session>().await {
            users::sign_out(&session).await?;
        }
        leptos_axum::redirect("/login");
        Ok(())
    }
    .await;
    cx.finish(result)
}

/// Who is signed in (`None` on the sign-in page before signing in).
#[server(prefix = "/api", endpoint = "me", input = GetUrl)]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    let cx = crate::server::RequestContext::current()?;
    Ok(cx.user)
}
