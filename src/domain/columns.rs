//! What the columns of other programs' CSV exports mean. Google Contacts spreads one
//! entry over several columns ("E-mail 2 - Label", "E-mail 2 - Value"; "Address 1 -
//! Street", "Address 1 - City"…), Outlook names an entry's kind in its header
//! ("Business Phone", "Home Street"), LinkedIn writes "Connected On": each such column
//! is a [`Slot`], a part of one entry of a list field. A column Roster has no field for
//! is kept on the contact as other data (a vCard extra carrying its header), never
//! dropped.

use serde::{Deserialize, Serialize};

use super::Field;

/// The part of an entry one column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// The entry itself (an address, a phone number…); a cell may hold several joined
    /// by " ::: ", as Google writes entries that share a label.
    Value,
    /// The entry's label ("Work", "* Home": the star marks the primary one).
    Label,
    /// An instant-messaging entry's service ("Skype").
    Service,
    Street,
    Extended,
    PoBox,
    City,
    Region,
    PostalCode,
    Country,
    /// The whole address in one text, used only when no other part is given.
    Formatted,
}

impl Part {
    pub const ALL: [Part; 11] = [
        Part::Value,
        Part::Label,
        Part::Service,
        Part::Street,
        Part::Extended,
        Part::PoBox,
        Part::City,
        Part::Region,
        Part::PostalCode,
        Part::Country,
        Part::Formatted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Value => "value",
            Part::Label => "label",
            Part::Service => "service",
            Part::Street => "street",
            Part::Extended => "extended",
            Part::PoBox => "po-box",
            Part::City => "city",
            Part::Region => "region",
            Part::PostalCode => "postal-code",
            Part::Country => "country",
            Part::Formatted => "formatted",
        }
    }

    pub fn parse(text: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|part| part.as_str() == text)
    }

    /// How the mapping screen names it.
    pub fn label(self) -> &'static str {
        match self {
            Part::Value => "value",
            Part::Label => "label",
            Part::Service => "service",
            Part::Street => "street",
            Part::Extended => "extended address",
            Part::PoBox => "PO box",
            Part::City => "city",
            Part::Region => "region",
            Part::PostalCode => "postal code",
            Part::Country => "country",
            Part::Formatted => "whole address",
        }
    }
}

/// A column that is one part of an entry: columns of the same field and group fill one
/// entry of that field (Google's "E-mail 2 - …" columns are group "2"; Outlook's
/// "Business Street" and "Business City" group "business").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub group: String,
    pub part: Part,
    /// The label its entries take when no column of the group gives one ("Business
    /// Phone" is a work phone); for a column kept as other data, its header.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

impl Slot {
    fn new(group: &str, part: Part, label: &str) -> Slot {
        Slot {
            group: group.to_owned(),
            part,
            label: label.to_owned(),
        }
    }

    /// A column kept as other data, under its header.
    pub fn kept(header: &str) -> Slot {
        Slot::new("", Part::Value, header.trim())
    }

    /// The mapping form's name for `field` filled through this slot:
    /// `emails/value/2/` (each part escaped as in a URL).
    pub fn target(&self, field: Field) -> String {
        use super::search::encode_component as enc;
        format!(
            "{}/{}/{}/{}",
            field.as_str(),
            self.part.as_str(),
            enc(&self.group),
            enc(&self.label)
        )
    }

    /// The field and slot a [`Slot::target`] names.
    pub fn from_target(target: &str) -> Option<(Field, Slot)> {
        use super::search::decode_component as dec;
        let mut parts = target.splitn(4, '/');
        let field = match parts.next()? {
            "custom" => Field::Custom,
            name => Field::parse(name)?,
        };
        let part = Part::parse(parts.next()?)?;
        let group = dec(parts.next()?);
        let label = dec(parts.next()?);
        Some((field, Slot { group, part, label }))
    }

    /// How the mapping screen names the target: "Email 2: label", "Phone (work)",
    /// "Address (home): city", "Keep as other data".
    pub fn describe(&self, field: Field) -> String {
        if field == Field::Extras {
            return "Keep as other data".to_owned();
        }
        let mut text = field.label().to_owned();
        if !self.group.is_empty() && self.group.chars().all(|c| c.is_ascii_digit()) {
            text.push(' ');
            text.push_str(&self.group);
        }
        if !self.label.is_empty() {
            text.push_str(&format!(" ({})", self.label));
        }
        if self.part != Part::Value || field == Field::Addresses {
            text.push_str(": ");
            text.push_str(self.part.label());
        }
        text
    }
}

