//! Queries on the `contacts` table.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{
        Contact, ContactDraft, ContactSummary, Cursor, DirectoryPage, Email, PageRequest, Phone,
        RESTORE_DAYS, Tier,
        page::PAGE_SIZE,
        search::{RESULTS_PER_PAGE, SearchQuery},
    },
    server::error::{Error, Result},
};

// The four ways into the directory's order. Each reads one row more than a page, to
// learn whether another page lies beyond; all seek through `contacts_created_at_idx`.
const FIRST_PAGE: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1";
const PAGE_AFTER: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $1";
const PAGE_BEFORE: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL AND (created_at, id) > ($2, $3) ORDER BY created_at ASC, id ASC LIMIT $1";
const LAST_PAGE: &str = "SELECT id, name, email, company, title, location, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL ORDER BY created_at ASC, id ASC LIMIT $1";

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
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE deleted_at IS NULL AND (created_at, id) > ($1, $2))",
        cursor,
    )
    .await
}

async fn exists_older_than(db: &PgPool, cursor: Cursor) -> Result<bool> {
    exists(
        db,
        "SELECT EXISTS (SELECT 1 FROM contacts WHERE deleted_at IS NULL AND (created_at, id) < ($1, $2))",
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
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
            .fetch_one(db)
            .await?,
    )
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    title: Option<String>,
    location: Option<String>,
    tier: i16,
    tags: Vec<String>,
    notes: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i32,
    deleted_at: Option<OffsetDateTime>,
}

const CONTACT_COLUMNS: &str = "id, name, email, phone, company, title, location, tier, tags, notes,
    created_at, updated_at, version, deleted_at";

impl ContactRow {
    fn into_contact(self) -> Result<Contact> {
        let tier = Tier::try_from(self.tier).map_err(|_| {
            anyhow::anyhow!("contact {} has tier {} in the database", self.id, self.tier)
        })?;
        Ok(Contact {
            id: self.id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            company: self.company,
            title: self.title,
            location: self.location,
            tier,
            tags: self.tags,
            notes: self.notes,
            created_at_micros: micros(self.created_at),
            updated_at_micros: micros(self.updated_at),
            version: self.version,
            deleted_at_micros: self.deleted_at.map(micros),
        })
    }
}

/// One contact with every field (deleted or not), or `None` if there is no such contact.
#[tracing::instrument(skip(db), err(level = "debug"))]
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Contact>> {
    let row: Option<ContactRow> = sqlx::query_as(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(ContactRow::into_contact).transpose()
}

/// Like [`find`], locking the row until the transaction ends.
pub async fn find_for_update(conn: &mut PgConnection, id: Uuid) -> Result<Option<Contact>> {
    let row: Option<ContactRow> = sqlx::query_as(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(ContactRow::into_contact).transpose()
}

type RowQuery<'q> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, ContactRow, sqlx::postgres::PgArguments>;

/// Binds a draft's fields as `$2`…`$10`, in the order of the table's columns.
fn bind_draft<'q>(query: RowQuery<'q>, draft: &'q ContactDraft) -> RowQuery<'q> {
    query
        .bind(&draft.name)
        .bind(draft.email.as_ref().map(Email::as_str))
        .bind(draft.phone.as_ref().map(Phone::as_str))
        .bind(&draft.company)
        .bind(&draft.title)
        .bind(&draft.location)
        .bind(i16::from(draft.tier))
        .bind(&draft.tags)
        .bind(&draft.notes)
}

/// Adds a contact.
pub async fn insert(conn: &mut PgConnection, draft: &ContactDraft) -> Result<Contact> {
    let sql = format!(
        "INSERT INTO contacts (id, name, email, phone, company, title, location, tier, tags, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING {CONTACT_COLUMNS}"
    );
    let row = sqlx::query_as(&sql).bind(Uuid::new_v4());
    let row: ContactRow = bind_draft(row, draft).fetch_one(conn).await?;
    row.into_contact()
}

/// Replaces every field of a live contact, taking the next version.
pub async fn update(conn: &mut PgConnection, id: Uuid, draft: &ContactDraft) -> Result<Contact> {
    let sql = format!(
        "UPDATE contacts SET name = $2, email = $3, phone = $4, company = $5, title = $6,
                location = $7, tier = $8, tags = $9, notes = $10,
                version = version + 1, updated_at = now()
          WHERE id = $1
         RETURNING {CONTACT_COLUMNS}"
    );
    let row = sqlx::query_as(&sql).bind(id);
    let row: ContactRow = bind_draft(row, draft).fetch_one(conn).await?;
    row.into_contact()
}

/// Deletes (softly) or restores a contact, taking the next version.
pub async fn set_deleted(conn: &mut PgConnection, id: Uuid, deleted: bool) -> Result<Contact> {
    let row: ContactRow = sqlx::query_as(&format!(
        "UPDATE contacts
            SET deleted_at = CASE WHEN $2 THEN now() END,
                version = version + 1, updated_at = now()
          WHERE id = $1
         RETURNING {CONTACT_COLUMNS}"
    ))
    .bind(id)
    .bind(deleted)
    .fetch_one(conn)
    .await?;
    row.into_contact()
}

const SUMMARY_COLUMNS: &str = "id, name, email, company, title, location, tier, tags, created_at";

/// The live contact with this email address (any case), other than `except`.
pub async fn email_owner(
    db: impl PgExecutor<'_>,
    email: &Email,
    except: Option<Uuid>,
) -> Result<Option<ContactSummary>> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts
          WHERE lower(email) = $1 AND email IS NOT NULL AND deleted_at IS NULL
            AND id IS DISTINCT FROM $2"
    ))
    .bind(email.normalized())
    .bind(except)
    .fetch_optional(db)
    .await?;
    row.map(SummaryRow::into_summary).transpose()
}

