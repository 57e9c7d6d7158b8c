//! Ways to reach someone: an email address and a phone number, each known to be well
//! formed and kept as typed.

use serde::{Deserialize, Serialize};

use super::draft::{one_line, too_long};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 40;
const MIN_PHONE_DIGITS: usize = 3;
const MAX_PHONE_DIGITS: usize = 20;

/// An email address as typed (trimmed), known to be well formed. Two addresses are the
/// same contact when their [`Email::normalized`] forms are equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// `Ok(None)` for an empty field.
    pub fn parse(text: &str) -> Result<Option<Email>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let invalid = || Err("Enter an email address like name@example.com.".to_owned());
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(too_long(MAX_EMAIL_CHARS));
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return invalid();
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
        if local_ok && domain_ok {
            Ok(Some(Email(text.to_owned())))
        } else {
            invalid()
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lowercase: how duplicates are found (`contacts_email_key` does the same).
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A phone number as typed (trimmed, runs of spaces made one), known to be one: an
/// optional leading `+`, digits with spaces, brackets, dots, dashes or slashes between
/// them, and an optional extension (`ext. 12`, `x12`). Its E.164 form, found on the
/// server, is kept beside it in a [`super::card::PhoneEntry`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone(String);

impl Phone {
    /// `Ok(None)` for an empty field.
    pub fn parse(text: &str) -> Result<Option<Phone>, String> {
        let text = one_line(text);
        if text.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            Err("Enter a phone number using digits, spaces and + ( ) - . only, like +1 555 010 2000.".to_owned())
        };
        if text.chars().count() > MAX_PHONE_CHARS {
            return Err(too_long(MAX_PHONE_CHARS));
        }
        let (number, extension) = split_extension(&text);
        let number = number.trim();
        let body = number.strip_prefix('+').unwrap_or(number);
        if !body
            .chars()
            .all(|c| c.is_ascii_digit() || " ().-/".contains(c))
        {
            return invalid();
        }
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits) {
            return Err(format!(
                "A phone number has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits."
            ));
        }
        if let Some(extension) = extension
            && (extension.is_empty() || !extension.chars().all(|c| c.is_ascii_digit()))
        {
            return invalid();
        }
        Ok(Some(Phone(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Only the digits of the number (no extension): how duplicates are found when the
    /// E.164 form is not known.
    pub fn digits(&self) -> String {
        split_extension(&self.0)
            .0
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    }

    /// Whether the number was typed in international form (`+…`).
    pub fn is_international(&self) -> bool {
        self.0.starts_with('+')
    }

    /// The extension's digits, if there is one.
    pub fn extension(&self) -> Option<String> {
        split_extension(&self.0).1
    }
}

/// The number and the extension (`ext. 12`, `ext 12`, `x12`, any case), trimmed.
fn split_extension(text: &str) -> (String, Option<String>) {
    let lower = text.to_lowercase();
    match lower
        .split_once("ext.")
        .or_else(|| lower.split_once("ext"))
        .or_else(|| lower.split_once('x'))
    {
        Some((number, extension)) => (number.trim().to_owned(), Some(extension.trim().to_owned())),
        None => (lower.trim().to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in [
            "ada@example.com",
            "Ada.Lovelace+work@mail.example.co.uk",
            "josé@bücher.de",
            "  x@y.io ",
        ] {
            assert!(Email::parse(good).unwrap().is_some(), "{good}");
        }
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@-example.com",
            "ada@example.c",
            "<script>@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse("").unwrap(), None);
        let email = Email::parse("Ada@Example.COM").unwrap().unwrap();
        assert_eq!(email.as_str(), "Ada@Example.COM");
        assert_eq!(email.normalized(), "ada@example.com");
    }

    #[test]
    fn phones_are_kept_as_typed() {
        let phone = |text: &str| Phone::parse(text).unwrap().unwrap();
        assert_eq!(phone(" +1 (555)  010-2000 ").as_str(), "+1 (555) 010-2000");
        assert_eq!(phone("555.010.2000").as_str(), "555.010.2000");
        assert_eq!(phone("020 7946 0958 ext. 3").digits(), "02079460958");
        assert_eq!(
            phone("020 7946 0958 ext. 3").extension().as_deref(),
            Some("3")
        );
        assert_eq!(phone("+1 (555) 010-2000").digits(), "15550102000");
        assert!(phone("+1 (555) 010-2000").is_international());
        for bad in [
            "call me",
            "12",
            "+1 555 CALL NOW",
            "1".repeat(21).as_str(),
            "555 x",
            "1+2",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Phone::parse(" ").unwrap(), None);
    }
}
