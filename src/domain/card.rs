//! The parts of a rich contact card: name parts, labelled lists (emails, phones,
//! addresses, links, messaging handles, dates) and partial dates.
//!
//! Each list is ordered and its first entry is the primary one (as in Apple Contacts
//! and vCard's `PREF=1`): "make primary" moves an entry to the top. Every part has a
//! `parse` from what a form or a file holds, giving the words a person sees when it is
//! refused; the browser and the server run the same rules.

use serde::{Deserialize, Serialize};

use super::{countries, draft::one_line};

/// At most this many entries in one list (emails, phones, …).
pub const MAX_ENTRIES: usize = 20;
pub const MAX_LABEL_CHARS: usize = 40;
/// A name part, a pronoun, a handle.
pub const MAX_PART_CHARS: usize = 100;
/// A part of an address (as long as the single location line it replaced could be).
pub const MAX_ADDRESS_PART_CHARS: usize = 200;
pub const MAX_URL_CHARS: usize = 500;

/// The labels offered for each list; anything else typed is kept as a custom label.
pub const EMAIL_LABELS: &[&str] = &["work", "home", "other"];
pub const PHONE_LABELS: &[&str] = &[
    "mobile", "work", "home", "main", "work fax", "home fax", "pager", "other",
];
pub const ADDRESS_LABELS: &[&str] = &["work", "home", "other"];
pub const LINK_LABELS: &[&str] = &[
    "homepage", "work", "blog", "linkedin", "github", "mastodon", "x", "other",
];
pub const IM_LABELS: &[&str] = &[
    "signal", "whatsapp", "telegram", "matrix", "xmpp", "skype", "teams", "slack", "other",
];
pub const DATE_LABELS: &[&str] = &["anniversary", "other"];
pub const RELATED_LABELS: &[&str] = &[
    "spouse",
    "partner",
    "manager",
    "assistant",
    "child",
    "parent",
    "sibling",
    "friend",
    "relative",
    "referred by",
];

/// A person this contact is related to: by label (manager, spouse…) and name, and,
/// when the directory has that person, a link to their contact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Related {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The person's name as written.
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<uuid::Uuid>,
}

/// How a relationship reads from the other person's side: if Ada lists Bo as her
/// `manager`, Bo's page lists Ada as a `report`.
pub fn inverse_label(label: Option<&str>) -> String {
    match label {
        Some("spouse") => "spouse".into(),
        Some("partner") => "partner".into(),
        Some("manager") => "report".into(),
        Some("assistant") => "assists them".into(),
        Some("child") => "parent".into(),
        Some("parent") => "child".into(),
        Some("sibling") => "sibling".into(),
        Some("friend") => "friend".into(),
        Some("relative") => "relative".into(),
        Some("referred by") => "referred them".into(),
        Some(other) => format!("lists them as {}", label_text(other)),
        None => "lists them".into(),
    }
}

/// An entry's label: one of the offered words (stored lowercase) or a custom one as
/// typed. Entries may have none.
pub fn parse_label(text: &str, offered: &[&str]) -> Result<Option<String>, String> {
    let text = one_line(text);
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_LABEL_CHARS {
        return Err(format!(
            "Keep the label to {MAX_LABEL_CHARS} characters or fewer."
        ));
    }
    let lower = text.to_lowercase();
    Ok(Some(match offered.iter().find(|word| **word == lower) {
        Some(word) => (*word).to_owned(),
        None => text,
    }))
}

/// Services whose names are not spelt by capitalising the first letter, as labels
/// arrive from other programs (`X-SOCIALPROFILE;TYPE=linkedin`, `IMPP:xmpp:…`).
const SERVICE_SPELLINGS: [&str; 16] = [
    "LinkedIn", "GitHub", "GitLab", "YouTube", "WhatsApp", "WeChat", "TikTok", "iMessage", "ICQ",
    "AIM", "MSN", "QQ", "XMPP", "SIP", "IRC", "X",
];

