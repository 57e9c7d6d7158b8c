//! Reading an import file row by row, without holding it in memory: CSV (any of the
//! usual delimiters, UTF-8 or Latin-1) and vCard 3.0/4.0. Each row becomes a
//! [`ContactInput`] to be validated like a form, or the reason it cannot.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read, Seek},
    path::Path,
};

use crate::domain::{
    ContactInput, Field,
    card::{AddressInput, EntryInput},
    columns::{Part, Slot},
    import::{ColumnMapping, ImportFormat},
};

/// The most columns a CSV file may have (a header line naming more is refused before
/// anything else is read).
pub const MAX_COLUMNS: usize = 500;
/// The longest header line, in bytes.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// The longest record, in bytes: a longer one is reported as an invalid row.
pub const MAX_ROW_BYTES: usize = 1024 * 1024;

/// One record of the file.
#[derive(Debug)]
pub struct SourceRow {
    /// The line it starts on.
    pub line: u64,
    pub input: Result<ContactInput, String>,
    /// The photo it carried, ready to keep (`input.photo` names it).
    pub photo: Option<crate::server::photos::Photo>,
}

impl SourceRow {
    fn new(line: u64, input: Result<ContactInput, String>) -> Self {
        SourceRow {
            line,
            input,
            photo: None,
        }
    }
}

/// The columns a vCard offers, as the mapping shows them (fixed: vCards name their fields).
const VCARD_COLUMNS: [(&str, Field); 14] = [
    ("FN, N (name and its parts)", Field::Name),
    ("NICKNAME", Field::Nickname),
    ("EMAIL", Field::Emails),
    ("TEL", Field::Phones),
    ("ADR", Field::Addresses),
    ("URL, X-SOCIALPROFILE", Field::Links),
    ("IMPP, X-AIM, X-JABBER, X-SKYPE…", Field::Ims),
    ("RELATED, X-ABRELATEDNAMES", Field::Related),
    ("BDAY", Field::Birthday),
    ("ANNIVERSARY, X-ABDATE", Field::Dates),
    ("ORG (company; department)", Field::Company),
    ("TITLE, ROLE", Field::Title),
    ("CATEGORIES", Field::Tags),
    ("NOTE", Field::Notes),
];

/// The format of a file: a vCard whatever its name when its first line that is not
/// blank is `BEGIN:VCARD`; else what its name says.
pub fn format_of(path: &Path, by_name: ImportFormat) -> ImportFormat {
    let Ok(file) = File::open(path) else {
        return by_name;
    };
    let mut first = Vec::new();
    for line in BufReader::new(file.take(64 * 1024)).split(b'\n') {
        let Ok(line) = line else {
            break;
        };
        if !line.trim_ascii().is_empty() {
            first = line;
            break;
        }
    }
    if first.trim_ascii().eq_ignore_ascii_case(b"BEGIN:VCARD") {
        ImportFormat::Vcard
    } else {
        by_name
    }
}

