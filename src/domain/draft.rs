//! A contact as someone typed it, and the rules it must meet to be saved.
//!
//! [`ContactInput`] is what the form (or an imported row) holds: every field as text,
//! exactly as entered, so a refused form comes back with nothing lost.
//! [`ContactDraft::parse`] turns it into a contact Roster will store, or into
//! [`FieldErrors`] saying in plain words what is wrong with which field. The browser
//! runs the same rules before sending, and the server runs them again whatever the
//! client sent.

use serde::{Deserialize, Serialize};

use super::Tier;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 40;
/// Company, title and location.
pub const MAX_LINE_CHARS: usize = 200;
pub const MAX_NOTES_CHARS: usize = 10_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
const MIN_PHONE_DIGITS: usize = 3;
const MAX_PHONE_DIGITS: usize = 20;

/// Every field of the contact form, as typed. Tags are one comma-separated line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactInput {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub title: String,
    pub location: String,
    pub tier: String,
    pub tags: String,
    pub notes: String,
}

/// A field of a contact, as forms, errors and the audit log name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Name,
    Email,
    Phone,
    Company,
    Title,
    Location,
    Tier,
    Tags,
    Notes,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::Company,
        Field::Title,
        Field::Location,
        Field::Tier,
        Field::Tags,
        Field::Notes,
    ];

    /// The form field's `name`, and the key in diffs.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Company => "company",
            Field::Title => "title",
            Field::Location => "location",
            Field::Tier => "tier",
            Field::Tags => "tags",
            Field::Notes => "notes",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.as_str() == name)
    }

    /// The label people see.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Email => "Email",
            Field::Phone => "Phone",
            Field::Company => "Company",
            Field::Title => "Title",
            Field::Location => "Location",
            Field::Tier => "Tier",
            Field::Tags => "Tags",
            Field::Notes => "Notes",
        }
    }
}

/// What is wrong with a form: at most one message per field, in field order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(Vec<(Field, String)>);

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
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
            self.0.sort_by_key(|(field, _)| *field);
        }
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (Field, &str)> {
        self.0
            .iter()
            .map(|(field, message)| (*field, message.as_str()))
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (field, message) in self.iter() {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{}: {message}", field.label())?;
        }
        Ok(())
    }
}

/// A contact that meets every rule, ready to store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDraft {
    pub name: String,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub tier: Tier,
    pub tags: Vec<String>,
    pub notes: Option<String>,
}

impl ContactDraft {
    /// Validates every field, reporting every problem at once. An empty tier means the
    /// default, 4.
    pub fn parse(input: &ContactInput) -> Result<ContactDraft, FieldErrors> {
        let mut errors = FieldErrors::default();

        let name = one_line(&input.name);
        if name.is_empty() {
            errors.add(Field::Name, "Enter a name.");
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.add(Field::Name, too_long(MAX_NAME_CHARS));
        }

        let email = match Email::parse(&input.email) {
            Ok(email) => email,
            Err(message) => {
                errors.add(Field::Email, message);
                None
            }
        };
        let phone = match Phone::parse(&input.phone) {
            Ok(phone) => phone,
            Err(message) => {
                errors.add(Field::Phone, message);
                None
            }
        };

        let mut line = |field: Field, text: &str| {
            let text = one_line(text);
            if text.chars().count() > MAX_LINE_CHARS {
                errors.add(field, too_long(MAX_LINE_CHARS));
            }
            (!text.is_empty()).then_some(text)
        };
        let company = line(Field::Company, &input.company);
        let title = line(Field::Title, &input.title);
        let location = line(Field::Location, &input.location);

        let tier = match input.tier.trim() {
            "" => Some(Tier::parse(4).expect("4 is a tier")),
            text => match text.parse::<i64>().ok().map(Tier::parse) {
                Some(Ok(tier)) => Some(tier),
                _ => {
                    errors.add(Field::Tier, "Choose a tier from 1 to 4.");
                    None
                }
            },
        };

        let tags = match parse_tags(&input.tags) {
            Ok(tags) => tags,
            Err(message) => {
                errors.add(Field::Tags, message);
                Vec::new()
            }
        };

        let notes = normalize_notes(&input.notes);
        if notes.chars().count() > MAX_NOTES_CHARS {
            errors.add(Field::Notes, too_long(MAX_NOTES_CHARS));
        }

        match tier {
            Some(tier) if errors.is_empty() => Ok(ContactDraft {
                name,
                email,
                phone,
                company,
                title,
                location,
                tier,
                tags,
                notes: (!notes.is_empty()).then_some(notes),
            }),
            _ => Err(errors),
        }
    }

    /// The form holding this contact, for editing it.
    pub fn to_input(&self) -> ContactInput {
        ContactInput {
            name: self.name.clone(),
            email: self
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            phone: self
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            company: self.company.clone().unwrap_or_default(),
            title: self.title.clone().unwrap_or_default(),
            location: self.location.clone().unwrap_or_default(),
            tier: self.tier.get().to_string(),
            tags: self.tags.join(", "),
            notes: self.notes.clone().unwrap_or_default(),
        }
    }
}

