//! Reading an import file row by row, without holding it in memory: CSV (any of the
//! usual delimiters, UTF-8 or Latin-1) and vCard 3.0/4.0. Each row becomes a
//! [`ContactInput`] to be validated like a form, or the reason it cannot.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read},
    path::Path,
};

use crate::domain::{
    ContactInput, Field,
    card::{AddressInput, EntryInput},
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
}

/// The columns a vCard offers, as the mapping shows them (fixed: vCards name their fields).
const VCARD_COLUMNS: [(&str, Field); 8] = [
    ("FN (name)", Field::Name),
    ("EMAIL", Field::Emails),
    ("TEL", Field::Phones),
    ("ORG", Field::Company),
    ("TITLE", Field::Title),
    ("ADR (city)", Field::Addresses),
    ("CATEGORIES", Field::Tags),
    ("NOTE", Field::Notes),
];

/// The file's column headers and the mapping guessed from them.
pub fn guess_mapping(path: &Path, format: ImportFormat) -> Result<ColumnMapping, String> {
    match format {
        ImportFormat::Vcard => Ok(ColumnMapping {
            headers: VCARD_COLUMNS.iter().map(|(h, _)| (*h).to_owned()).collect(),
            fields: VCARD_COLUMNS.iter().map(|(_, f)| Some(*f)).collect(),
            custom: Vec::new(),
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
            let mut first_line = Vec::new();
            BufReader::new(
                File::open(path).map_err(|e| format!("The file could not be read: {e}"))?,
            )
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
            let reader = csv_reader(path)?;
            let mapping = mapping.clone();
            Ok(Box::new(reader.into_byte_records().map(
                move |record| match record {
                    Ok(record) if record.as_slice().len() > MAX_ROW_BYTES => SourceRow {
                        line: record.position().map_or(0, |p| p.line()),
                        input: Err(format!(
                            "This line is longer than {} MB.",
                            MAX_ROW_BYTES / (1024 * 1024)
                        )),
                    },
                    Ok(record) if record.len() > MAX_COLUMNS => SourceRow {
                        line: record.position().map_or(0, |p| p.line()),
                        input: Err(format!("This line has more than {MAX_COLUMNS} columns.")),
                    },
                    Ok(record) => SourceRow {
                        line: record.position().map_or(0, |p| p.line()),
                        input: Ok(input_from_record(&record, &mapping)),
                    },
                    Err(error) => SourceRow {
                        line: error.position().map_or(0, |p| p.line()),
                        input: Err(format!("This line is not valid CSV ({error}).")),
                    },
                },
            )))
        }
        ImportFormat::Vcard => Ok(Box::new(VcardReader {
            lines: BufReader::new(File::open(path)?),
            line: 0,
        })),
    }
}

/// [`csv_reader`] over the first `limit` bytes of the file only.
fn csv_reader_over(path: &Path, limit: u64) -> io::Result<csv::Reader<io::Take<File>>> {
    let delimiter = guess_delimiter(path)?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(File::open(path)?.take(limit)))
}

/// The delimiter the header line uses most (`,` `;` or tab).
fn guess_delimiter(path: &Path) -> io::Result<u8> {
    let mut first = Vec::new();
    BufReader::new(File::open(path)?)
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut first)?;
    Ok([b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.iter().filter(|b| *b == d).count())
        .unwrap_or(b','))
}

/// A CSV reader whose delimiter is guessed from the header line (`,` `;` or tab).
fn csv_reader(path: &Path) -> io::Result<csv::Reader<File>> {
    let delimiter = guess_delimiter(path)?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(File::open(path)?))
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
        match (field, custom) {
            (Some(field), _) => fill(&mut input, field, value),
            (None, Some(id)) => {
                input
                    .custom
                    .entry(crate::domain::custom::input_key(id))
                    .or_insert_with(|| value.to_owned());
            }
            (None, None) => {}
        }
    }
    input
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
        | Field::Photo => return,
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
        Field::Tags if !slot.is_empty() => {
            slot.push_str(", ");
            slot.push_str(value);
        }
        _ if slot.is_empty() => slot.push_str(value),
        _ => {}
    }
}

/// vCards one at a time: unfolds continuation lines, reads the properties Roster keeps.
struct VcardReader {
    lines: BufReader<File>,
    line: u64,
}

impl VcardReader {
    fn next_line(&mut self) -> Option<String> {
        let mut bytes = Vec::new();
        match self.lines.read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                self.line += 1;
                let text = decode(&bytes);
                Some(text.trim_end_matches(['\r', '\n']).to_owned())
            }
        }
    }
}

impl Iterator for VcardReader {
    type Item = SourceRow;

