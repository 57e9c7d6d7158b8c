//! Reading and changing one contact.
//!
//! The form's server functions serve two kinds of caller. Hydrated, the page calls them
//! and shows what they return (errors beside their fields) without a reload; a save
//! then redirects through the router. Without JavaScript the browser posts the form
//! itself: a refused save keeps the input and the reasons on the server for one
//! redirect back to the form (`?draft=`), and a successful one redirects to the
//! contact.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    domain::{
        Contact, ContactInput, HistoryEntry, SaveOutcome, edit::ContactForm, merge::MergeChoices,
    },
    error::AppError,
};

/// Every field of one contact, deleted or not; `NotFound` if there is none with this
/// id (or the id is not one), so the page answers 404 either way.
#[server(prefix = "/api", endpoint = "contact", input = GetUrl)]
pub async fn get_contact(id: String) -> Result<Contact, AppError> {
    use crate::server::db::{contacts, replica::Source};
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = async {
        let id = parse_id(&id)?;
        let mut conn = cx.read_connection().await?;
        let mut found = contacts::find(&mut *conn, id).await?;
        // A contact younger than the replica's lag (found by a search a moment after
        // someone added it) is on the primary.
        if found.is_none() && conn.source == Source::Replica {
            conn = cx.state.reads.acquire_primary().await?;
            found = contacts::find(&mut *conn, id).await?;
        }
        found.ok_or(AppError::NotFound.into())
    }
    .await;
    cx.finish(result)
}

/// The people whose contacts name this one among their related people (linked), each
/// with the relationship as it reads from this side.
#[server(prefix = "/api", endpoint = "contact-relations", input = GetUrl)]
pub async fn get_contact_relations(
    id: String,
) -> Result<Vec<crate::domain::contact::RelatedPerson>, AppError> {
    use crate::{
        domain::{card::inverse_label, contact::RelatedPerson},
        server::db::contacts,
    };
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = async {
        let id = parse_id(&id)?;
        let mut conn = cx.read_connection().await?;
        Ok(contacts::relating_to(&mut *conn, id)
            .await?
            .into_iter()
            .flat_map(|(other, name, related)| {
                related.into_iter().map(move |entry| RelatedPerson {
                    id: other,
                    name: name.clone(),
                    label: inverse_label(entry.label.as_deref()),
                })
            })
            .collect())
    }
    .await;
    cx.finish(result)
}

/// The contact form as it should open: empty for a new contact, the contact's values
/// for an edit, or, after a refused post without JavaScript, what was posted and why
/// it was refused (`draft`).
#[server(prefix = "/api", endpoint = "contact-form", input = GetUrl)]
pub async fn get_contact_form(
    id: Option<String>,
    draft: Option<String>,
) -> Result<ContactForm, AppError> {
    use crate::server::db::{contacts, drafts};
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = id.as_deref().map(parse_id).transpose()?;
        let contact = match id {
            Some(id) => Some(
                contacts::find(&cx.state.db, id)
                    .await?
                    .filter(|contact| contact.deleted_at_micros.is_none())
                    .ok_or(AppError::NotFound)?,
            ),
            None => None,
        };
        let stashed = match draft.as_deref().map(uuid::Uuid::try_parse) {
            Some(Ok(key)) => drafts::fetch::<ContactForm>(&cx.state.db, key)
                .await?
                .filter(|form| form.id == id),
            _ => None,
        };
        let fields = crate::server::db::custom_fields::live(&cx.state.db).await?;
        let mut form = match (stashed, contact) {
            (Some(mut form), contact) => {
                form.saved_name = contact.map(|contact| contact.card.name);
                form
            }
            (None, Some(contact)) => ContactForm {
                id,
                saved_name: Some(contact.card.name.clone()),
                input: ContactInput::from(&contact),
                version: Some(contact.version),
                outcome: None,
                fields: Vec::new(),
            },
            (None, None) => ContactForm {
                id: None,
                saved_name: None,
                input: ContactInput::default(),
                version: None,
                outcome: None,
                fields: Vec::new(),
            },
        };
        form.fields = fields;
        Ok(form)
    }
    .await;
    cx.finish(result)
}

