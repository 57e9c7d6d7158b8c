//! Queries on the `contacts` table.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use sqlx::types::Json;

use crate::{
    domain::{
        Card, Contact, ContactSummary, Cursor, DirectoryPage, Email, PageRequest, RESTORE_DAYS,
        Tier,
        card::{Address, Entry, FileAs, NameParts, PartialDate, PhoneEntry, Related},
        custom::CustomValues,
        page::PAGE_SIZE,
        search::{RESULTS_PER_PAGE, SearchQuery},
    },
    server::error::{Error, Result},
};

// The four ways into the directory's order. Each reads one row more than a page, to
// learn whether another page lies beyond; all seek through `contacts_created_at_idx`.
const FIRST_PAGE: &str = "SELECT id, name, emails->0->>'value' AS email, company, title, addresses->0 AS address, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1";
const PAGE_AFTER: &str = "SELECT id, name, emails->0->>'value' AS email, company, title, addresses->0 AS address, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $1";
const PAGE_BEFORE: &str = "SELECT id, name, emails->0->>'value' AS email, company, title, addresses->0 AS address, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL AND (created_at, id) > ($2, $3) ORDER BY created_at ASC, id ASC LIMIT $1";
const LAST_PAGE: &str = "SELECT id, name, emails->0->>'value' AS email, company, title, addresses->0 AS address, tier, tags, created_at
    FROM contacts WHERE deleted_at IS NULL ORDER BY created_at ASC, id ASC LIMIT $1";

/// A directory row as the queries of [`SUMMARY_COLUMNS`] read it.
#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
    id: Uuid,
    name: String,
    email: Option<String>,
    company: Option<String>,
    title: Option<String>,
    address: Option<Json<Address>>,
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

    pub(crate) fn into_summary(self) -> Result<ContactSummary> {
        let tier = Tier::try_from(self.tier).map_err(|_| {
            anyhow::anyhow!("contact {} has tier {} in the database", self.id, self.tier)
        })?;
        Ok(ContactSummary {
            id: self.id,
            name: self.name,
            email: self.email,
            company: self.company,
            title: self.title,
            location: self.address.and_then(|address| address.place()),
            tier,
            tags: self.tags,
        })
    }
}

/// Postgres stores microseconds; so do cursors.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
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
pub async fn directory_page(db: &mut PgConnection, request: PageRequest) -> Result<DirectoryPage> {
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
    let mut rows = query.fetch_all(&mut *db).await?;
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

async fn exists_newer_than(db: &mut PgConnection, cursor: Cursor) -> Result<bool> {
    exists(
        db,
        "SELECT 1 FROM contacts WHERE deleted_at IS NULL AND (created_at, id) > ($1, $2)
         ORDER BY created_at, id LIMIT 1",
        cursor,
    )
    .await
}

async fn exists_older_than(db: &mut PgConnection, cursor: Cursor) -> Result<bool> {
    exists(
        db,
        "SELECT 1 FROM contacts WHERE deleted_at IS NULL AND (created_at, id) < ($1, $2)
         ORDER BY created_at DESC, id DESC LIMIT 1",
        cursor,
    )
    .await
}

/// Whether a row lies beyond the cursor. Asked as the first row in the index's order,
/// never as `EXISTS (…)`: for an `EXISTS` the planner expects a match among the first
/// rows it reads and picks a sequential scan, which reads most of a million rows when
/// the matches sit at the table's far end (a directory page took 40–430 ms at 1M that
/// way; the index answers in 0.1 ms).
async fn exists(db: &mut PgConnection, sql: &str, cursor: Cursor) -> Result<bool> {
    let found = sqlx::query_scalar::<_, i32>(sql)
        .bind(from_micros(cursor.created_at_micros)?)
        .bind(cursor.id)
        .fetch_optional(db)
        .await?;
    Ok(found.is_some())
}

/// How many contacts the directory holds.
pub async fn count(db: &PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
            .fetch_one(db)
            .await?,
    )
}

