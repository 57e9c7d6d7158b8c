//! Bulk actions: one change to many contacts, in one transaction (all or nothing),
//! with an audit entry per contact.

use std::time::Duration;

use serde_json::json;
use sqlx::{PgPool, types::Json};
use uuid::Uuid;

use super::{
    db::audit::{self, Actor},
    error::Result,
    search::{SearchService, query},
};
use crate::{
    domain::{
        AuditAction, Field, FieldChange,
        bulk::{BulkAction, BulkPreview, BulkSelection},
        custom::{CustomValue, CustomValues},
        draft::MAX_TAGS,
    },
    error::AppError,
};

/// A contact as a bulk change reads it: id, tags, tier, company, custom values.
type BulkRow = (Uuid, Vec<String>, i16, Option<String>, Json<CustomValues>);

/// The most contacts one bulk action may change.
pub const MAX_BULK: usize = 1_000_000;

/// The ids a selection names: the ticked ones, or every match of the search (read from
/// this process's index).
pub async fn resolve(search: &SearchService, selection: &BulkSelection) -> Result<Vec<Uuid>> {
    if !selection.all {
        let ids: Vec<Uuid> = selection
            .ids
            .iter()
            .filter_map(|id| Uuid::try_parse(id.trim()).ok())
            .collect();
        if ids.is_empty() {
            return Err(AppError::BadRequest(
                "Select at least one contact (or all that match).".into(),
            )
            .into());
        }
        return Ok(ids);
    }
    let Some(published) = search.index.current() else {
        return Err(AppError::Unavailable.into());
    };
    let request = selection.query();
    let ids = tokio::task::spawn_blocking(move || {
        let parsed = query::parse(&request.text);
        let (searcher, addresses) = published.replica.matches(&request, &parsed)?;
        // One past the most is enough to refuse.
        let addresses = &addresses[..addresses.len().min(MAX_BULK + 1)];
        published
            .replica
            .stored_contacts(&searcher, addresses)
            .map(|contacts| contacts.into_iter().map(|c| c.id).collect::<Vec<_>>())
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    if ids.len() > MAX_BULK {
        return Err(AppError::BadRequest(format!(
            "A bulk action can change at most {MAX_BULK} contacts at once; narrow the search."
        ))
        .into());
    }
    Ok(ids)
}

/// The SQL condition under which `action` changes a contact (`$2` is its value).
fn changes_condition(action: &BulkAction) -> &'static str {
    match action {
        BulkAction::AddTag(_) => {
            "NOT EXISTS (SELECT 1 FROM unnest(tags) AS t WHERE lower(t) = lower($2))"
        }
        BulkAction::RemoveTag(_) => {
            "EXISTS (SELECT 1 FROM unnest(tags) AS t WHERE lower(t) = lower($2))"
        }
        BulkAction::SetTier(_) => "tier <> $2",
        // A company of the same name whatever its case and spacing is the same one.
        BulkAction::SetCompany(_) => {
            "company_key(coalesce(company, '')) <> company_key(coalesce($2, ''))"
        }
        // `$2` is `{"7": value}`, or the key alone when clearing.
        BulkAction::SetCustom { value: Some(_), .. } => "NOT custom @> $2::jsonb",
        BulkAction::SetCustom { value: None, .. } => "custom ? $2",
        BulkAction::Delete => "true",
    }
}

/// A custom value as `contacts.custom` holds it under its field: `{"7": {"choice": "M"}}`.
fn custom_patch(field: i32, value: &CustomValue) -> serde_json::Value {
    let mut values = CustomValues::new();
    values.insert(field, value.clone());
    serde_json::to_value(values).unwrap_or_default()
}

/// Binds the action's value as `$2`, for the actions whose SQL uses one.
fn with_value<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    action: &BulkAction,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    match action {
        BulkAction::Delete => query,
        BulkAction::SetTier(tier) => query.bind(i16::from(*tier)),
        BulkAction::AddTag(tag) | BulkAction::RemoveTag(tag) => query.bind(tag.clone()),
        BulkAction::SetCompany(company) => query.bind(company.clone()),
        BulkAction::SetCustom {
            field,
            value: Some(value),
            ..
        } => query.bind(custom_patch(*field, value).to_string()),
        BulkAction::SetCustom { field, .. } => query.bind(field.to_string()),
    }
}

/// How many of `ids` exist, and how many `action` would change.
pub async fn preview(db: &PgPool, ids: &[Uuid], action: &BulkAction) -> Result<BulkPreview> {
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE {})
           FROM contacts WHERE id = ANY($1) AND deleted_at IS NULL",
        changes_condition(action)
    );
    let (selected, will_change): (i64, i64) = with_value(sqlx::query_as(&sql).bind(ids), action)
        .fetch_one(db)
        .await?;
    let sample: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM contacts WHERE id = ANY($1) AND deleted_at IS NULL
          ORDER BY name LIMIT 5",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(BulkPreview {
        selected: selected as u64,
        will_change: will_change as u64,
        description: action.describe(will_change as u64),
        sample,
    })
}

