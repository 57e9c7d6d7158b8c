//! Google Contacts CSV: the columns Google's export writes (and its import reads),
//! one group of columns per entry ("E-mail 2 - Label", "E-mail 2 - Value"), the
//! primary entry's label starred, the contact's labels joined by " ::: " after
//! "* myContacts". Custom fields, and columns an earlier import kept, are Google's
//! custom fields. What Google has no column for follows under Roster's own column names
//! ("Name", "Pronouns", "Tier", "Other vCard data"), so Roster reads its export back to
//! the same contacts. The number of groups is the most any exported contact needs: the
//! contacts are counted before the header is written.

use super::{defuse_for_programs, label_for_programs};
use crate::{
    domain::{
        card::{self, Address, FileAs},
        custom::CustomField,
    },
    server::search::schema::IndexedContact,
};

const NAME_COLUMNS: [&str; 17] = [
    "Name",
    "First Name",
    "Middle Name",
    "Last Name",
    "Phonetic First Name",
    "Phonetic Last Name",
    "Name Prefix",
    "Name Suffix",
    "Nickname",
    "File As",
    "Organization Name",
    "Organization Title",
    "Organization Department",
    "Birthday",
    "Notes",
    "Photo",
    "Labels",
];

const ADDRESS_PARTS: [&str; 9] = [
    "Label",
    "Formatted",
    "Street",
    "City",
    "PO Box",
    "Region",
    "Postal Code",
    "Country",
    "Extended Address",
];

/// Roster's columns after Google's.
const ROSTER_COLUMNS: [&str; 3] = ["Pronouns", "Tier", "Other vCard data"];

/// How many groups of each kind the header has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    emails: usize,
    phones: usize,
    addresses: usize,
    websites: usize,
    relations: usize,
    events: usize,
    customs: usize,
    ims: usize,
}

/// A contact's custom values (by field name) and the values earlier imports kept by
/// name, as Google's custom fields; the other extras, one per line.
fn customs(contact: &IndexedContact, fields: &[CustomField]) -> (Vec<(String, String)>, String) {
    let mut customs: Vec<(String, String)> = fields
        .iter()
        .filter_map(|field| {
            let value = contact.card.custom.get(&field.id)?;
            Some((field.name.clone(), value.to_text()))
        })
        .collect();
    let mut other = Vec::new();
    for line in &contact.card.extras {
        match card::custom_of_line(line) {
            Some(kept) => customs.push(kept),
            None => other.push(line.as_str()),
        }
    }
    (customs, other.join("\n"))
}

impl Groups {
    /// Makes room for `contact`'s entries.
    pub fn fit(&mut self, contact: &IndexedContact, fields: &[CustomField]) {
        let card = &contact.card;
        let customs = customs(contact, fields).0.len();
        for (kept, needed) in [
            (&mut self.emails, card.emails.len()),
            (&mut self.phones, card.phones.len()),
            (&mut self.addresses, card.addresses.len()),
            (&mut self.websites, card.links.len()),
            (&mut self.relations, card.related.len()),
            (&mut self.events, card.dates.len()),
            (&mut self.customs, customs),
            (&mut self.ims, card.ims.len()),
        ] {
            *kept = (*kept).max(needed);
        }
    }

    pub fn header(&self) -> Vec<String> {
        let mut header: Vec<String> = NAME_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        let mut pairs = |kind: &str, count: usize| {
            for n in 1..=count {
                header.push(format!("{kind} {n} - Label"));
                header.push(format!("{kind} {n} - Value"));
            }
        };
        pairs("E-mail", self.emails);
        pairs("Phone", self.phones);
        for n in 1..=self.addresses {
            for part in ADDRESS_PARTS {
                header.push(format!("Address {n} - {part}"));
            }
        }
        let mut pairs = |kind: &str, count: usize| {
            for n in 1..=count {
                header.push(format!("{kind} {n} - Label"));
                header.push(format!("{kind} {n} - Value"));
            }
        };
        pairs("Website", self.websites);
        pairs("Relation", self.relations);
        pairs("Event", self.events);
        pairs("Custom Field", self.customs);
        for n in 1..=self.ims {
            header.push(format!("IM {n} - Label"));
            header.push(format!("IM {n} - Service"));
            header.push(format!("IM {n} - Value"));
        }
        header.extend(ROSTER_COLUMNS.iter().map(|c| (*c).to_owned()));
        header
    }

