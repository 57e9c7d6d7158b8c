//! Merging two contacts: for each single-valued field, whose value to keep; lists
//! (emails, phones, addresses, links, handles, related people, dates) and tags are
//! united, so a merge never loses an entry.

use serde::{Deserialize, Serialize};

use super::{Card, ContactInput, Field};

/// The side each field comes from: `"keep"` (the contact that stays) or `"other"` (the
/// one merged into it). Anything else, or nothing, means `"keep"`. The name parts go
/// with the name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeChoices {
    pub name: String,
    pub company: String,
    pub department: String,
    pub title: String,
    pub birthday: String,
    pub tier: String,
    pub notes: String,
}

/// The fields a person chooses between (the others are united).
pub const CHOSEN_FIELDS: [Field; 7] = [
    Field::Name,
    Field::Company,
    Field::Department,
    Field::Title,
    Field::Birthday,
    Field::Tier,
    Field::Notes,
];

/// The fields whose entries are united.
pub const UNITED_FIELDS: [Field; 8] = [
    Field::Emails,
    Field::Phones,
    Field::Addresses,
    Field::Links,
    Field::Ims,
    Field::Related,
    Field::Dates,
    Field::Tags,
];

impl MergeChoices {
    fn choice(&self, field: Field) -> &str {
        match field {
            Field::Name => &self.name,
            Field::Company => &self.company,
            Field::Department => &self.department,
            Field::Title => &self.title,
            Field::Birthday => &self.birthday,
            Field::Tier => &self.tier,
            Field::Notes => &self.notes,
            _ => "keep",
        }
    }

    /// Whether `field` takes the other contact's value.
    pub fn takes_other(&self, field: Field) -> bool {
        self.choice(field) == "other"
    }

    /// The choices a page opens with: the kept contact's value, unless it has none and
    /// the other has one.
    pub fn suggested(keep: &Card, other: &Card) -> MergeChoices {
        let pick = |field: Field| {
            if keep.field_text(field).is_none() && other.field_text(field).is_some() {
                "other".to_owned()
            } else {
                "keep".to_owned()
            }
        };
        MergeChoices {
            name: pick(Field::Name),
            company: pick(Field::Company),
            department: pick(Field::Department),
            title: pick(Field::Title),
            birthday: pick(Field::Birthday),
            tier: pick(Field::Tier),
            notes: pick(Field::Notes),
        }
    }

    /// The merged contact as a form would hold it: each chosen field from its side,
    /// every entry of both lists (the kept contact's first, no repeats), the tags of
    /// both (no repeats ignoring case).
    pub fn merged(&self, keep: &Card, other: &Card) -> ContactInput {
        let (kept, theirs) = (keep.to_input(), other.to_input());
        let mut merged = kept.clone();
        let side = |field: Field| {
            if self.takes_other(field) {
                &theirs
            } else {
                &kept
            }
        };
        let from = side(Field::Name);
        merged.name = if self.takes_other(Field::Name) {
            other.name.clone()
        } else {
            keep.name.clone()
        };
        merged.prefix = from.prefix.clone();
        merged.given = from.given.clone();
        merged.middle = from.middle.clone();
        merged.family = from.family.clone();
        merged.suffix = from.suffix.clone();
        merged.phonetic_given = from.phonetic_given.clone();
        merged.phonetic_family = from.phonetic_family.clone();
        merged.file_as = from.file_as.clone();
        // A nickname or pronouns only the other has are kept.
        if merged.nickname.is_empty() {
            merged.nickname.clone_from(&theirs.nickname);
        }
        if merged.pronouns.is_empty() {
            merged.pronouns.clone_from(&theirs.pronouns);
        }
        merged.company = side(Field::Company).company.clone();
        merged.department = side(Field::Department).department.clone();
        merged.title = side(Field::Title).title.clone();
        merged.birthday = side(Field::Birthday).birthday.clone();
        merged.tier = side(Field::Tier).tier.clone();
        merged.notes = side(Field::Notes).notes.clone();
        // A photo only the other has is kept.
        if merged.photo.is_empty() {
            merged.photo.clone_from(&theirs.photo);
        }
        // A custom value only the other has is kept; where both have one, the kept
        // contact's stands.
        for (key, value) in &theirs.custom {
            merged
                .custom
                .entry(key.clone())
                .or_insert_with(|| value.clone());
        }

        let emails = |card: &Card| -> Vec<String> {
            card.emails.iter().map(|e| e.value.normalized()).collect()
        };
        unite(
            &mut merged.emails,
            &theirs.emails,
            &emails(keep),
            &emails(other),
        );
        let phones = |card: &Card| -> Vec<String> { card.phones.iter().map(|p| p.key()).collect() };
        unite(
            &mut merged.phones,
            &theirs.phones,
            &phones(keep),
            &phones(other),
        );
        let addresses = |card: &Card| -> Vec<String> {
            card.addresses
                .iter()
                .map(|a| a.one_line().to_lowercase())
                .collect()
        };
        unite(
            &mut merged.addresses,
            &theirs.addresses,
            &addresses(keep),
            &addresses(other),
        );
        let lower = |rows: &[super::card::EntryInput]| -> Vec<String> {
            rows.iter().map(|r| r.value.to_lowercase()).collect()
        };
        let (kept_links, their_links) = (lower(&kept.links), lower(&theirs.links));
        unite(&mut merged.links, &theirs.links, &kept_links, &their_links);
        let (kept_ims, their_ims) = (lower(&kept.ims), lower(&theirs.ims));
        unite(&mut merged.ims, &theirs.ims, &kept_ims, &their_ims);
        let (kept_related, their_related) = (lower(&kept.related), lower(&theirs.related));
        unite(
            &mut merged.related,
            &theirs.related,
            &kept_related,
            &their_related,
        );
        let dates = |rows: &[super::card::EntryInput]| -> Vec<String> {
            rows.iter()
                .map(|r| format!("{}|{}", r.label.to_lowercase(), r.value))
                .collect()
        };
        let (kept_dates, their_dates) = (dates(&kept.dates), dates(&theirs.dates));
        unite(&mut merged.dates, &theirs.dates, &kept_dates, &their_dates);

        let mut tags = keep.tags.clone();
        for tag in &other.tags {
            if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
                tags.push(tag.clone());
            }
        }
        merged.tags = tags.join(", ");
        // What either vCard carried beyond Roster's fields: every line, once.
        super::card::add_extras(&mut merged.extras, &theirs.extras);
        merged
    }
}