/// The file's column headers and the mapping guessed from them.
pub fn guess_mapping(path: &Path, format: ImportFormat) -> Result<ColumnMapping, String> {
    match format {
        ImportFormat::Vcard => Ok(ColumnMapping {
            headers: VCARD_COLUMNS.iter().map(|(h, _)| (*h).to_owned()).collect(),
            fields: VCARD_COLUMNS.iter().map(|(_, f)| Some(*f)).collect(),
            ..ColumnMapping::default()
        }),
        ImportFormat::Csv => {
            let mut start = Vec::new();
            File::open(path)
                .and_then(|file| file.take(64 * 1024).read_to_end(&mut start))
                .map_err(|e| format!("The file could not be read: {e}"))?;
            if start.contains(&0) {
                return Err("This is not a text file: choose a CSV or vCard file.".into());
            }
            // The header line is measured before the CSV reader sees it: a reader would
            // hold a line of any length, and a mapping of millions of columns after it.
            let (offset, _) =
                header_start(path).map_err(|e| format!("The file could not be read: {e}"))?;
            let mut first_line = Vec::new();
            let mut file =
                File::open(path).map_err(|e| format!("The file could not be read: {e}"))?;
            file.seek(io::SeekFrom::Start(offset))
                .map_err(|e| format!("The file could not be read: {e}"))?;
            BufReader::new(file)
                .take(MAX_HEADER_BYTES + 1)
                .read_until(b'\n', &mut first_line)
                .map_err(|e| format!("The file could not be read: {e}"))?;
            if first_line.len() as u64 > MAX_HEADER_BYTES {
                return Err(format!(
                    "The first line, which should name the columns, is longer than {} KB: \
                     this does not look like a contacts file.",
                    MAX_HEADER_BYTES / 1024
                ));
            }
            let mut reader = csv_reader_over(path, first_line.len() as u64 + 1)
                .map_err(|e| format!("The file could not be read: {e}"))?;
            let headers = reader
                .byte_headers()
                .map_err(|e| format!("The first line could not be read as CSV headers: {e}"))?
                .iter()
                .map(|h| decode(h).trim().to_owned())
                .collect::<Vec<_>>();
            if headers.len() > MAX_COLUMNS {
                return Err(format!(
                    "The file has {} columns; Roster reads at most {MAX_COLUMNS}.",
                    headers.len()
                ));
            }
            if headers.iter().all(String::is_empty) {
                return Err("The file is empty: its first line should name the columns.".into());
            }
            Ok(ColumnMapping::guess(&headers))
        }
    }
}

/// Every record after the header, in file order.
pub fn rows(
    path: &Path,
    format: ImportFormat,
    mapping: &ColumnMapping,
) -> io::Result<Box<dyn Iterator<Item = SourceRow> + Send>> {
    match format {
        ImportFormat::Csv => {
            let (reader, before) = csv_reader(path)?;
            let mapping = mapping.clone();
            let line =
                move |position: Option<&csv::Position>| position.map_or(0, |p| p.line() + before);
            Ok(Box::new(reader.into_byte_records().map(move |record| {
                match record {
                    Ok(record) if record.as_slice().len() > MAX_ROW_BYTES => SourceRow::new(
                        line(record.position()),
                        Err(format!(
                            "This line is longer than {} MB.",
                            MAX_ROW_BYTES / (1024 * 1024)
                        )),
                    ),
                    Ok(record) if record.len() > MAX_COLUMNS => SourceRow::new(
                        line(record.position()),
                        Err(format!("This line has more than {MAX_COLUMNS} columns.")),
                    ),
                    // Cells past the last column belong to no column: the row is
                    // refused rather than imported without them.
                    Ok(record)
                        if record
                            .iter()
                            .skip(mapping.headers.len())
                            .any(|cell| !cell.trim_ascii().is_empty()) =>
                    {
                        SourceRow::new(
                            line(record.position()),
                            Err(format!(
                                "This line has {} cells but the first line names {} columns: \
                                 check it for a comma that should be quoted.",
                                record.len(),
                                mapping.headers.len()
                            )),
                        )
                    }
                    Ok(record) => SourceRow::new(
                        line(record.position()),
                        Ok(input_from_record(&record, &mapping)),
                    ),
                    Err(error) => SourceRow::new(
                        line(error.position()),
                        Err(format!("This line is not valid CSV ({error}).")),
                    ),
                }
            })))
        }
        ImportFormat::Vcard => Ok(Box::new(
            super::vcard::rows(BufReader::new(File::open(path)?)).map(|(line, read)| match read {
                Ok(card) => SourceRow {
                    line,
                    input: Ok(card.input),
                    photo: card.photo,
                },
                Err(reason) => SourceRow::new(line, Err(reason)),
            }),
        )),
    }
}

