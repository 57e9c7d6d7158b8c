//! A contact as someone typed it, and the rules it must meet to be saved.
//!
//! [`ContactInput`] is what the form (or an imported row) holds: every field as text,
//! exactly as entered, so a refused form comes back with nothing lost.
//! [`Card::parse`] turns it into a contact Roster will store, or into
//! [`FieldErrors`] saying in plain words what is wrong with which field. The browser
//! runs the same rules before sending, and the server runs them again whatever the
//! client sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::{
    field::{ErrorAt, Field, FieldErrors},
    reach::{Email, MAX_EMAIL_CHARS, MAX_PHONE_CHARS, Phone},
};

use super::{
    Tier,
    card::{
        Address, AddressInput, DATE_LABELS, EMAIL_LABELS, Entry, EntryInput, FileAs, IM_LABELS,
        LINK_LABELS, MAX_ENTRIES, NameParts, PHONE_LABELS, PartialDate, PhoneEntry, RELATED_LABELS,
        Related, RowOp, apply_row_op, parse_extras, parse_label, parse_part, parse_url,
    },
    custom::{self, CustomField, CustomValue, CustomValues},
};

pub const MAX_NAME_CHARS: usize = 200;
/// Company, department and title.
pub const MAX_LINE_CHARS: usize = 200;
pub const MAX_NOTES_CHARS: usize = 10_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;

/// Every field of the contact form, as typed. Tags are one comma-separated line; each
/// list is its rows in order (the first is the primary one).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactInput {
    /// The display name; empty means "from the name parts".
    pub name: String,
    pub prefix: String,
    pub given: String,
    pub middle: String,
    pub family: String,
    pub suffix: String,
    pub nickname: String,
    pub phonetic_given: String,
    pub phonetic_family: String,
    pub pronouns: String,
    pub file_as: String,
    pub emails: Vec<EntryInput>,
    pub phones: Vec<EntryInput>,
    pub addresses: Vec<AddressInput>,
    pub links: Vec<EntryInput>,
    pub ims: Vec<EntryInput>,
    /// People related to this one, by label and name.
    pub related: Vec<EntryInput>,
    pub birthday: String,
    pub dates: Vec<EntryInput>,
    pub company: String,
    pub department: String,
    pub title: String,
    pub tier: String,
    pub tags: String,
    pub notes: String,
    /// Custom fields' values as typed, by field key (`custom[f7]`; a multiple
    /// choice's ticked boxes `custom[f7.0]`, `custom[f7.2]`…).
    pub custom: BTreeMap<String, String>,
    /// The photo's name (its hash) as the form carries it; empty for none.
    pub photo: String,
    /// Ticked: the photo is taken away.
    pub remove_photo: String,
    /// Why the photo chosen with the form could not be taken (the server's photo
    /// reader writes it; the form shows it on the photo field).
    pub photo_error: String,
    /// vCard content lines Roster has no field for (an import fills them; the form
    /// never shows them, and an edit keeps the stored ones).
    pub extras: Vec<String>,
}

