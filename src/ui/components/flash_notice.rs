//! The message a plain form post left for the page it returned to (`?notice=`): why a
//! delete, restore, merge, bulk action or import step was refused, when the browser
//! had no JavaScript to show it in place.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::contacts::get_notice;

/// Renders nothing at all (no resource, no suspense) unless the URL names a notice.
#[component]
pub fn FlashNotice() -> impl IntoView {
    let query = use_query_map();
    let key = Memo::new(move |_| query.with(|query| query.get("notice")));
    move || key.get().map(|key| view! { <StoredNotice key /> })
}

#[component]
fn StoredNotice(key: String) -> impl IntoView {
    let notice = Resource::new(
        move || key.clone(),
        |key| async move { get_notice(key).await.ok().flatten() },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                notice.await.map(|message| view! {
                    <div class="notice notice-error" role="alert">{message}</div>
                })
            })}
        </Suspense>
    }
}
