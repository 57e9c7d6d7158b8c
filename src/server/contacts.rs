//! Changing contacts: save (create or update), delete, restore. Each change is one
//! transaction that writes the contact and its audit entry together; the change feed
//! stamps it for the search followers (see `migrations/0002_change_feed.sql`), and the
//! author's own process waits briefly for its index to catch up, so the change shows in
//! their next search.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{
    db::{
        audit::{self, Actor},
        contacts, custom_fields,
    },
    error::{Error, Result},
    search::{SearchIndex, text},
};
use crate::{
    domain::{
        AuditAction, Card, Contact, ContactInput, ContactSummary, RESTORE_DAYS, SaveOutcome,
        custom::CustomField, merge::MergeChoices,
    },
    error::AppError,
};

/// How long a write waits for the local index to show it.
const VISIBLE_WITHIN: Duration = Duration::from_secs(2);

/// A save as the form sends it.
#[derive(Clone, Debug, Default)]
pub struct SaveRequest {
    /// `None` creates a contact.
    pub id: Option<Uuid>,
    /// The version the form was opened at (required to update).
    pub version: Option<i32>,
    pub input: ContactInput,
    /// Save even if the contact may be a duplicate.
    pub confirm: bool,
}

/// Creates or updates a contact, or says why not.
pub async fn save(
    db: &PgPool,
    index: &SearchIndex,
    actor: &Actor,
    request: SaveRequest,
) -> Result<SaveOutcome> {
    let fields = custom_fields::live(db).await?;
    let mut draft = match Card::parse_with(&request.input, &fields) {
        Ok(draft) => draft,
        Err(errors) => return Ok(SaveOutcome::Invalid { errors }),
    };
    super::phones::normalize(&mut draft);
    spell_company_as_recorded(db, &mut draft).await?;
    if let Some(photo) = &draft.photo
        && !super::photos::exists(db, photo).await?
    {
        let mut errors = crate::domain::FieldErrors::default();
        errors.add(
            crate::domain::Field::Photo,
            "The photo could not be kept. Choose it again.",
        );
        return Ok(SaveOutcome::Invalid { errors });
    }
    if let Some(existing) = email_owner(db, &draft, request.id).await? {
        return Ok(SaveOutcome::DuplicateEmail { existing });
    }
    if request.id.is_none() && !request.confirm {
        let matches = possible_duplicates(db, &draft, None).await?;
        if !matches.is_empty() {
            return Ok(SaveOutcome::PossibleDuplicates { matches });
        }
    }

    let mut tx = db.begin().await?;
    let saved = match request.id {
        None => {
            link_related(db, &mut draft, &[], None).await?;
            let contact = contacts::insert(&mut tx, &draft).await;
            let contact = match email_taken(contact, db, &draft, None).await? {
                Ok(contact) => contact,
                Err(outcome) => return Ok(outcome),
            };
            audit::record(
                &mut tx,
                actor,
                AuditAction::Create,
                contact.id,
                Some(contact.version),
                &draft.as_created(),
                None,
            )
            .await?;
            contact
        }
        Some(id) => {
            let Some(current) = contacts::find_for_update(&mut tx, id).await? else {
                return Ok(SaveOutcome::Gone);
            };
            if current.deleted_at_micros.is_some() {
                return Ok(SaveOutcome::Gone);
            }
            let seen = request.version.unwrap_or(0);
            if current.version != seen {
                return conflict(&mut tx, &current, seen).await;
            }
            keep_retired_values(&mut draft, &current.card, &fields);
            // The form never shows what an imported vCard carried beyond Roster's
            // fields: an edit keeps it as it is.
            draft.extras.clone_from(&current.card.extras);
            link_related(db, &mut draft, &[&current.card], Some(id)).await?;
            let changes = draft.changes_from(&current.card);
            if changes.is_empty() {
                return Ok(SaveOutcome::Saved { id });
            }
            let contact = contacts::update(&mut tx, id, &draft).await;
            let contact = match email_taken(contact, db, &draft, Some(id)).await? {
                Ok(contact) => contact,
                Err(outcome) => return Ok(outcome),
            };
            audit::record(
                &mut tx,
                actor,
                AuditAction::Update,
                id,
                Some(contact.version),
                &changes,
                None,
            )
            .await?;
            contact
        }
    };
    commit_visible(tx, index, saved.id).await?;
    Ok(SaveOutcome::Saved { id: saved.id })
}