    pub fn record(&self, contact: &IndexedContact, fields: &[CustomField]) -> Vec<String> {
        let card = &contact.card;
        let parts = &card.name_parts;
        let text =
            |value: &Option<String>| defuse_for_programs(value.as_deref().unwrap_or_default());
        // The name as Roster has it only when the parts do not make it.
        let name = if card.name == parts.display_name() {
            String::new()
        } else {
            defuse_for_programs(&card.name)
        };
        let file_as = match (card.file_as, &parts.family) {
            (FileAs::Family, Some(family)) => defuse_for_programs(
                format!("{family}, {}", parts.given.as_deref().unwrap_or_default()).trim(),
            ),
            // Filed by a family name it does not have: said in Roster's word.
            (FileAs::Family, None) => FileAs::Family.as_str().to_owned(),
            (FileAs::Given, _) => String::new(),
        };
        let labels = std::iter::once("* myContacts".to_owned())
            .chain(card.tags.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ::: ");
        let mut record = vec![
            name,
            text(&parts.given),
            text(&parts.middle),
            text(&parts.family),
            text(&parts.phonetic_given),
            text(&parts.phonetic_family),
            text(&parts.prefix),
            text(&parts.suffix),
            text(&parts.nickname),
            file_as,
            text(&card.company),
            text(&card.title),
            text(&card.department),
            card.birthday.map(|d| d.to_iso()).unwrap_or_default(),
            text(&card.notes),
            // A photo travels in vCards; a CSV cell would need a link to it.
            String::new(),
            defuse_for_programs(&labels),
        ];
        // Each list's entries as (label, value) cells: the first entry is the primary,
        // its label starred as Google marks it; empty cells up to `count`.
        fn pairs<T>(
            record: &mut Vec<String>,
            count: usize,
            entries: &[T],
            offered: &[&str],
            cells: impl Fn(&T) -> (Option<&String>, String),
        ) {
            for at in 0..count {
                let (label, value) = match entries.get(at).map(&cells) {
                    Some((label, value)) => {
                        let label = label_for_programs(label.map(String::as_str), offered);
                        let label = if at == 0 {
                            format!("* {label}").trim_end().to_owned()
                        } else {
                            label
                        };
                        (label, defuse_for_programs(&value))
                    }
                    None => Default::default(),
                };
                record.push(label);
                record.push(value);
            }
        }
        pairs(
            &mut record,
            self.emails,
            &card.emails,
            card::EMAIL_LABELS,
            |e| (e.label.as_ref(), e.value.as_str().to_owned()),
        );
        pairs(
            &mut record,
            self.phones,
            &card.phones,
            card::PHONE_LABELS,
            |p| (p.label.as_ref(), p.value.as_str().to_owned()),
        );
        for at in 0..self.addresses {
            match card.addresses.get(at) {
                Some(address) => record.extend(address_cells(address, at)),
                None => record.extend(std::iter::repeat_n(String::new(), ADDRESS_PARTS.len())),
            }
        }
        pairs(
            &mut record,
            self.websites,
            &card.links,
            card::LINK_LABELS,
            |l| (l.label.as_ref(), l.value.clone()),
        );
        pairs(
            &mut record,
            self.relations,
            &card.related,
            card::RELATED_LABELS,
            |r| (r.label.as_ref(), r.value.clone()),
        );
        pairs(
            &mut record,
            self.events,
            &card.dates,
            card::DATE_LABELS,
            |d| (d.label.as_ref(), d.value.to_iso()),
        );
        let (customs, other) = customs(contact, fields);
        // Custom fields are named, not starred.
        for at in 0..self.customs {
            let (name, value) = customs.get(at).cloned().unwrap_or_default();
            record.push(defuse_for_programs(&name));
            record.push(defuse_for_programs(&value));
        }
        for at in 0..self.ims {
            // Roster's label of a handle is its service.
            let (service, value) = card
                .ims
                .get(at)
                .map(|i| {
                    (
                        defuse_for_programs(i.label.as_deref().unwrap_or_default()),
                        defuse_for_programs(&i.value),
                    )
                })
                .unwrap_or_default();
            record.extend([String::new(), service, value]);
        }
        record.extend([
            text(&parts.pronouns),
            card.tier.get().to_string(),
            defuse_for_programs(&other),
        ]);
        record
    }
}

fn address_cells(address: &Address, at: usize) -> [String; 9] {
    let part = |p: &Option<String>| defuse_for_programs(p.as_deref().unwrap_or_default());
    let country = address.country_name().unwrap_or_default().to_owned();
    let locality = [address.postal_code.as_deref(), address.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let formatted = [
        address.street.as_deref(),
        address.extended.as_deref(),
        (!locality.is_empty()).then_some(locality.as_str()),
        address.region.as_deref(),
        (!country.is_empty()).then_some(country.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n");
    let label = label_for_programs(address.label.as_deref(), card::ADDRESS_LABELS);
    [
        if at == 0 {
            format!("* {label}").trim_end().to_owned()
        } else {
            label
        },
        defuse_for_programs(&formatted),
        part(&address.street),
        part(&address.city),
        String::new(),
        part(&address.region),
        part(&address.postal_code),
        country,
        part(&address.extended),
    ]
}
