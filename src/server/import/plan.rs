//! What a file will do to the directory: each row checked like a form, matched to a
//! contact (by its first email, or by name and company without one), and planned as a
//! creation, an update (the row written over the contact, entries added, nothing
//! dropped), no change, or a repeat; the dry run that counts it all before anything is
//! committed.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::read::{self, SourceRow};
use crate::{
    domain::{
        Card, Contact, ContactInput, FieldChange,
        custom::CustomField,
        import::{
            ColumnMapping, ImportCounts, ImportFormat, MAX_LISTED_ROWS, PossibleDuplicate,
            SkippedRow,
        },
    },
    error::AppError,
    server::{
        db::{contacts, custom_fields},
        error::Result,
    },
};

/// What identifies a row's contact within a file and in the directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum MatchKey {
    Email(String),
    NameCompany(String, String),
}

/// A row is known by its first email, or, without one, by its name and company.
pub(super) fn match_key(draft: &Card) -> MatchKey {
    match draft.primary_email() {
        Some(email) => MatchKey::Email(email.normalized()),
        None => MatchKey::NameCompany(
            draft.name.to_lowercase(),
            draft.company.as_deref().unwrap_or_default().to_lowercase(),
        ),
    }
}

/// A valid row, first of its match key in the file: what was typed, and its draft.
pub(super) struct ValidRow {
    pub(super) line: u64,
    pub(super) input: ContactInput,
    pub(super) draft: Card,
    /// The photo the row carried (the draft names it), stored with the batch.
    pub(super) photo: Option<crate::server::photos::Photo>,
}

/// What one valid, first-seen row will do.
pub(super) enum Planned<'a> {
    Create(&'a Card),
    Update {
        id: Uuid,
        draft: Box<Card>,
        changes: Vec<FieldChange>,
    },
    Unchanged,
    /// Another row of this batch already matched the same contact.
    Duplicate,
}

/// An existing contact with the row written over it: a non-empty cell replaces a
/// single value (a blank cell, or a column the file does not have, leaves it as it is);
/// the row's emails, phones, addresses, links, handles and dates are added to the
/// contact's own unless already there (up to each list's bound), so an import never
/// drops an entry.
pub(super) fn overlay(contact: &Contact, row: &ContactInput) -> ContactInput {
    let mut input = ContactInput::from(contact);
    for (slot, value) in [
        (&mut input.name, &row.name),
        (&mut input.prefix, &row.prefix),
        (&mut input.given, &row.given),
        (&mut input.middle, &row.middle),
        (&mut input.family, &row.family),
        (&mut input.suffix, &row.suffix),
        (&mut input.nickname, &row.nickname),
        (&mut input.phonetic_given, &row.phonetic_given),
        (&mut input.phonetic_family, &row.phonetic_family),
        (&mut input.pronouns, &row.pronouns),
        (&mut input.file_as, &row.file_as),
        (&mut input.birthday, &row.birthday),
        (&mut input.company, &row.company),
        (&mut input.department, &row.department),
        (&mut input.title, &row.title),
        (&mut input.tier, &row.tier),
        (&mut input.tags, &row.tags),
        (&mut input.notes, &row.notes),
        (&mut input.photo, &row.photo),
    ] {
        if !value.trim().is_empty() {
            slot.clone_from(value);
        }
    }
    for (key, value) in &row.custom {
        if !value.trim().is_empty() {
            input.custom.insert(key.clone(), value.clone());
        }
    }
    let same_text = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
    let digits = |text: &str| -> String { text.chars().filter(char::is_ascii_digit).collect() };
    add_missing(&mut input.emails, &row.emails, |a, b| {
        same_text(&a.value, &b.value)
    });
    add_missing(&mut input.phones, &row.phones, |a, b| {
        digits(&a.value) == digits(&b.value)
    });
    add_missing(&mut input.links, &row.links, |a, b| {
        same_text(&a.value, &b.value)
    });
    add_missing(&mut input.ims, &row.ims, |a, b| {
        same_text(&a.value, &b.value)
    });
    add_missing(&mut input.related, &row.related, |a, b| {
        same_text(&a.value, &b.value)
    });
    add_missing(&mut input.dates, &row.dates, |a, b| {
        same_text(&a.value, &b.value) && same_text(&a.label, &b.label)
    });
    add_missing(&mut input.addresses, &row.addresses, |a, b| {
        same_text(&a.city, &b.city) && same_text(&a.street, &b.street)
    });
    crate::domain::card::add_extras(&mut input.extras, &row.extras);
    input
}