/// Whose export a file is, from its headers: each names some columns its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Google,
    Outlook,
    LinkedIn,
    Other,
}

impl Layout {
    pub fn of(headers: &[String]) -> Layout {
        let keys: Vec<String> = headers.iter().map(|h| key(h)).collect();
        let has = |k: &str| keys.iter().any(|key| key == k);
        if headers.iter().any(|h| google_group(h).is_some()) {
            Layout::Google
        } else if has("emailaddress")
            && [
                "businessphone",
                "homestreet",
                "businessstreet",
                "mobilephone",
                "email2address",
            ]
            .iter()
            .any(|k| has(k))
        {
            Layout::Outlook
        } else if has("connectedon") {
            Layout::LinkedIn
        } else {
            Layout::Other
        }
    }

    /// How the import page names it.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Layout::Google => Some("Google Contacts"),
            Layout::Outlook => Some("Outlook"),
            Layout::LinkedIn => Some("LinkedIn connections"),
            Layout::Other => None,
        }
    }
}

/// What a column fills, as guessed from its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guess {
    Field(Field),
    Slot(Field, Slot),
    /// Nothing worth keeping: derived from other columns ("Added", Outlook's "E-mail
    /// Display Name").
    Ignore,
}

/// A header without case, spaces or punctuation.
fn key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Google's grouped header, "E-mail 2 - Value": the kind ("e-mail"), the group
/// ("2") and the part ("value"), lower case.
fn google_group(header: &str) -> Option<(String, String, String)> {
    let (left, right) = header.trim().split_once(" - ")?;
    let (kind, number) = left.trim().rsplit_once(' ')?;
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let kind = kind.trim().to_lowercase();
    let known = [
        "e-mail",
        "email",
        "phone",
        "address",
        "website",
        "relation",
        "event",
        "custom field",
        "im",
        "organization",
        "external id",
        "location",
    ];
    known
        .contains(&kind.as_str())
        .then(|| (kind, number.to_owned(), right.trim().to_lowercase()))
}

/// The column's meaning in Google's layouts (both the current one and the older
/// "Given Name / Group Membership" one).
fn google(header: &str) -> Option<Guess> {
    if let Some((kind, group, part)) = google_group(header) {
        let label_or_value = |field: Field| match part.as_str() {
            "label" | "type" => Some(Guess::Slot(field, Slot::new(&group, Part::Label, ""))),
            "value" => Some(Guess::Slot(field, Slot::new(&group, Part::Value, ""))),
            _ => None,
        };
        let guess = match kind.as_str() {
            "e-mail" | "email" => label_or_value(Field::Emails),
            "phone" => label_or_value(Field::Phones),
            "website" => label_or_value(Field::Links),
            "relation" => label_or_value(Field::Related),
            "event" => label_or_value(Field::Dates),
            "custom field" => label_or_value(Field::Custom),
            "im" if part == "service" => Some(Guess::Slot(
                Field::Ims,
                Slot::new(&group, Part::Service, ""),
            )),
            "im" => label_or_value(Field::Ims),
            "address" => {
                let part = match part.as_str() {
                    "label" | "type" => Some(Part::Label),
                    "formatted" => Some(Part::Formatted),
                    "street" => Some(Part::Street),
                    "city" => Some(Part::City),
                    "po box" => Some(Part::PoBox),
                    "region" => Some(Part::Region),
                    "postal code" => Some(Part::PostalCode),
                    "country" => Some(Part::Country),
                    "extended address" => Some(Part::Extended),
                    _ => None,
                };
                part.map(|part| Guess::Slot(Field::Addresses, Slot::new(&group, part, "")))
            }
            // The first organization is the contact's company; further ones are kept.
            "organization" if group == "1" => match part.as_str() {
                "name" => Some(Guess::Field(Field::Company)),
                "title" => Some(Guess::Field(Field::Title)),
                "department" => Some(Guess::Field(Field::Department)),
                _ => None,
            },
            _ => None,
        };
        return Some(guess.unwrap_or_else(|| Guess::Slot(Field::Extras, Slot::kept(header))));
    }
    let field = match key(header).as_str() {
        "name" => Field::Name,
        "givenname" | "firstname" => Field::Given,
        "additionalname" | "middlename" => Field::Middle,
        "familyname" | "lastname" => Field::Family,
        "givennameyomi" | "phoneticfirstname" => Field::PhoneticGiven,
        "familynameyomi" | "phoneticlastname" => Field::PhoneticFamily,
        "nameprefix" => Field::Prefix,
        "namesuffix" => Field::Suffix,
        "nickname" => Field::Nickname,
        "birthday" => Field::Birthday,
        "notes" => Field::Notes,
        "labels" | "groupmembership" => Field::Tags,
        "organizationname" => Field::Company,
        "organizationtitle" => Field::Title,
        "organizationdepartment" => Field::Department,
        // Free text that files the contact: "Lovelace, Ada" is filed by family name;
        // anything else is kept as written.
        "fileas" => Field::FileAs,
        // Google's own columns Roster has no field for (a photo as a link, "Gender",
        // "Location", "Priority"…) are kept as they are.
        "photo" | "gender" | "location" | "priority" | "sensitivity" | "subject" | "language"
        | "billinginformation" | "directoryserver" | "mileage" | "occupation" | "hobby"
        | "initials" | "shortname" | "maidenname" | "yominame" | "additionalnameyomi"
        | "phoneticmiddlename" => {
            return Some(Guess::Slot(Field::Extras, Slot::kept(header)));
        }
        // Others by their common names (Roster's own columns in its Google export).
        _ => return None,
    };
    Some(Guess::Field(field))
}

