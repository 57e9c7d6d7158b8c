//! Merging two contacts: for each field, whose value to keep; tags are united.

use serde::{Deserialize, Serialize};

use super::{Contact, ContactInput, Field};

/// The side each field comes from: `"keep"` (the contact that stays) or `"other"` (the
/// one merged into it). Anything else, or nothing, means `"keep"`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeChoices {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub title: String,
    pub location: String,
    pub tier: String,
    pub notes: String,
}

/// The fields a person chooses between (tags are not chosen: they are united).
pub const CHOSEN_FIELDS: [Field; 8] = [
    Field::Name,
    Field::Email,
    Field::Phone,
    Field::Company,
    Field::Title,
    Field::Location,
    Field::Tier,
    Field::Notes,
];

impl MergeChoices {
    fn choice(&self, field: Field) -> &str {
        match field {
            Field::Name => &self.name,
            Field::Email => &self.email,
            Field::Phone => &self.phone,
            Field::Company => &self.company,
            Field::Title => &self.title,
            Field::Location => &self.location,
            Field::Tier => &self.tier,
            Field::Notes => &self.notes,
            Field::Tags => "keep",
        }
    }

    /// Whether `field` takes the other contact's value.
    pub fn takes_other(&self, field: Field) -> bool {
        self.choice(field) == "other"
    }

    /// The choices a page opens with: the kept contact's value, unless it has none and
    /// the other has one.
    pub fn suggested(keep: &Contact, other: &Contact) -> MergeChoices {
        let pick = |field: Field| {
            if keep.field_text(field).is_none() && other.field_text(field).is_some() {
                "other".to_owned()
            } else {
                "keep".to_owned()
            }
        };
        MergeChoices {
            name: pick(Field::Name),
            email: pick(Field::Email),
            phone: pick(Field::Phone),
            company: pick(Field::Company),
            title: pick(Field::Title),
            location: pick(Field::Location),
            tier: pick(Field::Tier),
            notes: pick(Field::Notes),
        }
    }

    /// The merged contact as a form would hold it: each chosen field from its side,
    /// the tags of both (the kept contact's first, no repeats ignoring case).
    pub fn merged(&self, keep: &Contact, other: &Contact) -> ContactInput {
        let value = |field: Field| {
            let from = if self.takes_other(field) { other } else { keep };
            from.field_text(field).unwrap_or_default()
        };
        let mut tags = keep.tags.clone();
        for tag in &other.tags {
            if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
                tags.push(tag.clone());
            }
        }
        ContactInput {
            name: value(Field::Name),
            email: value(Field::Email),
            phone: value(Field::Phone),
            company: value(Field::Company),
            title: value(Field::Title),
            location: value(Field::Location),
            tier: value(Field::Tier),
            tags: tags.join(", "),
            notes: value(Field::Notes),
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::Tier;

    fn contact(name: &str, email: Option<&str>, tags: &[&str]) -> Contact {
        Contact {
            id: Uuid::new_v4(),
            name: name.into(),
            email: email.map(str::to_owned),
            phone: None,
            company: Some("Acme".into()),
            title: None,
            location: None,
            tier: Tier::parse(3).unwrap(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            notes: None,
            created_at_micros: 0,
            updated_at_micros: 0,
            version: 1,
            deleted_at_micros: None,
        }
    }

    #[test]
    fn chosen_fields_and_united_tags() {
        let keep = contact("Ada Lovelace", None, &["maths", "Poetry"]);
        let other = contact(
            "A. Lovelace",
            Some("ada@example.com"),
            &["poetry", "engines"],
        );
        let suggested = MergeChoices::suggested(&keep, &other);
        assert_eq!(suggested.email, "other", "the kept contact has none");
        assert_eq!(suggested.name, "keep");
        let merged = suggested.merged(&keep, &other);
        assert_eq!(merged.name, "Ada Lovelace");
        assert_eq!(merged.email, "ada@example.com");
        assert_eq!(merged.tags, "maths, Poetry, engines");

        let choices = MergeChoices {
            name: "other".into(),
            email: "keep".into(),
            ..MergeChoices::default()
        };
        let merged = choices.merged(&keep, &other);
        assert_eq!(merged.name, "A. Lovelace");
        assert_eq!(merged.email, "");
        assert_eq!(merged.tier, "3");
    }
}
