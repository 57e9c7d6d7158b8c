//! `/`: the directory and its search.
//!
//! With no words and no filters it lists contacts newest first, fifty to a page,
//! paged by keyset from Postgres. With words or filters it shows search results from
//! the index. Either way the sidebar shows filter counts for what is shown, and
//! everything is in the URL: every view is a link that renders in full on the server.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{directory::get_directory, search::search_contacts},
    domain::{
        PageRequest, SearchPage, SearchQuery, format,
        search::{SearchHit, SearchQuery as Query},
    },
    error::AppError,
    ui::components::{
        ContactTable, ErrorNotice, FilterSidebar, Pager, SearchBox, SearchPager, SortSelect,
        retry_tick,
    },
    ui::session::can_edit,
};

fn page_title(query: &SearchQuery) -> String {
    if query.text.is_empty() {
        "Directory".to_owned()
    } else {
        format!("“{}”", query.text)
    }
}

#[component]
pub fn DirectoryPage() -> impl IntoView {
    let params = use_query_map();
    let requested = Memo::new(move |_| {
        params.with(|params| {
            SearchQuery::from_params(|name| params.get_all(name).unwrap_or_default())
        })
    });
    let paging =
        Memo::new(move |_| params.with(|params| PageRequest::from_query(|name| params.get(name))));
    let browsing = Memo::new(move |_| requested.with(SearchQuery::is_browse));

    // At most one search request in flight: the resource follows `committed`, which
    // catches up with the URL only once the previous request has answered. Keystrokes
    // made meanwhile collapse into the next request, and no late answer can overwrite
    // a newer one.
    let committed = RwSignal::new(requested.get_untracked());
    let in_flight = RwSignal::new(false);
    Effect::new(move |_| {
        let wanted = requested.get();
        if !in_flight.get() && committed.with_untracked(|current| *current != wanted) {
            in_flight.set(true);
            committed.set(wanted);
        }
    });
    let results = Resource::new(
        move || (committed.get(), retry_tick()),
        move |(query, _)| async move {
            let page = search_contacts(query).await;
            in_flight.set(false);
            page
        },
    );
    let listing = Resource::new(
        move || (browsing.get(), paging.get(), retry_tick()),
        |(browsing, page, _)| async move {
            if browsing {
                Some(get_directory(page).await)
            } else {
                None
            }
        },
    );

    let selected = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        committed.track();
        paging.track();
        selected.set(None);
    });
    // On the server the title is a plain string. leptos_meta reads a reactive title
    // when it injects the head, outside the request's sandboxed reactive arena: under
    // load, on another worker thread, that read found the memo "disposed" and
    // panicked. The query cannot change during a server render anyway.
    #[cfg(feature = "ssr")]
    let title = requested.with_untracked(page_title);
    #[cfg(not(feature = "ssr"))]
    let title = move || requested.with(page_title);

    view! {
        <Title text=title />
        <div class="directory-layout">
            <aside class="sidebar" aria-label="Filters">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        results.await.ok().map(|page| view! { <FilterSidebar query=requested facets=page.facets /> })
                    })}
                </Transition>
            </aside>
            <section class="main-column" aria-busy=move || in_flight.get().then_some("true")>
                <div class="page-head">
                    <h1>"Directory"</h1>
                    {can_edit().then(|| view! {
                        <div class="page-actions">
                            <a class="button" href="/import">"Import"</a>
                            <a class="button primary" href="/contacts/new">"New contact"</a>
                        </div>
                    })}
                </div>
                <SearchBox query=requested selected />
                <div class="toolbar">
                    <Transition fallback=|| view! { <p class="summary">"Searching…"</p> }>
                        {move || Suspend::new(async move {
                            let results = results.await;
                            view! { <Summary results browsing=browsing.get_untracked() /> }
                        })}
                    </Transition>
                    <SortSelect query=requested />
                    {can_edit().then(|| view! { <ExportLinks query=requested /> })}
                </div>
                <Transition fallback=|| view! { <p class="loading">"Loading contacts…"</p> }>
                    {move || Suspend::new(async move {
                        let listing = listing.await;
                        let results = results.await;
                        match listing {
                            Some(Ok(page)) => {
                                let rows: Vec<SearchHit> = page
                                    .contacts
                                    .into_iter()
                                    .map(|contact| SearchHit {
                                        contact,
                                        name_highlights: Vec::new(),
                                        notes_snippet: None,
                                    })
                                    .collect();
                                view! {
                                    <ContactTable rows selected=selected />
                                    <Pager previous=page.previous next=page.next />
                                }
                                .into_any()
                            }
                            Some(Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                            None => match results {
                                Ok(page) => view! { <SearchResults page selected /> }.into_any(),
                                Err(error) => view! { <ErrorNotice error /> }.into_any(),
                            },
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

/// "12,345 contacts match · 2.1 ms", or the directory's size when browsing.
#[component]
fn Summary(results: Result<SearchPage, AppError>, browsing: bool) -> impl IntoView {
    let Ok(page) = results else {
        return ().into_any();
    };
    let contacts = if page.total == 1 {
        "contact"
    } else {
        "contacts"
    };
    let text = if browsing {
        format!("{} {contacts}", format::count(page.total))
    } else {
        let verb = if page.total == 1 { "matches" } else { "match" };
        format!("{} {contacts} {verb}", format::count(page.total))
    };
    view! {
        <p class="summary" role="status">
            <span class="summary-count">{text}</span>
            <span class="summary-time" title="Time the server took">
                {format!(" · {}", format::duration_micros(page.took_micros))}
                {page.cached.then_some(" (cached)")}
            </span>
        </p>
    }
    .into_any()
}

#[component]
fn SearchResults(page: SearchPage, selected: RwSignal<Option<usize>>) -> impl IntoView {
    let degraded = page.degraded.then(|| {
        view! {
            <p class="notice notice-info" role="status">
                "The search index is being built. Until it is ready, results are limited: no typo tolerance and no filter counts."
            </p>
        }
    });
    if page.hits.is_empty() {
        return view! { {degraded} <NoResults page /> }.into_any();
    }
    let pages = page.page_count();
    let query = page.query.clone();
    let search = query.to_query_string();
    let total = page.total;
    view! {
        {degraded}
        {if can_edit() {
            // A plain GET form: ticking rows and choosing an action leads to a confirmation.
            view! {
                <form class="bulk-form" method="get" action="/bulk">
                    <BulkBar total search />
                    <ContactTable rows=page.hits selected=selected selectable=true />
                </form>
            }
            .into_any()
        } else {
            view! { <ContactTable rows=page.hits selected=selected selectable=false /> }.into_any()
        }}
        <SearchPager query pages />
    }
    .into_any()
}

/// Nothing matched: offer a respelling and a way out of the filters.
#[component]
fn NoResults(page: SearchPage) -> impl IntoView {
    let query: Query = page.query;
    let has_filters = !query.filters.is_empty();
    let what = if query.text.is_empty() {
        "No contacts match these filters.".to_owned()
    } else if has_filters {
        format!("No contacts match “{}” with these filters.", query.text)
    } else {
        format!("No contacts match “{}”.", query.text)
    };
    let suggestion = page.suggestion.map(|words| {
        let href = query.with_text(&words).href();
        view! {
            <p>
                "Did you mean " <a href=href class="suggestion">{words}</a> "?"
            </p>
        }
    });
    let widen = has_filters.then(|| {
        view! {
            <p>
                <a href=query.without_filters().href() class="drop-filters">"Search without filters"</a>
            </p>
        }
    });
    view! {
        <div class="no-results" role="status">
            <p class="no-results-title">{what}</p>
            {suggestion}
            {widen}
        </div>
    }
}

/// Downloads of every contact the current search matches (not just this page).
#[component]
fn ExportLinks(query: Memo<SearchQuery>) -> impl IntoView {
    let href = move |path: &str| {
        let query = query.with(|query| query.with_page(1).to_query_string());
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    };
    view! {
        <div class="export-links">
            <a class="button" href=move || href("/export.csv") download rel="external">"Export CSV"</a>
            <a class="button" href=move || href("/export.vcf") download rel="external">"vCard"</a>
        </div>
    }
}

/// The bulk actions above the results: the selection (ticked rows, or every match) and
/// what to do with it.
#[component]
fn BulkBar(total: u64, search: String) -> impl IntoView {
    view! {
        <div class="bulk-bar">
            <label class="bulk-all">
                <input type="checkbox" name="all" value="1" />
                {format!(" All {} matching", format::count(total))}
            </label>
            <label for="bulk-action" class="visually-hidden">"Bulk action"</label>
            <select id="bulk-action" name="action">
                <option value="add-tag">"Add tag"</option>
                <option value="remove-tag">"Remove tag"</option>
                <option value="set-tier">"Set tier"</option>
                <option value="delete">"Delete"</option>
            </select>
            <label for="bulk-value" class="visually-hidden">"Tag or tier"</label>
            <input id="bulk-value" name="value" placeholder="Tag, or tier 1–4" />
            <input type="hidden" name="search" value=search />
            <button type="submit" class="secondary">"Review…"</button>
            // The same selection, downloaded instead (`formaction`: no script needed).
            <button type="submit" class="secondary" formaction="/export.vcf">"Download vCards"</button>
        </div>
    }
}
