//! The search box: a plain GET form (`/?q=…`) that works without JavaScript.
//!
//! Hydrated, it searches as you type: after a short pause it asks the server for the
//! directory's filters and results rendered for the new search
//! (`api::directory::directory_view`) and swaps them in, then puts the search in the
//! address bar (replacing the history entry, so Back leaves the search instead of
//! undoing keystrokes). Ticking a filter or choosing a sort (fields of this form,
//! wherever they sit on the page) searches at once. The links within the filters and
//! results that lead to another view of the directory (pages, a respelling, without
//! filters) are followed the same way, each a history entry of its own, and Back and
//! Forward show theirs. `/` anywhere focuses the box; the arrow keys move through the
//! results and Enter opens the selected one. A search refused for going too fast says
//! so and is tried again when the server allows.

use std::time::Duration;

use leptos::{
    ev, html,
    prelude::*,
    wasm_bindgen::{JsCast, JsValue},
    web_sys::{Element, HtmlAnchorElement, HtmlElement, KeyboardEvent, MouseEvent},
};

use super::mark_hydrated;
use crate::{
    api::directory::directory_view,
    domain::{
        DirectoryParts, PageRequest, SearchQuery,
        search::{directory_address, directory_href},
    },
    error::AppError,
    ui::components::ErrorNotice,
};

/// Typing pauses this long before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// A view of the directory: a search and, when browsing, its page.
type View = (SearchQuery, PageRequest);

/// How a view shown reaches the browser's history.
#[derive(Clone, Copy, PartialEq, Eq)]
enum History {
    /// In place of the current entry (typing, filters, the sort).
    Replace,
    /// As a new entry (a link followed).
    Push,
    /// Not at all: the entry is already there (Back or Forward).
    Keep,
}

/// The search's state in the browser. At most one request is in flight: what is
/// asked for meanwhile collapses into the next one, and no late answer can overwrite
/// a newer one.
#[derive(Clone, Copy)]
struct Search {
    form: NodeRef<html::Form>,
    input: NodeRef<html::Input>,
    /// The view the page shows.
    shown: StoredValue<View>,
    /// The view asked for last, and how it goes into the history.
    wanted: StoredValue<(View, History)>,
    in_flight: RwSignal<bool>,
    /// Why the last view asked for could not be shown.
    failure: RwSignal<Option<AppError>>,
    /// The result row the keyboard is on.
    selected: RwSignal<Option<usize>>,
}

impl Search {
    /// Asks for the search the form holds now: its text, the ticked filters, the sort.
    fn follow_form(self) {
        let Some(form) = self.form.get_untracked() else {
            return;
        };
        let Ok(data) = leptos::web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let query = SearchQuery::from_params(|name| {
            data.get_all(name)
                .iter()
                .filter_map(|value| value.as_string())
                .collect()
        });
        self.want((query, PageRequest::First), History::Replace);
    }

    fn want(self, view: View, history: History) {
        // A new entry stays one when typing follows before it is shown.
        let pushed = self
            .wanted
            .with_value(|(_, earlier)| *earlier == History::Push && !self.is_shown_wanted());
        let history = if pushed && history == History::Replace {
            History::Push
        } else {
            history
        };
        self.wanted.set_value((view, history));
        self.run();
    }

    fn is_shown_wanted(self) -> bool {
        self.wanted
            .with_value(|(wanted, _)| self.shown.with_value(|shown| shown == wanted))
    }