/// Live contacts whose phone has these digits, other than `except` (at most 20).
pub async fn with_phone_digits(
    db: impl PgExecutor<'_>,
    digits: &str,
    except: Option<Uuid>,
) -> Result<Vec<ContactSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts
          WHERE regexp_replace(phone, '\\D', '', 'g') = $1 AND phone IS NOT NULL
            AND deleted_at IS NULL AND id IS DISTINCT FROM $2
          LIMIT 20"
    ))
    .bind(digits)
    .bind(except)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Live contacts at this company (any case), other than `except`: the candidates for
/// "a close name at the same company". Bounded, newest first.
pub async fn at_company(
    db: impl PgExecutor<'_>,
    company: &str,
    except: Option<Uuid>,
) -> Result<Vec<ContactSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts
          WHERE lower(company) = lower($1) AND company IS NOT NULL
            AND deleted_at IS NULL AND id IS DISTINCT FROM $2
          ORDER BY created_at DESC LIMIT 2000"
    ))
    .bind(company)
    .bind(except)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Contacts deleted within the restore window, most recently deleted first.
pub async fn recently_deleted(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<(ContactSummary, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        summary: SummaryRow,
        deleted_at: OffsetDateTime,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS}, deleted_at FROM contacts
          WHERE deleted_at IS NOT NULL AND deleted_at > now() - make_interval(days => $2)
          ORDER BY deleted_at DESC LIMIT $1"
    ))
    .bind(limit)
    .bind(RESTORE_DAYS as i32)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| Ok((row.summary.into_summary()?, micros(row.deleted_at))))
        .collect()
}

/// Removes for good the contacts deleted more than the restore window ago (each leaves
/// a tombstone for the followers). Returns how many.
pub async fn purge_deleted(db: impl PgExecutor<'_>) -> Result<u64> {
    // The contact's history goes with it, in the same statement: nothing of a purged
    // contact is kept.
    let purged: i64 = sqlx::query_scalar(
        "WITH purged AS (
             DELETE FROM contacts
              WHERE deleted_at IS NOT NULL AND deleted_at < now() - make_interval(days => $1)
              RETURNING id
         ), history AS (
             DELETE FROM audit_log WHERE contact_id IN (SELECT id FROM purged)
         )
         SELECT count(*) FROM purged",
    )
    .bind(RESTORE_DAYS as i32)
    .fetch_one(db)
    .await?;
    Ok(purged.max(0) as u64)
}