/// Where a CSV file's header line starts, in bytes, and the lines before it: the
/// first line, unless the file opens with notes: a first line ending in a colon, then
/// text up to a blank line (LinkedIn's "Connections.csv" starts `Notes:`, a quoted
/// paragraph and a blank line).
fn header_start(path: &Path) -> io::Result<(u64, u64)> {
    let mut reader = BufReader::new(File::open(path)?.take(4 * MAX_HEADER_BYTES));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    let first = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&line);
    if !first.trim_ascii().ends_with(b":") {
        return Ok((0, 0));
    }
    let (mut offset, mut lines) = (line.len() as u64, 1u64);
    let mut seen_blank = false;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            // No header after the notes: read the file as it is.
            return Ok((0, 0));
        }
        let blank = line.trim_ascii().is_empty();
        if seen_blank && !blank {
            return Ok((offset, lines));
        }
        seen_blank |= blank;
        offset += read as u64;
        lines += 1;
    }
}

/// [`csv_reader`] over the header line's first `limit` bytes only.
fn csv_reader_over(path: &Path, limit: u64) -> io::Result<csv::Reader<io::Take<File>>> {
    let (offset, _) = header_start(path)?;
    let delimiter = guess_delimiter(path, offset)?;
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(offset))?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(file.take(limit)))
}

/// The delimiter the header line uses most (`,` `;` or tab).
fn guess_delimiter(path: &Path, offset: u64) -> io::Result<u8> {
    let mut first = Vec::new();
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(offset))?;
    BufReader::new(file)
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut first)?;
    Ok([b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.iter().filter(|b| *b == d).count())
        .unwrap_or(b','))
}

/// A CSV reader from the header line on, whose delimiter is guessed from it (`,` `;`
/// or tab), and what to add to its records' line numbers to make them the file's.
fn csv_reader(path: &Path) -> io::Result<(csv::Reader<File>, u64)> {
    let (offset, mut before) = header_start(path)?;
    let delimiter = guess_delimiter(path, offset)?;
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(offset))?;
    // The reader starts a record at the `\r` of a `\r\n` and counts its line at the
    // `\n`: with Windows line ends, each record's line is one short.
    let mut header = Vec::new();
    BufReader::new(&mut file)
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut header)?;
    if header.ends_with(b"\r\n") {
        before += 1;
    }
    file.seek(io::SeekFrom::Start(offset))?;
    Ok((
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(file),
        before,
    ))
}

/// UTF-8 if it is, else Latin-1 (what spreadsheet exports on Windows often are).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
    }
}

fn input_from_record(record: &csv::ByteRecord, mapping: &ColumnMapping) -> ContactInput {
    let mut input = ContactInput::default();
    let mut entries = Entries::default();
    for (column, value) in record.iter().enumerate() {
        let field = mapping.fields.get(column).copied().flatten();
        let custom = mapping.custom_at(column);
        if field.is_none() && custom.is_none() {
            continue;
        }
        let value = decode(value);
        let value = crate::server::export::restore_cell(value.trim());
        if value.is_empty() {
            continue;
        }
        match (field, mapping.slot_at(column), custom) {
            (Some(field), Some(slot), _) => entries.add(&mut input, field, slot, value),
            (Some(field), None, _) => fill(&mut input, field, value),
            (None, _, Some(id)) => {
                input
                    .custom
                    .entry(crate::domain::custom::input_key(id))
                    .or_insert_with(|| value.to_owned());
            }
            (None, _, None) => {}
        }
    }
    entries.finish(&mut input);
    file_as(&mut input);
    input
}

/// A "File As" other programs write as text: "Lovelace, Ada" files by the family name;
/// other text is kept by the column's name.
fn file_as(input: &mut ContactInput) {
    if crate::domain::card::FileAs::parse(&input.file_as).is_ok() {
        return;
    }
    let text = std::mem::take(&mut input.file_as);
    let family = input.family.trim().to_lowercase();
    if !family.is_empty()
        && text
            .trim()
            .to_lowercase()
            .starts_with(&format!("{family},"))
    {
        input.file_as = "family".to_owned();
    } else {
        let key = format!("{}File As", crate::domain::custom::BY_NAME);
        input.custom.entry(key).or_insert(text);
    }
}

/// Google's separator of several values in one cell.
const GOOGLE_JOIN: &str = ":::";

