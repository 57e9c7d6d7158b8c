//! The server's error: an [`AppError`] meant for the user, or an internal failure that
//! must be logged and hidden. [`Error::into_app_error`] is the one place where the
//! second becomes the first, so every internal failure is logged exactly once, with
//! the request id that the user is shown.

use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Turns this error into what the user may see, logging anything they may not.
    pub fn into_app_error(self, request_id: &str) -> AppError {
        match self {
            Error::App(error) => error,
            Error::Database(error) if is_unavailable(&error) => {
                tracing::warn!(
                    request_id,
                    error = %error,
                    error_kind = "database_unavailable",
                    "database unavailable"
                );
                metrics::counter!("errors_total", "kind" => "database_unavailable").increment(1);
                AppError::Unavailable
            }
            other => {
                let kind = match &other {
                    Error::Database(_) => "database",
                    _ => "internal",
                };
                metrics::counter!("errors_total", "kind" => kind).increment(1);
                tracing::error!(request_id, error = ?other, error_kind = kind, "request failed");
                AppError::Internal {
                    request_id: request_id.to_owned(),
                }
            }
        }
    }
}

/// Errors that mean "the database is down or saturated", not "this request is wrong".
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        // 57014: statement_timeout fired; 57P01..57P03: the server is shutting down or starting.
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("57014" | "57P01" | "57P02" | "57P03" | "53300")
        ),
        _ => false,
    }
}
