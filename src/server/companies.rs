//! Changing a company: its fields in one transaction with the renaming of its people.

use sqlx::PgPool;
use uuid::Uuid;

use super::{
    db::{audit::Actor, companies},
    error::{Error, Result},
    search::SearchIndex,
};
use crate::{
    domain::company::{CompanyDraft, CompanyInput},
    error::AppError,
};

/// Saves the company form; a refusal says what to fix.
pub async fn save(
    db: &PgPool,
    index: &SearchIndex,
    actor: &Actor,
    id: Uuid,
    input: &CompanyInput,
) -> Result<()> {
    let draft = CompanyDraft::parse(input).map_err(AppError::BadRequest)?;
    let mut tx = db.begin().await?;
    if companies::find(&mut *tx, id).await?.is_none() {
        return Err(AppError::NotFound.into());
    }
    match companies::update(&mut tx, actor, id, &draft).await {
        Ok(_) => {}
        Err(Error::Database(sqlx::Error::Database(error)))
            if error.constraint() == Some(companies::NAME_KEY) =>
        {
            return Err(AppError::BadRequest(format!(
                "Another company is already called “{}”.",
                draft.name
            ))
            .into());
        }
        Err(error) => return Err(error),
    }
    let position: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(change_seq), 0) FROM contacts WHERE company_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    if index.current().is_some() {
        index
            .wait_for(position, std::time::Duration::from_secs(2))
            .await;
    }
    Ok(())
}
