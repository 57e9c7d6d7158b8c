//! Phone numbers' E.164 form, through libphonenumber's numbering plans (the
//! `phonenumber` crate). A number is kept as typed; its E.164 form is stored beside it
//! so that "+44 20 7946 0958", "020 7946 0958" (typed in the UK) and "0044 20 7946
//! 0958" are found as one number by search and by duplicate checks.
//!
//! Numbers typed without a country code are read in the directory's default region
//! (`ROSTER_DEFAULT_REGION`), set once at start.

use std::sync::OnceLock;

use phonenumber::{Mode, country};

use crate::domain::{Card, Phone};

static DEFAULT_REGION: OnceLock<country::Id> = OnceLock::new();

/// The region numbers without a country code are read in (an ISO 3166 code such as
/// `US` or `GB`); `Err` names a code libphonenumber does not know.
pub fn parse_region(code: &str) -> Result<country::Id, String> {
    code.trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .map_err(|_| format!("“{code}” is not a region code (use a two-letter code like US or GB)"))
}

/// Sets the process's default region from the settings (checked when they were
/// read); the first setting stands.
pub fn set_default_region_from(config: &crate::server::config::Config) {
    if let Ok(region) = parse_region(&config.default_region) {
        let _ = DEFAULT_REGION.set(region);
    }
}

fn default_region() -> country::Id {
    *DEFAULT_REGION.get().unwrap_or(&country::Id::US)
}

/// The E.164 form of a number (`+442079460958`), if it is a valid number when read in
/// `region`.
pub fn e164_in(phone: &Phone, region: country::Id) -> Option<String> {
    let typed = phone.as_str();
    // "00" is the international prefix in most of the world; libphonenumber reads it
    // only for regions that use it, so say it plainly.
    let typed = match typed.strip_prefix("00") {
        Some(rest) if !phone.is_international() => format!("+{rest}"),
        _ => typed.to_owned(),
    };
    let number = phonenumber::parse(Some(region), &typed).ok()?;
    phonenumber::is_valid(&number).then(|| number.format().mode(Mode::E164).to_string())
}

/// The E.164 form in the default region.
pub fn e164(phone: &Phone) -> Option<String> {
    e164_in(phone, default_region())
}

/// Fills in the E.164 form of each of the card's phones.
pub fn normalize(card: &mut Card) {
    for entry in &mut card.phones {
        entry.e164 = e164(&entry.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(text: &str) -> Phone {
        Phone::parse(text).unwrap().unwrap()
    }

    #[test]
    fn one_number_typed_three_ways_is_one_e164() {
        let gb = parse_region("gb").unwrap();
        for typed in ["+44 20 7946 0958", "020 7946 0958", "0044 (20) 7946-0958"] {
            assert_eq!(
                e164_in(&phone(typed), gb).as_deref(),
                Some("+442079460958"),
                "{typed}"
            );
        }
        let us = parse_region("US").unwrap();
        assert_eq!(
            e164_in(&phone("(201) 555-0123"), us).as_deref(),
            Some("+12015550123")
        );
        assert_eq!(e164_in(&phone("555"), us), None, "not a whole number");
        assert!(parse_region("Narnia").is_err());
    }
}