/// How a label reads: offered words capitalised ("Work fax"), a service by its own
/// spelling ("LinkedIn"), custom ones as typed.
pub fn label_text(label: &str) -> String {
    let as_offered = label.chars().all(|c| !c.is_uppercase());
    if as_offered
        && let Some(name) = SERVICE_SPELLINGS
            .iter()
            .find(|name| name.eq_ignore_ascii_case(label))
    {
        return (*name).to_owned();
    }
    let mut chars = label.chars();
    match chars.next() {
        Some(first) if as_offered => first.to_uppercase().chain(chars).collect(),
        _ => label.to_owned(),
    }
}

/// One row of a list as the form holds it: a label and a value, both as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryInput {
    pub label: String,
    pub value: String,
}

impl EntryInput {
    pub fn new(label: &str, value: &str) -> Self {
        EntryInput {
            label: label.to_owned(),
            value: value.to_owned(),
        }
    }

    pub fn is_blank(&self) -> bool {
        self.value.trim().is_empty()
    }
}

/// One postal address as the form holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddressInput {
    pub label: String,
    pub street: String,
    pub extended: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
}

impl AddressInput {
    /// A country Roster cannot name by its ISO code or English name (as another
    /// program wrote it) is kept after the region instead of refused.
    pub fn keep_unknown_country(&mut self) {
        if self.country.is_empty() || countries::code_for(&self.country).is_some() {
            return;
        }
        let country = std::mem::take(&mut self.country);
        self.region = if self.region.is_empty() {
            country
        } else {
            format!("{}, {country}", self.region)
        };
    }

    pub fn is_blank(&self) -> bool {
        [
            &self.street,
            &self.extended,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .all(|part| part.trim().is_empty())
    }
}

/// A labelled value: an email, a phone, a link, a handle, a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry<V> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub value: V,
}

/// A phone number as typed, with the E.164 form beside it when the number could be
/// read as one (found by the server, which holds the numbering plans; `None` until
/// then, or when the number is not a valid one anywhere).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub value: super::Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e164: Option<String>,
}

impl PhoneEntry {
    /// How duplicates are found: the E.164 form when known, else the digits.
    pub fn key(&self) -> String {
        match &self.e164 {
            Some(e164) => e164.clone(),
            None => self.value.digits(),
        }
    }
}

