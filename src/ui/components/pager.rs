//! First / Previous / Next / Last links for keyset pages. Plain links: they work
//! without JavaScript, and the router turns them into client-side navigation once the
//! page is hydrated.

use leptos::prelude::*;

use crate::domain::PageRequest;

#[component]
pub fn Pager(previous: Option<PageRequest>, next: Option<PageRequest>) -> impl IntoView {
    let first = previous.map(|_| PageRequest::First);
    let last = next.map(|_| PageRequest::Last);
    view! {
        <nav class="pager" aria-label="Directory pages">
            <PageLink to=first label="First" rel="first" />
            <PageLink to=previous label="Previous" rel="prev" />
            <PageLink to=next label="Next" rel="next" />
            <PageLink to=last label="Last" rel="last" />
        </nav>
    }
}

#[component]
fn PageLink(to: Option<PageRequest>, label: &'static str, rel: &'static str) -> impl IntoView {
    match to {
        Some(page) => view! {
            <a class="pager-link" href=format!("/{}", page.query_string()) rel=rel>
                {label}
            </a>
        }
        .into_any(),
        None => view! {
            <span class="pager-link" aria-disabled="true">
                {label}
            </span>
        }
        .into_any(),
    }
}