/// A phone column of Outlook's, and its label.
const OUTLOOK_PHONES: [(&str, &str); 19] = [
    ("primaryphone", "main"),
    ("homephone", "home"),
    ("homephone2", "home"),
    ("businessphone", "work"),
    ("businessphone2", "work"),
    ("mobilephone", "mobile"),
    ("carphone", "car"),
    ("otherphone", "other"),
    ("pager", "pager"),
    ("businessfax", "work fax"),
    ("homefax", "home fax"),
    ("otherfax", "fax"),
    ("companymainphone", "company main"),
    ("callback", "callback"),
    ("radiophone", "radio"),
    ("telex", "telex"),
    ("ttytddphone", "TTY/TDD"),
    ("assistantsphone", "assistant"),
    ("isdn", "ISDN"),
];

/// The column's meaning in Outlook's CSV export (English headers).
fn outlook(header: &str) -> Option<Guess> {
    let key = key(header);
    if let Some((_, label)) = OUTLOOK_PHONES.iter().find(|(k, _)| *k == key) {
        return Some(Guess::Slot(
            Field::Phones,
            Slot::new(&key, Part::Value, label),
        ));
    }
    for (kind, label) in [("business", "work"), ("home", "home"), ("other", "other")] {
        let Some(rest) = key.strip_prefix(kind) else {
            continue;
        };
        let part = match rest {
            "street" | "street2" | "street3" => Part::Street,
            "city" => Part::City,
            "state" => Part::Region,
            "postalcode" => Part::PostalCode,
            "countryregion" | "country" => Part::Country,
            "pobox" => Part::PoBox,
            _ => continue,
        };
        return Some(Guess::Slot(Field::Addresses, Slot::new(kind, part, label)));
    }
    let guess = match key.as_str() {
        "emailaddress" => Guess::Slot(Field::Emails, Slot::new("1", Part::Value, "")),
        "email2address" => Guess::Slot(Field::Emails, Slot::new("2", Part::Value, "")),
        "email3address" => Guess::Slot(Field::Emails, Slot::new("3", Part::Value, "")),
        // Outlook's transport ("SMTP") and a display name made of the name and address.
        "emailtype" | "email2type" | "email3type" | "emaildisplayname" | "email2displayname"
        | "email3displayname" => Guess::Ignore,
        // In Outlook, "Title" is the name's prefix ("Dr."); the job title is "Job Title".
        "title" => Guess::Field(Field::Prefix),
        "firstname" => Guess::Field(Field::Given),
        "middlename" => Guess::Field(Field::Middle),
        "lastname" => Guess::Field(Field::Family),
        "suffix" => Guess::Field(Field::Suffix),
        "nickname" => Guess::Field(Field::Nickname),
        "givenyomi" => Guess::Field(Field::PhoneticGiven),
        "surnameyomi" => Guess::Field(Field::PhoneticFamily),
        "company" => Guess::Field(Field::Company),
        "department" => Guess::Field(Field::Department),
        "jobtitle" => Guess::Field(Field::Title),
        "birthday" => Guess::Field(Field::Birthday),
        "anniversary" => Guess::Slot(Field::Dates, Slot::new(&key, Part::Value, "anniversary")),
        "webpage" => Guess::Slot(Field::Links, Slot::new(&key, Part::Value, "")),
        "personalwebpage" => Guess::Slot(Field::Links, Slot::new(&key, Part::Value, "homepage")),
        "imaddress" => Guess::Slot(Field::Ims, Slot::new(&key, Part::Value, "")),
        "managersname" => Guess::Slot(Field::Related, Slot::new(&key, Part::Value, "manager")),
        "assistantsname" => Guess::Slot(Field::Related, Slot::new(&key, Part::Value, "assistant")),
        "spouse" => Guess::Slot(Field::Related, Slot::new(&key, Part::Value, "spouse")),
        "children" => Guess::Slot(Field::Related, Slot::new(&key, Part::Value, "child")),
        "referredby" => Guess::Slot(Field::Related, Slot::new(&key, Part::Value, "referred by")),
        "categories" => Guess::Field(Field::Tags),
        "notes" => Guess::Field(Field::Notes),
        // "Office Location", "Hobby", "Account", "Mileage", "User 1"…: kept.
        _ => Guess::Slot(Field::Extras, Slot::kept(header)),
    };
    Some(guess)
}