/// A postal address; every part optional but not all empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Address {
    pub fn parse(input: &AddressInput) -> Result<Option<Address>, String> {
        if input.is_blank() {
            return Ok(None);
        }
        let part = |text: &str| -> Result<Option<String>, String> {
            let text = one_line(text);
            if text.chars().count() > MAX_ADDRESS_PART_CHARS {
                return Err(format!(
                    "Keep each part of an address to {MAX_ADDRESS_PART_CHARS} characters or fewer."
                ));
            }
            Ok((!text.is_empty()).then_some(text))
        };
        let country = match one_line(&input.country) {
            text if text.is_empty() => None,
            text => Some(
                countries::code_for(&text)
                    .ok_or_else(|| format!("“{text}” is not a country Roster knows: choose one from the list or type its two-letter ISO code."))?
                    .to_owned(),
            ),
        };
        Ok(Some(Address {
            label: parse_label(&input.label, ADDRESS_LABELS)?,
            street: part(&input.street)?,
            extended: part(&input.extended)?,
            city: part(&input.city)?,
            region: part(&input.region)?,
            postal_code: part(&input.postal_code)?,
            country,
        }))
    }

    pub fn to_input(&self) -> AddressInput {
        let text = |part: &Option<String>| part.clone().unwrap_or_default();
        AddressInput {
            label: text(&self.label),
            street: text(&self.street),
            extended: text(&self.extended),
            city: text(&self.city),
            region: text(&self.region),
            postal_code: text(&self.postal_code),
            country: text(&self.country),
        }
    }

    /// The country's English name.
    pub fn country_name(&self) -> Option<&'static str> {
        self.country.as_deref().and_then(countries::name)
    }

    /// Where it is, in a few words: "Lisbon, Portugal".
    pub fn place(&self) -> Option<String> {
        let parts: Vec<&str> = [self.city.as_deref(), self.country_name()]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Every part on one line, in the usual reading order.
    pub fn one_line(&self) -> String {
        let locality = [self.postal_code.as_deref(), self.city.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        [
            self.street.as_deref(),
            self.extended.as_deref(),
            (!locality.is_empty()).then_some(locality.as_str()),
            self.region.as_deref(),
            self.country_name(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// A day of the year, with or without the year: a birthday whose year is unknown is
/// still a birthday.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: Option<u16>,
    pub month: u8,
    pub day: u8,
}

impl PartialDate {
    /// `YYYY-MM-DD`, `--MM-DD` (vCard's form without a year) or `MM-DD`; also
    /// `YYYYMMDD` and `--MMDD` as vCard 3.0 files write them.
    pub fn parse(text: &str) -> Result<Option<PartialDate>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let invalid =
            || Err("Enter a date like 1990-04-15, or 04-15 when the year is not known.".to_owned());
        let digits_only = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let (year, rest) = if let Some(rest) = text.strip_prefix("--") {
            (None, rest.to_owned())
        } else if text.len() == 8 && digits_only(text) {
            // Only ASCII digits: slicing by bytes is slicing by characters.
            (Some(&text[..4]), text[4..].to_owned())
        } else if let Some((year, rest)) = text.split_once('-').filter(|(y, _)| y.len() == 4) {
            (Some(year), rest.to_owned())
        } else {
            (None, text.to_owned())
        };
        let (month, day) = match rest.split_once('-') {
            Some((m, d)) => (m.to_owned(), d.to_owned()),
            None if rest.len() == 4 && rest.is_ascii() => {
                (rest[..2].to_owned(), rest[2..].to_owned())
            }
            None => return invalid(),
        };
        if !digits_only(&month) || !digits_only(&day) || month.len() > 2 || day.len() > 2 {
            return invalid();
        }
        let year = match year {
            Some(year) if digits_only(year) => Some(year.parse::<u16>().map_err(|_| ())),
            Some(_) => return invalid(),
            None => None,
        };
        let year = match year {
            Some(Ok(year)) if (1..=9999).contains(&year) => Some(year),
            Some(_) => return invalid(),
            None => None,
        };
        let (month, day): (u8, u8) = (month.parse().unwrap_or(0), day.parse().unwrap_or(0));
        if !(1..=12).contains(&month) {
            return Err("There is no such month: use 01 to 12.".to_owned());
        }
        let last = days_in_month(year, month);
        if !(1..=last).contains(&day) {
            return Err(match year {
                Some(year) => format!("{} {year} has {last} days.", MONTHS[usize::from(month) - 1]),
                None => format!(
                    "{} has at most {last} days.",
                    MONTHS[usize::from(month) - 1]
                ),
            });
        }
        Ok(Some(PartialDate { year, month, day }))
    }

    /// [`PartialDate::parse`], and the forms spreadsheets and other programs' exports
    /// write: `12/10/1815` (Outlook's month first; day first when the first number
    /// cannot be a month), `10.12.1815`, `1815/12/10`, `10 Dec 1815`, `Dec 10, 1815`,
    /// `10 December 1815` (LinkedIn). Outlook's "no date", `0/0/00`, is none.
    pub fn parse_loose(text: &str) -> Result<Option<PartialDate>, String> {
        let strict = PartialDate::parse(text);
        if strict.is_ok() {
            return strict;
        }
        let text = text.trim();
        let numbers: Vec<&str> = text
            .split(['/', '.'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        let all_digits = |part: &&str| part.chars().all(|c| c.is_ascii_digit());
        if numbers.len() == 3 && numbers.iter().all(all_digits) {
            let n = |at: usize| numbers[at].parse::<u32>().unwrap_or(0);
            if numbers.iter().all(|part| part.chars().all(|c| c == '0')) {
                return Ok(None);
            }
            let (year, month, day) = if numbers[0].len() == 4 {
                (n(0), n(1), n(2))
            } else if text.contains('.') || n(0) > 12 {
                (n(2), n(1), n(0))
            } else {
                (n(2), n(0), n(1))
            };
            if numbers[2].len() == 4 || numbers[0].len() == 4 {
                return PartialDate::parse(&format!("{year:04}-{month:02}-{day:02}"));
            }
            return strict;
        }
        // Words: a month's name (or its first three letters), a day and a year.
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|word| !word.is_empty())
            .collect();
        let month = words.iter().find_map(|word| {
            let lower = word.to_lowercase();
            MONTHS.iter().position(|name| {
                let name = name.to_lowercase();
                lower == name || (lower.len() >= 3 && name.starts_with(&lower))
            })
        });
        let digits: Vec<&str> = words.iter().copied().filter(all_digits).collect();
        let (Some(month), 1..=2) = (month, digits.len()) else {
            return strict;
        };
        let day = digits.iter().find(|d| d.len() <= 2);
        let year = digits.iter().find(|d| d.len() == 4);
        match (day, year) {
            (Some(day), Some(year)) => {
                PartialDate::parse(&format!("{year}-{:02}-{day:0>2}", month + 1))
            }
            (Some(day), None) if digits.len() == 1 => {
                PartialDate::parse(&format!("--{:02}-{day:0>2}", month + 1))
            }
            _ => strict,
        }
    }

    /// `YYYY-MM-DD`, or `--MM-DD` without a year (as vCard 4 writes it).
    pub fn to_iso(self) -> String {
        match self.year {
            Some(year) => format!("{year:04}-{:02}-{:02}", self.month, self.day),
            None => format!("--{:02}-{:02}", self.month, self.day),
        }
    }

    /// "15 April 1990", or "15 April".
    pub fn display(self) -> String {
        let month = MONTHS[usize::from(self.month) - 1];
        match self.year {
            Some(year) => format!("{} {month} {year}", self.day),
            None => format!("{} {month}", self.day),
        }
    }

    /// "15 Apr", without the year.
    pub fn display_short(self) -> String {
        format!("{} {}", self.day, &MONTHS[usize::from(self.month) - 1][..3])
    }

    /// The day of the year it falls on, as `month * 100 + day` (for "upcoming").
    pub fn month_day(self) -> u16 {
        u16::from(self.month) * 100 + u16::from(self.day)
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PartialDate::parse(&text)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom("an empty date"))
    }
}

pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: Option<u16>, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 => match year {
            // Without a year, 29 February is a possible birthday.
            None => 29,
            Some(y) if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            Some(_) => 28,
        },
        _ => 31,
    }
}

/// A link: a web address (`https://…`) or a bare one (`example.com/ada`), kept as typed.
pub fn parse_url(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "Keep a link to {MAX_URL_CHARS} characters or fewer."
        ));
    }
    let invalid = || Err("Enter a web address like https://example.com/ada.".to_owned());
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid();
    }
    let rest = match text.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
                return invalid();
            }
            rest
        }
        None => text,
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    if host.contains('.') && !host.starts_with('.') && !host.ends_with('.') {
        Ok(Some(text.to_owned()))
    } else {
        invalid()
    }
}

