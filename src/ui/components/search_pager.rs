//! Numbered pages of search results: plain links, so they work without JavaScript.

use leptos::prelude::*;

use crate::domain::SearchQuery;

/// Pages shown either side of the current one.
const AROUND: u32 = 2;

#[component]
pub fn SearchPager(query: SearchQuery, pages: u32) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let current = query.page.min(pages);
    let mut numbers: Vec<Option<u32>> = Vec::new();
    for n in 1..=pages {
        let near = n.abs_diff(current) <= AROUND;
        if n == 1 || n == pages || near {
            numbers.push(Some(n));
        } else if numbers.last() != Some(&None) {
            numbers.push(None);
        }
    }
    let link = |page: u32, label: String, rel: Option<&'static str>| {
        view! { <a class="pager-link" href=query.with_page(page).href() rel=rel>{label}</a> }
            .into_any()
    };
    let disabled = |label: &'static str| {
        view! { <span class="pager-link" aria-disabled="true">{label}</span> }.into_any()
    };
    view! {
        <nav class="pager" aria-label="Result pages">
            {if current > 1 { link(current - 1, "Previous".into(), Some("prev")) } else { disabled("Previous") }}
            {numbers
                .into_iter()
                .map(|number| match number {
                    Some(n) if n == current => view! {
                        <span class="pager-link pager-number" aria-current="page">{n}</span>
                    }
                    .into_any(),
                    Some(n) => view! {
                        <a class="pager-link pager-number" href=query.with_page(n).href()>{n}</a>
                    }
                    .into_any(),
                    None => view! { <span class="pager-gap">"…"</span> }.into_any(),
                })
                .collect_view()}
            {if current < pages { link(current + 1, "Next".into(), Some("next")) } else { disabled("Next") }}
        </nav>
    }
    .into_any()
}