/// The column's meaning in LinkedIn's "Connections.csv".
fn linkedin(header: &str) -> Option<Guess> {
    let key = key(header);
    Some(match key.as_str() {
        "url" => Guess::Slot(Field::Links, Slot::new(&key, Part::Value, "linkedin")),
        "connectedon" => Guess::Slot(
            Field::Dates,
            Slot::new(&key, Part::Value, "connected on LinkedIn"),
        ),
        "position" => Guess::Field(Field::Title),
        _ => return None,
    })
}

/// Any other file: parts of an address in their own columns, phones and emails whose
/// header names their kind.
fn generic(header: &str) -> Option<Guess> {
    let key = key(header);
    let address = |part: Part| Some(Guess::Slot(Field::Addresses, Slot::new("", part, "")));
    let labelled =
        |field: Field, label: &str| Some(Guess::Slot(field, Slot::new(&key, Part::Value, label)));
    match key.as_str() {
        "street" | "streetaddress" | "address1" | "addressline1" => address(Part::Street),
        "address2" | "addressline2" => address(Part::Extended),
        "city" | "town" | "locality" => address(Part::City),
        "state" | "province" | "county" | "stateprovince" => address(Part::Region),
        "zip" | "zipcode" | "postalcode" | "postcode" => address(Part::PostalCode),
        "country" | "countryregion" => address(Part::Country),
        "mobile" | "mobilephone" | "cell" | "cellphone" | "mobilenumber" => {
            labelled(Field::Phones, "mobile")
        }
        "workphone" | "businessphone" | "officephone" => labelled(Field::Phones, "work"),
        "homephone" => labelled(Field::Phones, "home"),
        "fax" | "workfax" | "businessfax" => labelled(Field::Phones, "work fax"),
        "workemail" | "businessemail" => labelled(Field::Emails, "work"),
        "homeemail" | "personalemail" | "privateemail" => labelled(Field::Emails, "home"),
        "linkedin" | "linkedinurl" | "linkedinprofile" => labelled(Field::Links, "linkedin"),
        "github" => labelled(Field::Links, "github"),
        "twitter" | "x" => labelled(Field::Links, "x"),
        "mastodon" => labelled(Field::Links, "mastodon"),
        "department" | "organizationdepartment" => Some(Guess::Field(Field::Department)),
        // What Roster writes beside the fields: derived, not data.
        "added" => Some(Guess::Ignore),
        _ if header.trim_end().ends_with(" (retired)") => Some(Guess::Ignore),
        _ => None,
    }
}

