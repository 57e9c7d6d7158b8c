//! Reading vCards 2.1, 3.0 and 4.0 as iPhone and macOS, Android, Outlook, Gmail,
//! Thunderbird, Evolution and Nextcloud write them.
//!
//! The file (UTF-8 by now: `text.rs` converted it) is cut into cards here, one at a
//! time, so memory holds one card and every problem names the line its card starts
//! on. Each card is parsed by `calcard` (Stalwart's maintained parser: folded lines,
//! escapes, quoted-printable and `CHARSET` in 2.1, base64 and `data:` URIs, typed
//! parameters, partial dates), and its properties are mapped onto Roster's fields:
//!
//! - names (`FN`, `N`, `NICKNAME`, Apple's phonetic names, `PRONOUNS`), `EMAIL`, `TEL`,
//!   `ADR` (Apple's `X-ABADR` country code too), `URL`, `X-SOCIALPROFILE`, `IMPP` and
//!   the older `X-AIM`, `X-JABBER`, `X-SKYPE`…, `BDAY` (with or without a year),
//!   `ANNIVERSARY`, Apple's `X-ABDATE`, `ORG` with departments, `TITLE` (and `ROLE` when
//!   there is no title), `NOTE`, `CATEGORIES` as tags, `RELATED` and Apple's
//!   `X-ABRELATEDNAMES`, `PHOTO`, and Roster's own `X-ROSTER-…`;
//! - labels from `TYPE` (2.1's bare words too: `TEL;WORK;VOICE`), from `itemN.X-ABLabel`
//!   beside a property of the same group (Apple's `_$!<Mobile>!$_` or a label of one's
//!   own), and Roster's `X-ROSTER-LABEL`; the preferred entry (`PREF`) first;
//! - everything else — a property Roster has no field for, a second value where Roster
//!   keeps one, a date or a country it cannot read — is kept whole as an extra (one
//!   vCard 4.0 content line) that every vCard export writes back.
//!
//! Only what describes the file rather than the person is dropped: `VERSION`,
//! `PRODID`, `REV`, and `UID` (the card's id in the program it came from; Roster's
//! export writes its own).

use std::io::BufRead;

use calcard::{
    common::{IanaString, PartialDateTime},
    vcard::{
        VCard, VCardEntry, VCardParameterName, VCardParameterValue, VCardProperty, VCardValue,
    },
};

use crate::{
    domain::{
        ContactInput,
        card::{AddressInput, EntryInput, MAX_ENTRIES, extra_name},
    },
    server::photos::{self, Photo},
};

/// The largest card read: room for a photo at the photo limit in base64, and more.
pub const MAX_CARD_BYTES: usize = 16 * 1024 * 1024;

/// One card of the file: where it starts, and what it holds or why it cannot be read.
pub struct RawCard {
    pub line: u64,
    pub text: Result<String, String>,
}

/// Cuts a file into cards (`BEGIN:VCARD` … `END:VCARD`), reading line by line.
pub struct Cards<R> {
    lines: R,
    line: u64,
    /// A `BEGIN:VCARD` already read while looking for an `END:VCARD`.
    pending_begin: Option<u64>,
}

impl<R: BufRead> Cards<R> {
    pub fn new(lines: R) -> Self {
        Cards {
            lines,
            line: 0,
            pending_begin: None,
        }
    }

    /// The next line without its line break, or `None` at the end (a read error ends
    /// the file too: the caller's counts show how far it got).
    fn next_line(&mut self, into: &mut Vec<u8>) -> Option<()> {
        into.clear();
        match self.lines.read_until(b'\n', into) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                self.line += 1;
                while matches!(into.last(), Some(b'\n' | b'\r')) {
                    into.pop();
                }
                Some(())
            }
        }
    }
}

fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    let line = line.trim_ascii();
    line.len() == marker.len() && line.eq_ignore_ascii_case(marker)
}

impl<R: BufRead> Iterator for Cards<R> {
    type Item = RawCard;

    fn next(&mut self) -> Option<RawCard> {
        let mut line = Vec::new();
        let start = match self.pending_begin.take() {
            Some(start) => start,
            None => loop {
                self.next_line(&mut line)?;
                if is_marker(&line, b"BEGIN:VCARD") {
                    break self.line;
                }
            },
        };
        let mut text = Vec::with_capacity(1024);
        text.extend_from_slice(b"BEGIN:VCARD\r\n");
        let mut too_big = false;
        let mut lines = LineCheck::default();
        loop {
            if self.next_line(&mut line).is_none() {
                return Some(RawCard {
                    line: start,
                    text: Err("This vCard has no END:VCARD: the file ends inside it.".into()),
                });
            }
            if is_marker(&line, b"END:VCARD") {
                break;
            }
            if is_marker(&line, b"BEGIN:VCARD") {
                // Cards do not nest: the one before lacks its end.
                self.pending_begin = Some(self.line);
                return Some(RawCard {
                    line: start,
                    text: Err(format!(
                        "This vCard has no END:VCARD before the next card begins (line {}).",
                        self.line
                    )),
                });
            }
            lines.check(&line, self.line);
            if text.len() + line.len() + 2 > MAX_CARD_BYTES {
                too_big = true;
                text.clear();
            }
            if !too_big {
                text.extend_from_slice(&line);
                text.extend_from_slice(b"\r\n");
            }
        }
        if too_big {
            return Some(RawCard {
                line: start,
                text: Err(format!(
                    "This vCard is larger than {} MB (a photo in it may be too large: \
                     photos may be {} MB at most).",
                    MAX_CARD_BYTES / (1024 * 1024),
                    photos::MAX_PHOTO_BYTES / (1024 * 1024)
                )),
            });
        }
        if let Some((at, shown)) = lines.malformed {
            return Some(RawCard {
                line: start,
                text: Err(format!(
                    "Line {at} is not a vCard property (“{shown}”): a property is a name, a \
                     colon and its value. Correct or remove the line and import the file again."
                )),
            });
        }
        text.extend_from_slice(b"END:VCARD\r\n");
        Some(RawCard {
            line: start,
            text: Ok(String::from_utf8_lossy(&text).into_owned()),
        })
    }
}

