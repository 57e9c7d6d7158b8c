//! Exporting contacts: CSV (that Roster's own import reads back to the same contacts)
//! and vCard 4.0.

use std::fmt::Write as _;

pub mod google;
pub mod outlook;

use super::search::schema::IndexedContact;
use crate::domain::{
    card::{Address, PartialDate, vcard_param as param_value, vcard_text as escape},
    custom::CustomField,
};

/// The CSV header: the names the import recognises, so an export re-imports as is.
/// A list's cell holds its entries one per line, each `label: value` (or the value
/// alone without a label), the primary first; an address's parts are separated by
/// ` | ` (street | extended | city | region | postal code | country code).
pub const CSV_HEADER: [&str; 27] = [
    "Name",
    "Prefix",
    "Given name",
    "Middle name",
    "Family name",
    "Suffix",
    "Nickname",
    "Phonetic given name",
    "Phonetic family name",
    "Pronouns",
    "File as",
    "Emails",
    "Phones",
    "Addresses",
    "Links",
    "Messaging",
    "Related",
    "Birthday",
    "Dates",
    "Company",
    "Department",
    "Title",
    "Tier",
    "Tags",
    "Notes",
    "Other vCard data",
    "Added",
];

/// Separates an address's parts in a CSV cell.
pub const ADDRESS_PARTS: &str = " | ";

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

/// [`defuse`] for files other programs read (Google's, Outlook's CSV): a phone number
/// ("+44 20 …", "-1", "(0)…") is written as it is, as those programs would show a
/// mark; anything else that could start a formula is marked.
pub fn defuse_for_programs(value: &str) -> String {
    let phone_like = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./#*".contains(c))
        || value.split_once(" ext. ").is_some_and(|(number, ext)| {
            (number.to_owned() + ext)
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()./#*".contains(c))
        });
    if phone_like {
        value.to_owned()
    } else {
        defuse(value)
    }
}

/// A label as other programs write it: the offered words capitalised ("Work", "Work
/// fax"), the person's own as typed; none is empty.
pub fn label_for_programs(label: Option<&str>, offered: &[&str]) -> String {
    match label {
        Some(label) if offered.contains(&label) => defuse(&crate::domain::card::label_text(label)),
        Some(label) => defuse(label),
        None => String::new(),
    }
}

/// Undoes [`defuse`] on import: `restore_cell(&defuse(v)) == v` for every value.
pub fn restore_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if needs_mark(rest) => rest,
        _ => value,
    }
}

/// A custom field's column: its name (a retired one's marked, as another live field
/// may have its name).
fn custom_column(field: &CustomField) -> String {
    if field.retired {
        format!("{} (retired)", field.name)
    } else {
        field.name.clone()
    }
}

/// [`CSV_HEADER`], then a column per custom field (`fields`: every one, retired ones
/// too, in their order), named as the field is, so the import maps it back.
pub fn csv_header(fields: &[CustomField]) -> Vec<String> {
    CSV_HEADER
        .iter()
        .map(|name| (*name).to_owned())
        .chain(fields.iter().map(custom_column))
        .collect()
}

/// One contact as a CSV record, in [`csv_header`]'s order. Every text cell is defused
/// (a phone's "+44 …" starts like a formula).
pub fn csv_record(contact: &IndexedContact, fields: &[CustomField]) -> Vec<String> {
    let mut record = csv_core(contact).to_vec();
    record.extend(fields.iter().map(|field| {
        contact
            .card
            .custom
            .get(&field.id)
            .map(|value| defuse(&value.to_text()))
            .unwrap_or_default()
    }));
    record
}