/// Links each related person to their contact: an entry whose name is unchanged keeps
/// the link it had in `stored` (the person may have been renamed since); another is
/// linked when exactly one live contact (not this one) has that name.
pub async fn link_related(
    db: &PgPool,
    draft: &mut Card,
    stored: &[&Card],
    me: Option<Uuid>,
) -> Result<()> {
    for card in stored {
        draft.keep_links_from(card);
    }
    for entry in draft
        .related
        .iter_mut()
        .filter(|entry| entry.contact.is_none())
    {
        entry.contact = contacts::only_one_named(db, &entry.value, me).await?;
    }
    Ok(())
}

/// The values of fields that are not live (retired since, so not on the form) stay as
/// they were: retiring a field hides its values, it never drops them.
pub fn keep_retired_values(draft: &mut Card, stored: &Card, live: &[CustomField]) {
    for (id, value) in &stored.custom {
        if !live.iter().any(|field| field.id == *id) {
            draft.custom.insert(*id, value.clone());
        }
    }
}

/// A company already in the directory takes its record's spelling ("acme  INC" is
/// "Acme Inc"), as the database will write it, so the history records what is stored.
async fn spell_company_as_recorded(db: &PgPool, card: &mut Card) -> Result<()> {
    if let Some(company) = &card.company
        && let Some(name) = super::db::companies::canonical_name(db, company).await?
    {
        card.company = Some(name);
    }
    Ok(())
}

/// Another live contact with one of the card's email addresses, if any.
async fn email_owner(
    db: impl sqlx::PgExecutor<'_> + Copy,
    card: &Card,
    except: Option<Uuid>,
) -> Result<Option<ContactSummary>> {
    for entry in &card.emails {
        if let Some(owner) = contacts::email_owner(db, &entry.value, except).await? {
            return Ok(Some(owner));
        }
    }
    Ok(None)
}

/// Two people saving the same new address at once: the unique index refuses the
/// second, which then hears who has it, as if it had been checked first.
async fn email_taken(
    written: Result<Contact>,
    db: &PgPool,
    draft: &Card,
    except: Option<Uuid>,
) -> Result<Result<Contact, SaveOutcome>> {
    match written {
        Ok(contact) => Ok(Ok(contact)),
        Err(Error::Database(sqlx::Error::Database(error)))
            if error.constraint() == Some(contacts::EMAIL_KEY) =>
        {
            match email_owner(db, draft, except).await? {
                Some(existing) => Ok(Err(SaveOutcome::DuplicateEmail { existing })),
                None => Err(Error::App(AppError::BadRequest(
                    "Another contact was saved with this email address at the same moment. Please try again."
                        .into(),
                ))),
            }
        }
        Err(error) => Err(error),
    }
}

/// The refusal of a save made against `seen` when the contact is now at a later version.
async fn conflict(conn: &mut PgConnection, current: &Contact, seen: i32) -> Result<SaveOutcome> {
    let entries = audit::since_version(&mut *conn, current.id, seen).await?;
    let last = entries.last();
    Ok(SaveOutcome::Conflict {
        version: current.version,
        by: last.and_then(|entry| entry.actor.clone()),
        at_micros: last.map_or(current.updated_at_micros, |entry| entry.at_micros),
        changes: audit::combine(&entries),
    })
}

