//! The message a plain form post left for the page it returned to (`?notice=`): why a
//! delete, restore, merge, bulk action or import step was refused, when the browser
//! had no JavaScript to show it in place.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::contacts::get_notice;

#[component]
pub fn FlashNotice() -> impl IntoView {
    let query = use_query_map();
    let key = Memo::new(move |_| query.with(|query| query.get("notice")));
    let notice = Resource::new(
        move || key.get(),
        |key| async move {
            match key {
                Some(key) => get_notice(key).await.ok().flatten(),
                None => None,
            }
        },
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
