//! Importing contacts from a file: how columns map to fields, and what a job reports.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Field,
    columns::{self, Guess, Layout, Slot},
    custom::CustomField,
};

/// The largest file accepted for import, in MB: 100,000 rich contacts as vCard 4.0
/// are some 60 MB.
pub const MAX_IMPORT_MB: u64 = 200;
/// The same in bytes.
pub const MAX_IMPORT_BYTES: u64 = MAX_IMPORT_MB * 1024 * 1024;
/// Invalid and duplicate rows listed one by one in a report (all are counted).
pub const MAX_LISTED_ROWS: usize = 1_000;

/// The field a column header means, recognising the usual names exports use:
/// "E-mail", "Email Address", "Full Name", "Organization", "Job Title", "Mobile"…
/// Case, spaces, dashes and underscores are ignored.
pub fn field_for_header(header: &str) -> Option<Field> {
    let key: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let field = match key.as_str() {
        "name" | "fullname" | "displayname" | "contact" | "contactname" | "person" => Field::Name,
        // A name split over columns fills the parts, and the name is made from them.
        "firstname" | "givenname" => Field::Given,
        "middlename" | "additionalname" => Field::Middle,
        "lastname" | "surname" | "familyname" => Field::Family,
        "nickname" => Field::Nickname,
        "prefix" | "nameprefix" | "salutation" => Field::Prefix,
        "suffix" | "namesuffix" => Field::Suffix,
        "phoneticgivenname" | "phoneticfirstname" | "yomifirstname" => Field::PhoneticGiven,
        "phoneticfamilyname" | "phoneticlastname" | "yomilastname" => Field::PhoneticFamily,
        "pronouns" => Field::Pronouns,
        "fileas" => Field::FileAs,
        "links" | "website" | "webpage" | "url" | "homepage" => Field::Links,
        "messaging" | "im" | "imaddress" | "instantmessaging" => Field::Ims,
        "related" | "relatedperson" | "relatedpeople" | "relationship" | "relationships" => {
            Field::Related
        }
        "dates" | "anniversary" => Field::Dates,
        "birthday" | "dateofbirth" | "birthdate" => Field::Birthday,
        "department" => Field::Department,
        "email" | "emailaddress" | "mail" | "emails" | "primaryemail" | "email1"
        | "email1value" | "workemail" | "emailaddress1" => Field::Emails,
        "phone" | "phonenumber" | "telephone" | "tel" | "mobile" | "mobilephone" | "cell"
        | "cellphone" | "workphone" | "phone1" | "phone1value" | "businessphone" | "phones" => {
            Field::Phones
        }
        "company" | "organization" | "organisation" | "org" | "employer" | "companyname"
        | "organizationname" | "organization1name" | "account" => Field::Company,
        "title" | "jobtitle" | "position" | "role" | "organizationtitle" | "organization1title" => {
            Field::Title
        }
        "location" | "city" | "address" | "addresses" | "town" | "region" | "homecity"
        | "workcity" | "businesscity" => Field::Addresses,
        "tier" | "level" | "priority" | "circle" => Field::Tier,
        "tags" | "tag" | "labels" | "label" | "groups" | "groupmembership" | "categories"
        | "keywords" => Field::Tags,
        "notes" | "note" | "comments" | "comment" | "description" | "remarks" | "about" => {
            Field::Notes
        }
        "othervcarddata" | "vcardextras" | "extras" => Field::Extras,
        _ => return None,
    };
    Some(field)
}

/// For each column of the file, the field it fills (`None`: ignored). Each column
/// mapped to a list (emails, phones) adds an entry; an address column is the city of
/// the first address. When several columns map to another field, the first non-empty
/// value wins (tags are joined).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub headers: Vec<String>,
    pub fields: Vec<Option<Field>>,
    /// For each column, the custom field it fills (by id) when `fields` has none for it.
    #[serde(default)]
    pub custom: Vec<Option<i32>>,
    /// For each column, the part of an entry it holds, when its field's entries are
    /// spread over several columns (see [`super::columns`]).
    #[serde(default)]
    pub slots: Vec<Option<Slot>>,
    /// Set when this is the mapping chosen for an earlier file with the same header.
    #[serde(default)]
    pub remembered: bool,
}

