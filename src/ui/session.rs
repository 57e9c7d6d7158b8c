//! Who is signed in, as every page sees it: read from the request on the server and
//! shared by context while the page renders. (Islands that need the role take it as a
//! prop: nothing of the session is handed to the browser.)

use leptos::prelude::*;

use crate::domain::{CurrentUser, Role};

#[derive(Clone)]
pub struct Me(pub Option<CurrentUser>);

/// Reads the signed-in user once per page and provides it to every component.
pub fn provide_me() {
    provide_context(Me(signed_in_user()));
}

#[cfg(feature = "ssr")]
fn signed_in_user() -> Option<CurrentUser> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

#[cfg(not(feature = "ssr"))]
fn signed_in_user() -> Option<CurrentUser> {
    None
}

/// The signed-in user, if any.
pub fn me() -> Option<CurrentUser> {
    use_context::<Me>().and_then(|me| me.0)
}

/// Whether the signed-in user's role includes `role`.
pub fn allowed(role: Role) -> bool {
    me().is_some_and(|user| user.role.allows(role))
}

/// Whether the signed-in user may change contacts (and import and export them).
pub fn can_edit() -> bool {
    allowed(Role::Editor)
}