/// The columns a [`Card`] is stored in, in order; and the same with their types, for
/// reading cards from JSON rows (`jsonb_to_recordset`).
const CARD_COLUMNS: &str = "name, name_prefix, given_name, middle_name, family_name,
    name_suffix, nickname, phonetic_given, phonetic_family, pronouns, file_as, emails, phones,
    addresses, links, ims, birthday, dates, company, department, title, tier, tags, notes, custom, photo, related, extras";
const CARD_TYPES: &str = "name text, name_prefix text, given_name text, middle_name text,
    family_name text, name_suffix text, nickname text, phonetic_given text, phonetic_family text,
    pronouns text, file_as text, emails jsonb, phones jsonb, addresses jsonb, links jsonb,
    ims jsonb, birthday text, dates jsonb, company text, department text, title text,
    tier smallint, tags text[], notes text, custom jsonb, photo text, related jsonb, extras text[]";

const CONTACT_COLUMNS: &str = "id, name, name_prefix, given_name, middle_name, family_name,
    name_suffix, nickname, phonetic_given, phonetic_family, pronouns, file_as, emails, phones,
    addresses, links, ims, birthday, dates, company, department, title, tier, tags, notes,
    custom, photo, related, extras, company_id, created_at, updated_at, version, deleted_at";

/// [`CONTACT_COLUMNS`] of `contacts AS c`, with its company's domain from
/// `LEFT JOIN companies AS k ON k.id = c.company_id` (for the search index).
fn contact_columns_with_domain() -> String {
    format!(
        "{}, k.domain AS company_domain",
        prefixed("c", CONTACT_COLUMNS)
    )
}

/// A card as one JSON object named by [`CARD_COLUMNS`], plus its contact's id.
#[derive(serde::Serialize)]
struct CardRow<'a> {
    id: Uuid,
    name: &'a str,
    name_prefix: Option<&'a str>,
    given_name: Option<&'a str>,
    middle_name: Option<&'a str>,
    family_name: Option<&'a str>,
    name_suffix: Option<&'a str>,
    nickname: Option<&'a str>,
    phonetic_given: Option<&'a str>,
    phonetic_family: Option<&'a str>,
    pronouns: Option<&'a str>,
    file_as: &'static str,
    emails: &'a [Entry<Email>],
    phones: &'a [PhoneEntry],
    addresses: &'a [Address],
    links: &'a [Entry<String>],
    ims: &'a [Entry<String>],
    birthday: Option<String>,
    dates: &'a [Entry<PartialDate>],
    company: Option<&'a str>,
    department: Option<&'a str>,
    title: Option<&'a str>,
    tier: i16,
    tags: &'a [String],
    notes: Option<&'a str>,
    custom: &'a CustomValues,
    photo: Option<&'a str>,
    related: &'a [Related],
    extras: &'a [String],
}

impl<'a> CardRow<'a> {
    fn new(id: Uuid, card: &'a Card) -> Self {
        let parts = &card.name_parts;
        CardRow {
            id,
            name: &card.name,
            name_prefix: parts.prefix.as_deref(),
            given_name: parts.given.as_deref(),
            middle_name: parts.middle.as_deref(),
            family_name: parts.family.as_deref(),
            name_suffix: parts.suffix.as_deref(),
            nickname: parts.nickname.as_deref(),
            phonetic_given: parts.phonetic_given.as_deref(),
            phonetic_family: parts.phonetic_family.as_deref(),
            pronouns: parts.pronouns.as_deref(),
            file_as: card.file_as.as_str(),
            emails: &card.emails,
            phones: &card.phones,
            addresses: &card.addresses,
            links: &card.links,
            ims: &card.ims,
            birthday: card.birthday.map(PartialDate::to_iso),
            dates: &card.dates,
            company: card.company.as_deref(),
            department: card.department.as_deref(),
            title: card.title.as_deref(),
            tier: i16::from(card.tier),
            tags: &card.tags,
            notes: card.notes.as_deref(),
            custom: &card.custom,
            photo: card.photo.as_deref(),
            related: &card.related,
            extras: &card.extras,
        }
    }
}