/// What the column named `header` fills in a file of `layout`: the layout's own
/// meaning, else a common name ([`super::import::field_for_header`]), else kept as
/// other data under its header.
pub fn guess(header: &str, layout: Layout) -> Guess {
    let own = match layout {
        Layout::Google => google(header),
        Layout::Outlook => outlook(header),
        Layout::LinkedIn => linkedin(header),
        Layout::Other => None,
    };
    own.or_else(|| generic(header))
        .or_else(|| super::import::field_for_header(header).map(Guess::Field))
        .unwrap_or_else(|| {
            if header.trim().is_empty() {
                Guess::Ignore
            } else {
                Guess::Slot(Field::Extras, Slot::kept(header))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(text: &str) -> Vec<String> {
        text.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn layouts_are_told_apart() {
        assert_eq!(
            Layout::of(&headers(
                "First Name,Last Name,E-mail 1 - Label,E-mail 1 - Value"
            )),
            Layout::Google
        );
        assert_eq!(
            Layout::of(&headers(
                "Name,Given Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value"
            )),
            Layout::Google
        );
        assert_eq!(
            Layout::of(&headers(
                "Title,First Name,E-mail Address,Business Phone,Home Street"
            )),
            Layout::Outlook
        );
        assert_eq!(
            Layout::of(&headers(
                "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
            )),
            Layout::LinkedIn
        );
        assert_eq!(Layout::of(&headers("Name,Email,Title")), Layout::Other);
    }

    #[test]
    fn grouped_columns_become_slots() {
        let google = |h: &str| guess(h, Layout::Google);
        assert_eq!(
            google("E-mail 2 - Label"),
            Guess::Slot(Field::Emails, Slot::new("2", Part::Label, ""))
        );
        assert_eq!(
            google("Address 1 - Postal Code"),
            Guess::Slot(Field::Addresses, Slot::new("1", Part::PostalCode, ""))
        );
        assert_eq!(
            google("Organization 1 - Name"),
            Guess::Field(Field::Company)
        );
        assert_eq!(
            google("Organization 2 - Name"),
            Guess::Slot(Field::Extras, Slot::kept("Organization 2 - Name"))
        );
        assert_eq!(
            google("Gender"),
            Guess::Slot(Field::Extras, Slot::kept("Gender"))
        );
        assert_eq!(
            google("Pronouns"),
            Guess::Field(Field::Pronouns),
            "Roster's own column"
        );
        let outlook = |h: &str| guess(h, Layout::Outlook);
        assert_eq!(outlook("Title"), Guess::Field(Field::Prefix));
        assert_eq!(
            outlook("Business Fax"),
            Guess::Slot(
                Field::Phones,
                Slot::new("businessfax", Part::Value, "work fax")
            )
        );
        assert_eq!(
            outlook("Home Country/Region"),
            Guess::Slot(Field::Addresses, Slot::new("home", Part::Country, "home"))
        );
        assert_eq!(outlook("E-mail Display Name"), Guess::Ignore);
        assert_eq!(
            outlook("Office Location"),
            Guess::Slot(Field::Extras, Slot::kept("Office Location"))
        );
        // Elsewhere the common names hold.
        assert_eq!(guess("Title", Layout::Other), Guess::Field(Field::Title));
        assert_eq!(guess("Added", Layout::Other), Guess::Ignore);
        assert_eq!(
            guess("Shoe size", Layout::Other),
            Guess::Slot(Field::Extras, Slot::kept("Shoe size"))
        );
    }

    #[test]
    fn targets_round_trip() {
        for (field, slot) in [
            (Field::Emails, Slot::new("2", Part::Label, "")),
            (
                Field::Phones,
                Slot::new("ttytddphone", Part::Value, "TTY/TDD"),
            ),
            (Field::Extras, Slot::kept("Manager's / name: 50%")),
        ] {
            let target = slot.target(field);
            assert_eq!(Slot::from_target(&target), Some((field, slot)), "{target}");
        }
        assert_eq!(Slot::from_target("emails"), None);
    }
}
