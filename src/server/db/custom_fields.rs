//! Queries on `custom_fields` (see `migrations/0010_custom_fields.sql`): the custom
//! fields' definitions. Contacts hold their values in `contacts.custom`.

use sqlx::{PgConnection, PgExecutor, types::Json};

use crate::{
    domain::custom::{CustomField, CustomFieldSpec, CustomKind, MAX_FIELDS},
    error::AppError,
    server::error::{Error, Result},
};

/// The unique index that keeps live fields' names apart.
pub const NAME_KEY: &str = "custom_fields_name_key";

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: i32,
    name: String,
    kind: String,
    options: Json<Vec<String>>,
    position: i32,
    retired: bool,
}

impl FieldRow {
    fn into_field(self) -> Result<CustomField> {
        let kind = CustomKind::parse(&self.kind).ok_or_else(|| {
            anyhow::anyhow!(
                "custom field {} has an unknown kind {:?}",
                self.id,
                self.kind
            )
        })?;
        Ok(CustomField {
            id: self.id,
            name: self.name,
            kind,
            options: self.options.0,
            position: self.position,
            retired: self.retired,
        })
    }
}

const COLUMNS: &str = "id, name, kind, options, position, retired_at IS NOT NULL AS retired";

/// Every field, live ones first, each group in its order.
pub async fn all(db: impl PgExecutor<'_>) -> Result<Vec<CustomField>> {
    let rows: Vec<FieldRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM custom_fields ORDER BY retired_at IS NOT NULL, position, id"
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(FieldRow::into_field).collect()
}

/// The live fields, in their order: what forms show and imports may fill.
pub async fn live(db: impl PgExecutor<'_>) -> Result<Vec<CustomField>> {
    Ok(all(db)
        .await?
        .into_iter()
        .filter(|field| !field.retired)
        .collect())
}

pub async fn find(db: impl PgExecutor<'_>, id: i32) -> Result<Option<CustomField>> {
    let row: Option<FieldRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM custom_fields WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(FieldRow::into_field).transpose()
}

/// Adds a field at the end of the list.
pub async fn create(conn: &mut PgConnection, spec: &CustomFieldSpec) -> Result<CustomField> {
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM custom_fields WHERE retired_at IS NULL")
            .fetch_one(&mut *conn)
            .await?;
    if live >= MAX_FIELDS as i64 {
        return Err(AppError::BadRequest(format!(
            "There are already {MAX_FIELDS} fields. Retire one before adding another."
        ))
        .into());
    }
    let row: FieldRow = sqlx::query_as(&format!(
        "INSERT INTO custom_fields (name, kind, options, position)
         SELECT $1, $2, $3, coalesce(max(position), 0) + 1 FROM custom_fields
         RETURNING {COLUMNS}"
    ))
    .bind(&spec.name)
    .bind(spec.kind.as_str())
    .bind(Json(&spec.options))
    .fetch_one(conn)
    .await
    .map_err(taken_name)?;
    row.into_field()
}

/// Renames a field and sets its options (its kind stays).
pub async fn update(conn: &mut PgConnection, id: i32, spec: &CustomFieldSpec) -> Result<()> {
    sqlx::query(
        "UPDATE custom_fields SET name = $2, options = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(&spec.name)
    .bind(Json(&spec.options))
    .execute(conn)
    .await
    .map_err(taken_name)?;
    Ok(())
}

/// Retires a field (its values stay on every contact) or brings it back.
pub async fn set_retired(conn: &mut PgConnection, id: i32, retired: bool) -> Result<()> {
    sqlx::query(
        "UPDATE custom_fields
            SET retired_at = CASE WHEN $2 THEN coalesce(retired_at, now()) END,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(retired)
    .execute(conn)
    .await
    .map_err(taken_name)?;
    Ok(())
}

/// Swaps a live field with its live neighbour before (`up`) or after it.
pub async fn shift(conn: &mut PgConnection, id: i32, up: bool) -> Result<()> {
    let order = if up { "DESC" } else { "ASC" };
    let compare = if up { "<" } else { ">" };
    sqlx::query(&format!(
        "WITH me AS (SELECT id, position FROM custom_fields WHERE id = $1 AND retired_at IS NULL),
              other AS (SELECT f.id, f.position FROM custom_fields f, me
                         WHERE f.retired_at IS NULL AND f.position {compare} me.position
                         ORDER BY f.position {order} LIMIT 1)
         UPDATE custom_fields AS f
            SET position = CASE WHEN f.id = me.id THEN other.position ELSE me.position END,
                updated_at = now()
           FROM me, other
          WHERE f.id IN (me.id, other.id)"
    ))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many contacts (deleted ones too) hold each of these options of field `id`.
pub async fn option_uses(
    db: impl PgExecutor<'_>,
    id: i32,
    options: &[String],
) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT o.option, count(c.id)
           FROM unnest($2::text[]) AS o(option)
           LEFT JOIN contacts c
             ON c.custom -> ($1::text) -> 'choice' = to_jsonb(o.option)
             OR c.custom -> ($1::text) -> 'choices' ? o.option
          GROUP BY o.option",
    )
    .bind(id)
    .bind(options)
    .fetch_all(db)
    .await?)
}

fn taken_name(error: sqlx::Error) -> Error {
    match &error {
        sqlx::Error::Database(db) if db.constraint() == Some(NAME_KEY) => AppError::BadRequest(
            "Another field already has that name. Choose another one.".to_owned(),
        )
        .into(),
        _ => error.into(),
    }
}