fn csv_core(contact: &IndexedContact) -> [String; 27] {
    let card = &contact.card;
    let parts = &card.name_parts;
    let text = |value: &Option<String>| defuse(value.as_deref().unwrap_or_default());
    fn lines<T>(entries: &[T], entry: impl Fn(&T) -> (Option<&String>, String)) -> String {
        let lines: Vec<String> = entries
            .iter()
            .map(|e| match entry(e) {
                (Some(label), value) => format!("{label}: {value}"),
                (None, value) => value,
            })
            .collect();
        defuse(&lines.join("\n"))
    }
    let address = |a: &Address| {
        let part = |p: &Option<String>| p.clone().unwrap_or_default();
        [
            part(&a.street),
            part(&a.extended),
            part(&a.city),
            part(&a.region),
            part(&a.postal_code),
            part(&a.country),
        ]
        .join(ADDRESS_PARTS)
    };
    [
        defuse(&card.name),
        text(&parts.prefix),
        text(&parts.given),
        text(&parts.middle),
        text(&parts.family),
        text(&parts.suffix),
        text(&parts.nickname),
        text(&parts.phonetic_given),
        text(&parts.phonetic_family),
        text(&parts.pronouns),
        card.file_as.as_str().to_owned(),
        lines(&card.emails, |e| {
            (e.label.as_ref(), e.value.as_str().to_owned())
        }),
        lines(&card.phones, |p| {
            (p.label.as_ref(), p.value.as_str().to_owned())
        }),
        lines(&card.addresses, |a| (a.label.as_ref(), address(a))),
        lines(&card.links, |l| (l.label.as_ref(), l.value.clone())),
        lines(&card.ims, |i| (i.label.as_ref(), i.value.clone())),
        lines(&card.related, |r| (r.label.as_ref(), r.value.clone())),
        card.birthday.map(PartialDate::to_iso).unwrap_or_default(),
        lines(&card.dates, |d| (d.label.as_ref(), d.value.to_iso())),
        text(&card.company),
        text(&card.department),
        text(&card.title),
        card.tier.get().to_string(),
        defuse(&card.tags.join(", ")),
        text(&card.notes),
        // What an imported vCard carried beyond Roster's fields, one line each.
        defuse(&card.extras.join("\n")),
        crate::domain::format::iso_date(contact.created_at_micros),
    ]
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

/// The `TYPE` a label stands for, and the label itself when `TYPE` cannot say it
/// (kept in `X-ROSTER-LABEL`, which the import prefers).
fn label_params(label: Option<&String>) -> String {
    let Some(label) = label else {
        return String::new();
    };
    let types = match label.as_str() {
        "work" => "work",
        "home" => "home",
        "mobile" => "cell",
        "work fax" => "work,fax",
        "home fax" => "home,fax",
        "pager" => "pager",
        "main" => "main-number",
        _ => return format!(";X-ROSTER-LABEL={}", param_value(label)),
    };
    format!(";TYPE={types}")
}

/// A date as vCard writes it: `19900415`, or `--0415` without a year.
fn vcard_date(date: PartialDate) -> String {
    match date.year {
        Some(year) => format!("{year:04}{:02}{:02}", date.month, date.day),
        None => format!("--{:02}{:02}", date.month, date.day),
    }
}

/// One contact as a vCard 4.0, with every field: standard properties where vCard has
/// them (N, NICKNAME, EMAIL, TEL, ADR, URL, IMPP, BDAY, ANNIVERSARY, ORG, TITLE,
/// PRONOUNS from RFC 9554), Apple's phonetic names, and `X-ROSTER-…` for the rest.
pub fn vcard(contact: &IndexedContact, fields: &[CustomField]) -> String {
    vcard_with_photo(contact, fields, None, VcardVersion::V4)
}

/// The vCard version an export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcardVersion {
    /// RFC 2426, for programs that read nothing newer (older Outlook and Android):
    /// the 4.0-only properties as the `X-` ones those programs write (`X-ANNIVERSARY`,
    /// `X-PRONOUNS`, Apple's `X-ABRELATEDNAMES` with its label), `TYPE=pref`, the photo
    /// as `ENCODING=b`.
    V3,
    /// RFC 6350 (and RFC 9554's `PRONOUNS`).
    V4,
}