/// Where a link goes: as typed, with `https://` in front when it has no scheme.
pub fn link_href(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    }
}

/// A name part, a handle or a pronoun: one line, bounded.
pub fn parse_part(text: &str) -> Result<Option<String>, String> {
    let text = one_line(text);
    if text.chars().count() > MAX_PART_CHARS {
        return Err(format!("Keep it to {MAX_PART_CHARS} characters or fewer."));
    }
    Ok((!text.is_empty()).then_some(text))
}

/// The most vCard content lines a contact keeps as extras.
pub const MAX_EXTRAS: usize = 200;
/// The most bytes they may hold together (a key or a logo can be long).
pub const MAX_EXTRAS_BYTES: usize = 256 * 1024;

/// Checks the vCard content lines kept as a contact's extras: each one unfolded line
/// `[group.]NAME[;param=value…]:value`, whose name is letters, digits and dashes.
/// Blank lines are dropped; the order is kept.
pub fn parse_extras(lines: &[String]) -> Result<Vec<String>, String> {
    let lines: Vec<String> = lines
        .iter()
        .map(|line| line.trim_end_matches(['\r', '\n']).to_owned())
        .filter(|line| !line.trim().is_empty())
        .collect();
    if lines.len() > MAX_EXTRAS {
        return Err(format!(
            "A contact keeps at most {MAX_EXTRAS} other vCard properties; this one has {}.",
            lines.len()
        ));
    }
    if lines.iter().map(String::len).sum::<usize>() > MAX_EXTRAS_BYTES {
        return Err(format!(
            "The other vCard properties of a contact may hold {} KB at most.",
            MAX_EXTRAS_BYTES / 1024
        ));
    }
    for line in &lines {
        if line.contains(['\r', '\n']) || extra_name(line).is_none() {
            let shown: String = line.chars().take(40).collect();
            return Err(format!("“{shown}” is not a vCard property line."));
        }
    }
    Ok(lines)
}