/// Finds the first line of a card that is no property: not a folded continuation (a
/// leading space or tab), not the rest of a quoted-printable value (after a line ending
/// in `=`) or of vCard 2.1's base64 (up to a blank line), and without a colon. The
/// library would drop it without a word.
#[derive(Default)]
struct LineCheck {
    quoted_printable_goes_on: bool,
    in_base64: bool,
    malformed: Option<(u64, String)>,
}

impl LineCheck {
    fn check(&mut self, line: &[u8], at: u64) {
        let continues = std::mem::take(&mut self.quoted_printable_goes_on);
        if line.trim_ascii().is_empty() {
            self.in_base64 = false;
            return;
        }
        if continues || line.starts_with(b" ") || line.starts_with(b"\t") {
            self.quoted_printable_goes_on = continues && line.ends_with(b"=");
            return;
        }
        match line.iter().position(|b| *b == b':') {
            Some(colon) => {
                let head = line[..colon].to_ascii_uppercase();
                let has = |word: &[u8]| head.windows(word.len()).any(|w| w == word);
                self.quoted_printable_goes_on = has(b"QUOTED-PRINTABLE") && line.ends_with(b"=");
                self.in_base64 = has(b"ENCODING=B") || has(b"BASE64");
            }
            None if self.in_base64 => {}
            None => {
                if self.malformed.is_none() {
                    let shown: String = String::from_utf8_lossy(line).chars().take(40).collect();
                    self.malformed = Some((at, shown));
                }
            }
        }
    }
}

/// A card read onto Roster's fields, with its photo made ready to keep.
#[derive(Debug, Default)]
pub struct ReadCard {
    pub input: ContactInput,
    pub photo: Option<Photo>,
}

/// Reads one card's text (see the module's notes for the mapping).
pub fn read_card(text: &str) -> Result<ReadCard, String> {
    let card = VCard::parse(text).map_err(|_| {
        "This vCard could not be read: a line in it is not a vCard property.".to_owned()
    })?;
    let mut reading = Reading::new(&card, raw_dates(text));
    for entry in &card.entries {
        reading.take(entry);
    }
    reading.finish()
}

/// What a card has given so far.
struct Reading<'a> {
    card: &'a VCard,
    input: ContactInput,
    /// Entries with their preference (lower first), sorted when done.
    emails: Vec<(u32, EntryInput)>,
    phones: Vec<(u32, EntryInput)>,
    addresses: Vec<(u32, AddressInput)>,
    tags: Vec<String>,
    notes: Vec<String>,
    photo: Option<Vec<u8>>,
    /// Groups whose `X-ABLabel` labelled an entry Roster kept.
    used_groups: Vec<String>,
    /// The date properties' values as written, in file order (see [`raw_dates`]).
    raw_dates: Vec<(String, String)>,
}

impl<'a> Reading<'a> {
    fn new(card: &'a VCard, raw_dates: Vec<(String, String)>) -> Self {
        Reading {
            card,
            input: ContactInput::default(),
            emails: Vec::new(),
            phones: Vec::new(),
            addresses: Vec::new(),
            tags: Vec::new(),
            notes: Vec::new(),
            photo: None,
            used_groups: Vec::new(),
            raw_dates,
        }
    }

    /// The date of a `BDAY`, `ANNIVERSARY`, `X-ANNIVERSARY` or `X-ABDATE`, read from
    /// its text as written (Apple's `X-APPLE-OMIT-YEAR` year dropped), else as
    /// calcard read it; `None` when it is no calendar date.
    fn date(&mut self, entry: &VCardEntry, name: &str) -> Option<String> {
        let raw = self
            .raw_dates
            .iter()
            .position(|(n, _)| n == name)
            .map(|at| self.raw_dates.remove(at).1);
        let omitted = other_param(entry, "X-APPLE-OMIT-YEAR");
        raw.and_then(|raw| {
            let day = raw.split('T').next().unwrap_or_default();
            let mut date = crate::domain::card::PartialDate::parse(day).ok()??;
            if let (Some(year), Some(omitted)) = (date.year, &omitted)
                && omitted.trim() == year.to_string()
            {
                date.year = None;
            }
            Some(date.to_iso())
        })
        .or_else(|| date_text(entry))
    }

