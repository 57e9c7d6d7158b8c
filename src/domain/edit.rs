//! What edits come to: the outcome of saving a form, and a contact's history.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ContactInput, ContactSummary, Field, FieldErrors};

/// One field's change: its value before and after, as text (`None` when empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: Field,
    /// Which custom field, when `field` is [`Field::Custom`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<i32>,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl FieldChange {
    /// What the change is to, as people read it: the field's label, or the custom
    /// field's name (`names`: every custom field, retired ones too).
    pub fn label(&self, names: &[super::custom::CustomField]) -> String {
        match self.custom {
            Some(id) => names
                .iter()
                .find(|field| field.id == id)
                .map_or_else(|| "A removed field".to_owned(), |field| field.name.clone()),
            None => self.field.label().to_owned(),
        }
    }
}

/// What saving the contact form came to. Anything but `Saved` sends the form back
/// with the input as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved {
        id: Uuid,
    },
    /// Some fields break the rules; each has its message.
    Invalid {
        errors: FieldErrors,
    },
    /// Someone saved the contact after this form was opened. `changes` are theirs, field
    /// by field (oldest value to newest); `version` is the contact's version now, which
    /// the form takes, so saving again overwrites knowingly.
    Conflict {
        version: i32,
        by: Option<String>,
        at_micros: i64,
        changes: Vec<FieldChange>,
    },
    /// Another contact already has this email address.
    DuplicateEmail {
        existing: ContactSummary,
    },
    /// Contacts that may be the same person (a close name at the same company, or the
    /// same phone number): saving again with `confirm` set saves anyway.
    PossibleDuplicates {
        matches: Vec<ContactSummary>,
    },
    /// The contact was deleted, or never existed.
    Gone,
    /// A row button of the form was pressed without JavaScript (add, remove or move an
    /// entry): the form comes back changed, and nothing is saved yet.
    RowsChanged,
}

impl SaveOutcome {
    /// A one-line summary for the top of the form.
    pub fn message(&self) -> Option<String> {
        match self {
            SaveOutcome::Saved { .. } | SaveOutcome::RowsChanged => None,
            SaveOutcome::Invalid { errors } => Some(if errors.len() == 1 {
                "One field needs fixing before this contact can be saved.".to_owned()
            } else {
                format!(
                    "{} fields need fixing before this contact can be saved.",
                    errors.len()
                )
            }),
            SaveOutcome::Conflict { by, .. } => Some(format!(
                "{} changed this contact after you opened it. Their changes are below; \
                 your edits are still in the form. Save again to replace their values with yours.",
                by.as_deref().unwrap_or("Someone")
            )),
            SaveOutcome::DuplicateEmail { existing } => {
                Some(format!("{} already has this email address.", existing.name))
            }
            SaveOutcome::PossibleDuplicates { matches } => Some(if matches.len() == 1 {
                "This may be a contact you already have. Check it, or save anyway.".to_owned()
            } else {
                format!(
                    "This may be one of {} contacts you already have. Check them, or save anyway.",
                    matches.len()
                )
            }),
            SaveOutcome::Gone => {
                Some("This contact has been deleted, so your changes were not saved.".to_owned())
            }
        }
    }

    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            SaveOutcome::Invalid { errors } => Some(errors),
            _ => None,
        }
    }
}

/// The contact form as a page opens it: the values to show, the version they are of,
/// and, after a refused save without JavaScript, why it was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactForm {
    /// `None` for a new contact.
    pub id: Option<Uuid>,
    /// The contact's name as saved (for the page title), when editing.
    pub saved_name: Option<String>,
    pub input: ContactInput,
    pub version: Option<i32>,
    pub outcome: Option<SaveOutcome>,
    /// The live custom fields, in their order (read afresh each time the form opens).
    #[serde(default)]
    pub fields: Vec<super::custom::CustomField>,
}

/// A message kept for the page a plain form post returns to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub message: String,
}

/// The kinds of change the audit log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    Restore,
    Merge,
    Bulk,
    Import,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Restore => "restore",
            AuditAction::Merge => "merge",
            AuditAction::Bulk => "bulk",
            AuditAction::Import => "import",
        }
    }

    pub const ALL: [AuditAction; 7] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Restore,
        AuditAction::Merge,
        AuditAction::Bulk,
        AuditAction::Import,
    ];

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
    }

    /// "Created", "Edited", …: how the History tab names it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::Create => "Created",
            AuditAction::Update => "Edited",
            AuditAction::Delete => "Deleted",
            AuditAction::Restore => "Restored",
            AuditAction::Merge => "Merged",
            AuditAction::Bulk => "Bulk edit",
            AuditAction::Import => "Imported",
        }
    }
}

/// One change in a contact's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub at_micros: i64,
    pub action: AuditAction,
    /// Who made it; `None` before accounts exist, or from the command line.
    pub actor: Option<String>,
    pub version: Option<i32>,
    pub changes: Vec<FieldChange>,
}