/// `%` and `_` match literally in an ILIKE pattern built from `text`.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// Search without the index (used only until the first index is built): every word
/// must appear, case-insensitively, in some field; filters apply; newest first.
pub async fn search_fallback(
    db: &PgPool,
    query: &SearchQuery,
    words: &[String],
) -> Result<Vec<ContactSummary>> {
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "SELECT id, name, email, company, title, location, tier, tags, created_at
           FROM contacts WHERE deleted_at IS NULL",
    );
    for word in words.iter().take(crate::server::search::query::MAX_TERMS) {
        let pattern = like_pattern(word);
        sql.push(" AND (");
        for (i, column) in [
            "name", "email", "phone", "company", "title", "location", "notes",
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(format_args!("{column} ILIKE "))
                .push_bind(pattern.clone());
        }
        sql.push(" OR array_to_string(tags, ' ') ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
    let filters = &query.filters;
    if !filters.tiers.is_empty() {
        let tiers: Vec<i16> = filters.tiers.iter().map(|tier| i16::from(*tier)).collect();
        sql.push(" AND tier = ANY(").push_bind(tiers).push(")");
    }
    if !filters.locations.is_empty() {
        sql.push(" AND location = ANY(")
            .push_bind(filters.locations.clone())
            .push(")");
    }
    if !filters.companies.is_empty() {
        sql.push(" AND company = ANY(")
            .push_bind(filters.companies.clone())
            .push(")");
    }
    if !filters.tags.is_empty() {
        sql.push(" AND tags @> ").push_bind(filters.tags.clone());
    }
    let offset = i64::from(query.page.saturating_sub(1)) * RESULTS_PER_PAGE as i64;
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(RESULTS_PER_PAGE as i64)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows: Vec<SummaryRow> = sql.build_query_as().fetch_all(db).await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Live contacts whose email is one of `emails` ignoring case (with `lock`, locked until
/// the transaction ends).
pub async fn live_by_emails(
    conn: &mut PgConnection,
    emails: &[String],
    lock: bool,
) -> Result<Vec<Contact>> {
    let rows: Vec<ContactRow> = sqlx::query_as(&format!(
        // Both sides lowered by Postgres, so the comparison is the unique index's own.
        "SELECT {CONTACT_COLUMNS} FROM contacts
           JOIN unnest($1::text[]) AS wanted(address) ON lower(email) = lower(wanted.address)
          WHERE email IS NOT NULL AND deleted_at IS NULL
          {}",
        if lock { "FOR UPDATE OF contacts" } else { "" }
    ))
    .bind(emails)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ContactRow::into_contact).collect()
}

/// Live contacts without an email whose name is one of `names` ignoring case (with
/// `lock`, locked until the transaction ends). (A contact with an email is known
/// by it; an imported row without one must not take it over by name.)
pub async fn live_by_names(
    conn: &mut PgConnection,
    names: &[String],
    lock: bool,
) -> Result<Vec<Contact>> {
    let rows: Vec<ContactRow> = sqlx::query_as(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts
           JOIN unnest($1::text[]) AS wanted(typed) ON lower(name) = lower(wanted.typed)
          WHERE email IS NULL AND deleted_at IS NULL
          {}",
        if lock { "FOR UPDATE OF contacts" } else { "" }
    ))
    .bind(names)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ContactRow::into_contact).collect()
}

/// The columns of many drafts, as arrays for `UNNEST` (tags joined with commas, which
/// no tag contains).
struct DraftColumns {
    name: Vec<String>,
    email: Vec<Option<String>>,
    phone: Vec<Option<String>>,
    company: Vec<Option<String>>,
    title: Vec<Option<String>>,
    location: Vec<Option<String>>,
    tier: Vec<i16>,
    tags: Vec<String>,
    notes: Vec<Option<String>>,
}

impl DraftColumns {
    fn new<'a>(drafts: impl Iterator<Item = &'a ContactDraft>) -> DraftColumns {
        let mut columns = DraftColumns {
            name: Vec::new(),
            email: Vec::new(),
            phone: Vec::new(),
            company: Vec::new(),
            title: Vec::new(),
            location: Vec::new(),
            tier: Vec::new(),
            tags: Vec::new(),
            notes: Vec::new(),
        };
        for draft in drafts {
            columns.name.push(draft.name.clone());
            columns
                .email
                .push(draft.email.as_ref().map(|e| e.as_str().to_owned()));
            columns
                .phone
                .push(draft.phone.as_ref().map(|p| p.as_str().to_owned()));
            columns.company.push(draft.company.clone());
            columns.title.push(draft.title.clone());
            columns.location.push(draft.location.clone());
            columns.tier.push(i16::from(draft.tier));
            columns.tags.push(draft.tags.join(","));
            columns.notes.push(draft.notes.clone());
        }
        columns
    }
}

