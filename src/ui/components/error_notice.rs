//! An error, told to the person in plain words.

use leptos::prelude::*;

use crate::error::AppError;

/// What a notice says of `error`. A rate-limited call says when it is tried again:
/// the island that made it does so (see `islands::SearchBox`).
fn notice_text(error: &AppError) -> String {
    match error {
        AppError::TooManyRequests { retry_after_secs } => format!(
            "Roster is receiving too many requests from you. Trying again in {retry_after_secs} s…"
        ),
        other => other.to_string(),
    }
}

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let (class, role) = match error {
        AppError::TooManyRequests { .. } => ("notice notice-warning", "status"),
        _ => ("notice notice-error", "alert"),
    };
    view! { <div class=class role=role>{notice_text(&error)}</div> }
}
