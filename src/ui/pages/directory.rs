//! `/`: the directory, newest contacts first, fifty to a page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::directory::get_directory,
    domain::PageRequest,
    ui::components::{ContactTable, ErrorNotice, Pager},
};

#[component]
pub fn DirectoryPage() -> impl IntoView {
    let query = use_query_map();
    let request =
        Memo::new(move |_| query.with(|params| PageRequest::from_query(|key| params.get(key))));
    let page = Resource::new(move || request.get(), get_directory);

    view! {
        <Title text="Directory" />
        <div class="page-head">
            <h1>"Directory"</h1>
        </div>
        // Transition keeps the current rows on screen while the next page loads.
        <Transition fallback=|| view! { <p class="loading">"Loading contacts…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! {
                        <ContactTable contacts=page.contacts />
                        <Pager previous=page.previous next=page.next />
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