impl ColumnMapping {
    /// The mapping guessed from the headers (by the layout of the program that wrote
    /// them, Google's, Outlook's or LinkedIn's, else by common names).
    pub fn guess(headers: &[String]) -> ColumnMapping {
        let layout = Layout::of(headers);
        let (fields, slots) = headers
            .iter()
            .map(|header| match columns::guess(header, layout) {
                Guess::Field(field) => (Some(field), None),
                Guess::Slot(field, slot) => (Some(field), Some(slot)),
                Guess::Ignore => (None, None),
            })
            .unzip();
        ColumnMapping {
            headers: headers.to_vec(),
            fields,
            custom: Vec::new(),
            slots,
            remembered: false,
        }
    }

    /// Columns no field claimed (or only kept as other data), named as a live custom
    /// field is (any case), fill it.
    pub fn match_custom(&mut self, live: &[CustomField]) {
        let key = |text: &str| text.trim().to_lowercase();
        self.custom = (0..self.headers.len())
            .map(|at| {
                let free = self.fields[at].is_none() || self.kept_at(at);
                let header = &self.headers[at];
                free.then(|| {
                    live.iter()
                        .find(|custom| !custom.retired && key(&custom.name) == key(header))
                        .map(|custom| custom.id)
                })
                .flatten()
            })
            .collect();
        for at in 0..self.headers.len() {
            if self.custom[at].is_some() {
                self.fields[at] = None;
                if let Some(slot) = self.slots.get_mut(at) {
                    *slot = None;
                }
            }
        }
    }

    /// This remembered mapping for a file with `headers`: its custom fields only while
    /// they are live, every list as long as the headers.
    pub fn fitted(mut self, headers: &[String], live: &[CustomField]) -> ColumnMapping {
        let columns = headers.len();
        self.headers = headers.to_vec();
        self.fields.resize(columns, None);
        self.slots.resize(columns, None);
        self.custom.resize(columns, None);
        for custom in &mut self.custom {
            if custom.is_some_and(|id| !live.iter().any(|field| field.id == id && !field.retired)) {
                *custom = None;
            }
        }
        self.remembered = true;
        self
    }

    /// Whether column `at` is only kept as other data.
    fn kept_at(&self, at: usize) -> bool {
        self.fields.get(at).copied().flatten() == Some(Field::Extras) && self.slot_at(at).is_some()
    }

    /// The custom field column `at` fills, if any.
    pub fn custom_at(&self, at: usize) -> Option<i32> {
        self.custom.get(at).copied().flatten()
    }

    /// The part of an entry column `at` holds, if its field is spread over columns.
    pub fn slot_at(&self, at: usize) -> Option<&Slot> {
        self.slots.get(at).and_then(Option::as_ref)
    }

    /// A column's target as the mapping form names it: a field's name, a slot's
    /// target ([`Slot::target`]) or `custom.7`.
    pub fn target_name(&self, at: usize) -> String {
        match (
            self.fields.get(at).copied().flatten(),
            self.slot_at(at),
            self.custom_at(at),
        ) {
            (Some(field), Some(slot), _) => slot.target(field),
            (Some(field), None, _) => field.as_str().to_owned(),
            (None, _, Some(id)) => format!("custom.{id}"),
            (None, _, None) => String::new(),
        }
    }

    /// The mapping the form posted: for each column, a field's name, a slot's target,
    /// `custom.7`, or nothing (ignored).
    pub fn from_targets(targets: &[String]) -> ColumnMapping {
        let (fields, slots) = targets
            .iter()
            .map(|name| match Slot::from_target(name) {
                Some((field, slot)) => (Some(field), Some(slot)),
                None => (Field::parse(name), None),
            })
            .unzip();
        ColumnMapping {
            headers: Vec::new(),
            fields,
            custom: targets
                .iter()
                .map(|name| name.strip_prefix("custom.").and_then(|id| id.parse().ok()))
                .collect(),
            slots,
            remembered: false,
        }
    }

