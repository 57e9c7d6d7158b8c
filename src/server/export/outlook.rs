//! Outlook CSV: the columns Outlook's "Export to a file" writes (English headers), which
//! Outlook, and most programs that import "Outlook CSV", read. Its layout is fixed:
//! three emails, a phone of each kind, a business, a home and an other address, one
//! manager, assistant, spouse… Whatever does not fit is not dropped: it is written at
//! the end of the notes, one "label: value" line each, under "More from Roster:".

use super::{defuse_for_programs, label_for_programs};
use crate::{
    domain::{card, custom::CustomField},
    server::search::schema::IndexedContact,
};

pub const HEADER: [&str; 62] = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Title",
    "Suffix",
    "Nickname",
    "Given Yomi",
    "Surname Yomi",
    "E-mail Address",
    "E-mail 2 Address",
    "E-mail 3 Address",
    "Home Phone",
    "Home Phone 2",
    "Business Phone",
    "Business Phone 2",
    "Mobile Phone",
    "Car Phone",
    "Other Phone",
    "Primary Phone",
    "Pager",
    "Business Fax",
    "Home Fax",
    "Other Fax",
    "Company Main Phone",
    "Callback",
    "Radio Phone",
    "Telex",
    "TTY/TDD Phone",
    "IMAddress",
    "Job Title",
    "Department",
    "Company",
    "Office Location",
    "Manager's Name",
    "Assistant's Name",
    "Assistant's Phone",
    "Company Yomi",
    "Business Street",
    "Business City",
    "Business State",
    "Business Postal Code",
    "Business Country/Region",
    "Home Street",
    "Home City",
    "Home State",
    "Home Postal Code",
    "Home Country/Region",
    "Other Street",
    "Other City",
    "Other State",
    "Other Postal Code",
    "Other Country/Region",
    "Personal Web Page",
    "Spouse",
    "Schools",
    "Hobby",
    "Location",
    "Web Page",
    "Birthday",
    "Anniversary",
    "Categories",
    "Notes",
];

/// The heading of what did not fit, in the notes.
pub const MORE: &str = "More from Roster:";