/// [`vcard`] in `version`, with the contact's photo (its JPEG) inline.
pub fn vcard_with_photo(
    contact: &IndexedContact,
    fields: &[CustomField],
    photo: Option<&[u8]>,
    version: VcardVersion,
) -> String {
    let v3 = version == VcardVersion::V3;
    let card = &contact.card;
    let parts = &card.name_parts;
    let text = |value: &Option<String>| escape(value.as_deref().unwrap_or_default());
    // The primary entry: `PREF=1` in 4.0, the `pref` type in 3.0.
    let pref = |at: usize, params: &str| -> String {
        match (at, v3) {
            (0, false) => ";PREF=1".to_owned(),
            (0, true) if params.contains(";TYPE=") => ",pref".to_owned(),
            (0, true) => ";TYPE=pref".to_owned(),
            _ => String::new(),
        }
    };
    let mut out = String::new();
    line(&mut out, "BEGIN:VCARD");
    line(&mut out, if v3 { "VERSION:3.0" } else { "VERSION:4.0" });
    line(&mut out, &format!("UID:urn:uuid:{}", contact.id));
    line(&mut out, &format!("FN:{}", escape(&card.name)));
    if !parts.is_empty() {
        line(
            &mut out,
            &format!(
                "N:{};{};{};{};{}",
                text(&parts.family),
                text(&parts.given),
                text(&parts.middle),
                text(&parts.prefix),
                text(&parts.suffix)
            ),
        );
    }
    for (name, value) in [
        ("NICKNAME", &parts.nickname),
        ("X-PHONETIC-FIRST-NAME", &parts.phonetic_given),
        ("X-PHONETIC-LAST-NAME", &parts.phonetic_family),
        (if v3 { "X-PRONOUNS" } else { "PRONOUNS" }, &parts.pronouns),
    ] {
        if let Some(value) = value {
            line(&mut out, &format!("{name}:{}", escape(value)));
        }
    }
    if card.file_as == crate::domain::card::FileAs::Family {
        line(&mut out, "X-ROSTER-FILE-AS:family");
    }
    for (at, email) in card.emails.iter().enumerate() {
        let params = label_params(email.label.as_ref());
        let pref = pref(at, &params);
        line(
            &mut out,
            &format!("EMAIL{params}{pref}:{}", escape(email.value.as_str())),
        );
    }
    for (at, phone) in card.phones.iter().enumerate() {
        let params = label_params(phone.label.as_ref());
        let pref = pref(at, &params);
        let value = if v3 { "" } else { ";VALUE=text" };
        line(
            &mut out,
            &format!("TEL{value}{params}{pref}:{}", escape(phone.value.as_str())),
        );
    }
    for (at, address) in card.addresses.iter().enumerate() {
        let params = label_params(address.label.as_ref());
        let pref = pref(at, &params);
        line(
            &mut out,
            &format!(
                "ADR{params}{pref}:;{};{};{};{};{};{}",
                text(&address.extended),
                text(&address.street),
                text(&address.city),
                text(&address.region),
                text(&address.postal_code),
                text(&address.country)
            ),
        );
    }
    for link in &card.links {
        let params = label_params(link.label.as_ref());
        line(&mut out, &format!("URL{params}:{}", escape(&link.value)));
    }
    for im in &card.ims {
        let service = im
            .label
            .as_deref()
            .map(|service| format!(";X-SERVICE-TYPE={}", param_value(service)))
            .unwrap_or_default();
        line(&mut out, &format!("IMPP{service}:{}", escape(&im.value)));
    }
    for (n, related) in card.related.iter().enumerate() {
        if v3 {
            // As Apple writes them: the name, and its label in the same group.
            let group = format!("related{}", n + 1);
            line(
                &mut out,
                &format!("{group}.X-ABRELATEDNAMES:{}", escape(&related.value)),
            );
            if let Some(label) = &related.label {
                line(&mut out, &format!("{group}.X-ABLabel:{}", escape(label)));
            }
            continue;
        }
        let label = match related.label.as_deref() {
            None => String::new(),
            Some(standard @ ("spouse" | "child" | "parent" | "sibling" | "friend")) => {
                format!(";TYPE={standard}")
            }
            Some("relative") => ";TYPE=kin".to_owned(),
            Some(other) => format!(";X-ROSTER-LABEL={}", param_value(other)),
        };
        line(
            &mut out,
            &format!("RELATED{label};VALUE=text:{}", escape(&related.value)),
        );
    }
    if let Some(birthday) = card.birthday {
        let date = if v3 {
            birthday.to_iso()
        } else {
            vcard_date(birthday)
        };
        line(&mut out, &format!("BDAY:{date}"));
    }
    for date in &card.dates {
        match date.label.as_deref() {
            Some("anniversary") if v3 => {
                line(&mut out, &format!("X-ANNIVERSARY:{}", date.value.to_iso()))
            }
            Some("anniversary") => {
                line(&mut out, &format!("ANNIVERSARY:{}", vcard_date(date.value)))
            }
            label => line(
                &mut out,
                &format!(
                    "X-ROSTER-DATE{}:{}",
                    label
                        .map(|label| format!(";X-ROSTER-LABEL={}", param_value(label)))
                        .unwrap_or_default(),
                    date.value.to_iso()
                ),
            ),
        }
    }
    if card.company.is_some() || card.department.is_some() {
        let department = card
            .department
            .as_ref()
            .map(|d| format!(";{}", escape(d)))
            .unwrap_or_default();
        line(
            &mut out,
            &format!("ORG:{}{department}", text(&card.company)),
        );
    }
    if let Some(title) = &card.title {
        line(&mut out, &format!("TITLE:{}", escape(title)));
    }
    if !card.tags.is_empty() {
        let tags: Vec<String> = card.tags.iter().map(|tag| escape(tag)).collect();
        line(&mut out, &format!("CATEGORIES:{}", tags.join(",")));
    }
    if let Some(notes) = &card.notes {
        line(&mut out, &format!("NOTE:{}", escape(notes)));
    }
    // Custom values by their field's name (the import finds the live field of that
    // name); several choices one per line.
    for field in fields {
        if let Some(value) = card.custom.get(&field.id) {
            line(
                &mut out,
                &crate::domain::card::custom_line(&field.name, &value.to_text()),
            );
        }
    }
    let mut tier = String::new();
    let _ = write!(tier, "X-ROSTER-TIER:{}", card.tier.get());
    line(&mut out, &tier);
    if let Some(jpeg) = photo {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(jpeg);
        if v3 {
            line(&mut out, &format!("PHOTO;ENCODING=b;TYPE=JPEG:{data}"));
        } else {
            line(&mut out, &format!("PHOTO:data:image/jpeg;base64,{data}"));
        }
    }
    // What the imported vCard carried beyond Roster's fields, as it came.
    for extra in &card.extras {
        line(&mut out, extra);
    }
    line(&mut out, "END:VCARD");
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::domain::{
        Card, ContactInput,
        card::{AddressInput, EntryInput},
        import::ImportFormat,
    };
    use crate::server::import::read;

    fn fields() -> Vec<CustomField> {
        use crate::domain::custom::CustomKind;
        let field =
            |id: i32, name: &str, kind: CustomKind, options: &[&str], retired: bool| CustomField {
                id,
                name: name.into(),
                kind,
                options: options.iter().map(|o| (*o).to_owned()).collect(),
                position: id,
                retired,
            };
        vec![
            field(1, "Met at", CustomKind::Text, &[], false),
            field(
                2,
                "Languages",
                CustomKind::Choices,
                &["Go", "Rust", "Zig"],
                false,
            ),
            field(3, "Score", CustomKind::Text, &[], false),
            field(4, "Joined", CustomKind::Date, &[], false),
            field(5, "Board member", CustomKind::Checkbox, &[], false),
            field(6, "Old field", CustomKind::Text, &[], true),
        ]
    }

    fn contact() -> IndexedContact {
        let card = Card::parse_with(
            &ContactInput {
                name: "=HYPERLINK(\"x\") Zoë; Lefèvre".into(),
                prefix: "Dr.".into(),
                given: "Zoë".into(),
                family: "Lefèvre".into(),
                nickname: "Zozo".into(),
                phonetic_given: "Zo-ay".into(),
                pronouns: "she/her".into(),
                file_as: "family".into(),
                emails: vec![
                    EntryInput::new("work", "zoe@example.fr"),
                    EntryInput::new("Perso; home", "zoe@home.example"),
                ],
                phones: vec![
                    EntryInput::new("mobile", "+33 6 12 34 56 78"),
                    EntryInput::new("work fax", "01 23 45 67 89"),
                ],
                addresses: vec![
                    AddressInput {
                        label: "work".into(),
                        street: "1 rue de Rivoli, bâtiment B".into(),
                        city: "Paris".into(),
                        postal_code: "75001".into(),
                        country: "FR".into(),
                        ..AddressInput::default()
                    },
                    AddressInput {
                        city: "Lyon".into(),
                        ..AddressInput::default()
                    },
                ],
                links: vec![EntryInput::new("github", "github.com/zoe")],
                ims: vec![EntryInput::new("signal", "+33612345678")],
                related: vec![
                    EntryInput::new("spouse", "Jean Lefèvre"),
                    EntryInput::new("manager", "Ada; \"the boss\""),
                    EntryInput::new("relative", "Marie"),
                    EntryInput::new("", "Someone, met once"),
                ],
                birthday: "--07-14".into(),
                dates: vec![
                    EntryInput::new("anniversary", "2015-06-20"),
                    EntryInput::new("First met", "2019-03-02"),
                ],
                company: "Acme, Inc".into(),
                department: "R&D".into(),
                title: "CTO".into(),
                tier: "2".into(),
                tags: "founder, rust".into(),
                notes: format!(
                    "Line one\nLine two; with \\ backslash {}",
                    "long ".repeat(30).trim_end()
                ),
                custom: [
                    ("f1", "Met at RustConf; with a, comma"),
                    ("f2", "Rust\nZig"),
                    ("f3", "=1+2"),
                    ("f4", "1990-04-15"),
                    ("f5", "yes"),
                ]
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
                ..ContactInput::default()
            },
            &fields(),
        )
        .unwrap();
        IndexedContact {
            id: uuid::Uuid::nil(),
            card,
            company_domain: None,
            created_at_micros: 0,
            version: 1,
        }
    }

    fn read_back(text: &str, format: ImportFormat) -> Card {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let mut mapping = read::guess_mapping(file.path(), format).unwrap();
        mapping.match_custom(&fields());
        let rows: Vec<_> = read::rows(file.path(), format, &mapping).unwrap().collect();
        assert_eq!(rows.len(), 1);
        let mut input = rows[0].input.clone().unwrap();
        crate::domain::custom::by_name(&mut input.custom, &fields());
        let live: Vec<CustomField> = fields().into_iter().filter(|f| !f.retired).collect();
        Card::parse_with(&input, &live).unwrap()
    }

    #[test]
    fn formulas_are_defused_and_restored() {
        let record = csv_record(&contact(), &fields());
        assert!(record[0].starts_with("'="));
        assert_eq!(restore_cell(&record[0]), contact().card.name);
        // The phones too: a leading + starts a formula.
        assert!(record[12].starts_with("mobile: +33"), "{}", record[12]);
        // A custom value is defused like any other cell.
        assert_eq!(record[CSV_HEADER.len() + 2], "'=1+2");
        assert_eq!(restore_cell("'quoted"), "'quoted");
        // Full-width formula starts, which some spreadsheets read as their ASCII forms.
        for start in ['\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'] {
            let value = format!("{start}HYPERLINK(\"http://evil.example\")");
            assert_eq!(defuse(&value), format!("'{value}"));
            assert_eq!(restore_cell(&defuse(&value)), value);
        }
    }

    #[test]
    fn a_csv_export_reads_back_as_the_same_card() {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = csv_header(&fields());
        assert_eq!(
            header[CSV_HEADER.len()..],
            [
                "Met at",
                "Languages",
                "Score",
                "Joined",
                "Board member",
                "Old field (retired)"
            ]
        );
        writer.write_record(&header).unwrap();
        writer
            .write_record(csv_record(&contact(), &fields()))
            .unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let card = read_back(&text, ImportFormat::Csv);
        assert_eq!(card, contact().card);
    }

    #[test]
    fn a_vcard_reads_back_as_the_same_card() {
        let text = vcard(&contact(), &fields());
        assert!(
            text.contains(
                "X-ROSTER-CUSTOM;X-ROSTER-FIELD=\"Met at\":Met at RustConf\\; with a\\, comma"
            ),
            "{text}"
        );
        assert!(text.lines().all(|line| line.len() <= 75), "folded");
        assert!(
            text.contains("EMAIL;TYPE=work;PREF=1:zoe@example.fr"),
            "{text}"
        );
        assert!(text.contains("BDAY:--0714"), "{text}");
        let card = read_back(&text, ImportFormat::Vcard);
        assert_eq!(card, contact().card);
    }
}
