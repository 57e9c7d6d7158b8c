//! An error, told to the person in plain words.

use leptos::prelude::*;

use crate::error::AppError;

#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert">
            {error.to_string()}
        </div>
    }
}