impl From<&super::Contact> for ContactInput {
    fn from(contact: &super::Contact) -> Self {
        ContactInput {
            name: contact.name.clone(),
            email: contact.email.clone().unwrap_or_default(),
            phone: contact.phone.clone().unwrap_or_default(),
            company: contact.company.clone().unwrap_or_default(),
            title: contact.title.clone().unwrap_or_default(),
            location: contact.location.clone().unwrap_or_default(),
            tier: contact.tier.get().to_string(),
            tags: contact.tags.join(", "),
            notes: contact.notes.clone().unwrap_or_default(),
        }
    }
}

fn too_long(max: usize) -> String {
    format!("Keep it to {max} characters or fewer.")
}

/// Trims, and turns every run of whitespace (newlines and tabs included) into one space;
/// drops other control characters.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace()) {
        let word: String = word.chars().filter(|c| !c.is_control()).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// Notes keep their line breaks (as `\n`) but lose trailing spaces, control characters
/// and blank lines at either end.
fn normalize_notes(text: &str) -> String {
    let lines: Vec<String> = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(|line| {
            line.chars()
                .filter(|c| *c == '\t' || !c.is_control())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect();
    lines
        .join("\n")
        .trim_matches('\n')
        .trim_start_matches(' ')
        .to_owned()
}

/// Tags from one comma-separated line: trimmed, inner spaces collapsed, duplicates
/// (ignoring case) dropped, order kept.
pub fn parse_tags(text: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for part in text.split([',', ';', '\n']) {
        let tag = one_line(part);
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(format!(
                "“{}…” is too long: keep each tag to {MAX_TAG_CHARS} characters or fewer.",
                tag.chars().take(20).collect::<String>()
            ));
        }
        if !tags
            .iter()
            .any(|seen| seen.to_lowercase() == tag.to_lowercase())
        {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "Use at most {MAX_TAGS} tags (there are {}).",
            tags.len()
        ));
    }
    Ok(tags)
}