    pub fn maps(&self, field: Field) -> bool {
        self.fields.contains(&Some(field))
    }
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStatus {
    /// Checked (a dry run): waiting for the person to review the mapping and commit.
    Ready,
    /// Committing in the background.
    Running,
    Done,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Ready => "ready",
            ImportStatus::Running => "running",
            ImportStatus::Done => "done",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ImportStatus> {
        [
            ImportStatus::Ready,
            ImportStatus::Running,
            ImportStatus::Done,
            ImportStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// One row the import skips, and why. `line` is the file's line number (1 is the header
/// of a CSV file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRow {
    pub line: u64,
    pub reason: String,
}

/// A row that will be created although it may be a contact already there (the same
/// phone number, or the same name at the same company): listed so it can be checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PossibleDuplicate {
    pub line: u64,
    pub name: String,
    pub existing: Uuid,
    pub existing_name: String,
    pub reason: String,
}

/// What an import will do (after the dry run) or did (once committed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub rows: u64,
    pub create: u64,
    pub update: u64,
    pub unchanged: u64,
    /// Rows repeating an email address (or name and company) seen earlier in the file.
    pub duplicate: u64,
    pub invalid: u64,
    /// Rows to create that may be contacts already there (see [`PossibleDuplicate`]).
    #[serde(default)]
    pub possible_duplicate: u64,
}

/// An import job as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: Uuid,
    pub file_name: String,
    pub format: ImportFormat,
    /// The character set the file was read in ("UTF-8", "windows-1252"…), when known.
    #[serde(default)]
    pub charset: Option<String>,
    pub status: ImportStatus,
    pub mapping: ColumnMapping,
    /// The dry run's findings.
    pub planned: ImportCounts,
    /// What the commit has done so far.
    pub done: ImportCounts,
    pub invalid_rows: Vec<SkippedRow>,
    pub duplicate_rows: Vec<SkippedRow>,
    pub possible_duplicates: Vec<PossibleDuplicate>,
    /// Microseconds since the epoch.
    pub created_at_micros: i64,
    pub started_at_micros: Option<i64>,
    pub finished_at_micros: Option<i64>,
    /// Why it failed, in words for the person.
    pub error: Option<String>,
    /// When the server read this state (rates and time left are measured to it).
    pub observed_at_micros: i64,
}

impl ImportJob {
    /// Rows handled so far, of the rows there are, as a whole percentage.
    pub fn percent(&self) -> u8 {
        match (self.status, self.planned.rows) {
            (ImportStatus::Done, _) => 100,
            (_, 0) => 0,
            (_, rows) => ((self.done.rows * 100) / rows).min(100) as u8,
        }
    }

    /// Rows per second since the commit started, measured at `now_micros`.
    pub fn rows_per_second(&self, now_micros: i64) -> Option<f64> {
        let started = self.started_at_micros?;
        let until = self.finished_at_micros.unwrap_or(now_micros);
        let seconds = (until - started) as f64 / 1e6;
        (seconds > 0.0).then(|| self.done.rows as f64 / seconds)
    }