impl ContactInput {
    /// The form's fields as a browser posts them: `name`, `emails[0][label]`,
    /// `emails[0][value]`, `addresses[0][city]`… (for scripts and tests that post
    /// the form as a person would).
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut one = |name: &str, value: &str| fields.push((name.to_owned(), value.to_owned()));
        for (name, value) in [
            ("name", &self.name),
            ("prefix", &self.prefix),
            ("given", &self.given),
            ("middle", &self.middle),
            ("family", &self.family),
            ("suffix", &self.suffix),
            ("nickname", &self.nickname),
            ("phonetic_given", &self.phonetic_given),
            ("phonetic_family", &self.phonetic_family),
            ("pronouns", &self.pronouns),
            ("file_as", &self.file_as),
            ("birthday", &self.birthday),
            ("company", &self.company),
            ("department", &self.department),
            ("title", &self.title),
            ("tier", &self.tier),
            ("tags", &self.tags),
            ("notes", &self.notes),
            ("photo", &self.photo),
        ] {
            one(name, value);
        }
        for (list, rows) in [
            ("emails", &self.emails),
            ("phones", &self.phones),
            ("links", &self.links),
            ("ims", &self.ims),
            ("related", &self.related),
            ("dates", &self.dates),
        ] {
            for (at, row) in rows.iter().enumerate() {
                one(&format!("{list}[{at}][label]"), &row.label);
                one(&format!("{list}[{at}][value]"), &row.value);
            }
        }
        for (key, value) in &self.custom {
            one(&format!("custom[{key}]"), value);
        }
        for (at, address) in self.addresses.iter().enumerate() {
            for (part, value) in [
                ("label", &address.label),
                ("street", &address.street),
                ("extended", &address.extended),
                ("city", &address.city),
                ("region", &address.region),
                ("postal_code", &address.postal_code),
                ("country", &address.country),
            ] {
                one(&format!("addresses[{at}][{part}]"), value);
            }
        }
        fields
    }

    /// Applies a row button (`add:emails`, `remove:phones:1`, …) to the form; `false`
    /// when it names no list or row.
    pub fn apply_row_op(&mut self, op: &str) -> bool {
        let Some((list, op)) = RowOp::parse(op) else {
            return false;
        };
        match Field::parse(list) {
            Some(Field::Emails) => apply_row_op(&mut self.emails, op),
            Some(Field::Phones) => apply_row_op(&mut self.phones, op),
            Some(Field::Addresses) => apply_row_op(&mut self.addresses, op),
            Some(Field::Links) => apply_row_op(&mut self.links, op),
            Some(Field::Ims) => apply_row_op(&mut self.ims, op),
            Some(Field::Related) => apply_row_op(&mut self.related, op),
            Some(Field::Dates) => apply_row_op(&mut self.dates, op),
            _ => false,
        }
    }
}

/// A contact that meets every rule, ready to store: what a contact holds apart from
/// its identity and bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// The display name: set by hand, or made from the name parts.
    pub name: String,
    pub name_parts: NameParts,
    pub file_as: FileAs,
    pub emails: Vec<Entry<Email>>,
    pub phones: Vec<PhoneEntry>,
    pub addresses: Vec<Address>,
    pub links: Vec<Entry<String>>,
    pub ims: Vec<Entry<String>>,
    /// People related to this one (a link to their contact when the directory has them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    pub birthday: Option<PartialDate>,
    pub dates: Vec<Entry<PartialDate>>,
    pub company: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub tier: Tier,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// Values of custom fields, by field id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: CustomValues,
    /// The photo, by the hash that names it (`/photos/{hash}-{size}.jpg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// What an imported vCard carried that Roster has no field for, each an unfolded
    /// content line, in the file's order (see `card::parse_extras`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
}

impl Card {
    /// [`Card::parse_with`] no custom fields: for input that holds no custom values
    /// (a value for a field it does not know is an error, never dropped).
    pub fn parse(input: &ContactInput) -> Result<Card, FieldErrors> {
        Card::parse_with(input, &[])
    }

