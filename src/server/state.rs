//! What every request handler and server function can reach: the application's
//! shared state. A low module of its own, so that handlers depend on it and not on
//! the file that builds the application (`startup`).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use super::{
    auth::Sessions, config::Config, http, limits::Limiter, monitor::Monitor, redis::Redis,
    rendered::RenderedParts, search::SearchService,
};

/// What every request handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// The primary: every write, and reads that must be current.
    pub db: PgPool,
    /// Reads that tolerate a little lag: the replica's when it is in step, else the
    /// primary's (`db::replica`).
    pub reads: Arc<super::db::replica::Reads>,
    pub redis: Option<Redis>,
    pub search: Arc<SearchService>,
    pub config: Arc<Config>,
    pub health: Arc<http::health::HealthCache>,
    /// Where sessions live (Redis, or this process without it), with each user's index.
    pub sessions: Sessions,
    pub limiter: Arc<Limiter>,
    /// This instance's rollups, and the fleet's through Redis.
    pub monitor: Arc<Monitor>,
    /// Rendered search pages, kept for everyone of the same role.
    pub pages: Arc<http::page_cache::PageCache>,
    /// The search box's rendered parts, kept per answer and role.
    pub rendered: Arc<RenderedParts>,
    /// Exports being downloaded, per user.
    pub exports: Arc<http::export::ExportSlots>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
