//! The parts of pages that hydrate (`#[island]`): each is rendered on the server with
//! the page, its props serialized beside it, and made interactive in the browser on
//! its own. Everything else on a page is plain HTML.
//!
//! The search box is in the first wasm bundle (nearly every visit starts at the
//! directory); the others are lazy (`#[island(lazy)]`: wasm chunks of their own,
//! fetched by the pages that have them).

mod contact_form;
mod dashboard_refresh;
pub mod import_progress;
mod search_box;

pub use contact_form::ContactFormView;
pub use dashboard_refresh::DashboardRefresh;
pub use import_progress::ImportProgress;
pub use search_box::SearchBox;

use leptos::{html::ElementType, prelude::*, wasm_bindgen::JsCast};

/// Marks the island around `root` (its `<leptos-island>` element) with
/// `data-hydrated` once it is live: the browser tests wait for it before they act.
pub(crate) fn mark_hydrated<E>(root: NodeRef<E>)
where
    E: ElementType,
    E::Output: JsCast + Clone + 'static,
{
    Effect::new(move |_| {
        let island = root.get().and_then(|element| {
            element
                .unchecked_ref::<leptos::web_sys::Element>()
                .closest("leptos-island")
                .ok()
                .flatten()
        });
        if let Some(island) = island {
            let _ = island.set_attribute("data-hydrated", "");
        }
    });
}