/// Many drafts as rows: `$1` the ids, `$2`… `$10` [`DraftColumns`] in order.
const DRAFT_ROWS: &str = "UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::text[], $7::text[], $8::int2[], $9::text[], $10::text[])
     AS u(id, name, email, phone, company, title, location, tier, tags, notes)";

/// Runs `sql` (over [`DRAFT_ROWS`]) with `ids` and the drafts' columns; returns each
/// row's id and version.
async fn write_many<'a>(
    conn: &mut PgConnection,
    sql: &str,
    ids: &[Uuid],
    drafts: impl Iterator<Item = &'a ContactDraft>,
) -> Result<Vec<(Uuid, i32)>> {
    let c = DraftColumns::new(drafts);
    Ok(sqlx::query_as(sql)
        .bind(ids)
        .bind(&c.name)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(&c.company)
        .bind(&c.title)
        .bind(&c.location)
        .bind(&c.tier)
        .bind(&c.tags)
        .bind(&c.notes)
        .fetch_all(conn)
        .await?)
}

/// Adds many contacts in one statement; returns their ids, in order.
pub async fn insert_many(conn: &mut PgConnection, drafts: &[&ContactDraft]) -> Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = drafts.iter().map(|_| Uuid::new_v4()).collect();
    let sql = format!(
        "INSERT INTO contacts (id, name, email, phone, company, title, location, tier, tags, notes)
         SELECT id, name, email, phone, company, title, location, tier,
                string_to_array(tags, ','), notes
           FROM {DRAFT_ROWS}
         RETURNING id, version"
    );
    write_many(conn, &sql, &ids, drafts.iter().copied()).await?;
    Ok(ids)
}

/// Replaces every field of many live contacts in one statement, each taking its next
/// version; returns each id with its new version.
pub async fn update_many(
    conn: &mut PgConnection,
    updates: &[(Uuid, &ContactDraft)],
) -> Result<Vec<(Uuid, i32)>> {
    let ids: Vec<Uuid> = updates.iter().map(|(id, _)| *id).collect();
    let sql = format!(
        "UPDATE contacts AS c
            SET name = u.name, email = u.email, phone = u.phone, company = u.company,
                title = u.title, location = u.location, tier = u.tier,
                tags = string_to_array(u.tags, ','), notes = u.notes,
                version = c.version + 1, updated_at = now()
           FROM {DRAFT_ROWS}
          WHERE c.id = u.id
         RETURNING c.id, c.version"
    );
    write_many(conn, &sql, &ids, updates.iter().map(|(_, draft)| *draft)).await
}

/// Live contacts whose phone has one of these digit strings: (id, name, digits).
pub async fn with_any_phone_digits(
    conn: &mut PgConnection,
    digits: &[String],
) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, name, regexp_replace(phone, '\\D', '', 'g') FROM contacts
           JOIN unnest($1::text[]) AS wanted(digits)
             ON regexp_replace(phone, '\\D', '', 'g') = wanted.digits
          WHERE phone IS NOT NULL AND deleted_at IS NULL",
    )
    .bind(digits)
    .fetch_all(conn)
    .await?)
}

/// Live contacts with one of these names at one of these companies (pairwise, ignoring
/// case): (id, name, company).
pub async fn with_name_at_company(
    conn: &mut PgConnection,
    names: &[String],
    companies: &[String],
) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, name, company FROM contacts
           JOIN unnest($1::text[], $2::text[]) AS wanted(typed_name, typed_company)
             ON lower(name) = lower(wanted.typed_name)
            AND lower(company) = lower(wanted.typed_company)
          WHERE company IS NOT NULL AND deleted_at IS NULL",
    )
    .bind(names)
    .bind(companies)
    .fetch_all(conn)
    .await?)
}