    /// Validates every field, reporting every problem at once (each list's problems on
    /// their rows; a custom field's on its id). Blank rows are dropped. An empty tier
    /// means the default, 4. `fields` are the custom fields the input may hold values
    /// for (the live ones).
    pub fn parse_with(input: &ContactInput, fields: &[CustomField]) -> Result<Card, FieldErrors> {
        let mut errors = FieldErrors::default();

        let mut part = |field: Field, text: &str| match parse_part(text) {
            Ok(part) => part,
            Err(message) => {
                errors.add(field, message);
                None
            }
        };
        let name_parts = NameParts {
            prefix: part(Field::Prefix, &input.prefix),
            given: part(Field::Given, &input.given),
            middle: part(Field::Middle, &input.middle),
            family: part(Field::Family, &input.family),
            suffix: part(Field::Suffix, &input.suffix),
            nickname: part(Field::Nickname, &input.nickname),
            phonetic_given: part(Field::PhoneticGiven, &input.phonetic_given),
            phonetic_family: part(Field::PhoneticFamily, &input.phonetic_family),
            pronouns: part(Field::Pronouns, &input.pronouns),
        };
        let file_as = FileAs::parse(&input.file_as).unwrap_or_else(|message| {
            errors.add(Field::FileAs, message);
            FileAs::Given
        });

        let mut name = one_line(&input.name);
        if name.is_empty() {
            name = name_parts.display_name();
        }
        if name.is_empty() {
            errors.add(Field::Name, "Enter a name, or a given or family name.");
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.add(Field::Name, too_long(MAX_NAME_CHARS));
        }

        let emails = parse_list(&mut errors, Field::Emails, &input.emails, |row| {
            let label = parse_label(&row.label, EMAIL_LABELS)?;
            Ok(Email::parse(&row.value)?.map(|value| Entry { label, value }))
        });
        for (at, entry) in emails.iter().enumerate() {
            if emails[..at]
                .iter()
                .any(|seen| seen.value.normalized() == entry.value.normalized())
            {
                errors.add_row(Field::Emails, at, "This address is already listed above.");
            }
        }
        let phones = parse_list(&mut errors, Field::Phones, &input.phones, |row| {
            let label = parse_label(&row.label, PHONE_LABELS)?;
            Ok(Phone::parse(&row.value)?.map(|value| PhoneEntry {
                label,
                value,
                e164: None,
            }))
        });
        let addresses = parse_list(&mut errors, Field::Addresses, &input.addresses, |row| {
            Address::parse(row)
        });
        let links = parse_list(&mut errors, Field::Links, &input.links, |row| {
            let label = parse_label(&row.label, LINK_LABELS)?;
            Ok(parse_url(&row.value)?.map(|value| Entry { label, value }))
        });
        let ims = parse_list(&mut errors, Field::Ims, &input.ims, |row| {
            let label = parse_label(&row.label, IM_LABELS)?;
            Ok(parse_part(&row.value)?.map(|value| Entry { label, value }))
        });
        let related = parse_list(&mut errors, Field::Related, &input.related, |row| {
            let label = parse_label(&row.label, RELATED_LABELS)?;
            Ok(parse_part(&row.value)?.map(|value| Related {
                label,
                value,
                contact: None,
            }))
        });
        let birthday = PartialDate::parse(&input.birthday).unwrap_or_else(|message| {
            errors.add(Field::Birthday, message);
            None
        });
        let dates = parse_list(&mut errors, Field::Dates, &input.dates, |row| {
            let label = parse_label(&row.label, DATE_LABELS)?;
            Ok(PartialDate::parse(&row.value)?.map(|value| Entry { label, value }))
        });

        let mut line = |field: Field, text: &str| {
            let text = one_line(text);
            if text.chars().count() > MAX_LINE_CHARS {
                errors.add(field, too_long(MAX_LINE_CHARS));
            }
            (!text.is_empty()).then_some(text)
        };
        let company = line(Field::Company, &input.company);
        let department = line(Field::Department, &input.department);
        let title = line(Field::Title, &input.title);

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

        let custom = parse_custom(&mut errors, &input.custom, fields);
        let photo = if !input.photo_error.trim().is_empty() {
            errors.add(Field::Photo, one_line(&input.photo_error));
            None
        } else if !input.remove_photo.trim().is_empty() {
            None
        } else {
            match input.photo.trim() {
                "" => None,
                hash if is_photo_hash(hash) => Some(hash.to_owned()),
                _ => {
                    errors.add(
                        Field::Photo,
                        "The photo could not be kept. Choose it again.",
                    );
                    None
                }
            }
        };

        let extras = parse_extras(&input.extras).unwrap_or_else(|message| {
            errors.add(Field::Extras, message);
            Vec::new()
        });

        match tier {
            Some(tier) if errors.is_empty() => Ok(Card {
                name,
                name_parts,
                file_as,
                emails,
                phones,
                addresses,
                links,
                ims,
                related,
                birthday,
                dates,
                company,
                department,
                title,
                tier,
                tags,
                notes: (!notes.is_empty()).then_some(notes),
                custom,
                photo,
                extras,
            }),
            _ => Err(errors),
        }
    }

