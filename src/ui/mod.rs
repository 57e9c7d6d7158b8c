//! The user interface: the HTML shell, the app with its router, pages and components.
//!
//! Islands: the server renders every page whole, and the browser hydrates only the
//! parts marked `#[island]` (`islands/`: the search box, the contact form, the
//! dashboard's refresh, an import's progress), each from props serialized into the page.
//! Links and plain forms do the rest, so a page works the same before its wasm arrives
//! and without JavaScript. The islands but the search box are lazy: their code is in
//! wasm chunks of their own (`cargo leptos build --split`), fetched by the pages that
//! have them.

pub mod components;
pub mod islands;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use components::FlashNotice;
use pages::{
    AdminDashboardPage, AdminFieldsPage, AdminUsersPage, BulkPage, CompanyPage, ContactFormPage,
    ContactPage, DeleteContactPage, DirectoryPage, ImportJobPage, ImportPage, LoginPage, MergePage,
    NotFound,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's scripts (the hydration loader, the data handed to the browser) carry
    // this response's nonce; the policy allows those and nothing else inline. (The
    // security headers also name it, for a page whose options lost this header.)
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(policy) = axum::http::HeaderValue::from_str(
        &crate::server::http::security::page_csp(&nonce.to_string()),
    ) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <leptos_meta::HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options islands=true />
                // Web vitals for the dashboard (a same-origin script; the nonce only
                // keeps every script tag alike).
                <script src="/vitals.js" defer nonce=leptos::nonce::use_nonce().map(|nonce| nonce.to_string())></script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Page titles hold user input (a search, a contact's name), and leptos_meta 0.8 writes
/// the server-rendered `<title>` without escaping it: `</title><script>` would break
/// out. Escaping is no answer (the browser sets `document.title` as plain text once
/// hydrated, so `&lt;` would show), so the three characters that matter become
/// look-alikes, identically on server and browser.
pub fn title_text(text: &str) -> String {
    text.chars()
        .map(|ch| match ch {
            '<' => '‹',
            '>' => '›',
            '&' => '＆',
            ch => ch,
        })
        .collect()
}

/// Where a plain form posts to: the server function's address. (The server functions
/// answer a plain post with a redirect, see `server::RequestContext::finish_action`.)
pub fn action_url<F: leptos::server_fn::ServerFn>() -> &'static str {
    F::url()
}

/// A page's whole title: its own, then the product's.
pub fn full_title(text: &str) -> String {
    if text.is_empty() {
        "Roster".to_owned()
    } else {
        format!("{} · Roster", title_text(text))
    }
}

/// The text inside a `<textarea>`. tachys 0.2 writes a textarea's children into the
/// server's HTML unescaped (it treats the element like `<script>`), so
/// `</textarea><script>` in a contact's notes would break out of it. On the server the
/// text is escaped here; in the browser it is set as a text node, which needs no
/// escaping (and would show the entities if it had them).
pub fn textarea_text(text: &str) -> String {
    if !cfg!(feature = "ssr") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            ch => out.push(ch),
        }
    }
    out
}

/// The app, rendered on the server only: the router picks the page, and the page
/// renders whole (its data awaited first), islands included.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_me();

    view! {
        <Title formatter=|text: String| full_title(&text) />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"R"</span>
                    "Roster"
                </a>
                <UserMenu />
            </header>
            <main id="main">
                <FlashNotice />
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=DirectoryPage ssr=SsrMode::Async />
                    <Route path=path!("/bulk") view=BulkPage ssr=SsrMode::Async />
                    <Route path=path!("/import") view=ImportPage ssr=SsrMode::Async />
                    <Route path=path!("/import/:id") view=ImportJobPage ssr=SsrMode::Async />
                    <Route path=path!("/companies/:id") view=CompanyPage ssr=SsrMode::Async />
                    <Route path=path!("/contacts/new") view=ContactFormPage ssr=SsrMode::Async />
                    <Route path=path!("/contacts/:id") view=ContactPage ssr=SsrMode::Async />
                    <Route path=path!("/contacts/:id/edit") view=ContactFormPage ssr=SsrMode::Async />
                    <Route path=path!("/contacts/:id/delete") view=DeleteContactPage ssr=SsrMode::Async />
                    <Route path=path!("/contacts/:id/merge") view=MergePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminDashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/fields") view=AdminFieldsPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// The signed-in user's name and role, the admin pages for admins, and signing out
/// (a plain form post: it works the same with or without JavaScript).
#[component]
fn UserMenu() -> impl IntoView {
    session::me().map(|user| {
        view! {
            <nav class="user-menu" aria-label="Account">
                {user.role.is_admin().then(|| view! {
                    <a href="/admin">"Dashboard"</a>
                    <a href="/admin/users">"Users"</a>
                    <a href="/admin/fields">"Fields"</a>
                })}
                <span class="user-name">{user.email.clone()}</span>
                <span class="role-badge">{user.role.label()}</span>
                <form method="post" action="/api/sign-out" class="inline-form">
                    <button type="submit">"Sign out"</button>
                </form>
            </nav>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::title_text;

    #[cfg(feature = "ssr")]
    #[test]
    fn textarea_text_cannot_close_the_textarea() {
        assert_eq!(
            super::textarea_text("a </textarea><script>x</script> & b"),
            "a &lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt; &amp; b"
        );
    }

    #[test]
    fn titles_cannot_close_the_title_element() {
        let title = title_text("</title><script>alert(1)</script> Willow & Finch");
        assert!(!title.contains('<') && !title.contains('>') && !title.contains('&'));
        assert_eq!(title, "‹/title›‹script›alert(1)‹/script› Willow ＆ Finch");
    }
}
