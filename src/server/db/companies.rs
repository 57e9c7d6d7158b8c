//! Queries on `companies` (see `migrations/0009_companies.sql`). Contacts are linked to
//! their company by a trigger whenever their company is written.

use sqlx::{PgConnection, PgExecutor, types::Json};
use uuid::Uuid;

use super::{
    audit::{self, Actor},
    contacts::{SUMMARY_COLUMNS, SummaryRow},
};
use crate::{
    domain::{
        AuditAction, ContactSummary, Field, FieldChange,
        card::Address,
        company::{Company, CompanyDraft, PEOPLE_SHOWN},
    },
    server::error::Result,
};

/// The unique index that holds one company per name (whatever its case and spacing).
pub const NAME_KEY: &str = "companies_name_key";

#[derive(sqlx::FromRow)]
struct CompanyRow {
    id: Uuid,
    name: String,
    domain: Option<String>,
    address: Option<Json<Address>>,
    notes: Option<String>,
}

impl From<CompanyRow> for Company {
    fn from(row: CompanyRow) -> Self {
        Company {
            id: row.id,
            name: row.name,
            domain: row.domain,
            address: row.address.map(|address| address.0),
            notes: row.notes,
        }
    }
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Company>> {
    let row: Option<CompanyRow> =
        sqlx::query_as("SELECT id, name, domain, address, notes FROM companies WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(Company::from))
}

/// The name of the company `name` stands for, as its record spells it (`None` when
/// there is no such company yet).
pub async fn canonical_name(db: impl PgExecutor<'_>, name: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM companies WHERE company_key(name) = company_key($1)")
            .bind(name)
            .fetch_optional(db)
            .await?,
    )
}

/// Company names starting with `prefix` (case and spacing ignored), most people first.
pub async fn names_starting(
    db: impl PgExecutor<'_>,
    prefix: &str,
    limit: i64,
) -> Result<Vec<String>> {
    let pattern = format!(
        "{}%",
        crate::domain::company::company_key(prefix)
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Ok(sqlx::query_scalar(
        "SELECT k.name FROM companies k
          WHERE company_key(k.name) LIKE $1
          ORDER BY (SELECT count(*) FROM contacts c
                     WHERE c.company_id = k.id AND c.deleted_at IS NULL) DESC, k.name
          LIMIT $2",
    )
    .bind(pattern)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The live contacts at a company, by name (at most [`PEOPLE_SHOWN`]), and how many
/// there are in all.
pub async fn people(db: &mut PgConnection, id: Uuid) -> Result<(Vec<ContactSummary>, u64)> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM contacts WHERE company_id = $1 AND deleted_at IS NULL
          ORDER BY name, id LIMIT $2"
    ))
    .bind(id)
    .bind(PEOPLE_SHOWN as i64)
    .fetch_all(&mut *db)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM contacts WHERE company_id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    let people = rows
        .into_iter()
        .map(SummaryRow::into_summary)
        .collect::<Result<Vec<_>>>()?;
    Ok((people, total.max(0) as u64))
}

/// Saves a company's fields. A new name is written on each of its people's cards in
/// the same transaction, each taking its next version (so a form opened before the
/// rename is refused as a conflict rather than bringing the old name back) with an
/// audit entry; returns how many people were renamed.
pub async fn update(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    draft: &CompanyDraft,
) -> Result<u64> {
    let (old, old_domain): (Option<String>, Option<String>) = sqlx::query_as(
        "UPDATE companies SET name = $2, domain = $3, address = $4, notes = $5, updated_at = now()
          WHERE id = $1
         RETURNING (SELECT name FROM companies WHERE id = $1),
                   (SELECT domain FROM companies WHERE id = $1)",
    )
    .bind(id)
    .bind(&draft.name)
    .bind(&draft.domain)
    .bind(draft.address.as_ref().map(Json))
    .bind(&draft.notes)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or_default();
    // A new domain changes no card, but search finds people by their company's
    // domain: the people are stamped again (no new version) for the index to follow.
    if old_domain != draft.domain {
        sqlx::query("UPDATE contacts SET updated_at = updated_at WHERE company_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let renamed: Vec<(Uuid, i32, Option<String>)> = sqlx::query_as(
        "UPDATE contacts AS c SET company = $2, version = c.version + 1, updated_at = now()
           FROM (SELECT id, company AS before FROM contacts
                  WHERE company_id = $1 AND company IS DISTINCT FROM $2 FOR UPDATE) AS old
          WHERE c.id = old.id
         RETURNING c.id, c.version, old.before",
    )
    .bind(id)
    .bind(&draft.name)
    .fetch_all(&mut *conn)
    .await?;
    let entries: Vec<(Uuid, i32, Vec<FieldChange>, serde_json::Value)> = renamed
        .iter()
        .map(|(contact, version, before)| {
            let change = FieldChange {
                field: Field::Company,
                custom: None,
                old: before.clone().or_else(|| old.clone()),
                new: Some(draft.name.clone()),
            };
            (
                *contact,
                *version,
                vec![change],
                serde_json::json!({ "company": id, "renamed": true }),
            )
        })
        .collect();
    audit::record_many(conn, actor, AuditAction::Update, &entries).await?;
    Ok(renamed.len() as u64)
}