/// Cards as one JSON array, for `jsonb_to_recordset`.
fn card_rows<'a>(cards: impl Iterator<Item = (Uuid, &'a Card)>) -> Json<Vec<CardRow<'a>>> {
    Json(cards.map(|(id, card)| CardRow::new(id, card)).collect())
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: Uuid,
    name: String,
    name_prefix: Option<String>,
    given_name: Option<String>,
    middle_name: Option<String>,
    family_name: Option<String>,
    name_suffix: Option<String>,
    nickname: Option<String>,
    phonetic_given: Option<String>,
    phonetic_family: Option<String>,
    pronouns: Option<String>,
    file_as: String,
    emails: Json<Vec<Entry<Email>>>,
    phones: Json<Vec<PhoneEntry>>,
    addresses: Json<Vec<Address>>,
    links: Json<Vec<Entry<String>>>,
    ims: Json<Vec<Entry<String>>>,
    birthday: Option<String>,
    dates: Json<Vec<Entry<PartialDate>>>,
    company: Option<String>,
    department: Option<String>,
    title: Option<String>,
    tier: i16,
    tags: Vec<String>,
    notes: Option<String>,
    custom: Json<CustomValues>,
    photo: Option<String>,
    related: Json<Vec<Related>>,
    extras: Vec<String>,
    company_id: Option<Uuid>,
    /// Only where a query joins the company (`contact_columns_with_domain`).
    #[sqlx(default)]
    company_domain: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i32,
    deleted_at: Option<OffsetDateTime>,
}

