//! Bulk actions on search results: preview (how many will change), then apply.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::bulk::{BulkPreview, BulkSelection},
    error::AppError,
};

/// What `action` with `value` would do to the selection, before anything changes.
#[server(prefix = "/api", endpoint = "bulk-preview", input = GetUrl)]
pub async fn preview_bulk(
    action: String,
    #[server(default)] value: String,
    selection: BulkSelection,
) -> Result<BulkPreview, AppError> {
    use crate::{domain::bulk::BulkAction, server::bulk};
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let fields = crate::server::db::custom_fields::live(&cx.state.db).await?;
        let action = BulkAction::parse(&action, &value, &fields).map_err(AppError::BadRequest)?;
        let ids = bulk::resolve(&cx.state.search, &selection).await?;
        bulk::preview(&cx.state.db, &ids, &action).await
    }
    .await;
    cx.finish(result)
}

/// Applies the action to the selection, all or nothing, and goes back to the search.
#[server(prefix = "/api", endpoint = "bulk-apply")]
pub async fn apply_bulk(
    action: String,
    #[server(default)] value: String,
    selection: BulkSelection,
) -> Result<u64, AppError> {
    use crate::{domain::bulk::BulkAction, server::bulk};
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let fields = crate::server::db::custom_fields::live(&cx.state.db).await?;
        let action = BulkAction::parse(&action, &value, &fields).map_err(AppError::BadRequest)?;
        let ids = bulk::resolve(&cx.state.search, &selection).await?;
        let changed =
            bulk::apply(&cx.state.db, &cx.state.search, &cx.actor(), &ids, &action).await?;
        cx.note_written().await;
        leptos_axum::redirect(&selection.query().href());
        Ok(changed)
    }
    .await;
    cx.finish_action(result).await
}
