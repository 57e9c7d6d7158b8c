//! Bulk actions on search results: what they are, and how a request names them.

use serde::{Deserialize, Serialize};

use super::{SearchQuery, Tier, draft::parse_tags, format};

/// One change made to many contacts at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAction {
    AddTag(String),
    RemoveTag(String),
    SetTier(Tier),
    Delete,
}

impl BulkAction {
    /// From the form's `action` and `value`, with a message for the person if they do
    /// not make an action.
    pub fn parse(action: &str, value: &str) -> Result<BulkAction, String> {
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
            "delete" => Ok(BulkAction::Delete),
            _ => Err("Choose what to do with the selected contacts.".to_owned()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::AddTag(_) => "add-tag",
            BulkAction::RemoveTag(_) => "remove-tag",
            BulkAction::SetTier(_) => "set-tier",
            BulkAction::Delete => "delete",
        }
    }

    pub fn value(&self) -> String {
        match self {
            BulkAction::AddTag(tag) | BulkAction::RemoveTag(tag) => tag.clone(),
            BulkAction::SetTier(tier) => tier.get().to_string(),
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
            BulkAction::parse("add-tag", "  vip "),
            Ok(BulkAction::AddTag("vip".into()))
        );
        assert_eq!(
            BulkAction::parse("set-tier", "2").map(|a| a.value()),
            Ok("2".into())
        );
        assert_eq!(BulkAction::parse("delete", ""), Ok(BulkAction::Delete));
        assert_eq!(
            BulkAction::parse("add-tag", " "),
            Err("Enter the tag.".into())
        );
        assert_eq!(
            BulkAction::parse("add-tag", "a, b"),
            Err("Enter one tag at a time.".into())
        );
        assert!(BulkAction::parse("set-tier", "9").is_err());
        assert!(BulkAction::parse("drop-table", "").is_err());
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
