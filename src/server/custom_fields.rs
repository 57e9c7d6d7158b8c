//! Defining custom fields (`/admin/fields`): add, rename, change options, reorder,
//! retire and restore. No change here touches a contact's values.

use sqlx::PgPool;

use super::{db::custom_fields, error::Result};
use crate::{
    domain::custom::{CustomField, CustomFieldInput},
    error::AppError,
};

/// Adds a field; a refusal says what to fix.
pub async fn add(db: &PgPool, input: &CustomFieldInput) -> Result<CustomField> {
    let spec = input.parse(None).map_err(AppError::BadRequest)?;
    let mut tx = db.begin().await?;
    // One definition change at a time, so the live-field count and the positions hold.
    lock(&mut tx).await?;
    let field = custom_fields::create(&mut tx, &spec).await?;
    move_the_index(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(field = field.id, name = %field.name, kind = field.kind.as_str(), "custom field added");
    Ok(field)
}

/// Renames a field and sets its options. An option some contact holds cannot be taken
/// away (its value would no longer be one of the field's options).
pub async fn save(db: &PgPool, id: i32, input: &CustomFieldInput) -> Result<()> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    let field = custom_fields::find(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let spec = input
        .parse(Some(field.kind))
        .map_err(AppError::BadRequest)?;
    let removed: Vec<String> = field
        .options
        .iter()
        .filter(|old| !spec.options.contains(old))
        .cloned()
        .collect();
    if !removed.is_empty() {
        let used: Vec<String> = custom_fields::option_uses(&mut *tx, id, &removed)
            .await?
            .into_iter()
            .filter(|(_, uses)| *uses > 0)
            .map(|(option, uses)| match uses {
                1 => format!("“{option}” (1 contact)"),
                n => format!("“{option}” ({n} contacts)"),
            })
            .collect();
        if !used.is_empty() {
            return Err(AppError::BadRequest(format!(
                "Contacts still hold {}: keep the option, or change those contacts first.",
                used.join(", ")
            ))
            .into());
        }
    }
    custom_fields::update(&mut tx, id, &spec).await?;
    move_the_index(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(field = id, name = %spec.name, "custom field changed");
    Ok(())
}

/// Retires a field (hidden from forms and pages, its values kept) or restores it.
pub async fn set_retired(db: &PgPool, id: i32, retired: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    custom_fields::find(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    custom_fields::set_retired(&mut tx, id, retired).await?;
    move_the_index(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(field = id, retired, "custom field retired or restored");
    Ok(())
}

/// Moves a live field one place up or down.
pub async fn shift(db: &PgPool, id: i32, up: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    custom_fields::shift(&mut tx, id, up).await?;
    move_the_index(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves the change feed on with a tombstone of no contact, so every instance's index
/// (and what is kept from it: cached searches, rendered pages) moves past the change
/// and the pages that name fields are made again with the new names and order.
async fn move_the_index(tx: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query("SELECT contact_write_lock()")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO contact_tombstones (id) VALUES ('00000000-0000-0000-0000-000000000000')",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT pg_notify('contacts_changed', '')")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn lock(tx: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query("LOCK TABLE custom_fields IN SHARE ROW EXCLUSIVE MODE")
        .execute(tx)
        .await?;
    Ok(())
}
