//! Roster: a self-hosted contact directory.
//!
//! One crate, two builds. The server binary (feature `ssr`) renders pages and runs the
//! server functions; the browser bundle (feature `hydrate`) hydrates those pages and
//! calls the same server functions over HTTP. See the README's code tour.

pub mod api;
pub mod domain;
pub mod error;
pub mod ui;

/// Server-only code: the one place the `ssr` feature gates a module.
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point, called by the script that cargo-leptos generates.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Waits for the code of a lazily loaded page (see `ui`) before hydrating it.
    leptos::mount::hydrate_lazy(ui::App);
}