/// Saves the contact form: creates a contact (no `id`) or updates one at `version`.
/// `confirm` saves even if the contact may be a duplicate.
#[server(prefix = "/api", endpoint = "save-contact")]
pub async fn save_contact(
    #[server(flatten)] input: ContactInput,
    #[server(default)] id: Option<String>,
    #[server(default)] version: Option<String>,
    #[server(default)] confirm: Option<String>,
    #[server(default)] row_op: Option<String>,
) -> Result<SaveOutcome, AppError> {
    use crate::server::{
        RequestContext,
        contacts::{self, SaveRequest},
        db::drafts,
    };
    let cx = RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = match id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) => Some(parse_id(id)?),
        };
        let version = version
            .as_deref()
            .and_then(|v| v.trim().parse::<i32>().ok());
        // A row button pressed without JavaScript: the form comes back with the row
        // added, removed or moved, its other values as typed, nothing saved.
        if let Some(op) = row_op.as_deref().filter(|op| !op.is_empty()) {
            let mut input = input;
            input.apply_row_op(op);
            let list = op
                .split(':')
                .nth(1)
                .and_then(crate::domain::Field::parse)
                .filter(|field| field.is_list())
                .map_or("", |field| field.as_str());
            let form = ContactForm {
                id,
                saved_name: None,
                input,
                version,
                outcome: None,
                fields: Vec::new(),
            };
            let key = drafts::stash(&cx.state.db, &form).await?;
            let path = match id {
                Some(id) => format!("/contacts/{id}/edit?draft={key}#list-{list}"),
                None => format!("/contacts/new?draft={key}#list-{list}"),
            };
            leptos_axum::redirect(&path);
            return Ok(SaveOutcome::RowsChanged);
        }
        let request = SaveRequest {
            id,
            version,
            input: input.clone(),
            confirm: confirm.is_some_and(|c| !c.is_empty()),
        };
        let outcome =
            contacts::save(&cx.state.db, &cx.state.search.index, &cx.actor(), request).await?;
        if matches!(outcome, SaveOutcome::Saved { .. }) {
            cx.note_written().await;
        }
        match &outcome {
            SaveOutcome::Saved { id } => leptos_axum::redirect(&format!("/contacts/{id}")),
            refused if RequestContext::is_plain_form_post() => {
                // A conflict moves the form to the version it was refused against, so
                // the next save overwrites knowingly.
                let version = match refused {
                    SaveOutcome::Conflict { version, .. } => Some(*version),
                    _ => version,
                };
                let form = ContactForm {
                    id,
                    saved_name: None,
                    input,
                    version,
                    outcome: Some(refused.clone()),
                    fields: Vec::new(),
                };
                let key = drafts::stash(&cx.state.db, &form).await?;
                let path = match id {
                    Some(id) => format!("/contacts/{id}/edit?draft={key}"),
                    None => format!("/contacts/new?draft={key}"),
                };
                leptos_axum::redirect(&path);
            }
            _ => {}
        }
        Ok(outcome)
    }
    .await;
    cx.finish(result)
}

/// Deletes a contact (softly: it can be restored for 30 days) and goes to its page,
/// which offers the restore.
#[server(prefix = "/api", endpoint = "delete-contact")]
pub async fn delete_contact(id: String) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = parse_id(&id)?;
        crate::server::contacts::delete(&cx.state.db, &cx.state.search.index, &cx.actor(), id)
            .await?;
        cx.note_written().await;
        leptos_axum::redirect(&format!("/contacts/{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Restores a deleted contact and goes to its page.
#[server(prefix = "/api", endpoint = "restore-contact")]
pub async fn restore_contact(id: String) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let id = parse_id(&id)?;
        crate::server::contacts::restore(&cx.state.db, &cx.state.search.index, &cx.actor(), id)
            .await?;
        cx.note_written().await;
        leptos_axum::redirect(&format!("/contacts/{id}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// Merges `other` into `keep` (see `server::contacts::merge`) and goes to the kept contact.
#[server(prefix = "/api", endpoint = "merge-contacts")]
pub async fn merge_contacts(
    keep: String,
    other: String,
    keep_version: String,
    other_version: String,
    #[server(flatten)] choices: MergeChoices,
) -> Result<(), AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Editor)?;
    let result = async {
        let (keep, other) = (parse_id(&keep)?, parse_id(&other)?);
        let version = |text: &str| text.trim().parse::<i32>().unwrap_or(0);
        crate::server::contacts::merge(
            &cx.state.db,
            &cx.state.search.index,
            &cx.actor(),
            (keep, other),
            (version(&keep_version), version(&other_version)),
            &choices,
        )
        .await?;
        cx.note_written().await;
        leptos_axum::redirect(&format!("/contacts/{keep}"));
        Ok(())
    }
    .await;
    cx.finish_action(result).await
}

/// A contact's history, newest first.
#[server(prefix = "/api", endpoint = "contact-history", input = GetUrl)]
pub async fn get_contact_history(id: String) -> Result<Vec<HistoryEntry>, AppError> {
    let cx = crate::server::RequestContext::with_role(crate::domain::Role::Viewer)?;
    let result = async {
        let id = parse_id(&id)?;
        let mut conn = cx.read_connection().await?;
        crate::server::db::audit::history(&mut *conn, id, 200).await
    }
    .await;
    cx.finish(result)
}

/// A contact id from a URL or form; anything else is a contact that does not exist.
#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, crate::server::error::Error> {
    uuid::Uuid::try_parse(id.trim()).map_err(|_| AppError::NotFound.into())
}

/// The message a plain form post left for its page (`?notice=`), if it is still kept.
#[server(prefix = "/api", endpoint = "notice", input = GetUrl)]
pub async fn get_notice(key: String) -> Result<Option<String>, AppError> {
    // Public: the sign-in page shows why a sign-in was refused. A notice is read by
    // its random key only and holds nothing but that message.
    let cx = crate::server::RequestContext::current()?;
    let result = async {
        Ok(match uuid::Uuid::try_parse(key.trim()) {
            Ok(key) => {
                crate::server::db::drafts::fetch::<crate::domain::edit::Notice>(&cx.state.db, key)
                    .await?
                    .map(|notice| notice.message)
            }
            Err(_) => None,
        })
    }
    .await;
    cx.finish(result)
}