    /// Shows the view asked for, unless it is shown already or a request is on its way
    /// (whose answer runs this again).
    fn run(self) {
        if self.in_flight.get_untracked() {
            return;
        }
        if self.is_shown_wanted() && self.failure.with_untracked(Option::is_none) {
            return;
        }
        let ((query, paging), history) = self.wanted.get_value();
        self.in_flight.set(true);
        leptos::task::spawn_local(async move {
            let answer = directory_view(query.clone(), paging).await;
            self.in_flight.set(false);
            match answer {
                Ok(parts) => {
                    swap_in(&parts);
                    let href = directory_href(&query, paging);
                    if let Ok(browser) = window().history() {
                        let _ = match history {
                            History::Replace => {
                                browser.replace_state_with_url(&JsValue::NULL, "", Some(&href))
                            }
                            History::Push => {
                                browser.push_state_with_url(&JsValue::NULL, "", Some(&href))
                            }
                            History::Keep => Ok(()),
                        };
                    }
                    // A link, Back or Forward may show other words than those typed.
                    if history != History::Replace
                        && let Some(input) = self.input.get_untracked()
                        && SearchQuery::default().with_text(&input.value()).text != query.text
                    {
                        input.set_value(&query.text);
                    }
                    self.shown.set_value((query, paging));
                    self.failure.set(None);
                    self.selected.set(None);
                    self.run();
                }
                Err(AppError::TooManyRequests { retry_after_secs }) => {
                    self.failure
                        .set(Some(AppError::TooManyRequests { retry_after_secs }));
                    set_timeout(move || self.run(), Duration::from_secs(retry_after_secs));
                }
                Err(error) => self.failure.set(Some(error)),
            }
        });
    }
}

#[island]
pub fn SearchBox(
    /// The search the page shows.
    query: SearchQuery,
    /// The directory's page it shows, when browsing.
    paging: PageRequest,
) -> impl IntoView {
    let root = NodeRef::<html::Div>::new();
    mark_hydrated(root);
    let input = NodeRef::<html::Input>::new();
    let shown = (query.clone(), paging);
    let search = Search {
        form: NodeRef::new(),
        input,
        shown: StoredValue::new(shown.clone()),
        wanted: StoredValue::new((shown, History::Keep)),
        in_flight: RwSignal::new(false),
        failure: RwSignal::new(None),
        selected: RwSignal::new(None),
    };
    let selected = search.selected;
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let cancel_pending = move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
    };

    let on_input = move |_: ev::Event| {
        cancel_pending();
        selected.set(None);
        pending.set_value(set_timeout_with_handle(move || search.follow_form(), DEBOUNCE).ok());
    };

    let on_submit = move |event: ev::SubmitEvent| {
        // Hydrated, a submit is just "search now".
        event.prevent_default();
        cancel_pending();
        search.follow_form();
    };

    // A filter ticked or a sort chosen: the fields of this form outside it.
    let changes = window_event_listener(ev::change, move |event| {
        let of_this_form = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .is_some_and(|field| field.get_attribute("form").as_deref() == Some("search-form"));
        if of_this_form {
            search.follow_form();
        }
    });
    on_cleanup(move || changes.remove());

    // A link to another view of the directory, within the parts a search swaps in.
    let clicks = window_event_listener(ev::click, move |event: MouseEvent| {
        if let Some(view) = directory_link(&event) {
            event.prevent_default();
            cancel_pending();
            search.want(view, History::Push);
        }
    });
    on_cleanup(move || clicks.remove());

    // Back or Forward to another view of the directory.
    let moves = window_event_listener(ev::popstate, move |_| {
        if let Ok(address) = window().location().search() {
            search.want(directory_address(&address), History::Keep);
        }
    });
    on_cleanup(move || moves.remove());

    let on_keydown = move |event: KeyboardEvent| match event.key().as_str() {
        "ArrowDown" => {
            event.prevent_default();
            let next = selected.get_untracked().map_or(0, |at| at + 1);
            if result_row(next).is_some() {
                selected.set(Some(next));
            }
        }
        "ArrowUp" => {
            event.prevent_default();
            selected.update(|at| *at = at.and_then(|i| i.checked_sub(1)));
        }
        "Enter" => {
            if let Some(at) = selected.get_untracked() {
                event.prevent_default();
                open_row(at);
            }
        }
        "Escape" => selected.set(None),
        _ => {}
    };

    // `/` anywhere but in a text field focuses the box.
    let focus_shortcut = window_event_listener(ev::keydown, move |event: KeyboardEvent| {
        if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        if is_text_field(event.target()) {
            return;
        }
        if let Some(element) = input.get_untracked() {
            event.prevent_default();
            let _ = element.focus();
            element.select();
        }
    });
    on_cleanup(move || focus_shortcut.remove());

    // The selected row is marked, and kept in view.
    let marked = StoredValue::new(None::<usize>);
    Effect::new(move |_| {
        let now = selected.get();
        if let Some(row) = marked.get_value().and_then(result_row) {
            let _ = row.class_list().remove_1("selected");
            let _ = row.remove_attribute("aria-selected");
        }
        if let Some(row) = now.and_then(result_row) {
            let _ = row.class_list().add_1("selected");
            let _ = row.set_attribute("aria-selected", "true");
            row.scroll_into_view_with_bool(false);
        }
        marked.set_value(now);
    });

    // The results are busy while a search is on its way.
    Effect::new(move |_| {
        let busy = search.in_flight.get();
        if let Ok(Some(column)) = document().query_selector(".main-column") {
            let _ = if busy {
                column.set_attribute("aria-busy", "true")
            } else {
                column.remove_attribute("aria-busy")
            };
        }
    });

    view! {
        <div class="search-box" node_ref=root>
            <form node_ref=search.form id="search-form" class="search-form" role="search" method="get" action="/" on:submit=on_submit>
                <label for="q" class="visually-hidden">"Search contacts"</label>
                <input
                    node_ref=input
                    type="search"
                    id="q"
                    name="q"
                    value=query.text
                    placeholder="Search by name, company, location, tag, email or phone…"
                    autocomplete="off"
                    spellcheck="false"
                    aria-controls="results"
                    aria-activedescendant=move || selected.get().map(|at| format!("result-{at}"))
                    aria-keyshortcuts="/"
                    on:input=on_input
                    on:keydown=on_keydown
                />
                <button type="submit">"Search"</button>
            </form>
            {move || search.failure.get().map(|error| view! { <ErrorNotice error /> })}
        </div>
    }
}