/// An email address as typed (trimmed), known to be well formed. Two addresses are the
/// same contact when their [`Email::normalized`] forms are equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// `Ok(None)` for an empty field.
    pub fn parse(text: &str) -> Result<Option<Email>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let invalid = || Err("Enter an email address like name@example.com.".to_owned());
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(too_long(MAX_EMAIL_CHARS));
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return invalid();
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if local_ok && domain_ok {
            Ok(Some(Email(text.to_owned())))
        } else {
            invalid()
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lowercase: how duplicates are found (`contacts_email_key` does the same).
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A phone number in one tidy form: an optional leading `+`, groups of digits separated
/// by single spaces (brackets, dots and dashes become spaces), and an optional
/// extension written ` ext. 123`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    /// `Ok(None)` for an empty field.
    pub fn parse(text: &str) -> Result<Option<Phone>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            Err("Enter a phone number using digits, spaces and + ( ) - . only, like +1 555 010 2000.".to_owned())
        };
        let lower = text.to_lowercase();
        let (number, extension) = match lower
            .split_once("ext.")
            .or_else(|| lower.split_once("ext"))
            .or_else(|| lower.split_once('x'))
        {
            Some((number, extension)) => (number.to_owned(), Some(extension.trim().to_owned())),
            None => (lower.clone(), None),
        };
        let number = number.trim();
        let plus = number.starts_with('+');
        let body = if plus { &number[1..] } else { number };
        if !body
            .chars()
            .all(|c| c.is_ascii_digit() || " ().-/".contains(c))
        {
            return invalid();
        }
        let groups: Vec<&str> = body
            .split(|c: char| !c.is_ascii_digit())
            .filter(|group| !group.is_empty())
            .collect();
        let digits: usize = groups.iter().map(|group| group.len()).sum();
        if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits) {
            return Err(format!(
                "A phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits."
            ));
        }
        let mut out = String::new();
        if plus {
            out.push('+');
        }
        out.push_str(&groups.join(" "));
        if let Some(extension) = extension {
            if extension.is_empty() || !extension.chars().all(|c| c.is_ascii_digit()) {
                return invalid();
            }
            out.push_str(" ext. ");
            out.push_str(&extension);
        }
        if out.chars().count() > MAX_PHONE_CHARS {
            return Err(too_long(MAX_PHONE_CHARS));
        }
        Ok(Some(Phone(out)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Only the digits of the number (no extension): how duplicates are found.
    pub fn digits(&self) -> String {
        let number = self.0.split(" ext. ").next().unwrap_or_default();
        number.chars().filter(char::is_ascii_digit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> ContactInput {
        ContactInput {
            name: name.to_owned(),
            ..ContactInput::default()
        }
    }

    #[test]
    fn a_name_alone_is_a_contact_with_defaults() {
        let draft = ContactDraft::parse(&input("  Ada   Lovelace\n")).unwrap();
        assert_eq!(draft.name, "Ada Lovelace");
        assert_eq!(draft.tier.get(), 4);
        assert_eq!(draft.email, None);
        assert_eq!(draft.tags, Vec::<String>::new());
        assert_eq!(draft.notes, None);
    }

    #[test]
    fn every_problem_is_reported_at_once_in_field_order() {
        let errors = ContactDraft::parse(&ContactInput {
            name: "   ".into(),
            email: "not an email".into(),
            phone: "call me".into(),
            tier: "7".into(),
            tags: "a".repeat(51),
            notes: "n".repeat(MAX_NOTES_CHARS + 1),
            company: "c".repeat(MAX_LINE_CHARS + 1),
            ..ContactInput::default()
        })
        .unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            [
                Field::Name,
                Field::Email,
                Field::Phone,
                Field::Company,
                Field::Tier,
                Field::Tags,
                Field::Notes
            ]
        );
        assert_eq!(errors.get(Field::Name), Some("Enter a name."));
        assert_eq!(errors.get(Field::Tier), Some("Choose a tier from 1 to 4."));
    }

    #[test]
    fn names_are_bounded_in_characters_not_bytes() {
        assert!(ContactDraft::parse(&input(&"é".repeat(MAX_NAME_CHARS))).is_ok());
        let errors = ContactDraft::parse(&input(&"é".repeat(MAX_NAME_CHARS + 1))).unwrap_err();
        assert!(errors.get(Field::Name).unwrap().contains("200"));
    }

    #[test]
    fn emails() {
        for good in [
            "ada@example.com",
            "Ada.Lovelace+work@mail.example.co.uk",
            "josé@bücher.de",
            "  x@y.io ",
        ] {
            assert!(Email::parse(good).unwrap().is_some(), "{good}");
        }
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@-example.com",
            "ada@example.c",
            "<script>@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse("").unwrap(), None);
        let email = Email::parse("Ada@Example.COM").unwrap().unwrap();
        assert_eq!(email.as_str(), "Ada@Example.COM");
        assert_eq!(email.normalized(), "ada@example.com");
    }

    #[test]
    fn phones_are_normalized() {
        let phone = |text: &str| Phone::parse(text).unwrap().unwrap();
        assert_eq!(phone("+1 (555) 010-2000").as_str(), "+1 555 010 2000");
        assert_eq!(phone("555.010.2000").as_str(), "555 010 2000");
        assert_eq!(phone("5550102000").as_str(), "5550102000");
        assert_eq!(
            phone("+44 20 7946 0958 x12").as_str(),
            "+44 20 7946 0958 ext. 12"
        );
        assert_eq!(phone("020 7946 0958 ext. 3").digits(), "02079460958");
        assert_eq!(phone("+1 (555) 010-2000").digits(), "15550102000");
        for bad in [
            "call me",
            "12",
            "+1 555 CALL NOW",
            "1".repeat(21).as_str(),
            "555 x",
            "1+2",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Phone::parse(" ").unwrap(), None);
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        assert_eq!(
            parse_tags(" rust , Go,  ,rust,RUST, open   source").unwrap(),
            ["rust", "Go", "open source"]
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(
            parse_tags(&many.join(","))
                .unwrap_err()
                .contains("at most 20")
        );
        assert_eq!(parse_tags(&many[..20].join(",")).unwrap().len(), 20);
        assert!(
            parse_tags(&"x".repeat(51))
                .unwrap_err()
                .contains("50 characters")
        );
    }

    #[test]
    fn tiers() {
        let tier = |text: &str| {
            ContactDraft::parse(&ContactInput {
                tier: text.into(),
                ..input("A")
            })
            .map(|draft| draft.tier.get())
        };
        assert_eq!(tier("1"), Ok(1));
        assert_eq!(tier(" 3 "), Ok(3));
        assert_eq!(tier(""), Ok(4));
        for bad in ["0", "5", "two", "1.5", "-1"] {
            assert!(tier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn notes_keep_their_lines() {
        let draft = ContactDraft::parse(&ContactInput {
            notes: "\r\n  Met at RustConf.  \r\n\r\nLikes tea.\u{0}\n\n".into(),
            ..input("A")
        })
        .unwrap();
        assert_eq!(
            draft.notes.as_deref(),
            Some("Met at RustConf.\n\nLikes tea.")
        );
    }

    #[test]
    fn a_draft_round_trips_through_its_form() {
        let draft = ContactDraft::parse(&ContactInput {
            name: "Zoë Lefèvre".into(),
            email: "zoe@example.fr".into(),
            phone: "+33 1 23 45 67 89".into(),
            company: "Acme".into(),
            title: "CTO".into(),
            location: "Paris".into(),
            tier: "2".into(),
            tags: "founder, rust".into(),
            notes: "Line one\nLine two".into(),
        })
        .unwrap();
        assert_eq!(ContactDraft::parse(&draft.to_input()), Ok(draft));
    }

    #[test]
    fn field_names_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::parse(field.as_str()), Some(field));
        }
        assert_eq!(Field::parse("password"), None);
    }
}