    fn take(&mut self, entry: &VCardEntry) {
        let kept = match &entry.name {
            VCardProperty::Begin
            | VCardProperty::End
            | VCardProperty::Version
            | VCardProperty::Prodid
            | VCardProperty::Rev
            | VCardProperty::Uid => true,
            VCardProperty::Fn => set(&mut self.input.name, text(entry)),
            VCardProperty::N => self.name(entry),
            VCardProperty::Nickname => set(&mut self.input.nickname, list_text(entry, ", ")),
            VCardProperty::Pronouns => set(&mut self.input.pronouns, text(entry)),
            VCardProperty::Email => {
                let entry_input = EntryInput {
                    label: self.label(entry),
                    value: text(entry),
                };
                push_listed(&mut self.emails, pref(entry), entry_input)
            }
            VCardProperty::Tel => {
                let value = text(entry);
                // A `tel:` URI's extension (RFC 3966 `;ext=12`) as people write it.
                let value = match value.strip_prefix("tel:") {
                    Some(uri) => uri.replacen(";ext=", " ext. ", 1),
                    None => value,
                };
                let entry_input = EntryInput {
                    label: self.label(entry),
                    value,
                };
                push_listed(&mut self.phones, pref(entry), entry_input)
            }
            VCardProperty::Adr => self.address(entry),
            VCardProperty::Url => {
                let entry_input = EntryInput {
                    label: self.label(entry),
                    value: text(entry),
                };
                push(&mut self.input.links, entry_input)
            }
            VCardProperty::Socialprofile => self.social(entry),
            VCardProperty::Impp => {
                let label = param_text(entry, &VCardParameterName::ServiceType)
                    .or_else(|| other_param(entry, "X-SERVICE-TYPE"))
                    .unwrap_or_else(|| self.label(entry));
                let value = text(entry);
                // `xmpp:ada@example.org`: the scheme names the service when no label does.
                let label = match (label.is_empty(), value.split_once(':')) {
                    (true, Some((scheme, _))) if !scheme.contains('/') => scheme.to_lowercase(),
                    _ => label,
                };
                push(&mut self.input.ims, EntryInput { label, value })
            }
            VCardProperty::Bday => match self.date(entry, "BDAY") {
                Some(date) => set(&mut self.input.birthday, date),
                None => false,
            },
            VCardProperty::Anniversary => match self.date(entry, "ANNIVERSARY") {
                Some(date) => push(&mut self.input.dates, EntryInput::new("anniversary", &date)),
                None => false,
            },
            VCardProperty::Org => {
                let parts = components(entry);
                let mut parts = parts.into_iter();
                let company = parts.next().unwrap_or_default();
                let department = parts
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.input.company.is_empty()
                    && self.input.department.is_empty()
                    && set(&mut self.input.company, company)
                        | set(&mut self.input.department, department)
            }
            VCardProperty::Title => set(&mut self.input.title, text(entry)),
            VCardProperty::Role if self.card.property(&VCardProperty::Title).is_none() => {
                set(&mut self.input.title, text(entry))
            }
            VCardProperty::Note => {
                let note = text(entry);
                if !note.trim().is_empty() {
                    self.notes.push(note);
                }
                true
            }
            VCardProperty::Categories => {
                self.tags.extend(
                    list(entry)
                        .into_iter()
                        .map(|tag| tag.trim().to_owned())
                        .filter(|tag| !tag.is_empty()),
                );
                true
            }
            VCardProperty::Related => {
                let label = other_param(entry, "X-ROSTER-LABEL").unwrap_or_else(|| {
                    types(entry)
                        .into_iter()
                        .find(|t| t != "text")
                        .map(|t| if t == "kin" { "relative".to_owned() } else { t })
                        .unwrap_or_default()
                });
                push(
                    &mut self.input.related,
                    EntryInput {
                        label,
                        value: text(entry),
                    },
                )
            }
            VCardProperty::Photo => self.photo(entry),
            VCardProperty::Other(name) => self.other(name, entry),
            _ => false,
        };
        if !kept {
            self.keep_extra(entry);
        }
    }

    fn name(&mut self, entry: &VCardEntry) -> bool {
        if [
            &self.input.family,
            &self.input.given,
            &self.input.middle,
            &self.input.prefix,
            &self.input.suffix,
        ]
        .iter()
        .any(|part| !part.is_empty())
        {
            return false;
        }
        // Family; Given; Additional; Prefix; Suffix (each may list several, by commas).
        let parts = components(entry);
        let part = |at: usize| parts.get(at).cloned().unwrap_or_default();
        self.input.family = part(0).trim().to_owned();
        self.input.given = part(1).trim().to_owned();
        self.input.middle = part(2).trim().to_owned();
        self.input.prefix = part(3).trim().to_owned();
        self.input.suffix = part(4).trim().to_owned();
        true
    }

    fn address(&mut self, entry: &VCardEntry) -> bool {
        // PO box; Extended; Street; Locality; Region; Postal code; Country.
        let parts = components(entry);
        let part = |at: usize| {
            parts
                .get(at)
                .map(|p| p.trim().to_owned())
                .unwrap_or_default()
        };
        let street = [part(0), part(2)]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let mut country = part(6);
        // Apple's country code beside the address (read either way, so it is not
        // kept again as an extra).
        let apple_country = self.grouped(entry, "X-ABADR");
        if country.is_empty()
            && let Some(code) = apple_country
        {
            country = code.to_uppercase();
        }
        let mut address = AddressInput {
            label: self.label(entry),
            street,
            extended: part(1),
            city: part(3),
            region: part(4),
            postal_code: part(5),
            country,
        };
        address.keep_unknown_country();
        if address.is_blank() {
            return true;
        }
        push_listed(&mut self.addresses, pref(entry), address)
    }

