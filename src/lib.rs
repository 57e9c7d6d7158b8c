//! Roster: a self-hosted contact directory.
//!
//! One crate, two builds. The server binary (feature `ssr`) renders pages and runs the
//! server functions; the browser bundle (feature `hydrate`) hydrates the islands of
//! those pages (`ui::islands`) and calls the same server functions over HTTP. See the
//! README's code tour.

// A page's view is one nested type; islands (an island's view inside the page's) make
// some deeper than the compiler's default query depth in builds that do not erase
// view types (debug builds outside cargo-leptos: the tests).
#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod error;
pub mod ui;

/// Server-only code: the one place the `ssr` feature gates a module.
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point, called by the islands script (see `ui::shell`) before it
/// hydrates each island on the page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // A server function that redirects (a save, say) sends the browser to the new page:
    // there is no client-side router, every page is the server's.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|path| {
        let _ = leptos::prelude::window().location().set_href(path);
    });
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
