//! `/`: the directory and its search.
//!
//! With no words and no filters it lists contacts newest first, fifty to a page,
//! paged by keyset from Postgres. With words or filters it shows search results from
//! the index. Either way the sidebar shows filter counts for what is shown, and
//! everything is in the URL: every view is a link that renders in full on the server.
//!
//! The search box is an island (`islands::SearchBox`). As one types it asks for the
//! parts below rendered anew (`api::directory::directory_view`, the same components
//! as here) and swaps them in: the filters (`#filters`) and the results with their
//! toolbar (`#results-region`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        directory::{get_directory, get_upcoming_birthdays},
        search::search_contacts,
    },
    domain::{
        DirectoryPage as Listing, DirectoryParts, PageRequest, SearchPage, SearchQuery,
        UpcomingBirthday, format, search::SearchHit,
    },
    error::AppError,
    ui::{
        components::{ContactTable, ErrorNotice, FilterSidebar, Pager, SearchPager, SortSelect},
        full_title,
        islands::SearchBox,
        session::can_edit,
    },
};

/// What the page shows for one address: the search (always: it counts the filters),
/// and, when browsing, the directory's page.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    query: SearchQuery,
    paging: PageRequest,
    results: Result<SearchPage, AppError>,
    listing: Option<Result<Listing, AppError>>,
    can_edit: bool,
}

impl Shown {
    /// Asks the server functions for `query` (and `paging`, when browsing); in process
    /// on the server, whether for the page or for the search box's parts.
    pub async fn load(query: SearchQuery, paging: PageRequest, can_edit: bool) -> Shown {
        let results = search_contacts(query.clone()).await;
        let listing = if query.is_browse() {
            Some(get_directory(paging).await)
        } else {
            None
        };
        Shown {
            query,
            paging,
            results,
            listing,
            can_edit,
        }
    }

    /// What the page shows for a search already answered (never a browse).
    pub fn searched(
        query: SearchQuery,
        results: Result<SearchPage, AppError>,
        can_edit: bool,
    ) -> Shown {
        Shown {
            query,
            paging: PageRequest::default(),
            results,
            listing: None,
            can_edit,
        }
    }

    fn title(&self) -> String {
        if self.query.text.is_empty() {
            "Directory".to_owned()
        } else {
            format!("“{}”", self.query.text)
        }
    }

    /// The parts that follow the search, as the search box swaps them in.
    pub fn render(self) -> DirectoryParts {
        DirectoryParts {
            title: full_title(&self.title()),
            filters_html: view! { <Filters shown=self.clone() /> }.to_html(),
            results_html: view! { <Results shown=self /> }.to_html(),
        }
    }
}

#[component]
pub fn DirectoryPage() -> impl IntoView {
    let params = use_query_map();
    let (query, paging) = params.with_untracked(|params| {
        (
            SearchQuery::from_params(|name| params.get_all(name).unwrap_or_default()),
            PageRequest::from_query(|name| params.get(name)),
        )
    });
    let editor = can_edit();
    let browsing = query.is_browse();
    let shown = Resource::new(
        move || (query.clone(), paging),
        move |(query, paging)| Shown::load(query, paging, editor),
    );
    // Beside the directory itself (not a search), the birthdays ahead.
    let birthdays = Resource::new(
        move || browsing,
        |browsing| async move {
            if browsing {
                get_upcoming_birthdays().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );

    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let shown = shown.await;
                let birthdays = birthdays.await;
                view! {
                    <Title text=shown.title() />
                    <div class="directory-layout">
                        <div class="sidebar-column">
                            <aside class="sidebar" aria-label="Filters" id="filters">
                                <Filters shown=shown.clone() />
                            </aside>
                            <UpcomingBirthdays birthdays />
                        </div>
                        <section class="main-column">
                            <div class="page-head">
                                <h1>"Directory"</h1>
                                {editor.then(|| view! {
                                    <div class="page-actions">
                                        <a class="button" href="/import">"Import"</a>
                                        <a class="button primary" href="/contacts/new">"New contact"</a>
                                    </div>
                                })}
                            </div>
                            <SearchBox query=shown.query.clone() paging=shown.paging />
                            <div id="results-region">
                                <Results shown />
                            </div>
                        </section>
                    </div>
                }
            })}
        </Suspense>
    }
}

