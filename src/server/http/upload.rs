//! `POST /import/upload`: the import file, as a plain multipart form post (with or without
//! JavaScript). The file is streamed to disk as it arrives, never held in memory, and
//! refused past `MAX_IMPORT_MB`. On success the browser goes to the job's page with the dry run's
//! report; on failure back to the form, with the reason named by a code.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, DefaultBodyLimit, Extension, Multipart, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    domain::{
        CurrentUser,
        import::{MAX_IMPORT_BYTES, MAX_IMPORT_MB},
    },
    error::AppError,
    server::{
        context::client_ip,
        db::audit::Actor,
        error::Error,
        import::{self, Upload},
        state::AppState,
    },
};

/// The body limit for the upload route: the file plus room for the form around it.
pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_IMPORT_BYTES as usize + 64 * 1024)
}

pub async fn upload(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    user: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let request_id = crate::server::context::request_id(&headers).to_owned();
    let actor = Actor {
        user_id: user.as_ref().map(|Extension(user)| user.id),
        name: user.map(|Extension(user)| user.email),
        ip: client_ip(Some(client.ip()), &headers, &state.config.trusted_proxies),
        request_id: Some(request_id.clone()),
    };
    let wants_page = crate::server::auth::wants_html(&headers);
    let too_large = format!("{MAX_IMPORT_MB} MB");
    match receive(&state, multipart, &actor).await {
        Ok(id) => {
            tracing::info!(job = %id, security_event = "import_uploaded", "import file uploaded");
            Redirect::to(&format!("/import/{id}")).into_response()
        }
        Err(Failure::Refused(Error::App(AppError::BadRequest(message)))) if !wants_page => {
            // A script gets the reason itself, with its status.
            let status = if message.contains(&too_large) {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE
            } else {
                axum::http::StatusCode::BAD_REQUEST
            };
            let mut response =
                crate::server::http::pages::api_error(&AppError::BadRequest(message), &[]);
            *response.status_mut() = status;
            response
        }
        Err(error) => {
            let code = match error {
                Failure::NoFile => "no-file",
                Failure::Refused(Error::App(AppError::BadRequest(message))) => {
                    if message.contains(&too_large) {
                        "too-large"
                    } else if message.contains("character set") {
                        "charset"
                    } else if message.contains("empty") {
                        "empty"
                    } else if message.contains("columns") {
                        "too-wide"
                    } else if message.contains("seconds") {
                        "too-slow"
                    } else if message.contains("rows") {
                        "too-many-rows"
                    } else {
                        "unreadable"
                    }
                }
                Failure::Refused(error) => {
                    let error = error.into_app_error(&request_id);
                    if matches!(error, AppError::Unavailable) {
                        "unavailable"
                    } else {
                        "failed"
                    }
                }
                Failure::Interrupted => "interrupted",
            };
            Redirect::to(&format!("/import?error={code}")).into_response()
        }
    }
}

enum Failure {
    NoFile,
    Interrupted,
    Refused(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Refused(error)
    }
}

async fn receive(
    state: &AppState,
    mut multipart: Multipart,
    actor: &Actor,
) -> Result<uuid::Uuid, Failure> {
    let mut charset = import::text::Charset::Detect;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| Failure::Interrupted)?
    {
        // The form puts its choice of character set before the file.
        if field.name() == Some("charset") {
            let mut label = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| Failure::Interrupted)? {
                if label.len() + chunk.len() > 100 {
                    return Err(Failure::Refused(Error::App(AppError::BadRequest(
                        "Roster does not know that character set.".into(),
                    ))));
                }
                label.extend_from_slice(&chunk);
            }
            charset = import::text::Charset::parse(&String::from_utf8_lossy(&label))
                .map_err(|message| Failure::Refused(Error::App(AppError::BadRequest(message))))?;
            continue;
        }
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        if file_name.is_empty() {
            return Err(Failure::NoFile);
        }
        let mut upload = Upload::new(&state.config.data_dir).await?;
        while let Some(chunk) = field.chunk().await.map_err(|error| {
            // The body limit cuts a too-large file off mid-stream.
            if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Failure::Refused(Error::App(AppError::BadRequest(format!(
                    "larger than {MAX_IMPORT_MB} MB"
                ))))
            } else {
                Failure::Interrupted
            }
        })? {
            upload.write(&chunk).await?;
        }
        let limits = import::ImportLimits::from_config(&state.config);
        return Ok(
            import::create_job(&state.db, upload, &file_name, charset, actor, limits).await?,
        );
    }
    Err(Failure::NoFile)
}
