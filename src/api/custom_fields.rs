//! Custom fields: their definitions for forms and pages, and (admins only) changing
//! them on `/admin/fields`. Each change is a plain form post that comes back to that
//! page (a refusal as the page's notice).

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::custom::{CustomField, CustomFieldInput},
    error::AppError,
};

#[cfg(feature = "ssr")]
fn parse_field(id: &str) -> Result<i32, AppError> {
    id.trim().parse().map_err(|_| AppError::NotFound)
}

/// Every custom field, live ones first in their order, then the retired ones.
#[server(prefix = "/api", endpoint = "custom-fields", input = GetUrl)]
pub async fn custom_fields() -> Result<Vec<CustomField>, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = crate::server::db::custom_fields::all(&cx.state.db).await;
    cx.finish(result)
}

/// Adds a field at the end of the list.
#[server(prefix = "/api", endpoint = "admin/add-field")]
pub async fn add_custom_field(#[server(flatten)] input: CustomFieldInput) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Admin)?;
    let result = async {
        let field = crate::server::custom_fields::add(&cx.state.db, &input).await?;
        leptos_axum::redirect(&format!("/admin/fields#field-{}", field.id));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Renames a field and sets its options (its kind never changes).
#[server(prefix = "/api", endpoint = "admin/save-field")]
pub async fn save_custom_field(
    id: String,
    #[server(flatten)] input: CustomFieldInput,
) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Admin)?;
    let result = async {
        let id = parse_field(&id)?;
        crate::server::custom_fields::save(&cx.state.db, id, &input).await?;
        leptos_axum::redirect(&format!("/admin/fields#field-{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Retires (`retired` = "true") or restores a field; its values stay either way.
#[server(prefix = "/api", endpoint = "admin/retire-field")]
pub async fn retire_custom_field(id: String, retired: String) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Admin)?;
    let result = async {
        let id = parse_field(&id)?;
        crate::server::custom_fields::set_retired(&cx.state.db, id, retired == "true").await?;
        leptos_axum::redirect(&format!("/admin/fields#field-{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Moves a live field one place `up` or `down`.
#[server(prefix = "/api", endpoint = "admin/move-field")]
pub async fn move_custom_field(id: String, direction: String) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Admin)?;
    let result = async {
        let id = parse_field(&id)?;
        crate::server::custom_fields::shift(&cx.state.db, id, direction == "up").await?;
        leptos_axum::redirect(&format!("/admin/fields#field-{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}
