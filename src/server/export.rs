//! Exporting contacts: CSV (that Roster's own import reads back to the same contacts)
//! and vCard 4.0.

use std::fmt::Write as _;

use super::search::schema::IndexedContact;

/// The CSV header: the names the import recognises, so an export re-imports as is.
pub const CSV_HEADER: [&str; 10] = [
    "Name", "Email", "Phone", "Company", "Title", "Location", "Tier", "Tags", "Notes", "Added",
];

/// The characters that make a spreadsheet run a cell as a formula, the full-width
/// forms included (some spreadsheets read `＝` as `=`).
const FORMULA_START: [char; 10] = [
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// True for a value that [`defuse`] marks: a formula start, after any number of `'`.
/// (Quotes count so that a value which already starts with `'=` survives the round
/// trip: it is written `''=` and read back as `'=`.)
fn needs_mark(value: &str) -> bool {
    value.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// A spreadsheet would run a cell starting with one of [`FORMULA_START`] as a formula:
/// such cells get a leading `'` (which the import removes again).
pub fn defuse(value: &str) -> String {
    if needs_mark(value) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Undoes [`defuse`] on import: `restore_cell(&defuse(v)) == v` for every value.
pub fn restore_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if needs_mark(rest) => rest,
        _ => value,
    }
}

/// One contact as a CSV record, in [`CSV_HEADER`]'s order.
pub fn csv_record(contact: &IndexedContact) -> [String; 10] {
    let text = |value: &Option<String>| defuse(value.as_deref().unwrap_or_default());
    [
        defuse(&contact.name),
        text(&contact.email),
        // Every text column, the phone too ("+44 …" starts like a formula).
        text(&contact.phone),
        text(&contact.company),
        text(&contact.title),
        text(&contact.location),
        contact.tier.to_string(),
        defuse(&contact.tags.join(", ")),
        text(&contact.notes),
        crate::domain::format::iso_date(contact.created_at_micros),
    ]
}

/// vCard text escaping: backslash, comma, semicolon and line breaks.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            ch => out.push(ch),
        }
    }
    out
}

/// Writes one content line, folded at 75 octets (never inside a character) as
/// RFC 6350 asks.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for ch in content.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
}

/// One contact as a vCard 4.0.
pub fn vcard(contact: &IndexedContact) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCARD");
    line(&mut out, "VERSION:4.0");
    line(&mut out, &format!("UID:urn:uuid:{}", contact.id));
    line(&mut out, &format!("FN:{}", escape(&contact.name)));
    if let Some(email) = &contact.email {
        line(&mut out, &format!("EMAIL:{}", escape(email)));
    }
    if let Some(phone) = &contact.phone {
        line(&mut out, &format!("TEL;VALUE=text:{}", escape(phone)));
    }
    if let Some(company) = &contact.company {
        line(&mut out, &format!("ORG:{}", escape(company)));
    }
    if let Some(title) = &contact.title {
        line(&mut out, &format!("TITLE:{}", escape(title)));
    }
    if let Some(location) = &contact.location {
        line(&mut out, &format!("ADR:;;;{};;;", escape(location)));
    }
    if !contact.tags.is_empty() {
        let tags: Vec<String> = contact.tags.iter().map(|tag| escape(tag)).collect();
        line(&mut out, &format!("CATEGORIES:{}", tags.join(",")));
    }
    if let Some(notes) = &contact.notes {
        line(&mut out, &format!("NOTE:{}", escape(notes)));
    }
    let mut tier = String::new();
    let _ = write!(tier, "X-ROSTER-TIER:{}", contact.tier);
    line(&mut out, &tier);
    line(&mut out, "END:VCARD");
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::{domain::import::ImportFormat, server::import::read};

    fn contact() -> IndexedContact {
        IndexedContact {
            id: uuid::Uuid::nil(),
            name: "=HYPERLINK(\"x\") Zoë; Lefèvre".into(),
            email: Some("zoe@example.fr".into()),
            phone: Some("+33 1 23 45 67 89".into()),
            company: Some("Acme, Inc".into()),
            title: Some("CTO".into()),
            location: Some("Paris".into()),
            tier: 2,
            tags: vec!["founder".into(), "rust".into()],
            notes: Some(format!(
                "Line one\nLine two; with \\ backslash {}",
                "long ".repeat(30).trim_end()
            )),
            created_at_micros: 0,
            version: 1,
        }
    }

    #[test]
    fn formulas_are_defused_and_restored() {
        let record = csv_record(&contact());
        assert!(record[0].starts_with("'="));
        assert_eq!(restore_cell(&record[0]), contact().name);
        // The phone too: a leading + starts a formula.
        assert_eq!(record[2], "'+33 1 23 45 67 89");
        assert_eq!(restore_cell(&record[2]), "+33 1 23 45 67 89");
        assert_eq!(restore_cell("'quoted"), "'quoted");
        // Full-width formula starts, which some spreadsheets read as their ASCII forms.
        for start in ['\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'] {
            let value = format!("{start}HYPERLINK(\"http://evil.example\")");
            assert_eq!(defuse(&value), format!("'{value}"));
            assert_eq!(restore_cell(&defuse(&value)), value);
        }
    }

    #[test]
    fn a_vcard_reads_back_as_the_same_contact() {
        let card = vcard(&contact());
        assert!(card.lines().all(|line| line.len() <= 75), "folded");
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(card.as_bytes()).unwrap();
        let mapping = read::guess_mapping(file.path(), ImportFormat::Vcard).unwrap();
        let rows: Vec<_> = read::rows(file.path(), ImportFormat::Vcard, &mapping)
            .unwrap()
            .collect();
        let input = rows[0].input.as_ref().unwrap();
        let original = contact();
        assert_eq!(input.name, original.name);
        assert_eq!(input.company, "Acme, Inc");
        assert_eq!(input.location, "Paris");
        assert_eq!(input.tags, "founder, rust");
        assert_eq!(input.notes, original.notes.unwrap());
    }
}