    fn social(&mut self, entry: &VCardEntry) -> bool {
        let value = text(entry);
        let label = types(entry)
            .into_iter()
            .find(|t| !matches!(t.as_str(), "pref" | "internet"))
            .or_else(|| param_text(entry, &VCardParameterName::ServiceType))
            .map(|service| service.to_lowercase())
            .unwrap_or_default();
        // Apple writes `x-apple:handle` when it has no address for the profile.
        let value = match value.strip_prefix("x-apple:") {
            Some(handle) => other_param(entry, "X-USER").unwrap_or_else(|| handle.to_owned()),
            None => value,
        };
        if value.starts_with("http://") || value.starts_with("https://") {
            push(&mut self.input.links, EntryInput { label, value })
        } else {
            push(&mut self.input.ims, EntryInput { label, value })
        }
    }

    fn photo(&mut self, entry: &VCardEntry) -> bool {
        if self.photo.is_some() {
            return false;
        }
        match entry.values.first() {
            Some(VCardValue::Binary(data)) => {
                self.photo = Some(data.data.clone());
                true
            }
            // A photo at an address (`http://…`) is not fetched: kept as it is.
            Some(VCardValue::Text(text)) if text.contains("://") => false,
            // Anything else was meant as the picture itself (base64 that decoded to
            // text, say): read as one, so what is wrong with it is told.
            Some(VCardValue::Text(text)) => {
                self.photo = Some(text.as_bytes().to_vec());
                true
            }
            _ => false,
        }
    }

    /// The `X-` properties other programs write for what Roster has fields for.
    fn other(&mut self, name: &str, entry: &VCardEntry) -> bool {
        let upper = name.to_ascii_uppercase();
        let im = |service: &str| EntryInput {
            label: service.to_owned(),
            value: text(entry),
        };
        match upper.as_str() {
            // Labels of grouped properties: used where the property is read; a label
            // whose group has nothing Roster kept is kept itself (see `finish`).
            "X-ABLABEL" | "X-ABADR" => true,
            "X-PHONETIC-FIRST-NAME" => set(&mut self.input.phonetic_given, text(entry)),
            "X-PHONETIC-LAST-NAME" => set(&mut self.input.phonetic_family, text(entry)),
            "X-PRONOUNS" => set(&mut self.input.pronouns, text(entry)),
            "X-ANNIVERSARY" => match self.date(entry, "X-ANNIVERSARY") {
                Some(date) => push(&mut self.input.dates, EntryInput::new("anniversary", &date)),
                None => false,
            },
            "X-ABDATE" => match self.date(entry, "X-ABDATE") {
                Some(date) => {
                    let label = self.label(entry);
                    push(&mut self.input.dates, EntryInput { label, value: date })
                }
                None => false,
            },
            "X-ABRELATEDNAMES" => {
                let label = self.label(entry);
                push(
                    &mut self.input.related,
                    EntryInput {
                        label,
                        value: text(entry),
                    },
                )
            }
            "X-SOCIALPROFILE" => self.social(entry),
            "X-AIM" => push(&mut self.input.ims, im("aim")),
            "X-ICQ" => push(&mut self.input.ims, im("icq")),
            "X-JABBER" | "X-GOOGLE-TALK" | "X-GTALK" => push(&mut self.input.ims, im("xmpp")),
            "X-MSN" => push(&mut self.input.ims, im("msn")),
            "X-YAHOO" => push(&mut self.input.ims, im("yahoo")),
            "X-SKYPE" | "X-SKYPE-USERNAME" => push(&mut self.input.ims, im("skype")),
            "X-QQ" => push(&mut self.input.ims, im("qq")),
            "X-ROSTER-TIER" => set(&mut self.input.tier, text(entry)),
            "X-ROSTER-FILE-AS" => set(&mut self.input.file_as, text(entry)),
            "X-ROSTER-DATE" => {
                let label = self.label(entry);
                push(
                    &mut self.input.dates,
                    EntryInput {
                        label,
                        value: text(entry),
                    },
                )
            }
            // A custom value by its field's name, found among the live fields when the
            // row is checked (`custom::by_name`).
            "X-ROSTER-CUSTOM" => match other_param(entry, "X-ROSTER-FIELD") {
                Some(field) => {
                    let key = format!("{}{field}", crate::domain::custom::BY_NAME);
                    match self.input.custom.entry(key) {
                        std::collections::btree_map::Entry::Occupied(_) => false,
                        std::collections::btree_map::Entry::Vacant(slot) => {
                            slot.insert(text(entry));
                            true
                        }
                    }
                }
                None => false,
            },
            _ => false,
        }
    }

    /// The label of an entry: Roster's own, else the `X-ABLabel` of its group, else
    /// the first type that means something to a person (`cell` is "mobile").
    fn label(&mut self, entry: &VCardEntry) -> String {
        if let Some(label) = other_param(entry, "X-ROSTER-LABEL") {
            return label;
        }
        if let Some(label) = self.grouped(entry, "X-ABLABEL") {
            return apple_label(&label);
        }
        let words = types(entry);
        let has = |word: &str| words.iter().any(|w| w == word);
        let label = if has("cell") || has("mobile") {
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
        } else if has("main-number") || has("main") {
            "main"
        } else if has("other") {
            "other"
        } else {
            ""
        };
        label.to_owned()
    }

