//! Phone numbers' E.164 form, through libphonenumber's numbering plans (the
//! `phonenumber` crate). A number is kept as typed; its E.164 form is stored beside it
//! so that "+44 20 7946 0958", "020 7946 0958" (typed in the UK) and "0044 20 7946
//! 0958" are found as one number by search and by duplicate checks.
//!
//! Numbers typed without a country code are read in the directory's default region
//! (`ROSTER_DEFAULT_REGION`), set once at start.

use std::{
    collections::HashMap,
    sync::{LazyLock, OnceLock, RwLock},
};

use phonenumber::{
    Type, country,
    metadata::{DATABASE, Descriptor, Metadata},
};
use regex::{Regex, RegexBuilder};

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
    let number = phonenumber::parse(Some(region), plainly(phone)).ok()?;
    let national = number.national().to_string();
    valid(number.country().code(), &national)
        .then(|| format!("+{}{national}", number.country().code()))
}

/// The number as libphonenumber should read it: "00" is the international prefix in
/// most of the world, but the library reads it only for regions that use it, so say it
/// plainly.
fn plainly(phone: &Phone) -> String {
    let typed = phone.as_str();
    match typed.strip_prefix("00") {
        Some(rest) if !phone.is_international() => format!("+{rest}"),
        _ => typed.to_owned(),
    }
}

/// libphonenumber's validity test (`phonenumber::is_valid`), the same rules read from
/// the same numbering plans, on patterns compiled once per plan. The crate looks each
/// pattern up by its text in one shared cache of 100 behind a lock on every use,
/// hashing the text each time and compiling again what fell out (the plans sharing +1
/// alone have more): a fifth of an import's own time went there (`perf`, `roster bench
/// import`). The test `the_same_verdict_as_libphonenumber` holds the two equal.
fn valid(code: u16, national: &str) -> bool {
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    let plan = match regions.as_slice() {
        [] => None,
        ["001"] => DATABASE
            .by_code(&code)
            .and_then(|plans| plans.first().copied()),
        [region] => DATABASE.by_id(*region),
        // Several regions share the code (+1, +7, +44…): the number belongs to the
        // first whose leading digits it starts with, or, for a region without
        // leading digits, whose kinds of number it matches.
        several => several
            .iter()
            .filter_map(|region| DATABASE.by_id(*region))
            .find(|plan| {
                let rules = rules(plan);
                match &rules.leading {
                    Some(leading) => leading.is_match(national),
                    None => rules.known_kind(national),
                }
            }),
    };
    plan.is_some_and(|plan| rules(plan).known_kind(national))
}

/// One numbering plan's patterns, each anchored at the number's start as the crate
/// matches them.
struct Rules {
    leading: Option<Regex>,
    general: Pattern,
    kinds: Vec<Pattern>,
}

struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn new(descriptor: &Descriptor) -> Pattern {
        Pattern {
            regex: anchored(descriptor.national_number().as_str()),
            lengths: descriptor.possible_length().to_vec(),
        }
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.is_match(national)
    }
}

impl Rules {
    /// Whether the number is of a kind the plan knows (not `Type::Unknown`).
    fn known_kind(&self, national: &str) -> bool {
        self.general.matches(national) && self.kinds.iter().any(|kind| kind.matches(national))
    }
}

/// A pattern of the plans (written spread over lines, so read ignoring whitespace, as
/// the crate reads them).
fn anchored(pattern: &str) -> Regex {
    RegexBuilder::new(&format!("^(?:{pattern})"))
        .ignore_whitespace(true)
        .build()
        .expect("libphonenumber's patterns compile")
}

/// The kinds `phonenumber`'s `number_type` tries (short codes, emergency numbers and
/// the like make no number valid).
const KINDS: [Type; 10] = [
    Type::PremiumRate,
    Type::TollFree,
    Type::SharedCost,
    Type::Voip,
    Type::PersonalNumber,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
    Type::FixedLine,
    Type::Mobile,
];

/// The compiled rules of a plan of the static database, made on first use (a few
/// hundred plans at most, so they are kept for the life of the process).
fn rules(plan: &'static Metadata) -> &'static Rules {
    static COMPILED: LazyLock<RwLock<HashMap<usize, &'static Rules>>> =
        LazyLock::new(Default::default);
    let key = std::ptr::from_ref(plan) as usize;
    if let Some(rules) = COMPILED.read().expect("not poisoned").get(&key) {
        return rules;
    }
    let made = Rules {
        leading: plan
            .leading_digits()
            .map(|leading| anchored(leading.as_str())),
        general: Pattern::new(plan.descriptors().general()),
        kinds: KINDS
            .iter()
            .filter_map(|kind| plan.descriptors().get(*kind))
            .map(Pattern::new)
            .collect(),
    };
    COMPILED
        .write()
        .expect("not poisoned")
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(made)))
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

    /// The library's own verdict and formatting, as `e164_in` used them before.
    fn by_the_library(phone: &Phone, region: country::Id) -> Option<String> {
        let number = phonenumber::parse(Some(region), plainly(phone)).ok()?;
        phonenumber::is_valid(&number)
            .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
    }

    #[test]
    fn the_same_verdict_as_libphonenumber() {
        // Every plan's example numbers (valid, of every kind and every region sharing a
        // code), then the same with a digit changed or added, then random digits after
        // common codes and in national form. (The library takes a millisecond a
        // number here, so not many more.)
        let mut typed: Vec<(String, country::Id)> = Vec::new();
        for plan in DATABASE.iter() {
            for kind in KINDS.iter().chain([&Type::Unknown]) {
                if let Some(example) = plan.descriptors().get(*kind).and_then(|d| d.example()) {
                    let full = format!("+{}{example}", plan.country_code());
                    typed.push((format!("{full}1"), country::Id::US));
                    let mut changed = full.clone().into_bytes();
                    let last = changed.len() - 2;
                    changed[last] = b'0' + (changed[last] - b'0' + 3) % 10;
                    typed.push((String::from_utf8(changed).unwrap(), country::Id::US));
                    typed.push((full, country::Id::US));
                }
            }
        }
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        let regions = [
            country::Id::US,
            country::Id::GB,
            country::Id::DE,
            country::Id::IT,
        ];
        for _ in 0..600 {
            let digits: String = (0..4 + next(11))
                .map(|_| char::from(b'0' + next(10) as u8))
                .collect();
            let code = [
                1, 7, 33, 39, 44, 49, 61, 81, 86, 91, 262, 352, 800, 882, 979,
            ][next(15) as usize];
            let region = regions[next(4) as usize];
            typed.push((format!("+{code} {digits}"), region));
            typed.push((format!("0{digits}"), region));
            typed.push((digits, region));
        }
        let (mut valid, mut invalid) = (0, 0);
        for (text, region) in &typed {
            let Ok(Some(phone)) = Phone::parse(text) else {
                continue;
            };
            let expected = by_the_library(&phone, *region);
            assert_eq!(e164_in(&phone, *region), expected, "{text} in {region:?}");
            if expected.is_some() {
                valid += 1
            } else {
                invalid += 1
            }
        }
        assert!(
            valid > 1_000 && invalid > 1_000,
            "{valid} valid, {invalid} invalid"
        );
    }
}
