//! The dashboard's refresh control (`/admin`), an island.
//!
//! Without JavaScript it is a Reload link. Hydrated, it asks the server every few
//! seconds for the dashboard's tiles and panels rendered anew
//! (`api::admin::dashboard_view`) and swaps them in (`#dashboard-body`): every 5 s by
//! default, selectable, pausable, and paused while the tab is hidden.

use std::time::Duration;

use leptos::{html, prelude::*};

use super::mark_hydrated;
use crate::{api::admin::dashboard_view, domain::dashboard::Period};

/// Refresh choices, in seconds (0: off).
const REFRESH_CHOICES: [u32; 4] = [5, 15, 60, 0];

#[island(lazy)]
pub fn DashboardRefresh(
    /// The period the page shows.
    period: Period,
    /// The page's own address, for the Reload link.
    reload: String,
) -> impl IntoView {
    let root = NodeRef::<html::Div>::new();
    mark_hydrated(root);
    // Seconds since the panels shown arrived; they are refreshed when it reaches the
    // chosen interval. Moves in the browser only.
    let age = RwSignal::new(0u32);
    let every = RwSignal::new(REFRESH_CHOICES[0]);
    let paused = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    // A refresh asked for and not answered yet.
    let waiting = RwSignal::new(false);

    let refresh = move || {
        waiting.set(true);
        leptos::task::spawn_local(async move {
            let answer = dashboard_view(period.as_str().to_owned()).await;
            waiting.set(false);
            // A refusal or an error leaves the panels as they are; their age tells.
            if let Ok(html) = answer
                && let Some(body) = document().get_element_by_id("dashboard-body")
            {
                body.set_inner_html(&html);
                age.set(0);
            }
        });
    };

    Effect::new(move |_| {
        hydrated.set(true);
        let ticking = set_interval_with_handle(
            move || {
                if document().hidden() {
                    return;
                }
                age.update(|age| *age += 1);
                let every = every.get_untracked();
                if every > 0
                    && !paused.get_untracked()
                    && age.get_untracked() >= every
                    && !waiting.get_untracked()
                {
                    refresh();
                }
            },
            Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(handle) = ticking {
                handle.clear();
            }
        });
    });

    view! {
        <div class="refresh" aria-live="polite" node_ref=root>
            <span class="updated" data-testid="updated">
                {move || match age.get() {
                    0 => "updated just now".to_owned(),
                    1 => "updated 1 s ago".to_owned(),
                    seconds => format!("updated {seconds} s ago"),
                }}
                {move || (paused.get() || every.get() == 0).then_some(" · paused")}
            </span>
            <Show
                when=move || hydrated.get()
                fallback=move || view! { <a href=reload.clone()>"Reload"</a> }
            >
                <label>
                    "Refresh "
                    <select on:change=move |event| {
                        every.set(event_target_value(&event).parse().unwrap_or(0));
                    }>
                        {REFRESH_CHOICES
                            .into_iter()
                            .map(|seconds| {
                                let label = if seconds == 0 { "off".to_owned() } else { format!("every {seconds} s") };
                                view! { <option value=seconds.to_string() selected=move || every.get() == seconds>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <button
                    type="button"
                    class="button"
                    aria-pressed=move || paused.get().to_string()
                    on:click=move |_| paused.update(|paused| *paused = !*paused)
                >
                    {move || if paused.get() { "Resume" } else { "Pause" }}
                </button>
            </Show>
        </div>
    }
}