    /// The value of the property named `name` in the same group as `entry`, marking
    /// the group as used.
    fn grouped(&mut self, entry: &VCardEntry, name: &str) -> Option<String> {
        let group = entry.group.as_deref()?;
        let value = self
            .card
            .entries
            .iter()
            .find(|other| {
                other.group.as_deref() == Some(group)
                    && matches!(&other.name, VCardProperty::Other(n) if n.eq_ignore_ascii_case(name))
            })
            .map(text)?;
        if !self.used_groups.iter().any(|g| g == group) {
            self.used_groups.push(group.to_owned());
        }
        Some(value)
    }

    fn keep_extra(&mut self, entry: &VCardEntry) {
        if let Some(line) = content_line(entry) {
            self.input.extras.push(line);
        }
    }

    fn finish(mut self) -> Result<ReadCard, String> {
        // Labels (and Apple's address country codes) whose group labelled nothing
        // Roster kept are kept themselves.
        for entry in &self.card.entries {
            let label_like = matches!(&entry.name, VCardProperty::Other(name)
                if name.eq_ignore_ascii_case("X-ABLABEL") || name.eq_ignore_ascii_case("X-ABADR"));
            let used = entry
                .group
                .as_deref()
                .is_some_and(|group| self.used_groups.iter().any(|g| g == group));
            if label_like && !used {
                self.keep_extra(entry);
            }
        }
        self.input.emails = by_pref(self.emails);
        self.input.phones = by_pref(self.phones);
        self.input.addresses = by_pref(self.addresses);
        self.input.tags = self.tags.join(", ");
        self.input.notes = self.notes.join("\n\n");
        forget_derived_name(&mut self.input);
        let photo = match self.photo {
            None => None,
            Some(bytes) => Some(
                photos::process(&bytes)
                    .map_err(|reason| format!("The photo of this vCard: {reason}"))?,
            ),
        };
        if let Some(photo) = &photo {
            self.input.photo.clone_from(&photo.hash);
        }
        Ok(ReadCard {
            input: self.input,
            photo,
        })
    }
}

/// A formatted name equal to the one the parts make is not pinned (an edit of a part
/// then changes it too).
fn forget_derived_name(input: &mut ContactInput) {
    if input.name.is_empty() {
        return;
    }
    let derived = crate::domain::card::NameParts {
        prefix: Some(input.prefix.clone()),
        given: Some(input.given.clone()),
        middle: Some(input.middle.clone()),
        family: Some(input.family.clone()),
        suffix: Some(input.suffix.clone()),
        ..Default::default()
    }
    .display_name();
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    if words(&derived) == words(&input.name) {
        input.name.clear();
    }
}

/// Rows in their preference order (the file's order among equals).
fn by_pref<T>(mut rows: Vec<(u32, T)>) -> Vec<T> {
    rows.sort_by_key(|(pref, _)| *pref);
    rows.into_iter().map(|(_, row)| row).collect()
}

/// Sets an empty slot; `false` when it was taken (the value then goes to the extras).
fn set(slot: &mut String, value: String) -> bool {
    let value = value.trim();
    if value.is_empty() {
        return true;
    }
    if !slot.is_empty() {
        return slot == value;
    }
    *slot = value.to_owned();
    true
}

fn push(rows: &mut Vec<EntryInput>, row: EntryInput) -> bool {
    if row.value.trim().is_empty() {
        return true;
    }
    if rows.len() >= MAX_ENTRIES {
        return false;
    }
    rows.push(row);
    true
}

fn push_listed<T>(rows: &mut Vec<(u32, T)>, pref: u32, row: T) -> bool {
    if rows.len() >= MAX_ENTRIES {
        return false;
    }
    rows.push((pref, row));
    true
}

/// An entry's preference: `PREF=1` (4.0) or the `pref` type (2.1 and 3.0) come first;
/// unmarked ones keep the file's order after them.
fn pref(entry: &VCardEntry) -> u32 {
    let mut best = u32::MAX;
    for param in &entry.params {
        match (&param.name, &param.value) {
            (VCardParameterName::Pref, VCardParameterValue::Integer(n)) => best = best.min(*n),
            (VCardParameterName::Pref, VCardParameterValue::Null) => best = best.min(1),
            _ => {}
        }
    }
    if types(entry).iter().any(|t| t == "pref") {
        best = best.min(1);
    }
    best
}

/// The `TYPE`s of an entry, lower-case (2.1's bare words count: `TEL;WORK;VOICE`).
fn types(entry: &VCardEntry) -> Vec<String> {
    let mut words = Vec::new();
    for param in &entry.params {
        match (&param.name, &param.value) {
            (VCardParameterName::Type, VCardParameterValue::Type(t)) => {
                words.push(t.as_str().to_ascii_lowercase());
            }
            (VCardParameterName::Type, VCardParameterValue::Text(t)) => {
                words.extend(t.split(',').map(|w| w.trim().to_ascii_lowercase()));
            }
            // A bare word calcard does not know (`INTERNET`, `PREF` in 2.1).
            (VCardParameterName::Other(word), VCardParameterValue::Null) => {
                words.push(word.to_ascii_lowercase());
            }
            (VCardParameterName::Pref, VCardParameterValue::Null) => words.push("pref".into()),
            _ => {}
        }
    }
    words
}

/// A parameter's text value.
fn param_text(entry: &VCardEntry, name: &VCardParameterName) -> Option<String> {
    entry.params.iter().find_map(|param| match &param.value {
        VCardParameterValue::Text(text) if &param.name == name => Some(text.clone()),
        _ => None,
    })
}