impl ContactRow {
    pub(crate) fn into_contact(self) -> Result<Contact> {
        let id = self.id;
        let corrupt = |what: &str| anyhow::anyhow!("contact {id} has {what} in the database");
        let tier = Tier::try_from(self.tier).map_err(|_| corrupt("an unknown tier"))?;
        let birthday = match self.birthday.as_deref().map(PartialDate::parse) {
            None => None,
            Some(Ok(date)) => date,
            Some(Err(_)) => return Err(corrupt("an impossible birthday").into()),
        };
        let file_as = FileAs::parse(&self.file_as).map_err(|_| corrupt("an unknown file-as"))?;
        Ok(Contact {
            id,
            card: Card {
                name: self.name,
                name_parts: NameParts {
                    prefix: self.name_prefix,
                    given: self.given_name,
                    middle: self.middle_name,
                    family: self.family_name,
                    suffix: self.name_suffix,
                    nickname: self.nickname,
                    phonetic_given: self.phonetic_given,
                    phonetic_family: self.phonetic_family,
                    pronouns: self.pronouns,
                },
                file_as,
                emails: self.emails.0,
                phones: self.phones.0,
                addresses: self.addresses.0,
                links: self.links.0,
                ims: self.ims.0,
                birthday,
                dates: self.dates.0,
                company: self.company,
                department: self.department,
                title: self.title,
                tier,
                tags: self.tags,
                notes: self.notes,
                custom: self.custom.0,
                photo: self.photo,
                related: self.related.0,
                extras: self.extras,
            },
            company_id: self.company_id,
            company_domain: self.company_domain,
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

/// Live contacts newest first, `limit` at a time, after the (created at, id) of the
/// last one read: how the search index is built.
pub async fn live_batch(
    conn: &mut PgConnection,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> Result<Vec<Contact>> {
    let columns = contact_columns_with_domain();
    let first = format!(
        "SELECT {columns} FROM contacts AS c LEFT JOIN companies AS k ON k.id = c.company_id
          WHERE c.deleted_at IS NULL
          ORDER BY c.created_at DESC, c.id DESC LIMIT $1"
    );
    let next = format!(
        "SELECT {columns} FROM contacts AS c LEFT JOIN companies AS k ON k.id = c.company_id
          WHERE c.deleted_at IS NULL AND (c.created_at, c.id) < ($2, $3)
          ORDER BY c.created_at DESC, c.id DESC LIMIT $1"
    );
    let rows: Vec<ContactRow> = match after {
        None => sqlx::query_as(&first).bind(limit),
        Some((created_at, id)) => sqlx::query_as(&next)
            .bind(limit)
            .bind(from_micros(created_at)?)
            .bind(id),
    }
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ContactRow::into_contact).collect()
}

/// Adds a contact.
pub async fn insert(conn: &mut PgConnection, card: &Card) -> Result<Contact> {
    let row: ContactRow = sqlx::query_as(&format!(
        "INSERT INTO contacts (id, {CARD_COLUMNS})
         SELECT id, {CARD_COLUMNS} FROM jsonb_to_recordset($1) AS u(id uuid, {CARD_TYPES})
         RETURNING {CONTACT_COLUMNS}"
    ))
    .bind(card_rows(std::iter::once((Uuid::new_v4(), card))))
    .fetch_one(conn)
    .await?;
    row.into_contact()
}

/// Replaces every field of a live contact, taking the next version.
pub async fn update(conn: &mut PgConnection, id: Uuid, card: &Card) -> Result<Contact> {
    let row: ContactRow = sqlx::query_as(&format!(
        "UPDATE contacts AS c SET ({CARD_COLUMNS}) = ({}), version = c.version + 1, updated_at = now()
           FROM jsonb_to_recordset($1) AS u(id uuid, {CARD_TYPES})
          WHERE c.id = u.id
         RETURNING {}",
        prefixed("u", CARD_COLUMNS),
        prefixed("c", CONTACT_COLUMNS),
    ))
    .bind(card_rows(std::iter::once((id, card))))
    .fetch_one(conn)
    .await?;
    row.into_contact()
}

/// `a, b` → `p.a, p.b`.
fn prefixed(table: &str, columns: &str) -> String {
    columns
        .split(',')
        .map(|column| format!("{table}.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
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

pub(crate) const SUMMARY_COLUMNS: &str = "id, name, emails->0->>'value' AS email, company, title,
    addresses->0 AS address, tier, tags, created_at";

/// The unique index that holds one live contact per email address.
pub const EMAIL_KEY: &str = "contact_keys_email_key";

/// The live contact with this email address (any case, anywhere in its list), other
/// than `except`.
pub async fn email_owner(
    db: impl PgExecutor<'_>,
    email: &Email,
    except: Option<Uuid>,
) -> Result<Option<ContactSummary>> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts
          WHERE id = (SELECT contact_id FROM contact_keys WHERE kind = 'email' AND key = $1)
            AND id IS DISTINCT FROM $2"
    ))
    .bind(email.normalized())
    .bind(except)
    .fetch_optional(db)
    .await?;
    row.map(SummaryRow::into_summary).transpose()
}

/// Live contacts with a phone of one of these keys (see [`PhoneEntry::key`]), other
/// than `except` (at most 20).
pub async fn with_phone_keys(
    db: impl PgExecutor<'_>,
    keys: &[String],
    except: Option<Uuid>,
) -> Result<Vec<ContactSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts
          WHERE id IN (SELECT contact_id FROM contact_keys WHERE kind = 'phone' AND key = ANY($1))
            AND deleted_at IS NULL AND id IS DISTINCT FROM $2
          LIMIT 20"
    ))
    .bind(keys)
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
    // The contact's history and photo go with it, in the same statement: nothing of a
    // purged contact is kept (the photo stays while another contact shows it).
    let purged: i64 = sqlx::query_scalar(
        "WITH purged AS (
             DELETE FROM contacts
              WHERE deleted_at IS NOT NULL AND deleted_at < now() - make_interval(days => $1)
              RETURNING id, photo
         ), history AS (
             DELETE FROM audit_log WHERE contact_id IN (SELECT id FROM purged)
         ), pictures AS (
             DELETE FROM photos p
              WHERE p.hash IN (SELECT photo FROM purged WHERE photo IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM contacts c
                                 WHERE c.photo = p.hash
                                   AND c.id NOT IN (SELECT id FROM purged))
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

/// Search without the index (used only until the first index is built): an email
/// address finds its contact through the email keys; otherwise every word must appear,
/// case-insensitively, in some field. Filters apply; newest first.
pub async fn search_fallback(
    db: &PgPool,
    query: &SearchQuery,
    words: &[String],
    email: Option<&str>,
) -> Result<Vec<ContactSummary>> {
    let mut sql = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts WHERE deleted_at IS NULL"
    ));
    let words = match email {
        Some(email) => {
            sql.push(
                " AND id IN (SELECT contact_id FROM contact_keys WHERE kind = 'email' AND key = ",
            )
            .push_bind(email.to_lowercase())
            .push(")");
            &[]
        }
        None => words,
    };
    for word in words.iter().take(crate::server::search::query::MAX_TERMS) {
        let pattern = like_pattern(word);
        sql.push(" AND (");
        for (i, column) in [
            "name",
            "emails::text",
            "phones::text",
            "company",
            "title",
            "addresses::text",
            "notes",
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
        // The city of the first address, as the index's facet holds it.
        sql.push(" AND addresses->0->>'city' = ANY(")
            .push_bind(filters.locations.clone())
            .push(")");
    }
    if !filters.countries.is_empty() {
        sql.push(" AND addresses->0->>'country' = ANY(")
            .push_bind(filters.countries.clone())
            .push(")");
    }
    for choice in &filters.choices {
        let (field, option) =
            crate::domain::search::parse_choice_value(choice).unwrap_or((0, choice.as_str()));
        sql.push(" AND (custom->")
            .push_bind(field.to_string())
            .push("->>'choice' = ")
            .push_bind(option.to_owned())
            .push(" OR custom->")
            .push_bind(field.to_string())
            .push("->'choices' ? ")
            .push_bind(option.to_owned())
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

/// Live contacts having one of `emails` (ignoring case) anywhere in their list (with
/// `lock`, locked until the transaction ends).
pub async fn live_by_emails(
    conn: &mut PgConnection,
    emails: &[String],
    lock: bool,
) -> Result<Vec<Contact>> {
    let rows: Vec<ContactRow> = sqlx::query_as(&format!(
        // Both sides lowered by Postgres, so the comparison is the unique index's own.
        "SELECT {CONTACT_COLUMNS} FROM contacts
          WHERE id IN (SELECT contact_id FROM contact_keys
                        WHERE kind = 'email' AND key IN (SELECT lower(a) FROM unnest($1::text[]) a))
            AND deleted_at IS NULL
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
/// The one live contact named `name` (any case), other than `except`; `None` when
/// there is none, or several.
pub async fn only_one_named(
    db: impl PgExecutor<'_>,
    name: &str,
    except: Option<Uuid>,
) -> Result<Option<Uuid>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM contacts
          WHERE deleted_at IS NULL AND lower(name) = lower($1)
            AND ($2::uuid IS NULL OR id <> $2)
          LIMIT 2",
    )
    .bind(name)
    .bind(except)
    .fetch_all(db)
    .await?;
    Ok(match ids.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// The live contacts whose related people include a link to `id`: each with the
/// labels they give it.
pub async fn relating_to(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Vec<(Uuid, String, Vec<Related>)>> {
    let rows: Vec<(Uuid, String, Json<Vec<Related>>)> = sqlx::query_as(
        "SELECT id, name, related FROM contacts
          WHERE related @> jsonb_build_array(jsonb_build_object('contact', $1::text))
            AND deleted_at IS NULL
          ORDER BY name, id
          LIMIT 200",
    )
    .bind(id.to_string())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(other, name, related)| {
            let to_me = related
                .0
                .into_iter()
                .filter(|r| r.contact == Some(id))
                .collect();
            (other, name, to_me)
        })
        .collect())
}

pub async fn live_by_names(
    conn: &mut PgConnection,
    names: &[String],
    lock: bool,
) -> Result<Vec<Contact>> {
    let rows: Vec<ContactRow> = sqlx::query_as(&format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts
           JOIN unnest($1::text[]) AS wanted(typed) ON lower(name) = lower(wanted.typed)
          WHERE emails = '[]' AND deleted_at IS NULL
          {}",
        if lock { "FOR UPDATE OF contacts" } else { "" }
    ))
    .bind(names)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ContactRow::into_contact).collect()
}

/// Adds many contacts in one statement; returns their ids, in order.
pub async fn insert_many(conn: &mut PgConnection, cards: &[&Card]) -> Result<Vec<Uuid>> {
    let ids: Vec<Uuid> = cards.iter().map(|_| Uuid::new_v4()).collect();
    // The companies they name, linked here for all of them at once rather than by the
    // row trigger (migration 0019), which took half of such an insert's time: the
    // missing ones made first, each spelled as its first contact spells it; then each
    // contact takes its company's id and name. A contact left without one (none
    // should be) is linked by the trigger.
    let companies: Vec<&str> = cards
        .iter()
        .filter_map(|card| card.company.as_deref())
        .collect();
    if !companies.is_empty() {
        sqlx::query(
            "INSERT INTO companies (name)
             SELECT DISTINCT ON (company_key(typed)) btrim(typed)
               FROM unnest($1::text[]) WITH ORDINALITY AS t(typed, n)
              WHERE NOT EXISTS (SELECT 1 FROM companies k
                                 WHERE company_key(k.name) = company_key(t.typed))
              ORDER BY company_key(typed), n
             ON CONFLICT (company_key(name)) DO NOTHING",
        )
        .bind(&companies)
        .execute(&mut *conn)
        .await?;
    }
    let columns = CARD_COLUMNS
        .split(',')
        .map(|column| match column.trim() {
            "company" => "coalesce(k.name, u.company)".to_owned(),
            column => format!("u.{column}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!(
        "INSERT INTO contacts (id, {CARD_COLUMNS}, company_id)
         SELECT u.id, {columns}, k.id
           FROM jsonb_to_recordset($1) AS u(id uuid, {CARD_TYPES})
           LEFT JOIN companies k ON company_key(k.name) = company_key(u.company)"
    ))
    .bind(card_rows(ids.iter().copied().zip(cards.iter().copied())))
    .execute(conn)
    .await?;
    Ok(ids)
}

/// Replaces every field of many live contacts in one statement, each taking its next
/// version; returns each id with its new version.
pub async fn update_many(
    conn: &mut PgConnection,
    updates: &[(Uuid, &Card)],
) -> Result<Vec<(Uuid, i32)>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE contacts AS c SET ({CARD_COLUMNS}) = ({}), version = c.version + 1, updated_at = now()
           FROM jsonb_to_recordset($1) AS u(id uuid, {CARD_TYPES})
          WHERE c.id = u.id
         RETURNING c.id, c.version",
        prefixed("u", CARD_COLUMNS),
    ))
    .bind(card_rows(updates.iter().map(|(id, card)| (*id, *card))))
    .fetch_all(conn)
    .await?)
}

/// For each of these phone keys that a live contact holds, one such contact (the same
/// one each time): (id, name, key). Only live contacts have keys.
pub async fn with_any_phone_keys(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        // One per key, chosen from the keys alone: at a million generated contacts (a
        // small vocabulary of numbers) a batch's 4,000 keys were held by some 28,000
        // contacts, and reading each of them took 290 ms a batch, this 135 ms.
        "SELECT c.id, c.name, found.key
           FROM (SELECT DISTINCT ON (key) key, contact_id FROM contact_keys
                  WHERE kind = 'phone' AND key = ANY($1)
                  ORDER BY key, contact_id) AS found
           JOIN contacts c ON c.id = found.contact_id",
    )
    .bind(keys)
    .fetch_all(conn)
    .await?)
}

