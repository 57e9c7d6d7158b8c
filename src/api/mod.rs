//! Server functions: the typed calls the browser makes to the server, shared by both.
//!
//! Each is a thin adapter: take the request context with the caller's role checked
//! (`RequestContext::with_role`),
//! call one service in `server::`, and map its error. No SQL here; the bodies only
//! exist in the server build (the `#[server]` macro replaces them with an HTTP call in
//! the browser build).

pub mod admin;
pub mod auth;
pub mod bulk;
pub mod companies;
pub mod contacts;
pub mod custom_fields;
pub mod directory;
pub mod import;
pub mod search;