    fn next(&mut self) -> Option<SourceRow> {
        // Find the next BEGIN:VCARD.
        let start = loop {
            let line = self.next_line()?;
            if line.trim().eq_ignore_ascii_case("BEGIN:VCARD") {
                break self.line;
            }
        };
        let mut properties: Vec<String> = Vec::new();
        let mut ended = false;
        while let Some(line) = self.next_line() {
            if line.trim().eq_ignore_ascii_case("END:VCARD") {
                ended = true;
                break;
            }
            match (line.starts_with([' ', '\t']), properties.last_mut()) {
                (true, Some(last)) => last.push_str(&line[1..]),
                _ => properties.push(line),
            }
        }
        if !ended {
            return Some(SourceRow {
                line: start,
                input: Err("This vCard has no END:VCARD.".into()),
            });
        }
        Some(SourceRow {
            line: start,
            input: Ok(vcard_input(&properties)),
        })
    }
}

/// One content line: the upper-case name (without its `group.` prefix), its
/// parameters and the value.
struct Property<'a> {
    name: String,
    params: Vec<(String, String)>,
    value: &'a str,
}

impl Property<'_> {
    /// The values of a parameter (`TYPE=work,voice` and `TYPE=work;TYPE=voice` alike),
    /// lowercase; vCard 2.1's bare words (`TEL;WORK;VOICE`) count as `TYPE`.
    fn types(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|(key, _)| key == "TYPE")
            .flat_map(|(_, value)| value.split(','))
            .map(|word| word.trim().to_ascii_lowercase())
            .collect()
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.as_str())
    }
}

/// Splits `group.NAME;PARAM=x;PARAM="a;b:c":value` at the first `:` outside quotes.
fn property(line: &str) -> Option<Property<'_>> {
    let mut quoted = false;
    let mut split = None;
    for (at, ch) in line.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                split = Some(at);
                break;
            }
            _ => {}
        }
    }
    let at = split?;
    let (head, value) = (&line[..at], &line[at + 1..]);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in head.chars() {
        match ch {
            '"' => quoted = !quoted,
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            ch => current.push(ch),
        }
    }
    pieces.push(current);
    let mut pieces = pieces.into_iter();
    let name = pieces.next()?;
    let name = name.rsplit('.').next()?.to_ascii_uppercase();
    let params = pieces
        .map(|piece| match piece.split_once('=') {
            Some((key, value)) => (key.trim().to_ascii_uppercase(), value.to_owned()),
            None => ("TYPE".to_owned(), piece),
        })
        .collect();
    Some(Property {
        name,
        params,
        value,
    })
}

/// The label a property's parameters give: Roster's own `X-ROSTER-LABEL` as written,
/// else the first `TYPE` that means something to a person (`cell` is "mobile").
fn vcard_label(property: &Property<'_>) -> String {
    if let Some(label) = property.param("X-ROSTER-LABEL") {
        return label.to_owned();
    }
    let words = property.types();
    let has = |word: &str| words.iter().any(|w| w == word);
    let label = if has("cell") {
        "mobile"
    } else if has("fax") && has("home") {
        "home fax"
    } else if has("fax") {
        "work fax"
    } else if has("pager") {
        "pager"
    } else if has("work") {
        "work"
    } else if has("home") {
        "home"
    } else if has("main-number") {
        "main"
    } else {
        ""
    };
    label.to_owned()
}

/// Undoes vCard escaping: `\n` is a line break, `\,` `\;` `\\` are the characters.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        if ch == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// Splits a structured value on unescaped `sep`, unescaping each part.
fn components(value: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                current.push('\\');
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ch if ch == sep => parts.push(unescape(&std::mem::take(&mut current))),
            ch => current.push(ch),
        }
    }
    parts.push(unescape(&current));
    parts
}