/// An `X-` parameter's text value, by name in any case.
fn other_param(entry: &VCardEntry, name: &str) -> Option<String> {
    entry
        .params
        .iter()
        .find_map(|param| match (&param.name, &param.value) {
            (VCardParameterName::Other(n), VCardParameterValue::Text(text))
                if n.eq_ignore_ascii_case(name) =>
            {
                Some(text.clone())
            }
            _ => None,
        })
}

/// Apple's labels: `_$!<HomeFAX>!$_` is "home fax", `_$!<Mobile>!$_` "mobile"; a
/// label of one's own stays as written.
fn apple_label(label: &str) -> String {
    let Some(inner) = label
        .strip_prefix("_$!<")
        .and_then(|rest| rest.strip_suffix(">!$_"))
    else {
        return label.trim().to_owned();
    };
    match inner.to_ascii_lowercase().as_str() {
        "homefax" => "home fax".into(),
        "workfax" => "work fax".into(),
        "otherfax" => "other fax".into(),
        "homepage" => "homepage".into(),
        "main" => "main".into(),
        other => other.to_owned(),
    }
}

/// A value as one piece of text (several values, or a structured one, joined by
/// commas, as they were written).
fn text(entry: &VCardEntry) -> String {
    list_text(entry, ",")
}

fn list_text(entry: &VCardEntry, separator: &str) -> String {
    list(entry).join(separator)
}

fn list(entry: &VCardEntry) -> Vec<String> {
    entry
        .values
        .iter()
        .flat_map(|value| match value {
            VCardValue::Component(parts) => parts.clone(),
            other => vec![value_text(other)],
        })
        .collect()
}

/// A structured value's components (`N`, `ADR`, `ORG`), each one text (a component
/// listing several values keeps them joined by commas).
fn components(entry: &VCardEntry) -> Vec<String> {
    entry
        .values
        .iter()
        .map(|value| match value {
            VCardValue::Component(parts) => parts.join(","),
            other => value_text(other),
        })
        .collect()
}

fn value_text(value: &VCardValue) -> String {
    match value {
        VCardValue::Text(text) => text.clone(),
        VCardValue::Integer(n) => n.to_string(),
        VCardValue::Float(f) => f.to_string(),
        VCardValue::Boolean(b) => b.to_string(),
        VCardValue::PartialDateTime(date) => partial_date(date).unwrap_or_default(),
        VCardValue::Binary(data) => String::from_utf8_lossy(&data.data).into_owned(),
        VCardValue::Sex(sex) => sex.as_str().to_owned(),
        VCardValue::GramGender(gender) => gender.as_str().to_owned(),
        VCardValue::Kind(kind) => kind.as_str().to_owned(),
        VCardValue::Component(parts) => parts.join(","),
    }
}

/// The values of the date properties as written, in file order. Dates are read from
/// the text, not from calcard's reading of them: calcard reads vCard 3.0's
/// `--MM-DD` (a birthday without a year, as Apple and Google write it) as a month
/// alone — `BDAY:--12-10` came back as `--12`, the day lost (measured with 0.3.14).
fn raw_dates(text: &str) -> Vec<(String, String)> {
    const DATES: [&str; 4] = ["BDAY", "ANNIVERSARY", "X-ANNIVERSARY", "X-ABDATE"];
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        match (line.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(line.to_owned()),
        }
    }
    lines
        .into_iter()
        .filter_map(|line| {
            let (head, value) = line.split_once(':')?;
            let name = head.split(';').next()?;
            let name = name.rsplit('.').next()?.to_ascii_uppercase();
            DATES
                .contains(&name.as_str())
                .then(|| (name, value.trim().to_owned()))
        })
        .collect()
}

/// A date Roster reads (`1990-04-15`, `--04-15`), or `None` when the value is not a
/// calendar date (then it is kept as an extra).
fn date_text(entry: &VCardEntry) -> Option<String> {
    let text = match entry.values.first()? {
        VCardValue::PartialDateTime(date) => partial_date(date)?,
        VCardValue::Text(text) => text.trim().to_owned(),
        _ => return None,
    };
    crate::domain::card::PartialDate::parse(&text)
        .ok()
        .flatten()
        .map(|date| date.to_iso())
}

fn partial_date(date: &PartialDateTime) -> Option<String> {
    let (month, day) = (date.month?, date.day?);
    Some(match date.year {
        Some(year) => format!("{year:04}-{month:02}-{day:02}"),
        None => format!("--{month:02}-{day:02}"),
    })
}

/// The entry as one unfolded vCard 4.0 content line, as calcard writes it.
fn content_line(entry: &VCardEntry) -> Option<String> {
    let mut written = String::new();
    entry.write_to(&mut written, true).ok()?;
    let line = written
        .replace("\r\n ", "")
        .replace("\r\n\t", "")
        .trim_end_matches(['\r', '\n'])
        .to_owned();
    extra_name(&line).map(|_| line)
}