/// Contacts that may be the person in `draft`: a phone the same number as one of
/// theirs (by E.164 form, else digits), or a close name at the same company.
pub async fn possible_duplicates(
    db: &PgPool,
    draft: &Card,
    except: Option<Uuid>,
) -> Result<Vec<ContactSummary>> {
    let mut found: Vec<ContactSummary> = Vec::new();
    if !draft.phones.is_empty() {
        let keys: Vec<String> = draft.phones.iter().map(|phone| phone.key()).collect();
        found.extend(contacts::with_phone_keys(db, &keys, except).await?);
    }
    if let Some(company) = &draft.company {
        for candidate in contacts::at_company(db, company, except).await? {
            if names_are_close(&draft.name, &candidate.name)
                && !found.iter().any(|seen| seen.id == candidate.id)
            {
                found.push(candidate);
            }
        }
    }
    found.truncate(10);
    Ok(found)
}

/// The same words ignoring case, accents and order ("Zoe Lefevre", "Lefèvre Zoë"), or
/// within a typo or two of each other ("Jon Smith", "John Smith").
pub fn names_are_close(a: &str, b: &str) -> bool {
    let a_words = text::folded_words(a);
    let b_words = text::folded_words(b);
    if a_words.is_empty() || b_words.is_empty() {
        return false;
    }
    if a_words.len() != b_words.len() {
        return false;
    }
    let mut sorted_a = a_words.clone();
    let mut sorted_b = b_words.clone();
    sorted_a.sort();
    sorted_b.sort();
    if sorted_a == sorted_b {
        return true;
    }
    // Word by word, each within its typo budget (at least one edit for a word of three
    // letters or more), and two edits in all.
    let mut total = 0;
    for (a, b) in a_words.iter().zip(&b_words) {
        let longer = if a.len() >= b.len() { a } else { b };
        let budget = usize::from(text::typo_budget(longer))
            .max(usize::from(a.chars().count().min(b.chars().count()) >= 3));
        let distance = text::edit_distance(a, b, budget);
        if distance > budget {
            return false;
        }
        total += distance;
    }
    total <= 2
}