/// The property name of a vCard content line, upper-case and without its group:
/// `item2.X-ABLabel;x=y:Work` is `X-ABLABEL`. `None` when it is not a content line.
pub fn extra_name(line: &str) -> Option<String> {
    let end = line.find([';', ':'])?;
    if !line[end..].contains(':') {
        return None;
    }
    let head = &line[..end];
    let (group, name) = match head.rsplit_once('.') {
        Some((group, name)) => (Some(group), name),
        None => (None, head),
    };
    let valid = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    (valid(name) && group.is_none_or(valid)).then(|| name.to_ascii_uppercase())
}

/// A value kept under a name Roster has no field for (a file's column, or a custom
/// field this directory does not have), as the vCard line Roster writes custom values
/// in: `X-ROSTER-CUSTOM;X-ROSTER-FIELD="Office Location":Building 4`. Kept among the
/// extras, it fills the field of that name should one be made and the card imported
/// again.
pub fn custom_line(name: &str, value: &str) -> String {
    format!(
        "X-ROSTER-CUSTOM;X-ROSTER-FIELD={}:{}",
        vcard_param(name),
        vcard_text(value)
    )
}

/// vCard text escaping: backslash, comma, semicolon and line breaks.
pub fn vcard_text(value: &str) -> String {
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

/// A vCard parameter value, quoted when it holds anything but letters, digits and
/// dashes (RFC 6350 §5: quotes cannot be escaped, so they are dropped).
pub fn vcard_param(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace(['"', '\r', '\n'], ""))
    }
}

/// The name and value of a [`custom_line`], if `line` is one.
pub fn custom_of_line(line: &str) -> Option<(String, String)> {
    let rest = line
        .get(..31)
        .filter(|head| head.eq_ignore_ascii_case("X-ROSTER-CUSTOM;X-ROSTER-FIELD="))
        .map(|_| &line[31..])?;
    let (name, value) = match rest.strip_prefix('"') {
        Some(quoted) => {
            let (name, after) = quoted.split_once('"')?;
            (name, after.strip_prefix(':')?)
        }
        None => rest.split_once(':')?,
    };
    let mut text = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => match chars.next() {
                Some('n' | 'N') => text.push('\n'),
                Some(other) => text.push(other),
                None => text.push('\\'),
            },
            ch => text.push(ch),
        }
    }
    Some((name.to_owned(), text))
}

/// Adds to `extras` the lines of `more` it does not hold yet (an import into a
/// contact, a merge): every line once, in order.
pub fn add_extras(extras: &mut Vec<String>, more: &[String]) {
    for line in more {
        if !extras.contains(line) {
            extras.push(line.clone());
        }
    }
}

/// Whether a name files under its given name ("Ada Lovelace") or its family name
/// ("Lovelace, Ada") when sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAs {
    #[default]
    Given,
    Family,
}

impl FileAs {
    pub fn parse(text: &str) -> Result<FileAs, String> {
        match text.trim() {
            "" | "given" => Ok(FileAs::Given),
            "family" => Ok(FileAs::Family),
            _ => Err("Choose given name first or family name first.".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileAs::Given => "given",
            FileAs::Family => "family",
        }
    }
}

/// The parts of a person's name; each optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NameParts {
    pub prefix: Option<String>,
    pub given: Option<String>,
    pub middle: Option<String>,
    pub family: Option<String>,
    pub suffix: Option<String>,
    pub nickname: Option<String>,
    pub phonetic_given: Option<String>,
    pub phonetic_family: Option<String>,
    pub pronouns: Option<String>,
}