/// Appends the other side's rows whose key the kept side does not have (nor an earlier
/// appended row).
fn unite<T: Clone>(rows: &mut Vec<T>, others: &[T], kept_keys: &[String], other_keys: &[String]) {
    let mut seen: Vec<&String> = kept_keys.iter().collect();
    for (row, key) in others.iter().zip(other_keys) {
        if !seen.contains(&key) {
            seen.push(key);
            rows.push(row.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::{AddressInput, EntryInput};

    fn card(name: &str, emails: &[&str], phones: &[&str], tags: &str) -> Card {
        Card::parse(&ContactInput {
            name: name.into(),
            emails: emails.iter().map(|e| EntryInput::new("work", e)).collect(),
            phones: phones.iter().map(|p| EntryInput::new("", p)).collect(),
            company: "Acme".into(),
            tier: "3".into(),
            tags: tags.into(),
            ..ContactInput::default()
        })
        .unwrap()
    }

    #[test]
    fn chosen_fields_united_lists_and_tags() {
        let keep = card(
            "Ada Lovelace",
            &["ada@a.example"],
            &["+44 20 7946 0958"],
            "maths, Poetry",
        );
        let mut other = card(
            "A. Lovelace",
            &["ADA@a.example", "ada@b.example"],
            &["+44 (20) 7946-0958", "+1 555 010 2000"],
            "poetry, engines",
        );
        other.addresses = vec![
            crate::domain::card::Address::parse(&AddressInput {
                city: "London".into(),
                ..AddressInput::default()
            })
            .unwrap()
            .unwrap(),
        ];
        other.title = Some("Countess".into());
        let suggested = MergeChoices::suggested(&keep, &other);
        assert_eq!(suggested.title, "other", "the kept contact has none");
        assert_eq!(suggested.name, "keep");
        let merged = suggested.merged(&keep, &other);
        assert_eq!(merged.name, "Ada Lovelace");
        assert_eq!(merged.title, "Countess");
        let values = |rows: &[EntryInput]| rows.iter().map(|r| r.value.clone()).collect::<Vec<_>>();
        assert_eq!(values(&merged.emails), ["ada@a.example", "ada@b.example"]);
        assert_eq!(
            values(&merged.phones),
            ["+44 20 7946 0958", "+1 555 010 2000"],
            "the same digits are one number"
        );
        assert_eq!(merged.addresses[0].city, "London");
        assert_eq!(merged.tags, "maths, Poetry, engines");
        let card = Card::parse(&merged).unwrap();
        assert_eq!(card.emails.len(), 2);

        let choices = MergeChoices {
            name: "other".into(),
            ..MergeChoices::default()
        };
        let merged = choices.merged(&keep, &other);
        assert_eq!(merged.name, "A. Lovelace");
        assert_eq!(merged.title, "");
        assert_eq!(merged.tier, "3");
    }
}
