//! Managing accounts and sessions (admins only).

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{domain::account::UsersPage, error::AppError};

#[cfg(feature = "ssr")]
fn parse_user(id: &str) -> Result<uuid::Uuid, AppError> {
    id.trim()
        .parse()
        .map_err(|_| AppError::BadRequest("That is not a user id.".to_owned()))
}

/// Every account (up to 500) with its open sessions.
#[server(prefix = "/api", endpoint = "admin/users", input = GetUrl)]
pub async fn list_users() -> Result<UsersPage, AppError> {
    use crate::{
        domain::Role,
        server::{RequestContext, auth::users},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let me = cx.signed_in()?.clone();
    let result = users::list(&cx.state, &me).await;
    cx.finish(result)
}

/// Gives a user another role; their sessions end (they sign in again with it).
#[server(prefix = "/api", endpoint = "admin/set-role")]
pub async fn set_user_role(user: String, role: String) -> Result<(), AppError> {
    use crate::{
        domain::Role,
        server::{RequestContext, auth::users},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let me = cx.signed_in()?.clone();
    let result = async {
        let id = parse_user(&user)?;
        let role = Role::parse(&role)
            .ok_or_else(|| AppError::BadRequest(format!("{role:?} is not a role.")))?;
        users::set_role(&cx.state, &me, id, role).await?;
        leptos_axum::redirect("/admin/users");
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Disables (`disabled` = "true", ending every session) or enables an account.
#[server(prefix = "/api", endpoint = "admin/set-disabled")]
pub async fn set_user_disabled(user: String, disabled: String) -> Result<(), AppError> {
    use crate::{
        domain::Role,
        server::{RequestContext, auth::users},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let me = cx.signed_in()?.clone();
    let result = async {
        let id = parse_user(&user)?;
        users::set_disabled(&cx.state, &me, id, disabled == "true").await?;
        leptos_axum::redirect("/admin/users");
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Ends one session of a user (by its handle), or all of them (no handle).
#[server(prefix = "/api", endpoint = "admin/revoke")]
pub async fn revoke_sessions(
    user: String,
    #[server(default)] session: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        domain::Role,
        server::{RequestContext, auth::users},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let result = async {
        let id = parse_user(&user)?;
        match session.as_deref().filter(|handle| !handle.is_empty()) {
            Some(handle) => users::revoke(&cx.state, id, handle).await?,
            None => {
                users::revoke_all(&cx.state, id).await?;
            }
        }
        leptos_axum::redirect("/admin/users");
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// The monitoring dashboard's snapshot for a period (`15m`, `1h`, `6h`, `24h`).
#[server(prefix = "/api", endpoint = "admin/dashboard", input = GetUrl)]
pub async fn dashboard(period: String) -> Result<crate::domain::dashboard::Dashboard, AppError> {
    use crate::{
        domain::{Role, dashboard::Period},
        server::{RequestContext, monitor},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let result = monitor::dashboard::build(&cx.state, Period::parse(&period)).await;
    cx.finish(result)
}

/// The dashboard's tiles and panels for a period, rendered as the page shows them:
/// what its refresh swaps in.
#[server(prefix = "/api", endpoint = "admin/dashboard-view", input = GetUrl)]
pub async fn dashboard_view(period: String) -> Result<String, AppError> {
    use crate::{
        domain::{Role, dashboard::Period},
        server::{RequestContext, monitor, rendered},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let result = monitor::dashboard::build(&cx.state, Period::parse(&period)).await;
    let dashboard = cx.finish(result)?;
    Ok(rendered::dashboard_body(dashboard))
}

/// The audit log, newest first, 50 entries a page, filtered by who, action and day.
#[server(prefix = "/api", endpoint = "admin/audit", input = GetUrl)]
pub async fn audit_log(
    who: String,
    action: String,
    date: String,
    before: String,
) -> Result<crate::domain::dashboard::AuditPage, AppError> {
    use crate::{
        domain::{Role, dashboard::AuditFilter},
        server::{RequestContext, db},
    };
    let cx = RequestContext::with_role(Role::Admin)?;
    let result = async {
        let filter =
            AuditFilter::parse(&who, &action, &date, &before).map_err(AppError::BadRequest)?;
        db::audit::browse(&cx.state.db, &filter, 50).await
    }
    .await;
    cx.finish(result)
}
