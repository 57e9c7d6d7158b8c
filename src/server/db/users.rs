//! Queries on `users`: the accounts that may sign in.

use sqlx::{PgExecutor, PgPool, Row, postgres::PgRow};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{domain::Role, server::error::Result};

/// An account as stored, hash included (it never leaves the server, and its `Debug`
/// leaves the hash out).
#[derive(Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
    /// Moved on by every change that ends the user's sessions (see [`AccountState`]).
    pub session_generation: i64,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("session_generation", &self.session_generation)
            .finish()
    }
}

impl UserRecord {
    pub fn state(&self) -> AccountState {
        AccountState {
            generation: self.session_generation,
            role: self.role,
            disabled: self.disabled,
        }
    }
}

/// What every request checks its session against: a session is good only while its
/// account is enabled and has the generation the session was signed in at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountState {
    pub generation: i64,
    pub role: Role,
    pub disabled: bool,
}

const COLUMNS: &str = "id, email, password_hash, role, disabled, created_at, session_generation";

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
        session_generation: row.try_get("session_generation")?,
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

fn state_from_row(row: &PgRow) -> Result<AccountState> {
    let role: String = row.try_get("role")?;
    Ok(AccountState {
        generation: row.try_get("session_generation")?,
        role: Role::parse(&role)
            .ok_or_else(|| anyhow::anyhow!("user with unknown role {role:?}"))?,
        disabled: row.try_get("disabled")?,
    })
}

/// A change to an account that ends its sessions.
enum Change<'a> {
    Role(Role),
    Disabled(bool),
    Password(&'a str),
    Nothing,
}

/// Applies `change` to one account, moving its session generation on in the same
/// statement; the account's new state, or `None` if there is no such account.
async fn apply(
    db: impl PgExecutor<'_>,
    id: Uuid,
    change: Change<'_>,
) -> Result<Option<AccountState>> {
    let set = match change {
        Change::Role(_) => "role = $2,",
        Change::Disabled(_) => "disabled = $2,",
        Change::Password(_) => "password_hash = $2,",
        Change::Nothing => "",
    };
    let sql = format!(
        "UPDATE users SET {set} session_generation = session_generation + 1, updated_at = now()
         WHERE id = $1 RETURNING role, disabled, session_generation"
    );
    let query = sqlx::query(&sql).bind(id);
    let query = match change {
        Change::Role(role) => query.bind(role.as_str()),
        Change::Disabled(disabled) => query.bind(disabled),
        Change::Password(hash) => query.bind(hash),
        Change::Nothing => query,
    };
    let row = query.fetch_optional(db).await?;
    row.as_ref().map(state_from_row).transpose()
}

/// Sets the role (ending the user's sessions).
pub async fn set_role(
    db: impl PgExecutor<'_>,
    id: Uuid,
    role: Role,
) -> Result<Option<AccountState>> {
    apply(db, id, Change::Role(role)).await
}

/// Disables or enables the account (ending the user's sessions).
pub async fn set_disabled(
    db: impl PgExecutor<'_>,
    id: Uuid,
    disabled: bool,
) -> Result<Option<AccountState>> {
    apply(db, id, Change::Disabled(disabled)).await
}

/// Sets the password (ending the user's sessions).
pub async fn set_password(
    db: impl PgExecutor<'_>,
    id: Uuid,
    password_hash: &str,
) -> Result<Option<AccountState>> {
    apply(db, id, Change::Password(password_hash)).await
}

/// Ends the user's sessions without changing anything else.
pub async fn end_sessions(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<AccountState>> {
    apply(db, id, Change::Nothing).await
}

/// The state every request checks a session against; `None` if the account is gone.
pub async fn state(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<AccountState>> {
    let row = sqlx::query("SELECT role, disabled, session_generation FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(state_from_row).transpose()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_record_prints_without_its_password_hash() {
        let record = UserRecord {
            id: Uuid::nil(),
            email: "ada@example.com".to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            role: Role::Admin,
            disabled: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            session_generation: 3,
        };
        let printed = format!("{record:?}");
        assert!(!printed.contains("argon2"), "{printed}");
        assert!(printed.contains("[redacted]") && printed.contains("ada@example.com"));
    }
}
