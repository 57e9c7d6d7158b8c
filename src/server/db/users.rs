//! Queries on `users`: the accounts that may sign in.

use sqlx::{PgExecutor, PgPool, Row, postgres::PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{domain::Role, server::error::Result};

/// An account as stored, hash included (it never leaves the server).
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "id, email, password_hash, role, disabled, created_at";

fn from_row(row: &PgRow) -> Result<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        role: Role::parse(&role)
            .ok_or_else(|| anyhow::anyhow!("user with unknown role {role:?}"))?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The account with this email, whatever its case.
pub async fn by_email(db: impl PgExecutor<'_>, email: &str) -> Result<Option<UserRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"
    ))
    .bind(email.trim())
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRecord>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Creates an account; `None` if the email is taken.
pub async fn create(
    db: impl PgExecutor<'_>,
    email: &str,
    password_hash: &str,
    role: Role,
) -> Result<Option<Uuid>> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT ((lower(email))) DO NOTHING
         RETURNING id",
    )
    .bind(email.trim())
    .bind(password_hash)
    .bind(role.as_str())
    .fetch_optional(db)
    .await?;
    Ok(id)
}

/// Whether any account exists.
pub async fn any(db: impl PgExecutor<'_>) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
        .fetch_one(db)
        .await?)
}

/// Sets the role; false if there is no such account.
pub async fn set_role(db: impl PgExecutor<'_>, id: Uuid, role: Role) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET role = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Disables or enables the account; false if there is no such account.
pub async fn set_disabled(db: impl PgExecutor<'_>, id: Uuid, disabled: bool) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(disabled)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_password(db: impl PgExecutor<'_>, id: Uuid, password_hash: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The first `limit` accounts by email, and how many there are in all.
pub async fn list(db: &PgPool, limit: i64) -> Result<(Vec<UserRecord>, u64)> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users ORDER BY lower(email) LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(db)
        .await?;
    let users = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok((users, total.max(0) as u64))
}
