//! Bulk actions on search results: what they are, and how a request names them.

use serde::{Deserialize, Serialize};

use super::{
    SearchQuery, Tier,
    custom::{CustomField, CustomKind, CustomValue},
    draft::{MAX_LINE_CHARS, one_line, parse_tags, too_long},
    format,
};

/// One change made to many contacts at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAction {
    AddTag(String),
    RemoveTag(String),
    SetTier(Tier),
    /// The company (a record is found or made for it); `None` clears it.
    SetCompany(Option<String>),
    /// A custom field's value; `None` clears it. The field's name is kept for the
    /// confirmation.
    SetCustom {
        field: i32,
        name: String,
        value: Option<CustomValue>,
    },
    Delete,
}

impl BulkAction {
    /// From the form's `action` and `value`, with a message for the person if they do
    /// not make an action. `set-field`'s value is `Field name: value` (nothing after
    /// the colon clears it), checked against the live custom `fields`.
    pub fn parse(action: &str, value: &str, fields: &[CustomField]) -> Result<BulkAction, String> {
        let tag = || match parse_tags(value).as_deref() {
            Ok([tag]) => Ok(tag.clone()),
            Ok([]) => Err("Enter the tag.".to_owned()),
            Ok(_) => Err("Enter one tag at a time.".to_owned()),
            Err(message) => Err(message.clone()),
        };
        match action {
            "add-tag" => tag().map(BulkAction::AddTag),
            "remove-tag" => tag().map(BulkAction::RemoveTag),
            "set-tier" => value
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|n| Tier::parse(n).ok())
                .map(BulkAction::SetTier)
                .ok_or_else(|| "Choose a tier from 1 to 4.".to_owned()),
            "set-company" => {
                let company = one_line(value);
                if company.chars().count() > MAX_LINE_CHARS {
                    return Err(too_long(MAX_LINE_CHARS));
                }
                Ok(BulkAction::SetCompany(
                    (!company.is_empty()).then_some(company),
                ))
            }
            "set-field" => {
                let Some((name, text)) = value.split_once(':') else {
                    return Err(
                        "Enter the field's name, a colon and the value, like: Shirt size: M"
                            .to_owned(),
                    );
                };
                let wanted = name.trim().to_lowercase();
                let field = fields
                    .iter()
                    .find(|field| !field.retired && field.name.to_lowercase() == wanted)
                    .ok_or_else(|| format!("There is no field called “{}”.", name.trim()))?;
                // Several choices are separated by commas here (one line of text).
                let text = if field.kind == CustomKind::Choices {
                    text.split(',').collect::<Vec<_>>().join("\n")
                } else {
                    text.to_owned()
                };
                let value = CustomValue::parse(field, &text)
                    .map_err(|message| format!("{}: {message}", field.name))?;
                Ok(BulkAction::SetCustom {
                    field: field.id,
                    name: field.name.clone(),
                    value,
                })
            }
            "delete" => Ok(BulkAction::Delete),
            _ => Err("Choose what to do with the selected contacts.".to_owned()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::AddTag(_) => "add-tag",
            BulkAction::RemoveTag(_) => "remove-tag",
            BulkAction::SetTier(_) => "set-tier",
            BulkAction::SetCompany(_) => "set-company",
            BulkAction::SetCustom { .. } => "set-field",
            BulkAction::Delete => "delete",
        }
    }

    pub fn value(&self) -> String {
        match self {
            BulkAction::AddTag(tag) | BulkAction::RemoveTag(tag) => tag.clone(),
            BulkAction::SetTier(tier) => tier.get().to_string(),
            BulkAction::SetCompany(company) => company.clone().unwrap_or_default(),
            BulkAction::SetCustom { name, value, .. } => format!(
                "{name}: {}",
                value
                    .as_ref()
                    .map(|value| value.to_text().replace('\n', ", "))
                    .unwrap_or_default()
            ),
            BulkAction::Delete => String::new(),
        }
    }

