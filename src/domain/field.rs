//! The fields of a contact as forms, errors and the audit log name them, and what is
//! wrong with a form, field by field and row by row.

use serde::{Deserialize, Serialize};

/// A field of a contact, as forms, errors and the audit log name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Prefix,
    Given,
    Middle,
    Family,
    Suffix,
    Nickname,
    PhoneticGiven,
    PhoneticFamily,
    Pronouns,
    FileAs,
    // The names before the lists held one value each, as older audit entries and
    // import mappings say.
    #[serde(alias = "email")]
    Emails,
    #[serde(alias = "phone")]
    Phones,
    #[serde(alias = "location")]
    Addresses,
    Links,
    Ims,
    Related,
    Birthday,
    Dates,
    Company,
    Department,
    Title,
    Tier,
    Tags,
    Notes,
    /// A custom field: which one is the error's row, or the change's `custom`.
    Custom,
    Photo,
    /// What an imported vCard carried that Roster has no field for (`card::extras`).
    Extras,
}

impl Field {
    pub const ALL: [Field; 25] = [
        Field::Name,
        Field::Prefix,
        Field::Given,
        Field::Middle,
        Field::Family,
        Field::Suffix,
        Field::Nickname,
        Field::PhoneticGiven,
        Field::PhoneticFamily,
        Field::Pronouns,
        Field::FileAs,
        Field::Emails,
        Field::Phones,
        Field::Addresses,
        Field::Links,
        Field::Ims,
        Field::Related,
        Field::Birthday,
        Field::Dates,
        Field::Company,
        Field::Department,
        Field::Title,
        Field::Tier,
        Field::Tags,
        Field::Notes,
    ];

    /// The name parts, in the form's order.
    pub const NAME_PARTS: [Field; 9] = [
        Field::Prefix,
        Field::Given,
        Field::Middle,
        Field::Family,
        Field::Suffix,
        Field::Nickname,
        Field::PhoneticGiven,
        Field::PhoneticFamily,
        Field::Pronouns,
    ];

    /// The form field's `name` (a list's rows are `emails[0][value]`…), and the key in diffs.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Prefix => "prefix",
            Field::Given => "given",
            Field::Middle => "middle",
            Field::Family => "family",
            Field::Suffix => "suffix",
            Field::Nickname => "nickname",
            Field::PhoneticGiven => "phonetic_given",
            Field::PhoneticFamily => "phonetic_family",
            Field::Pronouns => "pronouns",
            Field::FileAs => "file_as",
            Field::Emails => "emails",
            Field::Phones => "phones",
            Field::Addresses => "addresses",
            Field::Links => "links",
            Field::Ims => "ims",
            Field::Related => "related",
            Field::Birthday => "birthday",
            Field::Dates => "dates",
            Field::Company => "company",
            Field::Department => "department",
            Field::Title => "title",
            Field::Tier => "tier",
            Field::Tags => "tags",
            Field::Notes => "notes",
            Field::Custom => "custom",
            Field::Photo => "photo",
            Field::Extras => "extras",
        }
    }

    /// The field a name stands for, including the names of the single fields that the
    /// lists replaced (`email`, `phone`, `location`).
    pub fn parse(name: &str) -> Option<Field> {
        match name {
            "email" => Some(Field::Emails),
            "phone" => Some(Field::Phones),
            "location" => Some(Field::Addresses),
            "photo" => Some(Field::Photo),
            "extras" => Some(Field::Extras),
            _ => Field::ALL.into_iter().find(|field| field.as_str() == name),
        }
    }

    /// The label people see.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Prefix => "Prefix",
            Field::Given => "Given name",
            Field::Middle => "Middle name",
            Field::Family => "Family name",
            Field::Suffix => "Suffix",
            Field::Nickname => "Nickname",
            Field::PhoneticGiven => "Phonetic given name",
            Field::PhoneticFamily => "Phonetic family name",
            Field::Pronouns => "Pronouns",
            Field::FileAs => "File as",
            Field::Emails => "Email",
            Field::Phones => "Phone",
            Field::Addresses => "Address",
            Field::Links => "Link",
            Field::Ims => "Messaging",
            Field::Related => "Related person",
            Field::Birthday => "Birthday",
            Field::Dates => "Date",
            Field::Company => "Company",
            Field::Department => "Department",
            Field::Title => "Title",
            Field::Tier => "Tier",
            Field::Tags => "Tags",
            Field::Notes => "Notes",
            Field::Custom => "Custom field",
            Field::Photo => "Photo",
            Field::Extras => "Other vCard data",
        }
    }

    /// Whether the field is a list of rows.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Field::Emails
                | Field::Phones
                | Field::Addresses
                | Field::Links
                | Field::Ims
                | Field::Related
                | Field::Dates
        )
    }
}