/// One contact's row, in [`HEADER`]'s order.
pub fn record(contact: &IndexedContact, fields: &[CustomField]) -> Vec<String> {
    let card = &contact.card;
    let parts = &card.name_parts;
    let mut row = vec![String::new(); HEADER.len()];
    let at = |column: &str| {
        HEADER
            .iter()
            .position(|c| *c == column)
            .expect("a column of the header")
    };
    let mut more: Vec<String> = Vec::new();
    let put = |row: &mut Vec<String>, column: &str, value: &str| -> bool {
        let cell = &mut row[at(column)];
        if cell.is_empty() {
            *cell = defuse_for_programs(value);
            true
        } else {
            false
        }
    };
    for (column, value) in [
        ("First Name", &parts.given),
        ("Middle Name", &parts.middle),
        ("Last Name", &parts.family),
        ("Title", &parts.prefix),
        ("Suffix", &parts.suffix),
        ("Nickname", &parts.nickname),
        ("Given Yomi", &parts.phonetic_given),
        ("Surname Yomi", &parts.phonetic_family),
        ("Job Title", &card.title),
        ("Department", &card.department),
        ("Company", &card.company),
    ] {
        if let Some(value) = value {
            put(&mut row, column, value);
        }
    }
    if card.name != parts.display_name() {
        more.push(format!("Name: {}", card.name));
    }
    for (n, email) in card.emails.iter().enumerate() {
        let column = ["E-mail Address", "E-mail 2 Address", "E-mail 3 Address"].get(n);
        // Outlook's email columns have no label.
        if email.label.is_some() || !column.is_some_and(|c| put(&mut row, c, email.value.as_str()))
        {
            more.push(line(
                "Email",
                email.label.as_deref(),
                card::EMAIL_LABELS,
                email.value.as_str(),
            ));
        }
    }
    for phone in &card.phones {
        let columns: &[&str] = match phone.label.as_deref() {
            None | Some("other") => &["Other Phone"],
            Some("work") => &["Business Phone", "Business Phone 2"],
            Some("home") => &["Home Phone", "Home Phone 2"],
            Some("mobile") => &["Mobile Phone"],
            Some("main") => &["Primary Phone"],
            Some("pager") => &["Pager"],
            Some("work fax") => &["Business Fax"],
            Some("home fax") => &["Home Fax"],
            Some("fax") => &["Other Fax"],
            Some("car") => &["Car Phone"],
            Some("assistant") => &["Assistant's Phone"],
            Some("company main") => &["Company Main Phone"],
            Some("callback") => &["Callback"],
            Some("radio") => &["Radio Phone"],
            Some("telex") => &["Telex"],
            Some("TTY/TDD") => &["TTY/TDD Phone"],
            Some(_) => &[],
        };
        if !columns
            .iter()
            .any(|c| put(&mut row, c, phone.value.as_str()))
        {
            more.push(line(
                "Phone",
                phone.label.as_deref(),
                card::PHONE_LABELS,
                phone.value.as_str(),
            ));
        }
    }
    for address in &card.addresses {
        let kind = match address.label.as_deref() {
            Some("work") => Some("Business"),
            Some("home") => Some("Home"),
            None | Some("other") => Some("Other"),
            Some(_) => None,
        };
        let free = kind.is_some_and(|kind| {
            [
                " Street",
                " City",
                " State",
                " Postal Code",
                " Country/Region",
            ]
            .iter()
            .all(|part| row[at(&format!("{kind}{part}"))].is_empty())
        });
        match kind {
            Some(kind) if free => {
                let street = [address.street.as_deref(), address.extended.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                put(&mut row, &format!("{kind} Street"), &street);
                for (part, value) in [
                    (" City", address.city.as_deref()),
                    (" State", address.region.as_deref()),
                    (" Postal Code", address.postal_code.as_deref()),
                    (" Country/Region", address.country_name()),
                ] {
                    put(
                        &mut row,
                        &format!("{kind}{part}"),
                        value.unwrap_or_default(),
                    );
                }
            }
            _ => more.push(line(
                "Address",
                address.label.as_deref(),
                card::ADDRESS_LABELS,
                &address.one_line(),
            )),
        }
    }
    for link in &card.links {
        let column = match link.label.as_deref() {
            None => Some("Web Page"),
            Some("homepage") => Some("Personal Web Page"),
            Some(_) => None,
        };
        if !column.is_some_and(|c| put(&mut row, c, &link.value)) {
            more.push(line(
                "Website",
                link.label.as_deref(),
                card::LINK_LABELS,
                &link.value,
            ));
        }
    }
    for im in &card.ims {
        if im.label.is_some() || !put(&mut row, "IMAddress", &im.value) {
            more.push(line(
                "Messaging",
                im.label.as_deref(),
                card::IM_LABELS,
                &im.value,
            ));
        }
    }
    for related in &card.related {
        let column = match related.label.as_deref() {
            Some("manager") => Some("Manager's Name"),
            Some("assistant") => Some("Assistant's Name"),
            Some("spouse") => Some("Spouse"),
            _ => None,
        };
        if !column.is_some_and(|c| put(&mut row, c, &related.value)) {
            more.push(line(
                "Related",
                related.label.as_deref(),
                card::RELATED_LABELS,
                &related.value,
            ));
        }
    }
    // Outlook's dates have years.
    let outlook_date = |date: card::PartialDate| {
        date.year
            .map(|year| format!("{}/{}/{year}", date.month, date.day))
    };
    if let Some(birthday) = card.birthday {
        match outlook_date(birthday) {
            Some(text) => {
                put(&mut row, "Birthday", &text);
            }
            None => more.push(format!("Birthday: {}", birthday.to_iso())),
        }
    }
    for date in &card.dates {
        let fits = date.label.as_deref() == Some("anniversary")
            && outlook_date(date.value).is_some_and(|text| put(&mut row, "Anniversary", &text));
        if !fits {
            more.push(line(
                "Date",
                date.label.as_deref(),
                card::DATE_LABELS,
                &date.value.to_iso(),
            ));
        }
    }
    put(&mut row, "Categories", &card.tags.join(";"));
    // Values an earlier import kept under an Outlook column go back to it.
    for extra in &card.extras {
        match card::custom_of_line(extra) {
            Some((name, value))
                if HEADER.contains(&name.as_str()) && put(&mut row, &name, &value) => {}
            Some((name, value)) => more.push(format!("{name}: {value}")),
            None => more.push(format!("vCard: {extra}")),
        }
    }
    for field in fields {
        if let Some(value) = card.custom.get(&field.id) {
            more.push(format!("{}: {}", field.name, value.to_text()));
        }
    }
    if let Some(pronouns) = &parts.pronouns {
        more.push(format!("Pronouns: {pronouns}"));
    }
    // An empty tier reads as 4.
    if card.tier.get() != 4 {
        more.push(format!("Tier: {}", card.tier.get()));
    }
    let mut notes = card.notes.clone().unwrap_or_default();
    if !more.is_empty() {
        if !notes.is_empty() {
            notes.push_str("\n\n");
        }
        notes.push_str(MORE);
        for entry in more {
            notes.push('\n');
            notes.push_str(&entry.replace(['\r', '\n'], " "));
        }
    }
    row[at("Notes")] = defuse_for_programs(&notes);
    row
}

/// "Phone (Laboratory): +44 …"
fn line(kind: &str, label: Option<&str>, offered: &[&str], value: &str) -> String {
    match label {
        Some(label) => format!(
            "{kind} ({}): {value}",
            label_for_programs(Some(label), offered)
        ),
        None => format!("{kind}: {value}"),
    }
}
