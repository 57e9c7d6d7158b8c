//! Who is signed in, as every page sees it: read from the request on the server and
//! handed to the browser with the page (no extra request), then shared by context.

use leptos::prelude::*;

use crate::domain::{CurrentUser, Role};

#[derive(Clone, Copy)]
pub struct Me(pub StoredValue<Option<CurrentUser>>);

/// Reads the signed-in user once per page and provides it to every component.
pub fn provide_me() {
    let user = leptos::server::SharedValue::new(signed_in_user).into_inner();
    provide_context(Me(StoredValue::new(user)));
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
    use_context::<Me>().and_then(|me| me.0.get_value())
}

/// Whether the signed-in user's role includes `role`.
pub fn allowed(role: Role) -> bool {
    me().is_some_and(|user| user.role.allows(role))
}

/// Whether the signed-in user may change contacts (and import and export them).
pub fn can_edit() -> bool {
    allowed(Role::Editor)
}