    /// The form holding this contact, for editing it. The name field is left empty
    /// when the name is the one the parts make, so editing a part changes it too.
    pub fn to_input(&self) -> ContactInput {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let entry = |label: &Option<String>, value: &str| EntryInput {
            label: text(label),
            value: value.to_owned(),
        };
        let parts = &self.name_parts;
        ContactInput {
            name: if self.name == parts.display_name() {
                String::new()
            } else {
                self.name.clone()
            },
            prefix: text(&parts.prefix),
            given: text(&parts.given),
            middle: text(&parts.middle),
            family: text(&parts.family),
            suffix: text(&parts.suffix),
            nickname: text(&parts.nickname),
            phonetic_given: text(&parts.phonetic_given),
            phonetic_family: text(&parts.phonetic_family),
            pronouns: text(&parts.pronouns),
            file_as: self.file_as.as_str().to_owned(),
            emails: self
                .emails
                .iter()
                .map(|e| entry(&e.label, e.value.as_str()))
                .collect(),
            phones: self
                .phones
                .iter()
                .map(|p| entry(&p.label, p.value.as_str()))
                .collect(),
            addresses: self.addresses.iter().map(Address::to_input).collect(),
            links: self
                .links
                .iter()
                .map(|l| entry(&l.label, &l.value))
                .collect(),
            ims: self.ims.iter().map(|i| entry(&i.label, &i.value)).collect(),
            related: self
                .related
                .iter()
                .map(|r| entry(&r.label, &r.value))
                .collect(),
            birthday: self.birthday.map(PartialDate::to_iso).unwrap_or_default(),
            dates: self
                .dates
                .iter()
                .map(|d| entry(&d.label, &d.value.to_iso()))
                .collect(),
            company: text(&self.company),
            department: text(&self.department),
            title: text(&self.title),
            tier: self.tier.get().to_string(),
            tags: self.tags.join(", "),
            notes: text(&self.notes),
            custom: custom::to_inputs(&self.custom),
            photo: self.photo.clone().unwrap_or_default(),
            extras: self.extras.clone(),
            ..ContactInput::default()
        }
    }

    /// Each related person not linked yet takes the link `stored` gives the same name
    /// (any case): an edit, an import or a merge keeps the links the form cannot show.
    pub fn keep_links_from(&mut self, stored: &Card) {
        for entry in self
            .related
            .iter_mut()
            .filter(|entry| entry.contact.is_none())
        {
            entry.contact = stored
                .related
                .iter()
                .find(|r| {
                    r.contact.is_some() && r.value.to_lowercase() == entry.value.to_lowercase()
                })
                .and_then(|r| r.contact);
        }
    }

    pub fn primary_email(&self) -> Option<&Email> {
        self.emails.first().map(|entry| &entry.value)
    }

    pub fn primary_phone(&self) -> Option<&Phone> {
        self.phones.first().map(|entry| &entry.value)
    }

    /// Where the contact is, from their first address: "Lisbon, Portugal".
    pub fn location(&self) -> Option<String> {
        self.addresses.first().and_then(Address::place)
    }

    /// The row a list shows for the contact `id` holding this card: its primary email,
    /// its first address's place.
    pub fn summary(&self, id: uuid::Uuid) -> super::ContactSummary {
        super::ContactSummary {
            id,
            name: self.name.clone(),
            email: self.primary_email().map(|email| email.as_str().to_owned()),
            company: self.company.clone(),
            title: self.title.clone(),
            location: self.location(),
            tier: self.tier,
            tags: self.tags.clone(),
        }
    }