pub(super) fn add_missing<T: Clone>(rows: &mut Vec<T>, new: &[T], same: impl Fn(&T, &T) -> bool) {
    for entry in new {
        if rows.len() < crate::domain::card::MAX_ENTRIES && !rows.iter().any(|row| same(row, entry))
        {
            rows.push(entry.clone());
        }
    }
}

/// Matches a batch of rows to the live directory (locking the matches if `lock`).
/// `fields` are every custom field, retired ones too (a stored contact may hold values
/// of any).
pub(super) async fn plan<'a>(
    conn: &mut PgConnection,
    rows: &'a [ValidRow],
    fields: &[CustomField],
    lock: bool,
) -> Result<Vec<Planned<'a>>> {
    // Lookups by key always want the indexes. Early in an import the planner has no
    // statistics for a table that is filling up (and a cached generic plan outlives
    // them), and would scan the whole table for every batch.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *conn)
        .await?;
    // Sent as typed: Postgres lowers both sides, exactly as its indexes do.
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|row| row.draft.primary_email().map(|e| e.as_str().to_owned()))
        .collect();
    let names: Vec<String> = rows
        .iter()
        .filter(|row| row.draft.emails.is_empty())
        .map(|row| row.draft.name.clone())
        .collect();
    let mut existing: HashMap<MatchKey, Contact> = HashMap::new();
    if !emails.is_empty() {
        // A contact is found by any of its addresses.
        for contact in contacts::live_by_emails(conn, &emails, lock).await? {
            for entry in &contact.card.emails {
                existing.insert(MatchKey::Email(entry.value.normalized()), contact.clone());
            }
        }
    }
    if !names.is_empty() {
        for contact in contacts::live_by_names(conn, &names, lock).await? {
            let key = MatchKey::NameCompany(
                contact.card.name.to_lowercase(),
                contact
                    .card
                    .company
                    .as_deref()
                    .unwrap_or_default()
                    .to_lowercase(),
            );
            // The oldest match wins, consistently between runs.
            existing
                .entry(key)
                .and_modify(|kept| {
                    if (contact.created_at_micros, contact.id) < (kept.created_at_micros, kept.id) {
                        *kept = contact.clone();
                    }
                })
                .or_insert(contact);
        }
    }
    let mut touched: HashSet<Uuid> = HashSet::new();
    Ok(rows
        .iter()
        .map(|row| match existing.get(&match_key(&row.draft)) {
            None => Planned::Create(&row.draft),
            Some(contact) if !touched.insert(contact.id) => Planned::Duplicate,
            Some(contact) => {
                // The overlay of two valid contacts is valid; should the stored one not
                // be (data from before these rules), the row alone is.
                let mut draft = Card::parse_with(&overlay(contact, &row.input), fields)
                    .unwrap_or_else(|_| row.draft.clone());
                draft.keep_links_from(&contact.card);
                let changes = draft.changes_from(&contact.card);
                if changes.is_empty() {
                    Planned::Unchanged
                } else {
                    Planned::Update {
                        id: contact.id,
                        draft: Box::new(draft),
                        changes,
                    }
                }
            }
        })
        .collect())
}

/// Rows of a file sorted into batches: valid first-seen drafts to plan, and the rest
/// counted (and listed) as they go.
pub(super) struct Sorter {
    /// Every custom field, and the live ones (which rows may fill).
    pub(super) fields: Vec<CustomField>,
    live: Vec<CustomField>,
    pub(super) seen: HashSet<MatchKey>,
    pub(super) counts: ImportCounts,
    pub(super) invalid_rows: Vec<SkippedRow>,
    pub(super) duplicate_rows: Vec<SkippedRow>,
}

impl Sorter {
    pub(super) fn new(fields: Vec<CustomField>) -> Sorter {
        Sorter {
            live: fields.iter().filter(|f| !f.retired).cloned().collect(),
            fields,
            seen: HashSet::new(),
            counts: ImportCounts::default(),
            invalid_rows: Vec::new(),
            duplicate_rows: Vec::new(),
        }
    }

