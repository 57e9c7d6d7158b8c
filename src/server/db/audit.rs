//! Queries on `audit_log`: every change to a contact, written in the transaction that
//! makes it.

use std::net::IpAddr;

use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    domain::{
        AuditAction, Field, FieldChange, HistoryEntry,
        dashboard::{AuditFilter, AuditPage, AuditRow},
    },
    server::error::Result,
};

/// Who made a change and from where.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    /// The signed-in user's email; `None` for the command line.
    pub name: Option<String>,
    /// The signed-in user; `None` for the command line.
    pub user_id: Option<uuid::Uuid>,
    pub ip: Option<IpAddr>,
    pub request_id: Option<String>,
}

impl Actor {
    /// Changes made with the `roster` command.
    pub fn command_line() -> Actor {
        Actor {
            name: Some("command line".to_owned()),
            ..Actor::default()
        }
    }
}

/// `{"field": {"old": …, "new": …}}`; an absent value is `null`.
pub fn changes_json(changes: &[FieldChange]) -> Value {
    let mut map = Map::new();
    for change in changes {
        let key = match change.custom {
            Some(id) => format!("custom.{id}"),
            None => change.field.as_str().to_owned(),
        };
        map.insert(key, json!({ "old": change.old, "new": change.new }));
    }
    Value::Object(map)
}

fn changes_from_json(value: &Value) -> Vec<FieldChange> {
    let Some(map) = value.as_object() else {
        return Vec::new();
    };
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    let mut changes: Vec<FieldChange> = map
        .iter()
        .filter_map(|(name, change)| {
            let custom = name
                .strip_prefix("custom.")
                .and_then(|id| id.parse::<i32>().ok());
            Some(FieldChange {
                field: match custom {
                    Some(_) => Field::Custom,
                    None => Field::parse(name)?,
                },
                custom,
                old: text(change.get("old")),
                new: text(change.get("new")),
            })
        })
        .collect();
    changes.sort_by_key(|change| (change.field, change.custom));
    changes
}

/// One entry for one contact.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: AuditAction,
    contact_id: Uuid,
    version: Option<i32>,
    changes: &[FieldChange],
    details: Option<Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (actor, ip, request_id, action, contact_id, version, changes, details)
         VALUES ($1, $2::inet, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&actor.name)
    .bind(actor.ip.map(|ip| ip.to_string()))
    .bind(&actor.request_id)
    .bind(action.as_str())
    .bind(contact_id)
    .bind(version)
    .bind(changes_json(changes))
    .bind(details)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    at: OffsetDateTime,
    action: String,
    actor: Option<String>,
    version: Option<i32>,
    changes: Value,
}

impl EntryRow {
    fn into_entry(self) -> Option<HistoryEntry> {
        Some(HistoryEntry {
            id: self.id,
            at_micros: (self.at.unix_timestamp_nanos() / 1_000) as i64,
            action: AuditAction::parse(&self.action)?,
            actor: self.actor,
            version: self.version,
            changes: changes_from_json(&self.changes),
        })
    }
}

/// A contact's history, newest first, at most `limit` entries.
pub async fn history(
    db: impl PgExecutor<'_>,
    contact_id: Uuid,
    limit: i64,
) -> Result<Vec<HistoryEntry>> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT id, at, action, actor, version, changes FROM audit_log
          WHERE contact_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(contact_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(EntryRow::into_entry).collect())
}

/// The changes made to a contact after `version`, oldest first.
pub async fn since_version(
    db: impl PgExecutor<'_>,
    contact_id: Uuid,
    version: i32,
) -> Result<Vec<HistoryEntry>> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT id, at, action, actor, version, changes FROM audit_log
          WHERE contact_id = $1 AND version > $2 ORDER BY id LIMIT 1000",
    )
    .bind(contact_id)
    .bind(version)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(EntryRow::into_entry).collect())
}

/// Several entries' changes as one: each field from its first old value to its last
/// new one, leaving out fields that came back to where they started.
pub fn combine(entries: &[HistoryEntry]) -> Vec<FieldChange> {
    let mut combined: Vec<FieldChange> = Vec::new();
    for change in entries.iter().flat_map(|entry| &entry.changes) {
        match combined
            .iter_mut()
            .find(|c| (c.field, c.custom) == (change.field, change.custom))
        {
            Some(existing) => existing.new.clone_from(&change.new),
            None => combined.push(change.clone()),
        }
    }
    combined.retain(|change| change.old != change.new);
    combined.sort_by_key(|change| (change.field, change.custom));
    combined
}