    /// The city of the first address: what the directory's city filter reads.
    pub fn city(&self) -> Option<&str> {
        self.addresses.first().and_then(|a| a.city.as_deref())
    }

    /// The words the contact sorts by: the name parts in the "file as" order, or the
    /// display name.
    pub fn sort_words(&self) -> String {
        self.name_parts
            .sort_words(self.file_as)
            .unwrap_or_else(|| self.name.clone())
    }
}

/// Whether `text` can name a photo: 32 lowercase hexadecimal digits.
pub fn is_photo_hash(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Each custom value checked against its field; a value for no field in `fields` is
/// refused (on the field it names). A blank one is nothing to keep: a form opened
/// before an admin retired one of its fields still saves.
fn parse_custom(
    errors: &mut FieldErrors,
    inputs: &BTreeMap<String, String>,
    fields: &[CustomField],
) -> CustomValues {
    for (key, value) in inputs {
        let known = custom::key_field(key).filter(|id| fields.iter().any(|f| f.id == *id));
        if known.is_none() && !value.trim().is_empty() {
            let at = custom::key_field(key).map_or(0, |id| id.unsigned_abs() as usize);
            errors.add_row(Field::Custom, at, "There is no such field any more.");
        }
    }
    let mut values = CustomValues::new();
    for field in fields {
        match CustomValue::parse(field, &custom::input_text(inputs, field.id)) {
            Ok(Some(value)) => {
                values.insert(field.id, value);
            }
            Ok(None) => {}
            Err(message) => errors.add_row(Field::Custom, field.id as usize, message),
        }
    }
    values
}

/// Parses each non-blank row of a list, recording each refusal on its row (numbered as
/// the form shows them, blank rows included). At most [`MAX_ENTRIES`] rows.
fn parse_list<I, T>(
    errors: &mut FieldErrors,
    field: Field,
    rows: &[I],
    parse: impl Fn(&I) -> Result<Option<T>, String>,
) -> Vec<T> {
    let mut out = Vec::new();
    let mut filled = 0;
    for (at, row) in rows.iter().enumerate() {
        match parse(row) {
            Ok(Some(value)) => {
                filled += 1;
                out.push(value);
            }
            Ok(None) => {}
            Err(message) => {
                filled += 1;
                errors.add_row(field, at, message);
            }
        }
    }
    if filled > MAX_ENTRIES {
        errors.add(
            field,
            format!(
                "A contact holds at most {MAX_ENTRIES} of these (there are {filled}): keep the ones that matter."
            ),
        );
    }
    out
}

impl From<&super::Contact> for ContactInput {
    fn from(contact: &super::Contact) -> Self {
        contact.card.to_input()
    }
}

pub(crate) fn too_long(max: usize) -> String {
    format!("Keep it to {max} characters or fewer.")
}

/// Trims, and turns every run of whitespace (newlines and tabs included) into one space;
/// drops other control characters.
pub(crate) fn one_line(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> ContactInput {
        ContactInput {
            name: name.to_owned(),
            ..ContactInput::default()
        }
    }

    fn rows(values: &[(&str, &str)]) -> Vec<EntryInput> {
        values
            .iter()
            .map(|(label, value)| EntryInput::new(label, value))
            .collect()
    }

    #[test]
    fn a_blank_value_for_a_field_retired_meanwhile_is_nothing_to_refuse() {
        // The form was opened while field 9 was live; an admin has retired it since.
        let mut form = input("Rita Field");
        form.custom.insert(custom::input_key(9), String::new());
        let card = Card::parse_with(&form, &[]).expect("saved, with nothing lost");
        assert!(card.custom.is_empty());
        // Something typed into it is refused in words, on that field, and kept on the form.
        form.custom.insert(custom::input_key(9), "Lisbon".into());
        let errors = Card::parse_with(&form, &[]).unwrap_err();
        assert_eq!(
            errors.get_row(Field::Custom, 9),
            Some("There is no such field any more.")
        );
    }

    #[test]
    fn a_name_alone_is_a_contact_with_defaults() {
        let card = Card::parse(&input("  Ada   Lovelace\n")).unwrap();
        assert_eq!(card.name, "Ada Lovelace");
        assert_eq!(card.tier.get(), 4);
        assert_eq!(card.emails, []);
        assert_eq!(card.tags, Vec::<String>::new());
        assert_eq!(card.notes, None);
        assert_eq!(card.file_as, FileAs::Given);
    }

    #[test]
    fn the_name_comes_from_its_parts_unless_set() {
        let parts = ContactInput {
            given: "Ada".into(),
            family: "Lovelace".into(),
            suffix: "FRS".into(),
            file_as: "family".into(),
            ..ContactInput::default()
        };
        let card = Card::parse(&parts).unwrap();
        assert_eq!(card.name, "Ada Lovelace FRS");
        assert_eq!(card.sort_words(), "Lovelace Ada");
        assert_eq!(card.to_input().name, "", "a derived name is not pinned");
        let pinned = Card::parse(&ContactInput {
            name: "Countess of Lovelace".into(),
            ..parts
        })
        .unwrap();
        assert_eq!(pinned.name, "Countess of Lovelace");
        assert_eq!(pinned.to_input().name, "Countess of Lovelace");
        assert_eq!(
            Card::parse(&ContactInput::default())
                .unwrap_err()
                .get(Field::Name),
            Some("Enter a name, or a given or family name.")
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_in_field_order_and_on_its_row() {
        let errors = Card::parse(&ContactInput {
            name: "   ".into(),
            emails: rows(&[
                ("work", "ada@example.com"),
                ("", ""),
                ("home", "not an email"),
            ]),
            phones: rows(&[("", "call me")]),
            addresses: vec![AddressInput {
                city: "Lisbon".into(),
                country: "Atlantis".into(),
                ..AddressInput::default()
            }],
            birthday: "2023-02-31".into(),
            tier: "7".into(),
            tags: "a".repeat(51),
            notes: "n".repeat(MAX_NOTES_CHARS + 1),
            company: "c".repeat(MAX_LINE_CHARS + 1),
            ..ContactInput::default()
        })
        .unwrap_err();
        assert_eq!(
            errors.fields(),
            [
                Field::Name,
                Field::Emails,
                Field::Phones,
                Field::Addresses,
                Field::Birthday,
                Field::Company,
                Field::Tier,
                Field::Tags,
                Field::Notes
            ]
        );
        assert_eq!(errors.get(Field::Emails), None);
        assert_eq!(errors.get_row(Field::Emails, 0), None);
        assert_eq!(
            errors.get_row(Field::Emails, 2),
            Some("Enter an email address like name@example.com."),
            "rows are numbered as the form shows them, blank ones included"
        );
        assert!(
            errors
                .get_row(Field::Addresses, 0)
                .unwrap()
                .contains("Atlantis")
        );
        assert_eq!(
            errors.get(Field::Birthday),
            Some("February 2023 has 28 days.")
        );
        assert_eq!(errors.get(Field::Tier), Some("Choose a tier from 1 to 4."));
        assert!(errors.to_string().contains("Email 3: Enter an email"));
    }

    #[test]
    fn lists_drop_blank_rows_keep_order_and_refuse_too_many_or_repeats() {
        let card = Card::parse(&ContactInput {
            emails: rows(&[
                ("", " "),
                ("Work", "ada@work.example"),
                ("private", "ada@home.example"),
            ]),
            phones: rows(&[
                ("mobile", "+44 7700 900123"),
                ("Work", "020 7946 0958 ext 12"),
            ]),
            ..input("Ada")
        })
        .unwrap();
        let emails: Vec<(Option<&str>, &str)> = card
            .emails
            .iter()
            .map(|e| (e.label.as_deref(), e.value.as_str()))
            .collect();
        assert_eq!(
            emails,
            [
                (Some("work"), "ada@work.example"),
                (Some("private"), "ada@home.example")
            ]
        );
        assert_eq!(card.primary_email().unwrap().as_str(), "ada@work.example");
        assert_eq!(card.phones[1].value.as_str(), "020 7946 0958 ext 12");
        assert_eq!(card.phones[1].label.as_deref(), Some("work"));

        let many: Vec<EntryInput> = (0..MAX_ENTRIES + 1)
            .map(|n| EntryInput::new("", &format!("+1 555 010 {n:04}")))
            .collect();
        let errors = Card::parse(&ContactInput {
            phones: many,
            ..input("Ada")
        })
        .unwrap_err();
        assert!(errors.get(Field::Phones).unwrap().contains("at most 20"));

        let errors = Card::parse(&ContactInput {
            emails: rows(&[("", "Ada@Example.com"), ("", "ada@example.COM")]),
            ..input("Ada")
        })
        .unwrap_err();
        assert_eq!(
            errors.get_row(Field::Emails, 1),
            Some("This address is already listed above.")
        );
    }

    #[test]
    fn names_are_bounded_in_characters_not_bytes() {
        assert!(Card::parse(&input(&"é".repeat(MAX_NAME_CHARS))).is_ok());
        let errors = Card::parse(&input(&"é".repeat(MAX_NAME_CHARS + 1))).unwrap_err();
        assert!(errors.get(Field::Name).unwrap().contains("200"));
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
            Card::parse(&ContactInput {
                tier: text.into(),
                ..input("A")
            })
            .map(|card| card.tier.get())
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
        let card = Card::parse(&ContactInput {
            notes: "\r\n  Met at RustConf.  \r\n\r\nLikes tea.\u{0}\n\n".into(),
            ..input("A")
        })
        .unwrap();
        assert_eq!(
            card.notes.as_deref(),
            Some("Met at RustConf.\n\nLikes tea.")
        );
    }

    #[test]
    fn a_card_round_trips_through_its_form() {
        let card = Card::parse(&ContactInput {
            name: "Zoë Lefèvre".into(),
            prefix: "Dr.".into(),
            given: "Zoë".into(),
            family: "Lefèvre".into(),
            nickname: "Zozo".into(),
            pronouns: "she/her".into(),
            file_as: "family".into(),
            emails: rows(&[("work", "zoe@example.fr"), ("Perso", "zoe@home.example")]),
            phones: rows(&[("mobile", "+33 6 12 34 56 78"), ("", "01 23 45 67 89")]),
            addresses: vec![AddressInput {
                label: "work".into(),
                street: "1 rue de Rivoli".into(),
                city: "Paris".into(),
                postal_code: "75001".into(),
                country: "FR".into(),
                ..AddressInput::default()
            }],
            links: rows(&[("github", "github.com/zoe")]),
            ims: rows(&[("Signal", "+33612345678")]),
            birthday: "--07-14".into(),
            dates: rows(&[("anniversary", "2015-06-20")]),
            company: "Acme".into(),
            department: "R&D".into(),
            title: "CTO".into(),
            tier: "2".into(),
            tags: "founder, rust".into(),
            notes: "Line one\nLine two".into(),
            ..ContactInput::default()
        })
        .unwrap();
        assert_eq!(Card::parse(&card.to_input()), Ok(card));
    }

    #[test]
    fn row_buttons_change_the_form() {
        let mut form = ContactInput {
            emails: rows(&[("", "a@x.io"), ("", "b@x.io")]),
            ..ContactInput::default()
        };
        assert!(form.apply_row_op("primary:emails:1"));
        assert_eq!(form.emails[0].value, "b@x.io");
        assert!(form.apply_row_op("add:addresses"));
        assert_eq!(form.addresses.len(), 1);
        assert!(form.apply_row_op("remove:emails:0"));
        assert_eq!(form.emails, rows(&[("", "a@x.io")]));
        assert!(!form.apply_row_op("add:name"));
        assert!(!form.apply_row_op("remove:emails:7"));
    }
}