    /// Takes one row; returns it with its draft if it is valid and not a repeat.
    pub(super) fn sort(&mut self, row: SourceRow) -> Option<ValidRow> {
        self.counts.rows += 1;
        let draft = match row.input {
            Err(reason) => Err(reason),
            Ok(input) if input == ContactInput::default() => Err("The row is empty.".to_owned()),
            Ok(mut input) => {
                // Values named by no field are kept as other data.
                for (name, value) in crate::domain::custom::by_name(&mut input.custom, &self.fields)
                {
                    let line = crate::domain::card::custom_line(&name, &value);
                    crate::domain::card::add_extras(&mut input.extras, &[line]);
                }
                Card::parse_with(&input, &self.live)
                    .map(|mut draft| {
                        crate::server::phones::normalize(&mut draft);
                        (input, draft)
                    })
                    .map_err(|errors| errors.describe(&self.live))
            }
        };
        match draft {
            Err(reason) => {
                self.counts.invalid += 1;
                if self.invalid_rows.len() < MAX_LISTED_ROWS {
                    self.invalid_rows.push(SkippedRow {
                        line: row.line,
                        reason,
                    });
                }
                None
            }
            Ok((input, draft)) => {
                let key = match_key(&draft);
                if self.seen.insert(key.clone()) {
                    Some(ValidRow {
                        line: row.line,
                        input,
                        draft,
                        photo: row.photo,
                    })
                } else {
                    self.counts.duplicate += 1;
                    if self.duplicate_rows.len() < MAX_LISTED_ROWS {
                        let reason = match key {
                            MatchKey::Email(email) => {
                                format!("{email} appears earlier in the file.")
                            }
                            MatchKey::NameCompany(..) => {
                                format!(
                                    "{} (same name and company) appears earlier in the file.",
                                    draft.name
                                )
                            }
                        };
                        self.duplicate_rows.push(SkippedRow {
                            line: row.line,
                            reason,
                        });
                    }
                    None
                }
            }
        }
    }

    fn count(&mut self, planned: &[Planned<'_>]) {
        for plan in planned {
            match plan {
                Planned::Create(_) => self.counts.create += 1,
                Planned::Update { .. } => self.counts.update += 1,
                Planned::Unchanged => self.counts.unchanged += 1,
                Planned::Duplicate => self.counts.duplicate += 1,
            }
        }
    }
}

/// Reads `path` on a blocking thread, sending rows in batches of [`super::BATCH_ROWS`], after
/// skipping (but still sorting, for the duplicate check) the first `skip` rows.
pub(super) fn read_batches(
    path: PathBuf,
    format: ImportFormat,
    mapping: ColumnMapping,
) -> mpsc::Receiver<std::io::Result<Vec<SourceRow>>> {
    let (sender, receiver) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let rows = match read::rows(&path, format, &mapping) {
            Ok(rows) => rows,
            Err(error) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
        };
        let mut batch = Vec::with_capacity(super::BATCH_ROWS);
        for row in rows {
            batch.push(row);
            if batch.len() == super::BATCH_ROWS
                && sender
                    .blocking_send(Ok(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(super::BATCH_ROWS),
                    )))
                    .is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(Ok(batch));
        }
    });
    receiver
}

/// What the dry run found.
pub(super) struct DryRun {
    pub(super) counts: ImportCounts,
    pub(super) invalid_rows: Vec<SkippedRow>,
    pub(super) duplicate_rows: Vec<SkippedRow>,
    pub(super) possible_duplicates: Vec<PossibleDuplicate>,
}

/// What one import may hold: its dry run keeps a key per row (to find rows repeated
/// within the file), so the rows bound its memory, as [`super::DRY_RUN_BUDGET`] bounds its time.
#[derive(Clone, Copy, Debug)]
pub struct ImportLimits {
    pub max_rows: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        // About 100 MB of keys at most; a 200 MB file of rich contacts has some 350,000.
        ImportLimits {
            max_rows: 1_000_000,
        }
    }
}

impl ImportLimits {
    pub fn from_config(config: &crate::server::config::Config) -> Self {
        ImportLimits {
            max_rows: config.import_max_rows.max(1),
        }
    }
}

