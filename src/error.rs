//! The one application error type. It crosses the wire from server functions to the
//! browser with the HTTP status it stands for; its messages are written for the
//! person using Roster. Internal causes never travel in it: the server logs them
//! under the request id and sends only that id.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request itself was wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    #[error("We could not find that.")]
    NotFound,
    /// No one is signed in (or the session ended).
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// Signed in, but the role does not allow it.
    #[error("Your role does not allow this. Ask an administrator if you need it.")]
    Forbidden,
    /// Too many requests of this kind; the client may try again after the delay.
    #[error("Too many requests. Please wait {retry_after_secs} s and try again.")]
    TooManyRequests { retry_after_secs: u64 },
    /// A dependency (the database, Redis) is down or overloaded; retrying later may work.
    #[error("Roster is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    /// A fault on our side. Only the request id leaves the server; the cause is in its log.
    #[error(
        "Something went wrong on our side. If it keeps happening, quote request id {request_id}."
    )]
    Internal { request_id: String },
    /// The browser could not reach the server, or could not read its answer.
    #[error("Could not reach Roster. Check your connection and try again.")]
    Network,
}

impl AppError {
    /// The HTTP status this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::NotFound => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable => 503,
            AppError::Internal { .. } => 500,
            AppError::Network => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The server could not read what the client sent: the client's fault, and the
            // decoder's message (which may echo input back) is not worth showing.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::BadRequest("The request was malformed.".to_owned())
            }
            // On the server these mean the request could not be read (a body that is not
            // text, say): again the client's fault.
            ServerFnErrorErr::Request(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_)
                if cfg!(feature = "ssr") =>
            {
                AppError::BadRequest("The request was malformed.".to_owned())
            }
            // The server could not write its own answer.
            ServerFnErrorErr::Serialization(_) if cfg!(feature = "ssr") => AppError::Internal {
                request_id: String::new(),
            },
            // In the browser: it could not send, reach or read, a network problem as far
            // as the user can tell.
            ServerFnErrorErr::Request(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::Serialization(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => AppError::Network,
            ServerFnErrorErr::Registration(_)
            | ServerFnErrorErr::ServerError(_)
            | ServerFnErrorErr::MiddlewareError(_)
            | ServerFnErrorErr::Response(_) => AppError::Internal {
                request_id: String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_arguments_are_the_clients_fault() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args(
            "missing field `page` at line 1 column 2 near SELECT".into(),
        ));
        assert_eq!(err.status(), 400);
        assert!(
            !err.to_string().contains("SELECT"),
            "decoder detail leaked: {err}"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_request_the_server_cannot_read_is_the_clients_fault() {
        for error in [
            ServerFnErrorErr::Request("invalid utf-8 sequence of 1 bytes from index 0".into()),
            ServerFnErrorErr::Deserialization("expected value at line 1".into()),
            ServerFnErrorErr::UnsupportedRequestMethod("PATCH".into()),
        ] {
            let err = AppError::from_server_fn_error(error);
            assert_eq!(err.status(), 400, "{err:?}");
            assert!(!err.to_string().contains("utf-8"), "{err}");
        }
    }

    #[test]
    fn internal_errors_show_only_the_request_id() {
        let err = AppError::Internal {
            request_id: "abc-123".into(),
        };
        assert_eq!(err.status(), 500);
        assert!(err.to_string().contains("abc-123"));
    }
}