/// Every card of a file, read, in file order; each with the line it starts on.
pub fn rows(
    lines: impl BufRead + Send + 'static,
) -> impl Iterator<Item = (u64, Result<ReadCard, String>)> + Send {
    Cards::new(lines).map(|raw| {
        let read = raw.text.and_then(|text| read_card(&text));
        (raw.line, read)
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::domain::Card;

    fn read(text: &str) -> Vec<(u64, Result<ReadCard, String>)> {
        rows(std::io::Cursor::new(text.as_bytes().to_vec())).collect()
    }

    fn one(text: &str) -> ReadCard {
        let mut cards = read(text);
        assert_eq!(cards.len(), 1);
        cards.remove(0).1.expect("the card reads")
    }

    fn entries(rows: &[EntryInput]) -> Vec<(&str, &str)> {
        rows.iter()
            .map(|r| (r.label.as_str(), r.value.as_str()))
            .collect()
    }

    #[test]
    fn vcard_2_1_with_quoted_printable_bare_types_and_a_photo() {
        let jpeg = photos::sample_portrait(3, 40, 40);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
        // 2.1 folds base64 with leading spaces and ends it with a blank line.
        let folded: Vec<String> = b64
            .as_bytes()
            .chunks(60)
            .map(|c| format!(" {}", std::str::from_utf8(c).unwrap()))
            .collect();
        let text = format!(
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;Dr.;\r\n\
             FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dr. J=C3=BCrgen M=C3=BCller\r\n\
             TEL;WORK;VOICE:+49 30 1234567\r\nTEL;CELL;PREF:+49 170 7654321\r\nTEL;HOME;FAX:+49 30 999\r\n\
             EMAIL;INTERNET:juergen@example.de\r\n\
             ADR;HOME;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:;;Stra=DFe 1;Berlin;;10115;Germany\r\n\
             NOTE;ENCODING=QUOTED-PRINTABLE:First line=0D=0A=\r\nsecond line\r\n\
             X-MS-OL-DESIGN;CHARSET=utf-8:<card/>\r\n\
             PHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n{}\r\n\r\nEND:VCARD\r\n",
            folded.join("\r\n")
        );
        let card = one(&text);
        let input = &card.input;
        assert_eq!(
            (
                input.family.as_str(),
                input.given.as_str(),
                input.prefix.as_str()
            ),
            ("Müller", "Jürgen", "Dr.")
        );
        assert_eq!(
            input.name, "",
            "the formatted name is the one the parts make"
        );
        assert_eq!(
            entries(&input.phones),
            [
                ("mobile", "+49 170 7654321"),
                ("work", "+49 30 1234567"),
                ("home fax", "+49 30 999")
            ],
            "the preferred number first"
        );
        assert_eq!(entries(&input.emails), [("", "juergen@example.de")]);
        let home = &input.addresses[0];
        assert_eq!(
            (
                home.label.as_str(),
                home.street.as_str(),
                home.city.as_str(),
                home.country.as_str()
            ),
            ("home", "Straße 1", "Berlin", "Germany")
        );
        assert_eq!(input.notes, "First line\r\nsecond line");
        assert_eq!(input.extras, ["X-MS-OL-DESIGN:<card/>"]);
        let photo = card.photo.expect("the photo is read");
        assert_eq!(input.photo, photo.hash);
        let parsed = Card::parse(input).expect("a valid card");
        assert_eq!(parsed.name, "Dr. Jürgen Müller");
        assert_eq!(parsed.addresses[0].country.as_deref(), Some("DE"));
    }

    #[test]
    fn an_apple_card_with_grouped_labels_and_dates() {
        let card = one(
            "BEGIN:VCARD\nVERSION:3.0\nPRODID:-//Apple Inc.//iPhone OS 17.0//EN\n\
             N:Lovelace;Ada;;;\nFN:Ada Lovelace\nORG:Analytical Engines;Research;Poetry\n\
             TITLE:Analyst\nitem1.EMAIL;type=INTERNET;type=pref:ada@example.com\n\
             item1.X-ABLabel:_$!<Other>!$_\nitem2.EMAIL;type=INTERNET:ada@home.example\n\
             item2.X-ABLabel:Lab\nTEL;type=CELL;type=VOICE;type=pref:+44 20 7946 0958\n\
             item3.ADR;type=HOME:;;12 St James's Sq;London;;SW1;\nitem3.X-ABADR:gb\n\
             item4.URL:https://ada.example\nitem4.X-ABLabel:_$!<HomePage>!$_\n\
             item5.X-ABDATE;type=pref:1835-07-08\nitem5.X-ABLabel:_$!<Anniversary>!$_\n\
             item6.X-ABRELATEDNAMES:William King\nitem6.X-ABLabel:_$!<Spouse>!$_\n\
             item7.X-ABLabel:Orphan label\nBDAY;VALUE=date:--12-10\n\
             X-ABDATE;X-APPLE-OMIT-YEAR=1604:1604-05-01\n\
             X-SOCIALPROFILE;type=twitter:https://twitter.com/ada\n\
             IMPP;X-SERVICE-TYPE=Jabber;type=HOME:xmpp:ada@jabber.example\n\
             CATEGORIES:maths,poetry\nNOTE:Line one\\nline two\\, with comma\n\
             X-ABShowAs:COMPANY\nUID:abc-123\nREV:2024-01-01T00:00:00Z\nEND:VCARD\n",
        );
        let input = &card.input;
        assert_eq!(
            entries(&input.emails),
            [("other", "ada@example.com"), ("Lab", "ada@home.example")]
        );
        assert_eq!(entries(&input.phones), [("mobile", "+44 20 7946 0958")]);
        assert_eq!(input.addresses[0].country, "GB", "from X-ABADR");
        assert_eq!(
            entries(&input.links),
            [
                ("homepage", "https://ada.example"),
                ("twitter", "https://twitter.com/ada")
            ]
        );
        assert_eq!(
            entries(&input.dates),
            [("anniversary", "1835-07-08"), ("", "--05-01")],
            "Apple's placeholder year is no year"
        );
        assert_eq!(entries(&input.related), [("spouse", "William King")]);
        assert_eq!(entries(&input.ims), [("Jabber", "xmpp:ada@jabber.example")]);
        assert_eq!(input.birthday, "--12-10", "{:?}", input.extras);
        assert_eq!(
            (
                input.company.as_str(),
                input.department.as_str(),
                input.title.as_str()
            ),
            ("Analytical Engines", "Research, Poetry", "Analyst")
        );
        assert_eq!(input.tags, "maths, poetry");
        assert_eq!(input.notes, "Line one\nline two, with comma");
        assert_eq!(
            input.extras,
            ["X-ABShowAs:COMPANY", "item7.X-ABLabel:Orphan label"],
            "what Roster has no field for is kept; the file's own ids and dates are not"
        );
        Card::parse(input).expect("a valid card");
    }

    #[test]
    fn vcard_4_with_data_uris_and_more_than_roster_has_room_for() {
        let jpeg = photos::sample_portrait(5, 32, 32);
        let uri = format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&jpeg)
        );
        let card = one(&format!(
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Grace Hopper\r\nN:Hopper;Grace;Brewster Murray;Rear Admiral;\r\n\
             EMAIL;TYPE=work;PREF=2:grace@navy.example\r\nEMAIL;PREF=1:grace@example.org\r\n\
             TEL;VALUE=uri;TYPE=\"voice,cell\":tel:+1-202-555-0101\r\n\
             TEL;VALUE=uri;TYPE=work:tel:+1-202-555-0199;ext=12\r\n\
             BDAY:19061209\r\nBDAY:19061210\r\nANNIVERSARY:--0415\r\nGENDER:F\r\n\
             TITLE:Admiral\r\nROLE:Programmer\r\nPRONOUNS:she/her\r\n\
             RELATED;TYPE=kin;VALUE=text:Mary Hopper\r\nPHOTO:{uri}\r\nEND:VCARD\r\n"
        ));
        let input = &card.input;
        assert_eq!(
            entries(&input.emails),
            [("", "grace@example.org"), ("work", "grace@navy.example")]
        );
        assert_eq!(
            entries(&input.phones),
            [
                ("mobile", "+1-202-555-0101"),
                ("work", "+1-202-555-0199 ext. 12")
            ]
        );
        assert_eq!(input.birthday, "1906-12-09");
        assert_eq!(entries(&input.dates), [("anniversary", "--04-15")]);
        assert_eq!(input.pronouns, "she/her");
        assert_eq!(entries(&input.related), [("relative", "Mary Hopper")]);
        assert_eq!(input.title, "Admiral");
        assert_eq!(
            input.extras,
            ["BDAY:19061210", "GENDER:F", "ROLE:Programmer"],
            "a second birthday and a role beside a title are kept, not dropped"
        );
        assert!(card.photo.is_some());
        Card::parse(input).expect("a valid card");
    }

    #[test]
    fn broken_cards_are_named_by_their_line_and_the_rest_read() {
        let cards = read(
            "BEGIN:VCARD\nFN:First\nBEGIN:VCARD\nFN:Second\nEND:VCARD\n\
             BEGIN:VCARD\nFN:Third\nPHOTO;ENCODING=b:bm90IGFuIGltYWdl\nEND:VCARD\n\
             BEGIN:VCARD\nFN:Last\n",
        );
        let lines: Vec<u64> = cards.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 3, 6, 10]);
        assert!(
            cards[0]
                .1
                .as_ref()
                .unwrap_err()
                .contains("next card begins (line 3)")
        );
        assert_eq!(cards[1].1.as_ref().unwrap().input.name, "Second");
        assert!(
            cards[2].1.as_ref().unwrap_err().contains("photo"),
            "{:?}",
            cards[2].1.as_ref().err()
        );
        assert!(cards[3].1.as_ref().unwrap_err().contains("no END:VCARD"));
    }

    #[test]
    fn a_line_that_is_no_property_is_named() {
        let cards = read(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada\r\nthis line has no colon\r\n\
             EMAIL:ada@example.com\r\nEND:VCARD\r\n\
             BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Bo\r\nNOTE;ENCODING=QUOTED-PRINTABLE:one=\r\n\
             two\r\nKEY;ENCODING=BASE64:AAAA\r\nBBBB\r\n\r\nEND:VCARD\r\n",
        );
        let reason = cards[0].1.as_ref().unwrap_err();
        assert!(
            reason.starts_with("Line 4 is not a vCard property (“this line has no colon”)"),
            "{reason}"
        );
        assert!(
            cards[1].1.is_ok(),
            "quoted-printable and base64 go on over lines: {:?}",
            cards[1].1
        );
    }

    #[test]
    fn a_card_over_the_size_bound_is_refused_in_words() {
        let huge = format!(
            "BEGIN:VCARD\nFN:Big\nPHOTO;ENCODING=b:{}\nEND:VCARD\nBEGIN:VCARD\nFN:Small\nEND:VCARD\n",
            "A".repeat(MAX_CARD_BYTES)
        );
        let cards = read(&huge);
        assert!(
            cards[0]
                .1
                .as_ref()
                .unwrap_err()
                .contains("larger than 16 MB")
        );
        assert_eq!(cards[1].1.as_ref().unwrap().input.name, "Small");
    }
}