/// Deletes a contact softly: out of the directory and search at once, restorable for
/// [`RESTORE_DAYS`] days.
pub async fn delete(db: &PgPool, index: &SearchIndex, actor: &Actor, id: Uuid) -> Result<Contact> {
    let mut tx = db.begin().await?;
    let current = contacts::find_for_update(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if current.deleted_at_micros.is_some() {
        return Ok(current);
    }
    let deleted = contacts::set_deleted(&mut tx, id, true).await?;
    audit::record(
        &mut tx,
        actor,
        AuditAction::Delete,
        id,
        Some(deleted.version),
        &[],
        None,
    )
    .await?;
    commit_visible(tx, index, id).await?;
    Ok(deleted)
}

/// Brings back a deleted contact, unless the restore window has passed or another
/// contact has taken its email address meanwhile.
pub async fn restore(db: &PgPool, index: &SearchIndex, actor: &Actor, id: Uuid) -> Result<Contact> {
    let mut tx = db.begin().await?;
    let current = contacts::find_for_update(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(deleted_at) = current.deleted_at_micros else {
        return Ok(current);
    };
    let window = RESTORE_DAYS * 86_400 * 1_000_000;
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64;
    if now - deleted_at > window {
        return Err(AppError::BadRequest(format!(
            "This contact was deleted more than {RESTORE_DAYS} days ago and can no longer be restored."
        ))
        .into());
    }
    for entry in &current.card.emails {
        if let Some(owner) = contacts::email_owner(&mut *tx, &entry.value, Some(id)).await? {
            return Err(AppError::BadRequest(format!(
                "{} now has this contact's email address ({}). Change or remove it there first, then restore.",
                owner.name,
                entry.value.as_str()
            ))
            .into());
        }
    }
    let restored = contacts::set_deleted(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        actor,
        AuditAction::Restore,
        id,
        Some(restored.version),
        &[],
        None,
    )
    .await?;
    commit_visible(tx, index, id).await?;
    Ok(restored)
}

/// Merges `other` into `keep`: each field as `choices` says, tags united. `other` is
/// deleted (softly, so the merge can be looked into) and both histories record the merge.
/// Refused if either contact changed since the page showed them (`versions`).
pub async fn merge(
    db: &PgPool,
    index: &SearchIndex,
    actor: &Actor,
    (keep_id, other_id): (Uuid, Uuid),
    versions: (i32, i32),
    choices: &MergeChoices,
) -> Result<()> {
    if keep_id == other_id {
        return Err(AppError::BadRequest("A contact cannot be merged with itself.".into()).into());
    }
    let mut tx = db.begin().await?;
    // Lock in a fixed order, so two merges of the same pair cannot deadlock.
    let (first, second) = if keep_id < other_id {
        (keep_id, other_id)
    } else {
        (other_id, keep_id)
    };
    let first = contacts::find_for_update(&mut tx, first).await?;
    let second = contacts::find_for_update(&mut tx, second).await?;
    let (keep, other) = match (first, second) {
        (Some(a), Some(b)) if a.id == keep_id => (a, b),
        (Some(a), Some(b)) => (b, a),
        _ => return Err(AppError::NotFound.into()),
    };
    if keep.deleted_at_micros.is_some() || other.deleted_at_micros.is_some() {
        return Err(AppError::BadRequest(
            "One of these contacts has been deleted, so they cannot be merged.".into(),
        )
        .into());
    }
    if (keep.version, other.version) != versions {
        return Err(AppError::BadRequest(
            "One of these contacts was changed after this page was opened. Review the merge again with their current values."
                .into(),
        )
        .into());
    }
    // Every field, retired ones too: the values are both contacts' stored ones.
    let fields = custom_fields::all(db).await?;
    let merged = choices.merged(&keep.card, &other.card);
    let mut draft = Card::parse_with(&merged, &fields).map_err(|errors| {
        AppError::BadRequest(format!("The merged contact would not be valid: {errors}"))
    })?;
    super::phones::normalize(&mut draft);
    spell_company_as_recorded(db, &mut draft).await?;
    link_related(db, &mut draft, &[&keep.card, &other.card], Some(keep.id)).await?;
    // The merged-away contact goes first, freeing its email for the kept one.
    let merged_away = contacts::set_deleted(&mut tx, other.id, true).await?;
    audit::record(
        &mut tx,
        actor,
        AuditAction::Merge,
        other.id,
        Some(merged_away.version),
        &[],
        Some(serde_json::json!({ "into": keep.id, "name": keep.card.name })),
    )
    .await?;
    let changes = draft.changes_from(&keep.card);
    let kept = contacts::update(&mut tx, keep.id, &draft).await?;
    audit::record(
        &mut tx,
        actor,
        AuditAction::Merge,
        keep.id,
        Some(kept.version),
        &changes,
        Some(serde_json::json!({ "merged": other.id, "name": other.card.name })),
    )
    .await?;
    commit_visible(tx, index, keep.id).await?;
    Ok(())
}

/// Commits, then waits (briefly) until this process's searches see the change.
async fn commit_visible(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    index: &SearchIndex,
    id: Uuid,
) -> Result<()> {
    let position: i64 = sqlx::query_scalar("SELECT change_seq FROM contacts WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    if index.current().is_some() && !index.wait_for(position, VISIBLE_WITHIN).await {
        tracing::warn!(position, "the search index did not show a write within 2 s");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::names_are_close;

    #[test]
    fn close_names() {
        assert!(names_are_close("Zoë Lefèvre", "zoe lefevre"));
        assert!(names_are_close("Lefèvre Zoë", "Zoe Lefevre"));
        assert!(names_are_close("Jon Smith", "John Smith"));
        assert!(names_are_close("Bartholomew Quigley", "Bartholemew Quigly"));
        assert!(!names_are_close("Anthony May", "Anthony Mayer"));
        assert!(!names_are_close("John Smith", "Jane Smyth"));
        assert!(!names_are_close("", "A"));
    }
}