/// The view of the directory that a plain click on a link within the filters or the
/// results leads to, if it leads to one (not a contact, not a download).
fn directory_link(event: &MouseEvent) -> Option<View> {
    if event.default_prevented()
        || event.button() != 0
        || event.ctrl_key()
        || event.meta_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let link = event
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest("#filters a[href], #results-region a[href]")
        .ok()??
        .dyn_into::<HtmlAnchorElement>()
        .ok()?;
    let same_page = link.origin() == window().location().origin().ok()? && link.pathname() == "/";
    (same_page && !link.has_attribute("download")).then(|| directory_address(&link.search()))
}

/// Puts a search's filters and results where the page shows them.
fn swap_in(view: &DirectoryParts) {
    let document = document();
    for (id, html) in [
        ("filters", &view.filters_html),
        ("results-region", &view.results_html),
    ] {
        if let Some(part) = document.get_element_by_id(id) {
            part.set_inner_html(html);
        }
    }
    document.set_title(&view.title);
}

/// The result row at `at`, if the page shows one.
fn result_row(at: usize) -> Option<Element> {
    document().get_element_by_id(&format!("result-{at}"))
}

/// Follows the link of the result row at `at`, as a click would.
fn open_row(at: usize) {
    let link = result_row(at)
        .and_then(|row| row.query_selector("a.contact-link").ok().flatten())
        .and_then(|link| link.dyn_into::<HtmlElement>().ok());
    if let Some(link) = link {
        link.click();
    }
}

fn is_text_field(target: Option<leptos::web_sys::EventTarget>) -> bool {
    let Some(element) = target.and_then(|target| target.dyn_into::<HtmlElement>().ok()) else {
        return false;
    };
    matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        || element.is_content_editable()
}