/// The entries of one row whose parts sit in several columns, gathered by field and
/// group in the order their columns come.
#[derive(Default)]
struct Entries(Vec<((Field, String), Gathered)>);

#[derive(Default)]
struct Gathered {
    label: String,
    /// The label its columns imply ("Business Phone": work).
    implied: String,
    /// Google marks the primary entry's label with a star ("* Work").
    primary: bool,
    service: String,
    values: Vec<String>,
    /// Address parts: each column's values (several when joined by " ::: ").
    parts: Vec<(Part, Vec<String>)>,
}

fn split_joined(value: &str) -> Vec<String> {
    value
        .split(GOOGLE_JOIN)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Entries {
    fn add(&mut self, input: &mut ContactInput, field: Field, slot: &Slot, value: &str) {
        if field == Field::Extras {
            // A column kept as other data, under its header.
            let key = format!("{}{}", crate::domain::custom::BY_NAME, slot.label);
            match input.custom.entry(key) {
                std::collections::btree_map::Entry::Vacant(entry) => {
                    entry.insert(value.to_owned());
                }
                std::collections::btree_map::Entry::Occupied(_) => {
                    let line = crate::domain::card::custom_line(&slot.label, value);
                    crate::domain::card::add_extras(&mut input.extras, &[line]);
                }
            }
            return;
        }
        let key = (field, slot.group.clone());
        let at = match self.0.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.0.push((key, Gathered::default()));
                self.0.len() - 1
            }
        };
        let gathered = &mut self.0[at].1;
        if gathered.implied.is_empty() {
            gathered.implied.clone_from(&slot.label);
        }
        match slot.part {
            Part::Label => {
                let label = value.trim();
                match label.strip_prefix('*') {
                    Some(rest) => {
                        gathered.primary = true;
                        gathered.label = rest.trim().to_owned();
                    }
                    None => gathered.label = label.to_owned(),
                }
            }
            Part::Service => gathered.service = value.to_owned(),
            Part::Value => gathered.values.extend(split_joined(value)),
            part => gathered.parts.push((part, split_joined(value))),
        }
    }

    fn finish(self, input: &mut ContactInput) {
        let mut primaries = std::collections::HashMap::<Field, usize>::new();
        for ((field, group), gathered) in self.0 {
            let label = if gathered.label.is_empty() {
                gathered.implied.clone()
            } else {
                gathered.label.clone()
            };
            if field == Field::Custom {
                // Google's custom field: its label names the field.
                let name = if label.is_empty() {
                    format!("Custom field {group}")
                } else {
                    label
                };
                let value = gathered.values.join("\n");
                if !value.is_empty() {
                    let key = format!("{}{name}", crate::domain::custom::BY_NAME);
                    input.custom.entry(key).or_insert(value);
                }
                continue;
            }
            if field == Field::Addresses {
                let at = primaries.entry(field).or_default();
                for address in addresses(&label, &gathered.parts) {
                    if gathered.primary {
                        input.addresses.insert(*at, address);
                        *at += 1;
                    } else {
                        input.addresses.push(address);
                    }
                }
                continue;
            }
            let label = match field {
                Field::Ims if !gathered.service.is_empty() => gathered.service.clone(),
                _ => label,
            };
            let list = match field {
                Field::Emails => &mut input.emails,
                Field::Phones => &mut input.phones,
                Field::Links => &mut input.links,
                Field::Ims => &mut input.ims,
                Field::Related => &mut input.related,
                Field::Dates => &mut input.dates,
                _ => {
                    for value in &gathered.values {
                        fill(input, field, value);
                    }
                    continue;
                }
            };
            let at = primaries.entry(field).or_default();
            for value in gathered.values {
                let value = if field == Field::Dates {
                    loose_date(&value)
                } else {
                    value
                };
                let entry = EntryInput {
                    label: label.clone(),
                    value,
                };
                if gathered.primary {
                    list.insert(*at, entry);
                    *at += 1;
                } else {
                    list.push(entry);
                }
            }
        }
    }
}