/// For each name and company (pairwise, ignoring case), the oldest live contact of
/// that name at that company, if any: (id, name, company).
pub async fn with_name_at_company(
    conn: &mut PgConnection,
    names: &[String],
    companies: &[String],
) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        // The oldest one per name and company: at a million contacts a batch's names
        // matched some 12,000 rows when every match was read (2.8 s a batch). Found
        // through the index on both (migration 0016): with one on the name alone the
        // planner walked the creation-time index instead, two minutes a batch. The
        // index holds the age too (migration 0020), so the oldest is its first entry
        // rather than the least of every match read and sorted.
        "SELECT found.id, found.name, found.company
           FROM unnest($1::text[], $2::text[]) AS wanted(typed_name, typed_company)
          CROSS JOIN LATERAL (
                SELECT id, name, company FROM contacts
                 WHERE lower(name) = lower(wanted.typed_name)
                   AND lower(company) = lower(wanted.typed_company)
                   AND company IS NOT NULL AND deleted_at IS NULL
                 ORDER BY created_at, id
                 LIMIT 1) AS found",
    )
    .bind(names)
    .bind(companies)
    .fetch_all(conn)
    .await?)
}

/// Live contacts whose birthday falls in the `days` days from `today` (today
/// included), soonest first, at most `limit`. 29 February counts on 28 February in
/// a year without one.
pub async fn upcoming_birthdays(
    db: impl PgExecutor<'_>,
    today: time::Date,
    days: u16,
    limit: usize,
) -> Result<Vec<crate::domain::UpcomingBirthday>> {
    // The day of the year of each day ahead, as `contact_month_day` writes it (415 for
    // 15 April), and how far ahead it is.
    let mut ahead: Vec<(i16, u16)> = Vec::new();
    let mut date = today;
    for offset in 0..days {
        let month_day = i16::from(u8::from(date.month())) * 100 + i16::from(date.day());
        ahead.push((month_day, offset));
        if month_day == 228 && !time::util::is_leap_year(date.year()) {
            ahead.push((229, offset));
        }
        date = date.next_day().unwrap_or(date);
    }
    let month_days: Vec<i16> = ahead.iter().map(|(month_day, _)| *month_day).collect();
    // Day by day, soonest first, at most `limit` people a day, each day one lookup in
    // `contacts_birthday_idx` (its predicates repeated so it serves): at a million
    // contacts some 90,000 have a birthday within 30 days, and reading any 2,000 of
    // them (as this did first) both cost a table scan and could miss today's.
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT c.id, c.name, c.birthday
           FROM unnest($1::smallint[]) WITH ORDINALITY AS d(month_day, n)
          CROSS JOIN LATERAL (
                SELECT id, name, birthday FROM contacts
                 WHERE contact_month_day(birthday) = d.month_day
                   AND birthday IS NOT NULL AND deleted_at IS NULL
                 ORDER BY name LIMIT $2) AS c
          ORDER BY d.n, c.name
          LIMIT $2",
    )
    .bind(&month_days)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(db)
    .await?;
    let mut upcoming: Vec<crate::domain::UpcomingBirthday> = rows
        .into_iter()
        .filter_map(|(id, name, birthday)| {
            let birthday = PartialDate::parse(&birthday).ok().flatten()?;
            let month_day = birthday.month_day() as i16;
            let in_days = ahead
                .iter()
                .find(|(md, _)| *md == month_day)
                .map(|(_, offset)| *offset)?;
            let year_then = (today + time::Duration::days(i64::from(in_days))).year();
            let turns = birthday
                .year
                .and_then(|born| u16::try_from(year_then - i32::from(born)).ok());
            Some(crate::domain::UpcomingBirthday {
                id,
                name,
                birthday,
                in_days,
                turns,
            })
        })
        .collect();
    upcoming.sort_by(|a, b| a.in_days.cmp(&b.in_days).then_with(|| a.name.cmp(&b.name)));
    upcoming.truncate(limit);
    Ok(upcoming)
}
