//! `/login`: email and password, a plain form post. The server redirects to where the
//! person was going, or back here with the reason (shown as the page's notice).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::SignIn,
    ui::{action_url, session::me},
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let next = use_query_map()
        .with_untracked(|query| query.get("next"))
        .unwrap_or_default();

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

    let action = action_url::<SignIn>();
    view! {
        <Title text="Sign in" />
        <section class="auth-card">
            <h1>"Sign in to Roster"</h1>
            <form method="post" action=action class="auth-form">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="login-email">"Email"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required autofocus />
                </div>
                <div class="field">
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" name="password" autocomplete="current-password" required />
                </div>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </section>
    }
    .into_any()
}
