//! `/bulk`: "Add the tag “vip” to 37 contacts?" — the confirmation of a bulk action
//! chosen on the search results, stating how many contacts will change. A plain form
//! post applies it (a refusal comes back as the page's notice).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::bulk::{ApplyBulk, preview_bulk},
    domain::{bulk::BulkSelection, format},
    ui::{action_url, components::ErrorNotice},
};

#[component]
pub fn BulkPage() -> impl IntoView {
    let request = use_query_map().with_untracked(|query| {
        let selection = BulkSelection {
            ids: query.get_all("id").unwrap_or_default(),
            all: query.get("all").is_some_and(|all| !all.is_empty()),
            search: query.get("search").unwrap_or_default(),
        };
        (
            query.get("action").unwrap_or_default(),
            query.get("value").unwrap_or_default(),
            selection,
        )
    });
    let preview = Resource::new(
        {
            let request = request.clone();
            move || request.clone()
        },
        |(action, value, selection)| preview_bulk(action, value, selection),
    );
    let apply = action_url::<ApplyBulk>();
    view! {
        <Title text="Change several contacts" />
        <Suspense fallback=|| view! { <p class="loading">"Counting…"</p> }>
            {move || {
                let (action, value, selection) = request.clone();
                Suspend::new(async move {
                let back = selection.query().href();
                match preview.await {
                    Ok(preview) if preview.will_change == 0 => view! {
                        <section class="confirm-page">
                            <h1>"Nothing to change"</h1>
                            <p>{format!(
                                "None of the {} selected contacts would change.",
                                format::count(preview.selected)
                            )}</p>
                            <p><a href=back>"Back to the results"</a></p>
                        </section>
                    }
                    .into_any(),
                    Ok(preview) => {
                        let unchanged = preview.selected - preview.will_change;
                        let danger = action == "delete";
                        view! {
                            <section class="confirm-page">
                                <h1>{format!("{}?", preview.description)}</h1>
                                {(unchanged > 0).then(|| view! {
                                    <p>{format!(
                                        "{} of the {} selected contacts already match and stay as they are.",
                                        format::count(unchanged),
                                        format::count(preview.selected)
                                    )}</p>
                                })}
                                {danger.then(|| view! {
                                    <p>"Deleted contacts leave the directory and search at once; each can be restored from its page for 30 days."</p>
                                })}
                                <p class="muted">{format!("Including: {}", preview.sample.join(", "))}</p>
                                <form method="post" action=apply>
                                    <input type="hidden" name="action" value=action.clone() />
                                    <input type="hidden" name="value" value=value.clone() />
                                    <input type="hidden" name="selection[all]" value=selection.all.to_string() />
                                    <input type="hidden" name="selection[search]" value=selection.search.clone() />
                                    {selection
                                        .ids
                                        .iter()
                                        .enumerate()
                                        .map(|(i, id)| view! {
                                            <input type="hidden" name=format!("selection[ids][{i}]") value=id.clone() />
                                        })
                                        .collect_view()}
                                    <div class="form-actions">
                                        <button
                                            type="submit"
                                            class=if danger { "danger" } else { "primary" }
                                        >
                                            {format!("Yes, change {}", format::count(preview.will_change))}
                                        </button>
                                        <a class="button" href=back>"Cancel"</a>
                                    </div>
                                </form>
                            </section>
                        }
                        .into_any()
                    }
                    Err(error) => view! {
                        <section class="confirm-page">
                            <h1>"Change several contacts"</h1>
                            <ErrorNotice error />
                            <p><a href=back>"Back to the results"</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}}
        </Suspense>
    }
}
