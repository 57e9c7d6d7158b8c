//! Queries on the `contacts` table.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{ContactSummary, Cursor, DirectoryPage, PageRequest, Tier, page::PAGE_SIZE},
    server::error::{Error, Result},
};

// The four ways into the directory's order. Each reads one row more than a page, to
// learn whether another page lies beyond; all seek through `contacts_created_at_idx`.
const FIRST_PAGE: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts ORDER BY created_at DESC, id DESC LIMIT $1";
const PAGE_AFTER: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts WHERE (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $1";
const PAGE_BEFORE: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts WHERE (created_at, id) > ($2, $3) ORDER BY created_at ASC, id ASC LIMIT $1";
const LAST_PAGE: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts ORDER BY created_at ASC, id ASC LIMIT $1";

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    company: Option<String>,
    title: Option<String>,
    location: Option<String>,
    tier: i16,
    tags: Vec<String>,
    created_at: OffsetDateTime,
}

impl SummaryRow {
    fn cursor(&self) -> Cursor {
        Cursor {
            created_at_micros: micros(self.created_at),
            id: self.id,
        }
    }

    fn into_summary(self) -> Result<ContactSummary> {
        let tier = Tier::try_from(self.tier).map_err(|_| {
            anyhow::anyhow!("contact {} has tier {} in the database", self.id, self.tier)
        })?;
        Ok(ContactSummary {
            id: self.id,
            name: self.name,
            email: self.email,
            company: self.company,
            title: self.title,
            location: self.location,
            tier,
            tags: self.tags,
        })
    }
}

/// Postgres stores microseconds; so do cursors.
fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

fn from_micros(micros: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map_err(|_| {
        Error::App(crate::error::AppError::BadRequest(
            "That page does not exist.".into(),
        ))
    })
}

/// One page of the directory, newest first, by keyset (see [`crate::domain::page`]).
#[tracing::instrument(skip(db), err(level = "debug"))]
pub async fn directory_page(db: &PgPool, request: PageRequest) -> Result<DirectoryPage> {
    let limit = PAGE_SIZE as i64 + 1;
    let (sql, cursor, ascending) = match request {
        PageRequest::First => (FIRST_PAGE, None, false),
        PageRequest::After(cursor) => (PAGE_AFTER, Some(cursor), false),
        PageRequest::Before(cursor) => (PAGE_BEFORE, Some(cursor), true),
        PageRequest::Last => (LAST_PAGE, None, true),
    };

    let mut query = sqlx::query_as::<_, SummaryRow>(sql).bind(limit);
    if let Some(cursor) = cursor {
        query = query
            .bind(from_micros(cursor.created_at_micros)?)
            .bind(cursor.id);
    }
    let mut rows = query.fetch_all(db).await?;
    let more_beyond = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    if ascending {
        rows.reverse();
    }

    let first = rows.first().map(SummaryRow::cursor);
    let last = rows.last().map(SummaryRow::cursor);
    // "Beyond" is the direction we read in; the other side is known from the cursor
    // we came from, and checked, because the row it names may have been deleted since.
    let (previous, next) = match request {
        PageRequest::First => (
            None,
            more_beyond.then(|| last.map(PageRequest::After)).flatten(),
        ),
        PageRequest::Last => (
            more_beyond
                .then(|| first.map(PageRequest::Before))
                .flatten(),
            None,
        ),
        PageRequest::After(cursor) => {
            let boundary = first.unwrap_or(cursor);
            let previous = exists_newer_than(db, boundary)
                .await?
                .then_some(PageRequest::Before(boundary));
            (
                previous,
                more_beyond.then(|| last.map(PageRequest::After)).flatten(),
            )
        }
        PageRequest::Before(cursor) => {
            let boundary = last.unwrap_or(cursor);
            let next = exists_older_than(db, boundary)
                .await?
                .then_some(PageRequest::After(boundary));
            (
                more_beyond
                    .then(|| first.map(PageRequest::Before))
                    .flatten(),
                next,
            )
        }
    };

    let contacts = rows
        .into_iter()
        .map(SummaryRow::into_summary)
        .collect::<Result<Vec<_>>>()?;
    Ok(DirectoryPage {
        contacts,
        previous,
        next,
    })
}

async fn exists_newer_than(db: &PgPool, cursor: Cursor) -> Result<bool> {
    exists(
        db,
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE (created_at, id) > ($1, $2))",
        cursor,
    )
    .await
}

async fn exists_older_than(db: &PgPool, cursor: Cursor) -> Result<bool> {
    exists(
        db,
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE (created_at, id) < ($1, $2))",
        cursor,
    )
    .await
}

async fn exists(db: &PgPool, sql: &str, cursor: Cursor) -> Result<bool> {
    let found = sqlx::query_scalar::<_, bool>(sql)
        .bind(from_micros(cursor.created_at_micros)?)
        .bind(cursor.id)
        .fetch_one(db)
        .await?;
    Ok(found)
}

/// How many contacts the directory holds.
pub async fn count(db: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(db)
        .await?)
}