    /// Seconds left at the current rate.
    pub fn seconds_left(&self, now_micros: i64) -> Option<u64> {
        if self.status != ImportStatus::Running {
            return None;
        }
        let rate = self.rows_per_second(now_micros)?;
        let left = self.planned.rows.saturating_sub(self.done.rows) as f64;
        (rate > 0.0).then(|| (left / rate).ceil() as u64)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    Csv,
    Vcard,
}

impl ImportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Vcard => "vcard",
        }
    }

    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            ImportFormat::Csv => "CSV",
            ImportFormat::Vcard => "vCard",
        }
    }

    pub fn parse(text: &str) -> Option<ImportFormat> {
        match text {
            "csv" => Some(ImportFormat::Csv),
            "vcard" => Some(ImportFormat::Vcard),
            _ => None,
        }
    }

    /// From a file's name: `.vcf`/`.vcard` are vCards, anything else is read as CSV.
    pub fn from_file_name(name: &str) -> ImportFormat {
        let lower = name.to_lowercase();
        if lower.ends_with(".vcf") || lower.ends_with(".vcard") {
            ImportFormat::Vcard
        } else {
            ImportFormat::Csv
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_headers_are_recognised() {
        let cases = [
            ("Name", Some(Field::Name)),
            ("Full Name", Some(Field::Name)),
            ("full_name", Some(Field::Name)),
            ("E-mail", Some(Field::Emails)),
            ("Email Address", Some(Field::Emails)),
            ("E-mail 1 - Value", Some(Field::Emails)),
            ("Phone Number", Some(Field::Phones)),
            ("Mobile", Some(Field::Phones)),
            ("Organization", Some(Field::Company)),
            ("Organisation", Some(Field::Company)),
            ("Company", Some(Field::Company)),
            ("Job Title", Some(Field::Title)),
            ("City", Some(Field::Addresses)),
            ("Tags", Some(Field::Tags)),
            ("Labels", Some(Field::Tags)),
            ("Notes", Some(Field::Notes)),
            ("TIER", Some(Field::Tier)),
            ("Birthday", Some(Field::Birthday)),
            ("First Name", Some(Field::Given)),
            ("Last Name", Some(Field::Family)),
            ("Phones", Some(Field::Phones)),
            ("Other vCard data", Some(Field::Extras)),
            ("Added", None),
            ("", None),
        ];
        for (header, field) in cases {
            assert_eq!(field_for_header(header), field, "{header}");
        }
    }

    #[test]
    fn a_mapping_is_guessed_column_by_column() {
        let headers: Vec<String> = ["Full Name", "Shoe size", "E-mail"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        let mapping = ColumnMapping::guess(&headers);
        assert_eq!(
            mapping.fields,
            [Some(Field::Name), Some(Field::Extras), Some(Field::Emails)]
        );
        assert_eq!(
            mapping.slot_at(1),
            Some(&Slot::kept("Shoe size")),
            "a column Roster has no field for is kept under its header"
        );
        assert_eq!(mapping.target_name(1), "extras/value//Shoe%20size");
        let posted =
            ColumnMapping::from_targets(&["name".into(), mapping.target_name(1), String::new()]);
        assert_eq!(
            posted.fields,
            [Some(Field::Name), Some(Field::Extras), None]
        );
        assert_eq!(posted.slot_at(1), mapping.slot_at(1));
        assert!(mapping.maps(Field::Emails));
        assert!(!mapping.maps(Field::Phones));
    }

    #[test]
    fn progress_and_rate() {
        let mut job = ImportJob {
            charset: None,
            id: Uuid::nil(),
            file_name: "a.csv".into(),
            format: ImportFormat::Csv,
            status: ImportStatus::Running,
            mapping: ColumnMapping::default(),
            planned: ImportCounts {
                rows: 1_000,
                ..ImportCounts::default()
            },
            done: ImportCounts {
                rows: 250,
                ..ImportCounts::default()
            },
            invalid_rows: vec![],
            duplicate_rows: vec![],
            possible_duplicates: vec![],
            created_at_micros: 0,
            started_at_micros: Some(0),
            finished_at_micros: None,
            error: None,
            observed_at_micros: 1_000_000,
        };
        assert_eq!(job.percent(), 25);
        assert_eq!(job.rows_per_second(1_000_000), Some(250.0));
        assert_eq!(job.seconds_left(1_000_000), Some(3));
        job.status = ImportStatus::Done;
        assert_eq!(job.percent(), 100);
        assert_eq!(job.seconds_left(1_000_000), None);
    }

    #[test]
    fn formats_from_file_names() {
        assert_eq!(
            ImportFormat::from_file_name("people.VCF"),
            ImportFormat::Vcard
        );
        assert_eq!(
            ImportFormat::from_file_name("people.csv"),
            ImportFormat::Csv
        );
        assert_eq!(ImportFormat::from_file_name("export"), ImportFormat::Csv);
    }
}