    /// "Add the tag “vip” to 1,234 contacts".
    pub fn describe(&self, count: u64) -> String {
        let contacts = if count == 1 {
            "1 contact".to_owned()
        } else {
            format!("{} contacts", format::count(count))
        };
        match self {
            BulkAction::AddTag(tag) => format!("Add the tag “{tag}” to {contacts}"),
            BulkAction::RemoveTag(tag) => format!("Remove the tag “{tag}” from {contacts}"),
            BulkAction::SetTier(tier) => {
                format!(
                    "Set the tier of {contacts} to {} · {}",
                    tier.get(),
                    tier.label()
                )
            }
            BulkAction::SetCompany(Some(company)) => {
                format!("Set the company of {contacts} to “{company}”")
            }
            BulkAction::SetCompany(None) => format!("Clear the company of {contacts}"),
            BulkAction::SetCustom {
                name,
                value: Some(value),
                ..
            } => format!("Set {name} to “{}” for {contacts}", value.display()),
            BulkAction::SetCustom {
                name, value: None, ..
            } => format!("Clear {name} for {contacts}"),
            BulkAction::Delete => format!("Delete {contacts}"),
        }
    }
}

/// Which contacts: the ones ticked, or every contact the search matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkSelection {
    #[serde(default)]
    pub ids: Vec<String>,
    #[serde(default)]
    pub all: bool,
    /// The search, as its URL query string.
    #[serde(default)]
    pub search: String,
}

impl BulkSelection {
    pub fn query(&self) -> SearchQuery {
        SearchQuery::from_query_string(&self.search)
    }
}

/// What the confirmation says before anything changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkPreview {
    /// Contacts selected that exist (and are not deleted).
    pub selected: u64,
    /// Of those, the ones the action changes (a tag some already have, a tier some
    /// already are, changes nothing for them).
    pub will_change: u64,
    pub description: String,
    /// A few of the names, to recognise the selection by.
    pub sample: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_with_plain_messages() {
        assert_eq!(
            BulkAction::parse("add-tag", "  vip ", &[]),
            Ok(BulkAction::AddTag("vip".into()))
        );
        assert_eq!(
            BulkAction::parse("set-tier", "2", &[]).map(|a| a.value()),
            Ok("2".into())
        );
        assert_eq!(BulkAction::parse("delete", "", &[]), Ok(BulkAction::Delete));
        assert_eq!(
            BulkAction::parse("add-tag", " ", &[]),
            Err("Enter the tag.".into())
        );
        assert_eq!(
            BulkAction::parse("add-tag", "a, b", &[]),
            Err("Enter one tag at a time.".into())
        );
        assert!(BulkAction::parse("set-tier", "9", &[]).is_err());
        assert!(BulkAction::parse("drop-table", "", &[]).is_err());
    }

    #[test]
    fn a_company_or_a_custom_field_is_set_or_cleared() {
        assert_eq!(
            BulkAction::parse("set-company", "  Acme   Inc ", &[]),
            Ok(BulkAction::SetCompany(Some("Acme Inc".into())))
        );
        assert_eq!(
            BulkAction::parse("set-company", " ", &[]),
            Ok(BulkAction::SetCompany(None))
        );
        let size = CustomField {
            id: 4,
            name: "Shirt size".into(),
            kind: CustomKind::Choice,
            options: vec!["S".into(), "M".into()],
            position: 1,
            retired: false,
        };
        let fields = [size];
        assert_eq!(
            BulkAction::parse("set-field", "shirt SIZE: m", &fields),
            Ok(BulkAction::SetCustom {
                field: 4,
                name: "Shirt size".into(),
                value: Some(CustomValue::Choice("M".into())),
            })
        );
        assert!(matches!(
            BulkAction::parse("set-field", "Shirt size:", &fields),
            Ok(BulkAction::SetCustom { value: None, .. })
        ));
        assert_eq!(
            BulkAction::parse("set-field", "Shirt size: XL", &fields),
            Err("Shirt size: Choose one of: S, M.".into())
        );
        assert!(BulkAction::parse("set-field", "Hat: M", &fields).is_err());
        assert!(BulkAction::parse("set-field", "no colon", &fields).is_err());
    }

    #[test]
    fn descriptions_state_the_count() {
        assert_eq!(
            BulkAction::AddTag("vip".into()).describe(1_234),
            "Add the tag “vip” to 1,234 contacts"
        );
        assert_eq!(BulkAction::Delete.describe(1), "Delete 1 contact");
    }
}