/// One entry per contact for a batch of the same action, in one statement. Each item is
/// the contact, its version after the change, the change and its details.
pub async fn record_many(
    conn: &mut PgConnection,
    actor: &Actor,
    action: AuditAction,
    entries: &[(Uuid, i32, Vec<FieldChange>, Value)],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = entries.iter().map(|e| e.0).collect();
    let versions: Vec<i32> = entries.iter().map(|e| e.1).collect();
    let changes: Vec<String> = entries
        .iter()
        .map(|e| changes_json(&e.2).to_string())
        .collect();
    let details: Vec<String> = entries.iter().map(|e| e.3.to_string()).collect();
    sqlx::query(
        "INSERT INTO audit_log (actor, ip, request_id, action, contact_id, version, changes, details)
         SELECT $1, $2::inet, $3, $4, u.id, u.version, u.changes::jsonb, u.details::jsonb
           FROM UNNEST($5::uuid[], $6::int4[], $7::text[], $8::text[])
             AS u(id, version, changes, details)",
    )
    .bind(&actor.name)
    .bind(actor.ip.map(|ip| ip.to_string()))
    .bind(&actor.request_id)
    .bind(action.as_str())
    .bind(&ids)
    .bind(&versions)
    .bind(&changes)
    .bind(&details)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: Field, old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            field,
            custom: None,
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
        }
    }

    #[test]
    fn changes_round_trip_through_json() {
        let changes = vec![
            change(Field::Name, Some("Ada"), Some("Ada Lovelace")),
            change(Field::Emails, None, Some("ada@example.com")),
            change(Field::Notes, Some("x"), None),
        ];
        assert_eq!(changes_from_json(&changes_json(&changes)), changes);
    }

    #[test]
    fn combining_keeps_first_old_and_last_new() {
        let entry = |changes| HistoryEntry {
            id: 0,
            at_micros: 0,
            action: AuditAction::Update,
            actor: None,
            version: None,
            changes,
        };
        let combined = combine(&[
            entry(vec![
                change(Field::Name, Some("A"), Some("B")),
                change(Field::Tier, Some("4"), Some("2")),
            ]),
            entry(vec![
                change(Field::Name, Some("B"), Some("C")),
                change(Field::Tier, Some("2"), Some("4")),
            ]),
        ]);
        assert_eq!(combined, vec![change(Field::Name, Some("A"), Some("C"))]);
    }
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: i64,
    at: OffsetDateTime,
    actor: Option<String>,
    action: String,
    contact_id: Uuid,
    contact_name: Option<String>,
    ip: Option<String>,
    request_id: Option<String>,
    changes: Value,
    details: Option<Value>,
}

/// `text` for a LIKE pattern that matches it anywhere, wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// What an entry did, in a few words: the fields it changed, or its details.
fn summary(changes: &Value, details: Option<&Value>) -> String {
    let fields: Vec<&str> = changes
        .as_object()
        .map(|map| map.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if !fields.is_empty() {
        return fields.join(", ");
    }
    let mut text = details.map(Value::to_string).unwrap_or_default();
    if text.chars().count() > 120 {
        text = text.chars().take(119).collect::<String>() + "…";
    }
    text
}

/// The whole audit log, newest first, filtered (who: part of the actor, any case;
/// action; a UTC day), `limit` entries from `filter.before` on, and whether there are
/// more.
pub async fn browse(
    db: impl PgExecutor<'_>,
    filter: &AuditFilter,
    limit: i64,
) -> Result<AuditPage> {
    let rows: Vec<LogRow> = sqlx::query_as(
        "SELECT a.id, a.at, a.actor, a.action, a.contact_id, c.name AS contact_name,
                host(a.ip) AS ip, a.request_id, a.changes, a.details
           FROM audit_log a LEFT JOIN contacts c ON c.id = a.contact_id
          WHERE ($1 = '' OR a.actor ILIKE $2)
            AND ($3::text IS NULL OR a.action = $3)
            AND ($4::date IS NULL OR (a.at >= $4::date::timestamp AT TIME ZONE 'UTC'
                                      AND a.at < ($4::date + 1)::timestamp AT TIME ZONE 'UTC'))
            AND ($5::bigint IS NULL OR a.id < $5)
          ORDER BY a.id DESC
          LIMIT $6",
    )
    .bind(&filter.who)
    .bind(contains_pattern(&filter.who))
    .bind(filter.action.map(AuditAction::as_str))
    .bind(filter.date.as_deref())
    .bind(filter.before)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    let more = rows.len() as i64 > limit;
    let entries: Vec<AuditRow> = rows
        .into_iter()
        .take(limit as usize)
        .filter_map(|row| {
            Some(AuditRow {
                id: row.id,
                at_micros: (row.at.unix_timestamp_nanos() / 1_000) as i64,
                actor: row.actor,
                action: AuditAction::parse(&row.action)?,
                contact_id: row.contact_id,
                contact_name: row.contact_name,
                ip: row.ip,
                request_id: row.request_id,
                summary: summary(&row.changes, row.details.as_ref()),
            })
        })
        .collect();
    Ok(AuditPage {
        next_before: if more {
            entries.last().map(|entry| entry.id)
        } else {
            None
        },
        entries,
    })
}

#[cfg(test)]
mod browse_tests {
    use super::*;

    #[test]
    fn who_is_matched_literally_anywhere() {
        assert_eq!(contains_pattern("ann"), "%ann%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn summaries_name_the_changed_fields_or_the_details() {
        let changes = json!({"name": {"old": "A", "new": "B"}, "tier": {"old": "1", "new": "2"}});
        assert_eq!(summary(&changes, None), "name, tier");
        let details = json!({"action": "add_tag", "count": 3});
        assert_eq!(summary(&json!({}), Some(&details)), details.to_string());
        assert_eq!(summary(&json!({}), None), "");
    }
}