/// [`dry_run`] within its time budget.
pub(super) async fn checked_dry_run(
    db: &PgPool,
    path: &Path,
    format: ImportFormat,
    mapping: &ColumnMapping,
    limits: ImportLimits,
) -> Result<DryRun> {
    tokio::time::timeout(
        super::DRY_RUN_BUDGET,
        dry_run(db, path, format, mapping, limits),
    )
    .await
    .map_err(|_| {
        AppError::BadRequest(format!(
            "Checking the file took longer than {} seconds: split it into smaller files.",
            super::DRY_RUN_BUDGET.as_secs()
        ))
    })?
}

pub(super) async fn dry_run(
    db: &PgPool,
    path: &Path,
    format: ImportFormat,
    mapping: &ColumnMapping,
    limits: ImportLimits,
) -> Result<DryRun> {
    let mut sorter = Sorter::new(custom_fields::all(db).await?);
    let mut possible: Vec<PossibleDuplicate> = Vec::new();
    let mut batches = read_batches(path.to_owned(), format, mapping.clone());
    while let Some(batch) = batches.recv().await {
        let batch = batch.map_err(|e| anyhow::anyhow!("reading the import file: {e}"))?;
        let drafts: Vec<ValidRow> = batch
            .into_iter()
            .filter_map(|row| sorter.sort(row))
            .collect();
        if sorter.counts.rows > limits.max_rows {
            return Err(AppError::BadRequest(format!(
                "The file has more than {} rows; Roster imports at most that many at once: \
                 split it into smaller files.",
                limits.max_rows
            ))
            .into());
        }
        // Only looking: no locks, and nothing to keep.
        let mut tx = db.begin().await?;
        let planned = plan(&mut tx, &drafts, &sorter.fields, false).await?;
        sorter.count(&planned);
        let creating: Vec<&ValidRow> = drafts
            .iter()
            .zip(&planned)
            .filter(|(_, plan)| matches!(plan, Planned::Create(_)))
            .map(|(row, _)| row)
            .collect();
        let found = possible_duplicates(&mut tx, &creating).await?;
        sorter.counts.possible_duplicate += found.len() as u64;
        let room = MAX_LISTED_ROWS.saturating_sub(possible.len());
        possible.extend(found.into_iter().take(room));
        drop(planned);
        tx.rollback().await?;
    }
    Ok(DryRun {
        counts: sorter.counts,
        invalid_rows: sorter.invalid_rows,
        duplicate_rows: sorter.duplicate_rows,
        possible_duplicates: possible,
    })
}

/// Rows about to be created that may be contacts already there: a phone the same
/// number as one of theirs, or the same name at the same company. One per row, the
/// first found.
pub(super) async fn possible_duplicates(
    conn: &mut PgConnection,
    rows: &[&ValidRow],
) -> Result<Vec<PossibleDuplicate>> {
    let keys: Vec<String> = rows
        .iter()
        .flat_map(|row| row.draft.phones.iter().map(|phone| phone.key()))
        .collect();
    let by_phone: HashMap<String, (Uuid, String)> = if keys.is_empty() {
        HashMap::new()
    } else {
        contacts::with_any_phone_keys(conn, &keys)
            .await?
            .into_iter()
            .map(|(id, name, key)| (key, (id, name)))
            .collect()
    };
    let (names, companies): (Vec<String>, Vec<String>) = rows
        .iter()
        .filter_map(|row| {
            let company = row.draft.company.clone()?;
            Some((row.draft.name.clone(), company))
        })
        .unzip();
    let by_name: HashMap<(String, String), (Uuid, String)> = if names.is_empty() {
        HashMap::new()
    } else {
        contacts::with_name_at_company(conn, &names, &companies)
            .await?
            .into_iter()
            .map(|(id, name, company)| ((name.to_lowercase(), company.to_lowercase()), (id, name)))
            .collect()
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            let phone = row
                .draft
                .phones
                .iter()
                .find_map(|phone| by_phone.get(&phone.key()))
                .map(|found| (found, "the same phone number"));
            let name = row.draft.company.as_ref().and_then(|company| {
                by_name
                    .get(&(row.draft.name.to_lowercase(), company.to_lowercase()))
                    .map(|found| (found, "the same name at the same company"))
            });
            let ((id, existing_name), why) = phone.or(name)?;
            Some(PossibleDuplicate {
                line: row.line,
                name: row.draft.name.clone(),
                existing: *id,
                existing_name: existing_name.clone(),
                reason: format!("{why} as {existing_name}"),
            })
        })
        .collect())
}
