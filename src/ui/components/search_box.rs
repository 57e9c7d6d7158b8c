//! The search box: a plain GET form (`/?q=…`) that works without JavaScript.
//!
//! Hydrated, it searches as you type: after a short pause the URL follows the text
//! (replacing the history entry, so Back leaves the search instead of undoing
//! keystrokes) and the page fetches the new results. `/` anywhere focuses it; the
//! arrow keys move through the results and Enter opens the selected one.

use std::time::Duration;

use leptos::{
    ev, html,
    prelude::*,
    wasm_bindgen::JsCast,
    web_sys::{HtmlElement, KeyboardEvent},
};
use leptos_router::{NavigateOptions, hooks::use_navigate};

use crate::domain::SearchQuery;

/// Typing pauses this long before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(150);

#[component]
pub fn SearchBox(
    /// The search the URL asks for.
    query: Memo<SearchQuery>,
    /// The result row the keyboard is on.
    selected: RwSignal<Option<usize>>,
) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    let navigate = use_navigate();
    let pending = StoredValue::new(None::<TimeoutHandle>);

    let go = {
        let navigate = navigate.clone();
        move |text: String| {
            let current = query.get_untracked();
            let next = current.with_text(&text);
            if next != current {
                navigate(
                    &next.href(),
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                );
            }
        }
    };

    let on_input = {
        let go = go.clone();
        move |_: ev::Event| {
            if let Some(handle) = pending.get_value() {
                handle.clear();
            }
            selected.set(None);
            let go = go.clone();
            let handle = set_timeout_with_handle(
                move || {
                    if let Some(element) = input.get_untracked() {
                        go(element.value());
                    }
                },
                DEBOUNCE,
            )
            .ok();
            pending.set_value(handle);
        }
    };

    let on_submit = move |event: ev::SubmitEvent| {
        // Hydrated, a submit is just "search now"; the filters are already in the URL.
        event.prevent_default();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        if let Some(element) = input.get_untracked() {
            go(element.value());
        }
    };

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

    // Keep the selected row in view.
    Effect::new(move |_| {
        if let Some(row) = selected.get().and_then(result_row) {
            row.scroll_into_view_with_bool(false);
        }
    });

    // When the URL changes from elsewhere (Back, a suggestion), show its text.
    Effect::new(move |_| {
        let text = query.with(|query| query.text.clone());
        if let Some(element) = input.get()
            && SearchQuery::default().with_text(&element.value()).text != text
        {
            element.set_value(&text);
        }
    });

    let initial = query.with_untracked(|query| query.text.clone());
    view! {
        <form id="search-form" class="search-form" role="search" method="get" action="/" on:submit=on_submit>
            <label for="q" class="visually-hidden">"Search contacts"</label>
            <input
                node_ref=input
                type="search"
                id="q"
                name="q"
                value=initial
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
    }
}

/// The result row at `at`, if the page shows one.
fn result_row(at: usize) -> Option<leptos::web_sys::Element> {
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