/// Where a problem is: a field, or one row of a list field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ErrorAt {
    pub field: Field,
    pub row: Option<usize>,
}

/// What is wrong with a form: at most one message per field or row, in field order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(Vec<(ErrorAt, String)>);

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Records `message` for `field` unless it already has one (the first problem found
    /// is the one to fix first).
    pub fn add(&mut self, field: Field, message: impl Into<String>) {
        self.add_at(ErrorAt { field, row: None }, message);
    }

    /// Records `message` for one row of a list.
    pub fn add_row(&mut self, field: Field, row: usize, message: impl Into<String>) {
        self.add_at(
            ErrorAt {
                field,
                row: Some(row),
            },
            message,
        );
    }

    fn add_at(&mut self, at: ErrorAt, message: impl Into<String>) {
        if !self.0.iter().any(|(seen, _)| *seen == at) {
            self.0.push((at, message.into()));
            self.0.sort_by_key(|(at, _)| *at);
        }
    }

    /// The message for a field itself (not one of its rows).
    pub fn get(&self, field: Field) -> Option<&str> {
        self.get_at(ErrorAt { field, row: None })
    }

    pub fn get_row(&self, field: Field, row: usize) -> Option<&str> {
        self.get_at(ErrorAt {
            field,
            row: Some(row),
        })
    }

    fn get_at(&self, at: ErrorAt) -> Option<&str> {
        self.0
            .iter()
            .find(|(seen, _)| *seen == at)
            .map(|(_, message)| message.as_str())
    }

    /// Whether the field or any of its rows has a problem.
    pub fn touches(&self, field: Field) -> bool {
        self.0.iter().any(|(at, _)| at.field == field)
    }

    pub fn iter(&self) -> impl Iterator<Item = (ErrorAt, &str)> {
        self.0.iter().map(|(at, message)| (*at, message.as_str()))
    }

    /// The fields with problems, once each, in order.
    pub fn fields(&self) -> Vec<Field> {
        let mut fields: Vec<Field> = self.0.iter().map(|(at, _)| at.field).collect();
        fields.dedup();
        fields
    }
}

impl FieldErrors {
    /// Every problem in one line, each named by its field (a custom field by its name
    /// among `fields`) and row: "Email 2: …; Shirt size: …".
    pub fn describe(&self, fields: &[super::custom::CustomField]) -> String {
        self.iter()
            .map(|(at, message)| match (at.field, at.row) {
                (Field::Custom, row) => {
                    let name = row
                        .and_then(|id| fields.iter().find(|f| f.id as usize == id))
                        .map_or("A custom field", |field| field.name.as_str());
                    format!("{name}: {message}")
                }
                (field, Some(row)) => format!("{} {}: {message}", field.label(), row + 1),
                (field, None) => format!("{}: {message}", field.label()),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(&[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::parse(field.as_str()), Some(field));
        }
        assert_eq!(Field::parse("email"), Some(Field::Emails));
        assert_eq!(Field::parse("location"), Some(Field::Addresses));
        assert_eq!(Field::parse("password"), None);
    }
}