fn vcard_input(properties: &[String]) -> ContactInput {
    let mut input = ContactInput::default();
    let mut tags: Vec<String> = Vec::new();
    for line in properties {
        let Some(property) = property(line) else {
            continue;
        };
        let (name, value) = (property.name.clone(), property.value);
        let set = |slot: &mut String, text: String| {
            if slot.is_empty() {
                *slot = text.trim().to_owned();
            }
        };
        let entry = |value: String| EntryInput {
            label: vcard_label(&property),
            value: value.trim().to_owned(),
        };
        match name.as_str() {
            "FN" => set(&mut input.name, unescape(value)),
            "N" => {
                // Family;Given;Additional;Prefix;Suffix
                let parts = components(value, ';');
                let part = |i: usize| {
                    parts
                        .get(i)
                        .map(|p| p.trim().to_owned())
                        .unwrap_or_default()
                };
                set(&mut input.family, part(0));
                set(&mut input.given, part(1));
                set(&mut input.middle, part(2));
                set(&mut input.prefix, part(3));
                set(&mut input.suffix, part(4));
            }
            "NICKNAME" => set(&mut input.nickname, unescape(value)),
            "EMAIL" => input.emails.push(entry(unescape(value))),
            "TEL" => input
                .phones
                .push(entry(unescape(value.strip_prefix("tel:").unwrap_or(value)))),
            "URL" => input.links.push(entry(unescape(value))),
            "BDAY" => set(&mut input.birthday, unescape(value)),
            "ANNIVERSARY" => input
                .dates
                .push(EntryInput::new("anniversary", &unescape(value))),
            "ORG" => {
                let parts = components(value, ';');
                let mut parts = parts.into_iter();
                set(&mut input.company, parts.next().unwrap_or_default());
                set(&mut input.department, parts.next().unwrap_or_default());
            }
            "TITLE" => set(&mut input.title, unescape(value)),
            "ADR" => {
                // PO box;Extended;Street;Locality;Region;Postal code;Country
                let parts = components(value, ';');
                let part = |i: usize| {
                    parts
                        .get(i)
                        .map(|p| p.trim().to_owned())
                        .unwrap_or_default()
                };
                let street = [part(0), part(2)]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                let country = part(6);
                input.addresses.push(AddressInput {
                    label: vcard_label(&property),
                    street,
                    extended: part(1),
                    city: part(3),
                    region: part(4),
                    postal_code: part(5),
                    // A country Roster does not know is kept in the city line rather
                    // than refused or lost (issue 26 brings a fuller mapping).
                    country: if crate::domain::countries::code_for(&country).is_some() {
                        country
                    } else {
                        String::new()
                    },
                });
            }
            "CATEGORIES" => tags.extend(components(value, ',')),
            "NOTE" => set(&mut input.notes, unescape(value)),
            "X-ROSTER-TIER" => set(&mut input.tier, unescape(value)),
            "PRONOUNS" | "X-PRONOUNS" => set(&mut input.pronouns, unescape(value)),
            "X-ROSTER-FILE-AS" => set(&mut input.file_as, unescape(value)),
            "X-ROSTER-DATE" => input.dates.push(entry(unescape(value))),
            // A custom value by its field's name, found among the live fields when the
            // row is checked (`custom::by_name`).
            "X-ROSTER-CUSTOM" => {
                if let Some(name) = property.param("X-ROSTER-FIELD") {
                    input.custom.insert(
                        format!("{}{name}", crate::domain::custom::BY_NAME),
                        unescape(value),
                    );
                }
            }
            // RFC 6350's relationship types as they are, Roster's others by label.
            "RELATED" => input.related.push(EntryInput {
                label: property
                    .param("X-ROSTER-LABEL")
                    .map(str::to_owned)
                    .or_else(|| {
                        property
                            .types()
                            .into_iter()
                            .find(|t| t != "text")
                            .map(|t| if t == "kin" { "relative".to_owned() } else { t })
                    })
                    .unwrap_or_default(),
                value: unescape(value),
            }),
            "IMPP" => input.ims.push(EntryInput {
                label: property
                    .param("X-SERVICE-TYPE")
                    .map(str::to_owned)
                    .unwrap_or_else(|| vcard_label(&property)),
                value: unescape(value),
            }),
            "X-PHONETIC-FIRST-NAME" => set(&mut input.phonetic_given, unescape(value)),
            "X-PHONETIC-LAST-NAME" => set(&mut input.phonetic_family, unescape(value)),
            _ => {}
        }
    }
    // A formatted name equal to the one the parts make is not pinned.
    if !input.name.is_empty() {
        let derived = crate::domain::card::NameParts {
            prefix: Some(input.prefix.clone()),
            given: Some(input.given.clone()),
            middle: Some(input.middle.clone()),
            family: Some(input.family.clone()),
            suffix: Some(input.suffix.clone()),
            ..Default::default()
        };
        let derived: Vec<String> = derived
            .display_name()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if derived.join(" ") == input.name.split_whitespace().collect::<Vec<_>>().join(" ") {
            input.name.clear();
        }
    }
    input.tags = tags.join(", ");
    input
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
        assert_eq!(mapping.fields[3], None);
        assert_eq!(rows.len(), 2);
        let ada = rows[0].input.as_ref().unwrap();
        assert_eq!(ada.name, "Ada Lovelace");
        assert_eq!(ada.company, "Analytical, Ltd");
        assert_eq!(ada.notes, "two\nlines");
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
    fn an_empty_file_is_refused_in_words() {
        let file = file(b"");
        assert!(
            guess_mapping(file.path(), ImportFormat::Csv)
                .unwrap_err()
                .contains("empty")
        );
    }
}