impl NameParts {
    /// The name shown when none is set by hand: "Dr. Ada King Lovelace Jr.".
    pub fn display_name(&self) -> String {
        [
            &self.prefix,
            &self.given,
            &self.middle,
            &self.family,
            &self.suffix,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
    }

    pub fn is_empty(&self) -> bool {
        *self == NameParts::default()
    }

    /// The words a sort reads, in the "file as" order; `None` without given or family.
    pub fn sort_words(&self, file_as: FileAs) -> Option<String> {
        let order: [&Option<String>; 3] = match file_as {
            FileAs::Given => [&self.given, &self.middle, &self.family],
            FileAs::Family => [&self.family, &self.given, &self.middle],
        };
        (self.given.is_some() || self.family.is_some()).then(|| {
            order
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

/// Moves, adds or removes a row of a list, as the form's row buttons ask (`op` is the
/// button's value, like `remove:emails:1`). Returns whether it did anything.
pub fn apply_row_op<T: Default>(rows: &mut Vec<T>, op: RowOp) -> bool {
    match op {
        RowOp::Add if rows.len() < MAX_ENTRIES => {
            rows.push(T::default());
            true
        }
        RowOp::Add => false,
        op => move_row(rows, op),
    }
}

/// The row buttons that move or remove a row (not `Add`): whether it did anything.
pub fn move_row<T>(rows: &mut Vec<T>, op: RowOp) -> bool {
    match op {
        RowOp::Remove(at) if at < rows.len() => {
            rows.remove(at);
        }
        RowOp::Up(at) if at > 0 && at < rows.len() => rows.swap(at - 1, at),
        RowOp::Down(at) if at + 1 < rows.len() => rows.swap(at, at + 1),
        RowOp::Primary(at) if at > 0 && at < rows.len() => {
            let row = rows.remove(at);
            rows.insert(0, row);
        }
        _ => return false,
    }
    true
}

/// What a row button does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOp {
    Add,
    Remove(usize),
    Up(usize),
    Down(usize),
    Primary(usize),
}

impl RowOp {
    /// `add:LIST`, `remove:LIST:N`, `up:LIST:N`, `down:LIST:N`, `primary:LIST:N`:
    /// the list's name and what to do to it.
    pub fn parse(text: &str) -> Option<(&str, RowOp)> {
        let mut parts = text.split(':');
        let verb = parts.next()?;
        let list = parts.next()?;
        let at = parts.next().map(str::parse::<usize>);
        if parts.next().is_some() {
            return None;
        }
        let op = match (verb, at) {
            ("add", None) => RowOp::Add,
            ("remove", Some(Ok(at))) => RowOp::Remove(at),
            ("up", Some(Ok(at))) => RowOp::Up(at),
            ("down", Some(Ok(at))) => RowOp::Down(at),
            ("primary", Some(Ok(at))) => RowOp::Primary(at),
            _ => return None,
        };
        Some((list, op))
    }

    pub fn value(self, list: &str) -> String {
        match self {
            RowOp::Add => format!("add:{list}"),
            RowOp::Remove(at) => format!("remove:{list}:{at}"),
            RowOp::Up(at) => format!("up:{list}:{at}"),
            RowOp::Down(at) => format!("down:{list}:{at}"),
            RowOp::Primary(at) => format!("primary:{list}:{at}"),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn dates_as_other_programs_write_them() {
        let iso = |text: &str| PartialDate::parse_loose(text).map(|d| d.map(PartialDate::to_iso));
        assert_eq!(
            iso("8/26/1918"),
            Ok(Some("1918-08-26".into())),
            "Outlook: month first"
        );
        assert_eq!(
            iso("26/8/1918"),
            Ok(Some("1918-08-26".into())),
            "day first when it must be"
        );
        assert_eq!(iso("26.08.1918"), Ok(Some("1918-08-26".into())));
        assert_eq!(iso("1918/08/26"), Ok(Some("1918-08-26".into())));
        assert_eq!(
            iso("14 Mar 2021"),
            Ok(Some("2021-03-14".into())),
            "LinkedIn"
        );
        assert_eq!(iso("March 14, 2021"), Ok(Some("2021-03-14".into())));
        assert_eq!(iso("14 March"), Ok(Some("--03-14".into())));
        assert_eq!(iso("0/0/00"), Ok(None), "Outlook's no date");
        assert_eq!(iso("--12-26"), Ok(Some("--12-26".into())));
        assert!(iso("2/30/1918").is_err());
        assert!(iso("soon").is_err());
    }

    #[test]
    fn kept_values_read_back() {
        for (name, value) in [
            (
                "Office Location",
                "Building 4; room 2, left\\right\nnext line",
            ),
            ("Hobby", "Bridge"),
            ("a:b", ""),
        ] {
            let line = custom_line(name, value);
            assert!(extra_name(&line).is_some(), "{line}");
            assert_eq!(
                custom_of_line(&line),
                Some((name.to_owned(), value.to_owned())),
                "{line}"
            );
        }
        assert_eq!(
            custom_line("Hobby", "x"),
            "X-ROSTER-CUSTOM;X-ROSTER-FIELD=Hobby:x"
        );
        assert_eq!(custom_of_line("NOTE:x"), None);
    }

    use super::*;

    #[test]
    fn labels_offered_are_canonical_and_custom_ones_kept() {
        assert_eq!(
            parse_label(" Work ", EMAIL_LABELS).unwrap().as_deref(),
            Some("work")
        );
        assert_eq!(
            parse_label("Work  Fax", PHONE_LABELS).unwrap().as_deref(),
            Some("work fax")
        );
        assert_eq!(
            parse_label("Lab bench", PHONE_LABELS).unwrap().as_deref(),
            Some("Lab bench")
        );
        assert_eq!(parse_label("  ", PHONE_LABELS).unwrap(), None);
        assert!(parse_label(&"x".repeat(41), EMAIL_LABELS).is_err());
        assert_eq!(label_text("work fax"), "Work fax");
        assert_eq!(label_text("iPhone"), "iPhone");
        assert_eq!(label_text("linkedin"), "LinkedIn");
        assert_eq!(label_text("github"), "GitHub");
        assert_eq!(
            label_text("Github"),
            "Github",
            "as typed, when typed with capitals"
        );
    }

    #[test]
    fn partial_dates() {
        let date = |text: &str| PartialDate::parse(text).unwrap().unwrap();
        assert_eq!(
            date("1990-04-15"),
            PartialDate {
                year: Some(1990),
                month: 4,
                day: 15
            }
        );
        assert_eq!(date("--04-15").year, None);
        assert_eq!(date("04-15").to_iso(), "--04-15");
        assert_eq!(date("--0415").to_iso(), "--04-15");
        assert_eq!(date("19900415").to_iso(), "1990-04-15");
        assert_eq!(date("--02-29").display(), "29 February");
        assert_eq!(date("2024-02-29").display(), "29 February 2024");
        assert_eq!(date("1990-04-15").month_day(), 415);
        assert_eq!(PartialDate::parse(" ").unwrap(), None);
        assert_eq!(
            PartialDate::parse("2023-02-31").unwrap_err(),
            "February 2023 has 28 days."
        );
        assert_eq!(
            PartialDate::parse("02-31").unwrap_err(),
            "February has at most 29 days."
        );
        assert!(PartialDate::parse("2023-02-29").is_err());
        assert!(PartialDate::parse("1900-02-29").is_err());
        assert!(PartialDate::parse("2000-02-29").is_ok());
        for bad in [
            "2023-13-01",
            "15/04/1990",
            "yesterday",
            "1990-4",
            "0000-01-01",
            "1990-04-15T10:00",
            "-1-01-01",
            "--é12",
            "é1-2",
        ] {
            assert!(PartialDate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_need_a_known_country() {
        let input = AddressInput {
            label: "Home".into(),
            street: " 12  Rua Augusta ".into(),
            city: "Lisbon".into(),
            country: "portugal".into(),
            ..AddressInput::default()
        };
        let address = Address::parse(&input).unwrap().unwrap();
        assert_eq!(address.street.as_deref(), Some("12 Rua Augusta"));
        assert_eq!(address.country.as_deref(), Some("PT"));
        assert_eq!(address.label.as_deref(), Some("home"));
        assert_eq!(address.place().as_deref(), Some("Lisbon, Portugal"));
        assert_eq!(address.one_line(), "12 Rua Augusta, Lisbon, Portugal");
        assert_eq!(
            Address::parse(&address.to_input()).unwrap().unwrap(),
            address
        );
        let error = Address::parse(&AddressInput {
            country: "Atlantis".into(),
            ..input.clone()
        })
        .unwrap_err();
        assert!(error.contains("“Atlantis” is not a country"), "{error}");
        assert_eq!(
            Address::parse(&AddressInput {
                label: "home".into(),
                ..AddressInput::default()
            })
            .unwrap(),
            None,
            "a label alone is no address"
        );
    }

    #[test]
    fn links() {
        for good in [
            "https://example.com/ada",
            "HTTP://example.com",
            "example.com",
            "github.com/ada?tab=repos",
            "https://user@host.example.org:8443/x",
        ] {
            assert_eq!(parse_url(good).unwrap().as_deref(), Some(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "ftp://example.com",
            "not a link",
            "localhost",
            "https://",
            "data:text/html,hi",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        assert_eq!(link_href("example.com"), "https://example.com");
        assert_eq!(link_href("http://example.com"), "http://example.com");
    }

    #[test]
    fn names_from_parts_and_file_as() {
        let parts = NameParts {
            prefix: Some("Dr.".into()),
            given: Some("Ada".into()),
            middle: Some("King".into()),
            family: Some("Lovelace".into()),
            ..NameParts::default()
        };
        assert_eq!(parts.display_name(), "Dr. Ada King Lovelace");
        assert_eq!(
            parts.sort_words(FileAs::Family).as_deref(),
            Some("Lovelace Ada King")
        );
        assert_eq!(
            parts.sort_words(FileAs::Given).as_deref(),
            Some("Ada King Lovelace")
        );
        assert_eq!(NameParts::default().sort_words(FileAs::Family), None);
        assert_eq!(FileAs::parse("family"), Ok(FileAs::Family));
        assert!(FileAs::parse("surname").is_err());
    }

    #[test]
    fn row_operations() {
        let mut rows = vec![1, 2, 3];
        assert!(apply_row_op(&mut rows, RowOp::Primary(2)));
        assert_eq!(rows, [3, 1, 2]);
        assert!(apply_row_op(&mut rows, RowOp::Down(0)));
        assert_eq!(rows, [1, 3, 2]);
        assert!(apply_row_op(&mut rows, RowOp::Up(2)));
        assert_eq!(rows, [1, 2, 3]);
        assert!(apply_row_op(&mut rows, RowOp::Remove(1)));
        assert!(apply_row_op(&mut rows, RowOp::Add));
        assert_eq!(rows, [1, 3, 0]);
        assert!(!apply_row_op(&mut rows, RowOp::Remove(9)));
        assert!(!apply_row_op(&mut rows, RowOp::Up(0)));
        let mut full = vec![0; MAX_ENTRIES];
        assert!(!apply_row_op(&mut full, RowOp::Add));
        for op in [
            RowOp::Add,
            RowOp::Remove(3),
            RowOp::Up(1),
            RowOp::Down(0),
            RowOp::Primary(2),
        ] {
            assert_eq!(RowOp::parse(&op.value("phones")), Some(("phones", op)));
        }
        for bad in [
            "",
            "add",
            "remove:phones",
            "up:phones:x",
            "add:phones:1",
            "x:y:1:2",
        ] {
            assert_eq!(RowOp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn extras_are_content_lines_kept_in_order() {
        let lines = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_extras(&lines(&[
                "GENDER:F",
                "",
                "item3.X-ABLabel:Gym\r\n",
                "X-A;TYPE=x:b:c"
            ])),
            Ok(lines(&[
                "GENDER:F",
                "item3.X-ABLabel:Gym",
                "X-A;TYPE=x:b:c"
            ]))
        );
        assert_eq!(
            extra_name("item3.X-ABLabel:Gym").as_deref(),
            Some("X-ABLABEL")
        );
        assert_eq!(extra_name("x-a;b=\"c:d\":e").as_deref(), Some("X-A"));
        for bad in [
            "no colon",
            "BAD NAME:x",
            ".X:y",
            "a..b:c",
            ":value",
            "X;param",
        ] {
            assert!(extra_name(bad).is_none(), "{bad}");
            assert!(parse_extras(&lines(&[bad])).is_err(), "{bad}");
        }
        assert!(parse_extras(&lines(&["X-A:one\ntwo"])).is_err());
        let many = vec!["X-A:b".to_owned(); MAX_EXTRAS + 1];
        assert!(parse_extras(&many).unwrap_err().contains("at most 200"));
        let long = vec![format!("KEY:{}", "A".repeat(MAX_EXTRAS_BYTES))];
        assert!(parse_extras(&long).unwrap_err().contains("256 KB"));
    }
}
