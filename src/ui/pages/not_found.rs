//! The page for an address that leads nowhere.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Page not found" />
        <section class="message-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p>
                <a href="/">"Back to the directory"</a>
            </p>
        </section>
    }
}