impl super::Card {
    /// A field's value as text, as the audit log records it and a conflict shows it:
    /// a list is one line per entry (`Work: ada@example.com`), the primary first.
    pub fn field_text(&self, field: Field) -> Option<String> {
        use super::card::{Address, label_text};
        fn lines<T>(
            entries: &[T],
            line: impl Fn(&T) -> (Option<&String>, String),
        ) -> Option<String> {
            let lines: Vec<String> = entries
                .iter()
                .map(|entry| match line(entry) {
                    (Some(label), value) => format!("{}: {value}", label_text(label)),
                    (None, value) => value,
                })
                .collect();
            (!lines.is_empty()).then(|| lines.join("\n"))
        }
        let parts = &self.name_parts;
        match field {
            Field::Name => Some(self.name.clone()),
            Field::Prefix => parts.prefix.clone(),
            Field::Given => parts.given.clone(),
            Field::Middle => parts.middle.clone(),
            Field::Family => parts.family.clone(),
            Field::Suffix => parts.suffix.clone(),
            Field::Nickname => parts.nickname.clone(),
            Field::PhoneticGiven => parts.phonetic_given.clone(),
            Field::PhoneticFamily => parts.phonetic_family.clone(),
            Field::Pronouns => parts.pronouns.clone(),
            Field::FileAs => (self.file_as == super::card::FileAs::Family)
                .then(|| "Family name first".to_owned()),
            Field::Emails => lines(&self.emails, |e| {
                (e.label.as_ref(), e.value.as_str().to_owned())
            }),
            Field::Phones => lines(&self.phones, |p| {
                (p.label.as_ref(), p.value.as_str().to_owned())
            }),
            Field::Addresses => lines(&self.addresses, |a: &Address| {
                (a.label.as_ref(), a.one_line())
            }),
            Field::Links => lines(&self.links, |l| (l.label.as_ref(), l.value.clone())),
            Field::Ims => lines(&self.ims, |i| (i.label.as_ref(), i.value.clone())),
            Field::Related => lines(&self.related, |r| (r.label.as_ref(), r.value.clone())),
            Field::Birthday => self.birthday.map(|date| date.display()),
            Field::Dates => lines(&self.dates, |d| (d.label.as_ref(), d.value.display())),
            Field::Company => self.company.clone(),
            Field::Department => self.department.clone(),
            Field::Title => self.title.clone(),
            Field::Tier => Some(self.tier.get().to_string()),
            Field::Tags => (!self.tags.is_empty()).then(|| self.tags.join(", ")),
            Field::Notes => self.notes.clone(),
            // One custom field at a time: [`Self::custom_text`].
            Field::Custom => None,
            // The photo by the start of its name: enough to tell two apart.
            Field::Photo => self
                .photo
                .as_ref()
                .map(|hash| format!("Photo {}", &hash[..8.min(hash.len())])),
            // Each line, a long one cut (a key or a logo can be kilobytes).
            Field::Extras => (!self.extras.is_empty()).then(|| {
                self.extras
                    .iter()
                    .map(|line| {
                        let mut shown: String = line.chars().take(200).collect();
                        if shown.len() < line.len() {
                            shown.push('…');
                        }
                        shown
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        }
    }

    /// A custom field's value as text, as the audit log records it.
    pub fn custom_text(&self, id: i32) -> Option<String> {
        self.custom.get(&id).map(|value| value.to_text())
    }

    /// What saving this draft over `before` changes, field by field.
    pub fn changes_from(&self, before: &super::Card) -> Vec<FieldChange> {
        Field::ALL
            .into_iter()
            .chain([Field::Photo, Field::Extras])
            .filter_map(|field| {
                let (old, new) = (before.field_text(field), self.field_text(field));
                (old != new).then_some(FieldChange {
                    field,
                    custom: None,
                    old,
                    new,
                })
            })
            .chain(
                before
                    .custom
                    .keys()
                    .chain(self.custom.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .filter_map(|&id| {
                        let (old, new) = (before.custom_text(id), self.custom_text(id));
                        (old != new).then_some(FieldChange {
                            field: Field::Custom,
                            custom: Some(id),
                            old,
                            new,
                        })
                    }),
            )
            .collect()
    }

    /// Every field this draft sets, as a creation records it.
    pub fn as_created(&self) -> Vec<FieldChange> {
        Field::ALL
            .into_iter()
            .chain([Field::Photo, Field::Extras])
            .filter_map(|field| {
                self.field_text(field).map(|new| FieldChange {
                    field,
                    custom: None,
                    old: None,
                    new: Some(new),
                })
            })
            .chain(self.custom.iter().map(|(&id, value)| FieldChange {
                field: Field::Custom,
                custom: Some(id),
                old: None,
                new: Some(value.to_text()),
            }))
            .collect()
    }
}