/// The addresses of one group's columns: one per value where a cell holds several.
fn addresses(label: &str, parts: &[(Part, Vec<String>)]) -> Vec<AddressInput> {
    let count = parts
        .iter()
        .map(|(_, values)| values.len())
        .max()
        .unwrap_or(0);
    (0..count)
        .filter_map(|at| {
            let part = |wanted: &[Part]| -> String {
                parts
                    .iter()
                    .filter(|(part, _)| wanted.contains(part))
                    .filter_map(|(_, values)| values.get(at))
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut address = AddressInput {
                label: label.to_owned(),
                street: part(&[Part::PoBox, Part::Street]),
                extended: part(&[Part::Extended]),
                city: part(&[Part::City]),
                region: part(&[Part::Region]),
                postal_code: part(&[Part::PostalCode]),
                country: part(&[Part::Country]),
            };
            if address.is_blank() {
                // Only the whole address in one text: kept as its street.
                address.street = part(&[Part::Formatted]);
            }
            address.keep_unknown_country();
            (!address.is_blank()).then_some(address)
        })
        .collect()
}

/// A date as other programs write it, in Roster's form when it can be read (else as
/// written, for the check to name).
fn loose_date(text: &str) -> String {
    match crate::domain::card::PartialDate::parse_loose(text) {
        Ok(Some(date)) => date.to_iso(),
        Ok(None) => String::new(),
        Err(_) => text.to_owned(),
    }
}

/// Tags as other programs join them: Google's " ::: " and its starred system groups
/// ("* starred" is the tag "starred"; "* myContacts", every contact, is none).
fn tags(value: &str) -> String {
    split_joined(value)
        .iter()
        .map(|tag| tag.trim_start_matches('*').trim())
        .filter(|tag| !tag.eq_ignore_ascii_case("myContacts"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Puts one column's value into the form: a list column adds an entry (an address
/// column is the city of the first address); names spread over columns and tags are
/// joined; any other field keeps its first value.
fn fill(input: &mut ContactInput, field: Field, value: &str) {
    // A list's cell may hold several entries, one per line, each `label: value`.
    let entries = || {
        value
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once(": ") {
                Some((label, value)) => (label.trim(), value.trim()),
                None => ("", line),
            })
    };
    let list = match field {
        Field::Emails => Some(&mut input.emails),
        Field::Phones => Some(&mut input.phones),
        Field::Links => Some(&mut input.links),
        Field::Ims => Some(&mut input.ims),
        Field::Related => Some(&mut input.related),
        Field::Dates => Some(&mut input.dates),
        _ => None,
    };
    if let Some(list) = list {
        list.extend(entries().map(|(label, value)| EntryInput::new(label, value)));
        return;
    }
    if field == Field::Birthday {
        if input.birthday.is_empty() {
            input.birthday = loose_date(value);
        }
        return;
    }
    if field == Field::Tags {
        let tags = tags(value);
        if !tags.is_empty() {
            if !input.tags.is_empty() {
                input.tags.push_str(", ");
            }
            input.tags.push_str(&tags);
        }
        return;
    }
    if field == Field::Extras {
        input.extras.extend(
            value
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned),
        );
        return;
    }
    if field == Field::Addresses {
        for (label, value) in entries() {
            let parts: Vec<&str> = value
                .split(crate::server::export::ADDRESS_PARTS.trim())
                .collect();
            if parts.len() == 6 {
                let part = |i: usize| parts[i].trim().to_owned();
                input.addresses.push(AddressInput {
                    label: label.to_owned(),
                    street: part(0),
                    extended: part(1),
                    city: part(2),
                    region: part(3),
                    postal_code: part(4),
                    country: part(5),
                });
            } else {
                // A place in one column ("City", "Location"): the city of the first
                // address.
                match input.addresses.first_mut() {
                    Some(first) if first.city.is_empty() => first.city = value.to_owned(),
                    Some(_) => {}
                    None => input.addresses.push(AddressInput {
                        label: label.to_owned(),
                        city: value.to_owned(),
                        ..AddressInput::default()
                    }),
                }
            }
        }
        return;
    }
    let slot = match field {
        Field::Emails
        | Field::Phones
        | Field::Links
        | Field::Ims
        | Field::Related
        | Field::Dates
        | Field::Addresses
        | Field::Custom
        | Field::Photo
        | Field::Extras => return,
        Field::Name => &mut input.name,
        Field::Prefix => &mut input.prefix,
        Field::Given => &mut input.given,
        Field::Middle => &mut input.middle,
        Field::Family => &mut input.family,
        Field::Suffix => &mut input.suffix,
        Field::Nickname => &mut input.nickname,
        Field::PhoneticGiven => &mut input.phonetic_given,
        Field::PhoneticFamily => &mut input.phonetic_family,
        Field::Pronouns => &mut input.pronouns,
        Field::FileAs => &mut input.file_as,
        Field::Birthday => &mut input.birthday,
        Field::Company => &mut input.company,
        Field::Department => &mut input.department,
        Field::Title => &mut input.title,
        Field::Tier => &mut input.tier,
        Field::Tags => &mut input.tags,
        Field::Notes => &mut input.notes,
    };
    match field {
        Field::Name | Field::Given | Field::Middle | Field::Family if !slot.is_empty() => {
            slot.push(' ');
            slot.push_str(value);
        }
        _ if slot.is_empty() => slot.push_str(value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents).unwrap();
        file
    }

    fn read(contents: &[u8], format: ImportFormat) -> (ColumnMapping, Vec<SourceRow>) {
        let file = file(contents);
        let mapping = guess_mapping(file.path(), format).unwrap();
        let rows = rows(file.path(), format, &mapping).unwrap().collect();
        (mapping, rows)
    }

    #[test]
    fn csv_with_aliases_quotes_and_line_numbers() {
        let (mapping, rows) = read(
            "\u{feff}Full Name,E-mail,Organization,Shoe size,Notes\n\
             Ada Lovelace,ada@example.com,\"Analytical, Ltd\",38,\"two\nlines\"\n\
             Alan Turing,alan@example.com,,42,\n"
                .as_bytes(),
            ImportFormat::Csv,
        );
        assert_eq!(
            mapping.headers[0], "Full Name",
            "the BOM is not part of the header"
        );
        assert_eq!(mapping.fields[3], Some(Field::Extras), "kept as other data");
        assert_eq!(rows.len(), 2);
        let ada = rows[0].input.as_ref().unwrap();
        assert_eq!(ada.name, "Ada Lovelace");
        assert_eq!(ada.company, "Analytical, Ltd");
        assert_eq!(ada.notes, "two\nlines");
        assert_eq!(
            ada.custom.get("@Shoe size").map(String::as_str),
            Some("38"),
            "kept by name, for a field of that name or as other data"
        );
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 4, "the quoted line break counts");
        assert_eq!(
            rows[1].input.as_ref().unwrap().emails[0].value,
            "alan@example.com"
        );
    }

    #[test]
    fn semicolons_latin1_and_split_names() {
        let (_, rows) = read(
            b"First Name;Last Name;Email;Tags;Labels\nJos\xe9;Garc\xeda;jose@example.com;a;b\n",
            ImportFormat::Csv,
        );
        let jose = rows[0].input.as_ref().unwrap();
        assert_eq!(
            (jose.given.as_str(), jose.family.as_str()),
            ("José", "García")
        );
        assert_eq!(
            crate::domain::Card::parse(jose).unwrap().name,
            "José García",
            "the name is made from its parts"
        );
        assert_eq!(jose.tags, "a, b");
    }

    #[test]
    fn vcards_3_and_4() {
        let (_, rows) = read(
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace;Ada;;;\r\nFN:Ada Lovelace\r\n\
              item1.EMAIL;TYPE=INTERNET:ada@example.com\r\nTEL;TYPE=CELL:+44 20 7946 0958\r\n\
              ORG:Analytical Engines;R&D\r\nTITLE:Analyst\r\nADR;TYPE=WORK:;;12 St James's Sq;London;;SW1;UK\r\n\
              CATEGORIES:maths,poetry\r\nNOTE:First line\\nsecond\\, with comma\r\nEND:VCARD\r\n\
              BEGIN:VCARD\nVERSION:4.0\nN:Turing;Alan;Mathison;Dr.;\nTEL;VALUE=uri:tel:+1-555-010-2000\nNOTE:a long no\n te folded\nEND:VCARD\n\
              BEGIN:VCARD\nFN:Broken\n",
            ImportFormat::Vcard,
        );
        assert_eq!(rows.len(), 3);
        let ada = rows[0].input.as_ref().unwrap();
        let card = crate::domain::Card::parse(ada).unwrap();
        assert_eq!(card.name, "Ada Lovelace");
        assert_eq!(ada.emails[0].value, "ada@example.com");
        assert_eq!(ada.phones[0].label, "mobile");
        assert_eq!(ada.company, "Analytical Engines");
        assert_eq!(ada.department, "R&D");
        let london = &card.addresses[0];
        assert_eq!(london.city.as_deref(), Some("London"));
        assert_eq!(london.street.as_deref(), Some("12 St James's Sq"));
        assert_eq!(london.country.as_deref(), Some("GB"));
        assert_eq!(london.label.as_deref(), Some("work"));
        assert_eq!(ada.tags, "maths, poetry");
        assert_eq!(ada.notes, "First line\nsecond, with comma");
        let alan = rows[1].input.as_ref().unwrap();
        assert_eq!(
            crate::domain::Card::parse(alan).unwrap().name,
            "Dr. Alan Mathison Turing"
        );
        assert_eq!(alan.phones[0].value, "+1-555-010-2000");
        assert_eq!(alan.notes, "a long note folded");
        assert_eq!(rows[1].line, 13);
        assert!(rows[2].input.is_err());
    }

    #[test]
    fn notes_before_the_header_are_skipped_and_lines_still_count() {
        let (mapping, rows) = read(
            b"Notes:\r\n\"Some addresses are missing.\"\r\n\r\nFirst Name,Last Name,Email Address,Connected On\r\n\
              Margaret,Hamilton,m@example.com,14 Mar 2021\r\nAlan,Kay,,not a date\r\n",
            ImportFormat::Csv,
        );
        assert_eq!(mapping.headers[0], "First Name");
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[1].line), (5, 6));
        let margaret = rows[0].input.as_ref().unwrap();
        assert_eq!(margaret.dates[0].value, "2021-03-14");
        assert_eq!(
            rows[1].input.as_ref().unwrap().dates[0].value,
            "not a date",
            "left as written, for the check to name"
        );
    }

    #[test]
    fn google_cells_holding_several_entries_and_a_starred_label() {
        let (_, rows) = read(
            "Name,Address 1 - Label,Address 1 - City,Address 1 - Country,Phone 1 - Label,Phone 1 - Value,\
             Phone 2 - Label,Phone 2 - Value,Labels\n\
             Ada,Home,London ::: Paris,GB ::: Atlantis,Work,1 ::: 2,* Mobile,3,* myContacts ::: VIP\n"
                .as_bytes(),
            ImportFormat::Csv,
        );
        let ada = rows[0].input.as_ref().unwrap();
        let cities: Vec<(&str, &str, &str)> = ada
            .addresses
            .iter()
            .map(|a| (a.city.as_str(), a.country.as_str(), a.region.as_str()))
            .collect();
        assert_eq!(
            cities,
            [("London", "GB", ""), ("Paris", "", "Atlantis")],
            "a country Roster cannot name is kept in the region"
        );
        let phones: Vec<(&str, &str)> = ada
            .phones
            .iter()
            .map(|p| (p.label.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(phones, [("Mobile", "3"), ("Work", "1"), ("Work", "2")]);
        assert_eq!(ada.tags, "VIP");
    }

    #[test]
    fn an_empty_file_is_refused_in_words() {
        let file = file(b"");
        assert!(
            guess_mapping(file.path(), ImportFormat::Csv)
                .unwrap_err()
                .contains("empty")
        );
    }
}
