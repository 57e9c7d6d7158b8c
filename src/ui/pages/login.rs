//! `/login`: email and password. Without JavaScript the form posts and the server
//! redirects (to where the person was going, or back here with the reason); hydrated,
//! the reason shows in place and success loads the page afresh as the new user.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{api::auth::SignIn, error::AppError, ui::session::me};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query
        .with_untracked(|query| query.get("next"))
        .unwrap_or_default();
    let sign_in = ServerAction::<SignIn>::new();
    let error = move || sign_in.value().get().and_then(Result::err);

    // Signed in: go where the server said (a full load, so every part of the page
    // sees the new session).
    Effect::new(move |_| {
        if let Some(Ok(next)) = sign_in.value().get() {
            let _ = window().location().set_href(&next);
        }
    });

    if let Some(user) = me() {
        return view! {
            <Title text="Sign in" />
            <section class="auth-card">
                <h1>"You are signed in"</h1>
                <p>{format!("You are signed in as {}.", user.email)}</p>
                <p><a class="button primary" href="/">"Go to the directory"</a></p>
            </section>
        }
        .into_any();
    }

    view! {
        <Title text="Sign in" />
        <section class="auth-card">
            <h1>"Sign in to Roster"</h1>
            <ActionForm action=sign_in attr:class="auth-form">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="login-email">"Email"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required autofocus />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" name="password" autocomplete="current-password" required />
                </div>
                {move || error().map(|error| {
                    let message = match error {
                        AppError::TooManyRequests { retry_after_secs } => format!(
                            "Too many sign-in attempts. Please wait {retry_after_secs} s and try again."
                        ),
                        other => other.to_string(),
                    };
                    view! { <p class="notice notice-error" role="alert">{message}</p> }
                })}
                <button type="submit" class="primary" disabled=move || sign_in.pending().get()>"Sign in"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
