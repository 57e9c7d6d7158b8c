//! Queries on `form_drafts`: a refused form kept for one redirect, so a browser without
//! JavaScript gets its input back with the reasons.

use serde::{Serialize, de::DeserializeOwned};
use sqlx::PgPool;
use uuid::Uuid;

use crate::server::error::Result;

/// How long a draft is kept if nobody comes back for it.
const KEEP_MINUTES: i32 = 60;

/// Keeps `payload` and returns the key to fetch it with. Drafts older than an hour go
/// at the same time.
pub async fn stash<T: Serialize>(db: &PgPool, payload: &T) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let payload = serde_json::to_value(payload).map_err(anyhow::Error::from)?;
    sqlx::query(
        "WITH expired AS (
             DELETE FROM form_drafts WHERE created_at < now() - make_interval(mins => $3)
         )
         INSERT INTO form_drafts (id, payload) VALUES ($1, $2)",
    )
    .bind(id)
    .bind(payload)
    .bind(KEEP_MINUTES)
    .execute(db)
    .await?;
    Ok(id)
}

/// The draft stored under `id`, if it is still there and of the expected shape. A draft
/// can be read again (a reload of the form keeps the input) until it expires.
pub async fn fetch<T: DeserializeOwned>(db: &PgPool, id: Uuid) -> Result<Option<T>> {
    let payload: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload FROM form_drafts
          WHERE id = $1 AND created_at > now() - make_interval(mins => $2)",
    )
    .bind(id)
    .bind(KEEP_MINUTES)
    .fetch_optional(db)
    .await?;
    Ok(payload.and_then(|payload| serde_json::from_value(payload).ok()))
}
