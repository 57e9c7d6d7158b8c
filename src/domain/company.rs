//! Companies as records: a name, a web domain, an address and notes, and the people
//! who work there.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ContactSummary,
    card::{Address, AddressInput},
    draft::{MAX_LINE_CHARS, MAX_NOTES_CHARS, one_line},
};

/// People listed on a company's page (the count says how many there are in all).
pub const PEOPLE_SHOWN: usize = 500;

/// A company as Roster keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub domain: Option<String>,
    pub address: Option<Address>,
    pub notes: Option<String>,
}

/// A company's page: the company and its people (live contacts), by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyPage {
    pub company: Company,
    pub people: Vec<ContactSummary>,
    pub total: u64,
}

/// The company form as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompanyInput {
    pub name: String,
    pub domain: String,
    pub notes: String,
    #[serde(flatten)]
    pub address: AddressInput,
}

/// A company that meets the rules, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyDraft {
    pub name: String,
    pub domain: Option<String>,
    pub address: Option<Address>,
    pub notes: Option<String>,
}

impl CompanyDraft {
    /// Validates the form; the message names the field to fix.
    pub fn parse(input: &CompanyInput) -> Result<CompanyDraft, String> {
        let name = one_line(&input.name);
        if name.is_empty() {
            return Err("Enter the company's name.".to_owned());
        }
        if name.chars().count() > MAX_LINE_CHARS {
            return Err(format!(
                "Keep the name to {MAX_LINE_CHARS} characters or fewer."
            ));
        }
        let domain = parse_domain(&input.domain)?;
        let address =
            Address::parse(&input.address).map_err(|message| format!("Address: {message}"))?;
        let notes = input.notes.trim().replace("\r\n", "\n");
        if notes.chars().count() > MAX_NOTES_CHARS {
            return Err(format!(
                "Keep the notes to {MAX_NOTES_CHARS} characters or fewer."
            ));
        }
        Ok(CompanyDraft {
            name,
            domain,
            address,
            notes: (!notes.is_empty()).then_some(notes),
        })
    }
}

impl Company {
    /// The form holding this company, for editing it.
    pub fn to_input(&self) -> CompanyInput {
        CompanyInput {
            name: self.name.clone(),
            domain: self.domain.clone().unwrap_or_default(),
            notes: self.notes.clone().unwrap_or_default(),
            address: self
                .address
                .as_ref()
                .map(Address::to_input)
                .unwrap_or_default(),
        }
    }
}

/// A web domain as people type it ("https://www.Example.com/about" → "example.com"):
/// the host, lowercase, without `www.`.
pub fn parse_domain(text: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let invalid = || Err("Enter a web domain like example.com.".to_owned());
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let labels: Vec<&str> = host.split('.').collect();
    let valid = host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if valid {
        Ok(Some(host.to_owned()))
    } else {
        invalid()
    }
}

/// The key two spellings of one company share: lowercase, spaces collapsed (as the
/// database's `company_key`).
pub fn company_key(name: &str) -> String {
    one_line(name).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_reduced_to_their_host() {
        for (typed, host) in [
            ("example.com", "example.com"),
            ("https://www.Example.COM/about?x=1", "example.com"),
            ("sub.example.co.uk", "sub.example.co.uk"),
        ] {
            assert_eq!(
                parse_domain(typed).unwrap().as_deref(),
                Some(host),
                "{typed}"
            );
        }
        assert_eq!(parse_domain(" ").unwrap(), None);
        for bad in [
            "localhost",
            "exa mple.com",
            "-x.com",
            "a..b",
            "javascript:alert(1)",
        ] {
            assert!(parse_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_company_needs_a_name_and_keeps_its_parts() {
        assert_eq!(
            CompanyDraft::parse(&CompanyInput::default()).unwrap_err(),
            "Enter the company's name."
        );
        let draft = CompanyDraft::parse(&CompanyInput {
            name: "  Acme   Inc ".into(),
            domain: "acme.example".into(),
            notes: "Founded 1949.\r\nMakes anvils.".into(),
            address: AddressInput {
                city: "Phoenix".into(),
                country: "US".into(),
                ..AddressInput::default()
            },
        })
        .unwrap();
        assert_eq!(draft.name, "Acme Inc");
        assert_eq!(draft.notes.as_deref(), Some("Founded 1949.\nMakes anvils."));
        assert_eq!(draft.address.unwrap().country.as_deref(), Some("US"));
        assert!(
            CompanyDraft::parse(&CompanyInput {
                name: "Acme".into(),
                address: AddressInput {
                    country: "Atlantis".into(),
                    ..AddressInput::default()
                },
                ..CompanyInput::default()
            })
            .unwrap_err()
            .starts_with("Address: ")
        );
        assert_eq!(company_key(" ACME \t inc "), "acme inc");
    }
}