/// Applies `action` to every contact of `ids` it changes, in one transaction. Returns
/// how many changed.
pub async fn apply(
    db: &PgPool,
    search: &SearchService,
    actor: &Actor,
    ids: &[Uuid],
    action: &BulkAction,
) -> Result<u64> {
    let mut tx = db.begin().await?;
    let sql = format!(
        "SELECT id, tags, tier, company, custom FROM contacts
          WHERE id = ANY($1) AND deleted_at IS NULL AND {}
          ORDER BY id FOR UPDATE",
        changes_condition(action)
    );
    let rows: Vec<BulkRow> = with_value(sqlx::query_as(&sql).bind(ids), action)
        .fetch_all(&mut *tx)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    if let BulkAction::AddTag(_) = action {
        let full = rows
            .iter()
            .filter(|(_, tags, ..)| tags.len() >= MAX_TAGS)
            .count();
        if full > 0 {
            return Err(AppError::BadRequest(format!(
                "{full} of these contacts already have {MAX_TAGS} tags, the most a contact can have. Nothing was changed."
            ))
            .into());
        }
    }
    let changed: Vec<Uuid> = rows.iter().map(|(id, ..)| *id).collect();
    let set = match action {
        BulkAction::AddTag(_) => "tags = array_append(tags, $2)",
        BulkAction::RemoveTag(_) => {
            "tags = ARRAY(SELECT t FROM unnest(tags) WITH ORDINALITY AS u(t, n)
                          WHERE lower(t) <> lower($2) ORDER BY n)"
        }
        BulkAction::SetTier(_) => "tier = $2",
        BulkAction::SetCompany(_) => "company = $2",
        BulkAction::SetCustom { value: Some(_), .. } => "custom = custom || $2::jsonb",
        BulkAction::SetCustom { value: None, .. } => "custom = custom - $2",
        BulkAction::Delete => "deleted_at = now()",
    };
    let sql = format!(
        "UPDATE contacts SET {set}, version = version + 1, updated_at = now()
          WHERE id = ANY($1) RETURNING id, version, change_seq"
    );
    let versions: Vec<(Uuid, i32, i64)> = with_value(sqlx::query_as(&sql).bind(&changed), action)
        .fetch_all(&mut *tx)
        .await?;
    let position = versions.iter().map(|(_, _, seq)| *seq).max().unwrap_or(0);
    let versions: std::collections::HashMap<Uuid, i32> =
        versions.into_iter().map(|(id, v, _)| (id, v)).collect();
    let details =
        json!({ "bulk": action.name(), "value": action.value(), "contacts": changed.len() });
    let entries: Vec<(Uuid, i32, Vec<FieldChange>, serde_json::Value)> = rows
        .into_iter()
        .map(|(id, tags, tier, company, custom)| {
            let joined = |tags: &[String]| (!tags.is_empty()).then(|| tags.join(", "));
            let changes = match action {
                BulkAction::AddTag(tag) => {
                    let mut after = tags.clone();
                    after.push(tag.clone());
                    vec![FieldChange {
                        field: Field::Tags,
                        custom: None,
                        old: joined(&tags),
                        new: joined(&after),
                    }]
                }
                BulkAction::RemoveTag(tag) => {
                    let after: Vec<String> = tags
                        .iter()
                        .filter(|t| t.to_lowercase() != tag.to_lowercase())
                        .cloned()
                        .collect();
                    vec![FieldChange {
                        field: Field::Tags,
                        custom: None,
                        old: joined(&tags),
                        new: joined(&after),
                    }]
                }
                BulkAction::SetTier(new) => vec![FieldChange {
                    field: Field::Tier,
                    custom: None,
                    old: Some(tier.to_string()),
                    new: Some(new.get().to_string()),
                }],
                BulkAction::SetCompany(new) => vec![FieldChange {
                    field: Field::Company,
                    custom: None,
                    old: company,
                    new: new.clone(),
                }],
                BulkAction::SetCustom { field, value, .. } => vec![FieldChange {
                    field: Field::Custom,
                    custom: Some(*field),
                    old: custom.0.get(field).map(CustomValue::to_text),
                    new: value.as_ref().map(CustomValue::to_text),
                }],
                BulkAction::Delete => Vec::new(),
            };
            let version = versions.get(&id).copied().unwrap_or_default();
            (id, version, changes, details.clone())
        })
        .collect();
    let action_kind = if matches!(action, BulkAction::Delete) {
        AuditAction::Delete
    } else {
        AuditAction::Bulk
    };
    audit::record_many(&mut tx, actor, action_kind, &entries).await?;
    tx.commit().await?;
    if search.index.current().is_some() {
        search
            .index
            .wait_for(position, Duration::from_secs(5))
            .await;
    }
    Ok(changed.len() as u64)
}