/// "Upcoming birthdays": who has one in the next 30 days, soonest first.
#[component]
fn UpcomingBirthdays(birthdays: Vec<UpcomingBirthday>) -> impl IntoView {
    (!birthdays.is_empty()).then(|| {
        view! {
            <section class="birthdays" aria-labelledby="birthdays-heading">
                <h2 id="birthdays-heading">"Upcoming birthdays"</h2>
                <ul>
                    {birthdays
                        .into_iter()
                        .map(|upcoming| {
                            let when = upcoming.when();
                            let turns = upcoming.turns.map(|age| format!(" · turns {age}"));
                            view! {
                                <li>
                                    <a href=format!("/contacts/{}", upcoming.id)>{upcoming.name}</a>
                                    <span class="muted">
                                        {format!(" {} · {when}", upcoming.birthday.display_short())}
                                        {turns}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

/// The filter sidebar for what the search counted.
#[component]
fn Filters(shown: Shown) -> impl IntoView {
    shown
        .results
        .ok()
        .map(|page| view! { <FilterSidebar query=shown.query facets=page.facets /> })
}

/// The toolbar (how many match, the sort, the exports) and the rows with their pager.
#[component]
fn Results(shown: Shown) -> impl IntoView {
    let Shown {
        query,
        results,
        listing,
        can_edit,
        ..
    } = shown;
    let browsing = listing.is_some();
    let rows = match (listing, results.clone()) {
        (Some(Ok(page)), _) => {
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
                <ContactTable rows />
                <Pager previous=page.previous next=page.next />
            }
            .into_any()
        }
        (Some(Err(error)), _) | (None, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
        (None, Ok(page)) => view! { <SearchResults page can_edit /> }.into_any(),
    };
    view! {
        <div class="toolbar">
            <Summary results browsing />
            <SortSelect query=query.clone() />
            {can_edit.then(|| view! { <ExportLinks query /> })}
        </div>
        {rows}
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
                {time_text(page.took_micros, page.cached)}
            </span>
        </p>
    }
    .into_any()
}

/// The time a search took as the summary shows it: " · 2.1 ms", " · 0.1 ms (cached)".
pub fn time_text(took_micros: u64, cached: bool) -> String {
    let cached = if cached { " (cached)" } else { "" };
    format!(" · {}{cached}", format::duration_micros(took_micros))
}

#[component]
fn SearchResults(page: SearchPage, can_edit: bool) -> impl IntoView {
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
        {if can_edit {
            // A plain GET form: ticking rows and choosing an action leads to a confirmation.
            view! {
                <form class="bulk-form" method="get" action="/bulk">
                    <BulkBar total search />
                    <ContactTable rows=page.hits selectable=true />
                </form>
            }
            .into_any()
        } else {
            view! { <ContactTable rows=page.hits /> }.into_any()
        }}
        <SearchPager query pages />
    }
    .into_any()
}

/// Nothing matched: offer a respelling and a way out of the filters.
#[component]
fn NoResults(page: SearchPage) -> impl IntoView {
    let query = page.query;
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
fn ExportLinks(query: SearchQuery) -> impl IntoView {
    let search = query.with_page(1).to_query_string();
    let href = |path: &str| {
        if search.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{search}")
        }
    };
    view! {
        <div class="export-links">
            <a class="button" href=href("/export.csv") download rel="external">"Export CSV"</a>
            <a class="button" href=href("/export.vcf") download rel="external">"vCard"</a>
            <a class="button" href=href("/export-3.0.vcf") download rel="external" title="vCard 3.0, for older programs">"vCard 3.0"</a>
            <a class="button" href=href("/export-google.csv") download rel="external" title="CSV as Google Contacts writes and reads it">"Google CSV"</a>
            <a class="button" href=href("/export-outlook.csv") download rel="external" title="CSV as Outlook writes and reads it">"Outlook CSV"</a>
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
                <option value="set-company">"Set company"</option>
                <option value="set-field">"Set custom field"</option>
                <option value="delete">"Delete"</option>
            </select>
            <label for="bulk-value" class="visually-hidden">"Tag, tier, company, or field and value"</label>
            <input id="bulk-value" name="value" placeholder="Tag, tier 1–4, company, or Field: value" />
            <input type="hidden" name="search" value=search />
            <button type="submit" class="secondary">"Review…"</button>
            // The same selection, downloaded instead (`formaction`: no script needed).
            <button type="submit" class="secondary" formaction="/export.vcf">"Download vCards"</button>
        </div>
    }
}
