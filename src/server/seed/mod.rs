//! `roster seed`: a deterministic generator of realistic contacts, loaded with COPY.
//!
//! The same seed gives the same contacts, ids and timestamps included, so a benchmark
//! or a bug report can name its dataset by `--seed` and `--count`. Seeding again
//! appends: the generator continues from the number of contacts already present, on
//! its own random stream, so emails stay unique.

mod data;
mod vocabulary;

use std::{fmt, time::Instant};

use anyhow::Context as _;
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use data::{CULTURES, DEPARTMENTS, EVENTS, LOCATIONS, STREETS, TAGS, TITLES, TOPICS};
use vocabulary::{CITIES, COMPANY_NAMES};

use crate::domain::{
    Card, Email, Phone, Tier,
    card::{Address, Entry, FileAs, MONTHS, NameParts, PartialDate, PhoneEntry},
};

/// The generator's vocabulary, numbered: bench databases filled by an earlier one are
/// made anew (`bench::seeded_database`). 2: thousands of names with Zipf-like
/// frequencies (`vocabulary`).
pub const VOCABULARY: u32 = 2;

/// Generated contacts are spread over time from here on, about 90 s apart.
const EPOCH_SECONDS: i64 = 1_640_995_200; // 2022-01-01T00:00:00Z
const SPACING_MICROS: i64 = 90_000_000;

/// Rows sent to Postgres per COPY chunk.
const CHUNK_ROWS: u64 = 10_000;

pub struct SeedOptions {
    pub count: u64,
    pub seed: u64,
    pub if_empty: bool,
}

pub struct SeedReport {
    pub added: u64,
    pub total: i64,
    pub seconds: f64,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.added == 0 {
            write!(
                f,
                "directory already holds {} contacts; nothing added",
                self.total
            )
        } else {
            write!(
                f,
                "added {} contacts in {:.1} s ({:.0}/s); the directory holds {}",
                self.added,
                self.seconds,
                self.added as f64 / self.seconds.max(1e-9),
                self.total
            )
        }
    }
}

/// One generated contact: a rich card (a share with several emails, phones and
/// addresses, birthdays, links, handles, name parts), as a person might have entered it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedContact {
    pub id: Uuid,
    pub card: Card,
    pub created_at_micros: i64,
}

/// An endless, deterministic stream of contacts.
pub struct Generator {
    rng: ChaCha8Rng,
    index: u64,
    demo: Demo,
}

/// What the demo contacts may show beyond their card: values for the demo's custom
/// fields (when the directory has them) and photos. The random draws are the same
/// with or without them, so a seed names the same contacts either way.
#[derive(Clone, Debug, Default)]
pub struct Demo {
    pub fields: Option<DemoFields>,
    /// Names of photos already kept, shared out among the contacts that have one.
    pub photos: Vec<String>,
}

/// The ids of the demo's custom fields (see [`DEMO_FIELDS`]).
#[derive(Clone, Copy, Debug)]
pub struct DemoFields {
    pub shirt_size: i32,
    pub interests: i32,
    pub board_member: i32,
    pub member_since: i32,
}

/// The custom fields a new directory's demo data defines: name, kind, options.
pub const DEMO_FIELDS: [(&str, &str, &str); 4] = [
    ("Shirt size", "choice", "S\nM\nL\nXL"),
    (
        "Interests",
        "choices",
        "AI\nClimate\nFintech\nOpen source\nRobotics",
    ),
    ("Board member", "checkbox", ""),
    ("Member since", "date", ""),
];
/// Distinct demo portraits made (each shared by several contacts).
const DEMO_PHOTOS: u64 = 120;

impl Generator {
    /// Contacts number `start`, `start + 1`, … of the dataset named by `seed`.
    pub fn new(seed: u64, start: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(start);
        Generator {
            rng,
            index: start,
            demo: Demo::default(),
        }
    }

    /// The same stream, with custom values and photos where `demo` has them.
    pub fn with_demo(mut self, demo: Demo) -> Self {
        self.demo = demo;
        self
    }

    pub fn next_contact(&mut self) -> SeedContact {
        let index = self.index;
        self.index += 1;
        let rng = &mut self.rng;

        let names = vocabulary::culture(rng);
        let culture = names.culture;
        let given = names.given.draw(rng).as_str();
        let family = names.family.draw(rng).as_str();
        let name = if culture.family_first {
            format!("{family} {given}")
        } else {
            format!("{given} {family}")
        };

        let company = rng
            .random_bool(0.88)
            .then(|| COMPANY_NAMES.draw(rng).as_str());
        let domain = match company {
            Some(company) => format!("{}.example", slug(company)),
            None => ["mail.example", "inbox.example", "post.example"]
                .choose(rng)
                .expect("listed")
                .to_string(),
        };
        let mut emails = Vec::new();
        if rng.random_bool(0.95) {
            let label = company.map(|_| "work".to_owned());
            let address = format!("{}.{}{index}@{domain}", slug(given), slug(family));
            emails.push(entry(label, email(&address)));
            if rng.random_bool(0.3) {
                let private = ["mail.example", "inbox.example", "post.example"]
                    .choose(rng)
                    .expect("listed");
                let address = format!("{}{index}@{private}", slug(given));
                emails.push(entry(Some("home".to_owned()), email(&address)));
            }
        }

        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();

        let tier = match rng.random_range(0..100) {
            0..5 => 1,
            5..20 => 2,
            20..60 => 3,
            _ => 4,
        };
        let tag_count = [0, 1, 1, 2, 2, 2, 3, 3, 4, 5][rng.random_range(0..10)];
        let tags: Vec<String> = TAGS
            .choose_multiple(rng, tag_count)
            .map(|tag| tag.to_string())
            .collect();

        let mut phones = Vec::new();
        if rng.random_bool(0.8) {
            phones.push(phone_entry(Some("mobile"), phone(rng)));
            if rng.random_bool(0.4) {
                phones.push(phone_entry(Some("work"), phone(rng)));
            }
        }
        let title = rng
            .random_bool(0.9)
            .then(|| TITLES.choose(rng).expect("listed").to_string());
        let mut addresses = Vec::new();
        if rng.random_bool(0.93) {
            let (city, country) = *CITIES.draw(rng);
            let street = rng.random_bool(0.4).then(|| {
                format!(
                    "{} {}",
                    rng.random_range(1..300),
                    STREETS.choose(rng).expect("listed")
                )
            });
            addresses.push(Address {
                label: company.map(|_| "work".to_owned()),
                street,
                city: Some(city.to_owned()),
                country: Some(country.to_owned()),
                ..Address::default()
            });
            if rng.random_bool(0.15) {
                let (city, country) = *CITIES.draw(rng);
                addresses.push(Address {
                    label: Some("home".to_owned()),
                    city: Some(city.to_owned()),
                    country: Some(country.to_owned()),
                    ..Address::default()
                });
            }
        }
        let birthday = rng.random_bool(0.6).then(|| PartialDate {
            year: rng.random_bool(0.8).then(|| rng.random_range(1950..2004)),
            month: rng.random_range(1..=12),
            day: rng.random_range(1..=28),
        });
        let mut links = Vec::new();
        if rng.random_bool(0.3) {
            links.push(entry(
                Some("linkedin".to_owned()),
                format!("linkedin.com/in/{}-{}-{index}", slug(given), slug(family)),
            ));
        }
        let mut ims = Vec::new();
        if rng.random_bool(0.1) {
            let service = ["signal", "telegram", "matrix"]
                .choose(rng)
                .expect("listed");
            ims.push(entry(
                Some((*service).to_owned()),
                format!("@{}{index}", slug(given)),
            ));
        }
        let mut dates = Vec::new();
        if rng.random_bool(0.05) {
            dates.push(entry(
                Some("anniversary".to_owned()),
                PartialDate {
                    year: Some(rng.random_range(1980..2024)),
                    month: rng.random_range(1..=12),
                    day: rng.random_range(1..=28),
                },
            ));
        }
        let name_parts = NameParts {
            given: Some(given.to_owned()),
            family: Some(family.to_owned()),
            nickname: rng
                .random_bool(0.05)
                .then(|| given.chars().take(3).collect()),
            pronouns: rng.random_bool(0.1).then(|| {
                ["she/her", "he/him", "they/them"]
                    .choose(rng)
                    .expect("listed")
                    .to_string()
            }),
            ..NameParts::default()
        };
        let department = (company.is_some() && rng.random_bool(0.5))
            .then(|| DEPARTMENTS.choose(rng).expect("listed").to_string());

        // Custom values and a photo, drawn whether or not the demo has them.
        let size = rng
            .random_bool(0.4)
            .then(|| ["S", "M", "L", "XL"][rng.random_range(0..4)]);
        let interest_count = [0, 0, 1, 1, 2, 3][rng.random_range(0..6)];
        let interests: Vec<String> = ["AI", "Climate", "Fintech", "Open source", "Robotics"]
            .choose_multiple(rng, interest_count)
            .map(|interest| interest.to_string())
            .collect();
        let board_member = rng.random_bool(0.03);
        let member_since = rng.random_bool(0.25).then(|| PartialDate {
            year: Some(rng.random_range(2005..2026)),
            month: rng.random_range(1..=12),
            day: rng.random_range(1..=28),
        });
        let with_photo = rng.random_bool(0.08);
        let mut custom = crate::domain::custom::CustomValues::new();
        if let Some(ids) = self.demo.fields {
            use crate::domain::custom::CustomValue;
            if let Some(size) = size {
                custom.insert(ids.shirt_size, CustomValue::Choice(size.to_owned()));
            }
            if !interests.is_empty() {
                let mut chosen = interests;
                let order = ["AI", "Climate", "Fintech", "Open source", "Robotics"];
                chosen.sort_by_key(|c| order.iter().position(|o| o == c));
                custom.insert(ids.interests, CustomValue::Choices(chosen));
            }
            if board_member {
                custom.insert(ids.board_member, CustomValue::Checkbox(true));
            }
            if let Some(date) = member_since {
                custom.insert(ids.member_since, CustomValue::Date(date));
            }
        }
        let photo = (with_photo && !self.demo.photos.is_empty())
            .then(|| self.demo.photos[(index as usize) % self.demo.photos.len()].clone());

        let card = Card {
            name,
            name_parts,
            file_as: if culture.family_first {
                FileAs::Family
            } else {
                FileAs::Given
            },
            emails,
            phones,
            addresses,
            links,
            ims,
            related: Vec::new(),
            birthday,
            dates,
            company: company.map(str::to_owned),
            department,
            title,
            tier: Tier::parse(tier).expect("a tier"),
            tags,
            notes: notes(rng),
            custom,
            photo,
            extras: Vec::new(),
        };
        SeedContact {
            id,
            card,
            created_at_micros: EPOCH_SECONDS * 1_000_000
                + index as i64 * SPACING_MICROS
                + rng.random_range(0..SPACING_MICROS),
        }
    }
}

fn entry<V>(label: Option<String>, value: V) -> Entry<V> {
    Entry { label, value }
}

fn email(address: &str) -> Email {
    Email::parse(address)
        .ok()
        .flatten()
        .expect("generated addresses are valid")
}

/// A generated number with its E.164 form (the generator writes them in international
/// form, so the digits are the E.164 form; the fictional US ones are not valid numbers
/// and have none, exactly as libphonenumber would say).
fn phone_entry(label: Option<&str>, typed: String) -> PhoneEntry {
    let value = Phone::parse(&typed)
        .ok()
        .flatten()
        .expect("generated numbers are valid");
    PhoneEntry {
        label: label.map(str::to_owned),
        e164: crate::server::phones::e164(&value),
        value,
    }
}

impl Iterator for Generator {
    type Item = SeedContact;

    fn next(&mut self) -> Option<SeedContact> {
        Some(self.next_contact())
    }
}

/// Phone numbers as people write them in several countries (fictional ranges where
/// the country has one).
fn phone(rng: &mut ChaCha8Rng) -> String {
    let a = rng.random_range(0..10_000);
    let b = rng.random_range(0..10_000);
    match rng.random_range(0..8) {
        0 => format!("+1 (555) 01{:01}-{a:04}", b % 10),
        1 => format!("+44 20 79{:02} {a:04}", b % 100),
        2 => format!("+49 30 {a:04}{:02}", b % 100),
        3 => format!(
            "+33 1 {:02} {:02} {:02} {:02}",
            a / 100,
            a % 100,
            b / 100,
            b % 100
        ),
        4 => format!("+81 3-{a:04}-{b:04}"),
        5 => format!("+55 11 9{a:04}-{b:04}"),
        6 => format!("+91 98{:03} {:05}", a % 1000, b),
        _ => format!("555-{a:04}"),
    }
}

/// Notes of varying length: none for a quarter of contacts, a line for most, a long
/// history for a few.
fn notes(rng: &mut ChaCha8Rng) -> Option<String> {
    let sentences = match rng.random_range(0..100) {
        0..25 => return None,
        25..70 => 1,
        70..90 => rng.random_range(2..5),
        _ => rng.random_range(6..20),
    };
    let mut text = String::new();
    for _ in 0..sentences {
        if !text.is_empty() {
            text.push(' ');
        }
        let event = EVENTS.choose(rng).expect("listed");
        let topic = TOPICS.choose(rng).expect("listed");
        let (city, _) = LOCATIONS.choose(rng).expect("listed");
        let month = MONTHS.choose(rng).expect("listed");
        let culture = CULTURES.choose(rng).expect("listed");
        let who = culture.given.choose(rng).expect("listed");
        let sentence = match rng.random_range(0..7) {
            0 => format!("Met at {event} in {city}."),
            1 => format!("Interested in {topic}."),
            2 => format!("Introduced by {who}."),
            3 => format!("Follow up about {topic} in {month}."),
            4 => format!("Spoke on a panel at {event}; sharp on {topic}."),
            5 => format!("Prefers email over calls; usually in {city} during {month}."),
            _ => format!("Asked {who} for an intro regarding {topic}."),
        };
        text.push_str(&sentence);
    }
    Some(text)
}

/// Lower-case ASCII letters and digits only: "Ó Súilleabháin" → "osuilleabhain".
fn slug(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(text.len());
    for ch in text.nfd() {
        match ch {
            'a'..='z' | '0'..='9' => out.push(ch),
            'A'..='Z' => out.push(ch.to_ascii_lowercase()),
            'ø' | 'Ø' => out.push('o'),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ß' => out.push_str("ss"),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ı' => out.push('i'),
            'þ' | 'Þ' => out.push_str("th"),
            _ => {} // combining accents, spaces, punctuation
        }
    }
    out
}

/// Adds `options.count` generated contacts (or none, with `if_empty`, when some exist).
pub async fn seed(db: &PgPool, options: SeedOptions) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut tx = db.begin().await?;
    // A maintenance command: not bound by the web's statement timeout (a million rows
    // take longer than any page may).
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    // One seeder at a time, so two of them cannot pick the same starting point.
    sqlx::query("LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&mut *tx)
        .await?;
    if options.if_empty && existing > 0 {
        return Ok(SeedReport {
            added: 0,
            total: existing,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    let demo = demo(&mut tx, options.seed).await?;
    let mut generator = Generator::new(options.seed, existing as u64).with_demo(demo);
    let mut copy = tx
        .copy_in_raw(
            "COPY contacts (id, name, given_name, family_name, nickname, pronouns, file_as, \
             emails, phones, addresses, links, ims, birthday, dates, company, department, \
             title, tier, tags, notes, custom, photo, created_at, updated_at) FROM STDIN",
        )
        .await
        .context("starting COPY into contacts")?;
    let mut remaining = options.count;
    let mut buffer = String::new();
    while remaining > 0 {
        let rows = remaining.min(CHUNK_ROWS);
        buffer.clear();
        for contact in generator.by_ref().take(rows as usize) {
            copy_row(&mut buffer, &contact);
        }
        copy.send(buffer.as_bytes()).await?;
        remaining -= rows;
    }
    copy.finish().await.context("loading generated contacts")?;
    tx.commit().await?;

    Ok(SeedReport {
        added: options.count,
        total: existing + options.count as i64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The demo's custom fields (defined when the directory has none yet; found by name
/// and kind otherwise) and its portraits, kept as any photo is.
async fn demo(tx: &mut sqlx::PgConnection, seed: u64) -> anyhow::Result<Demo> {
    use crate::{
        domain::custom::{CustomFieldInput, CustomKind},
        server::db::custom_fields,
    };
    let mut fields = custom_fields::live(&mut *tx).await?;
    if custom_fields::all(&mut *tx).await?.is_empty() {
        for (name, kind, options) in DEMO_FIELDS {
            let spec = CustomFieldInput {
                name: name.into(),
                kind: kind.into(),
                options: options.into(),
            }
            .parse(None)
            .map_err(anyhow::Error::msg)?;
            fields.push(custom_fields::create(&mut *tx, &spec).await?);
        }
    }
    let find = |name: &str, kind: CustomKind| {
        fields
            .iter()
            .find(|field| field.name == name && field.kind == kind)
            .map(|field| field.id)
    };
    let ids = (|| {
        Some(DemoFields {
            shirt_size: find("Shirt size", CustomKind::Choice)?,
            interests: find("Interests", CustomKind::Choices)?,
            board_member: find("Board member", CustomKind::Checkbox)?,
            member_since: find("Member since", CustomKind::Date)?,
        })
    })();
    let portraits = tokio::task::spawn_blocking(move || {
        (0..DEMO_PHOTOS)
            .map(|n| {
                crate::server::photos::process(&crate::server::photos::sample_portrait(
                    seed.wrapping_add(n),
                    384,
                    384,
                ))
            })
            .collect::<Result<Vec<_>, String>>()
    })
    .await?
    .map_err(anyhow::Error::msg)?;
    let mut photos = Vec::with_capacity(portraits.len());
    for portrait in portraits {
        crate::server::photos::store(&mut *tx, &portrait).await?;
        photos.push(portrait.hash);
    }
    Ok(Demo {
        fields: ids,
        photos,
    })
}

/// Appends one contact as a line of COPY's text format.
fn copy_row(out: &mut String, contact: &SeedContact) {
    let created_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(contact.created_at_micros) * 1_000)
            .expect("seed timestamps are in range");
    let timestamp = format!(
        "{}.{:06}+00",
        created_at
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .expect("timestamp formats"),
        created_at.microsecond()
    );
    let card = &contact.card;
    let parts = &card.name_parts;
    let json = |value: &dyn erased_json::Json| Some(value.to_json());
    let fields = [
        Some(contact.id.to_string()),
        Some(card.name.clone()),
        parts.given.clone(),
        parts.family.clone(),
        parts.nickname.clone(),
        parts.pronouns.clone(),
        Some(card.file_as.as_str().to_owned()),
        json(&card.emails),
        json(&card.phones),
        json(&card.addresses),
        json(&card.links),
        json(&card.ims),
        card.birthday.map(PartialDate::to_iso),
        json(&card.dates),
        card.company.clone(),
        card.department.clone(),
        card.title.clone(),
        Some(card.tier.get().to_string()),
        Some(array_literal(&card.tags)),
        card.notes.clone(),
        Some(serde_json::to_string(&card.custom).expect("custom values serialize")),
        card.photo.clone(),
        Some(timestamp.clone()),
        Some(timestamp),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match field {
            None => out.push_str("\\N"),
            Some(value) => push_copy_text(out, value),
        }
    }
    out.push('\n');
}

/// The lists as JSON, whatever their entry type.
mod erased_json {
    pub trait Json {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for Vec<T> {
        fn to_json(&self) -> String {
            serde_json::to_string(self).expect("a card's lists serialize")
        }
    }
}

/// COPY text format escapes backslash, tab, newline and carriage return.
fn push_copy_text(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ch => out.push(ch),
        }
    }
}

/// A Postgres array literal, every element quoted: `{"a","b \"c\""}`.
fn array_literal(items: &[String]) -> String {
    let mut literal = String::from("{");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        literal.push('"');
        for ch in item.chars() {
            if ch == '"' || ch == '\\' {
                literal.push('\\');
            }
            literal.push(ch);
        }
        literal.push('"');
    }
    literal.push('}');
    literal
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_contacts() {
        let a: Vec<_> = Generator::new(7, 0).take(200).collect();
        let b: Vec<_> = Generator::new(7, 0).take(200).collect();
        assert_eq!(a, b);
        let c: Vec<_> = Generator::new(8, 0).take(200).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn demo_contacts_hold_valid_custom_values_and_photos_and_are_the_same_people() {
        use crate::domain::custom::{CustomField, CustomFieldInput};
        let ids = DemoFields {
            shirt_size: 1,
            interests: 2,
            board_member: 3,
            member_since: 4,
        };
        let fields: Vec<CustomField> = DEMO_FIELDS
            .iter()
            .enumerate()
            .map(|(at, (name, kind, options))| {
                let spec = CustomFieldInput {
                    name: (*name).into(),
                    kind: (*kind).into(),
                    options: (*options).into(),
                }
                .parse(None)
                .unwrap();
                CustomField {
                    id: at as i32 + 1,
                    name: spec.name,
                    kind: spec.kind,
                    options: spec.options,
                    position: at as i32,
                    retired: false,
                }
            })
            .collect();
        let demo = Demo {
            fields: Some(ids),
            photos: vec!["ab".repeat(16), "cd".repeat(16)],
        };
        let rich: Vec<_> = Generator::new(42, 0).with_demo(demo).take(2_000).collect();
        let plain: Vec<_> = Generator::new(42, 0).take(2_000).collect();
        for (a, b) in rich.iter().zip(&plain) {
            assert_eq!((a.id, &a.card.name), (b.id, &b.card.name));
            assert!(b.card.custom.is_empty() && b.card.photo.is_none());
            let again = Card::parse_with(&a.card.to_input(), &fields).map(|mut card| {
                card.phones.clone_from(&a.card.phones);
                card
            });
            assert_eq!(again.as_ref(), Ok(&a.card));
        }
        let custom = rich.iter().filter(|c| !c.card.custom.is_empty()).count();
        let photos = rich.iter().filter(|c| c.card.photo.is_some()).count();
        assert!(
            (1_400..1_900).contains(&custom),
            "{custom} with custom values"
        );
        assert!((100..250).contains(&photos), "{photos} with a photo");
    }

    #[test]
    fn appending_continues_with_new_contacts() {
        let first: Vec<_> = Generator::new(7, 0).take(1_000).collect();
        let more: Vec<_> = Generator::new(7, 1_000).take(1_000).collect();
        let ids: HashSet<_> = first.iter().chain(&more).map(|c| c.id).collect();
        assert_eq!(ids.len(), 2_000);
        assert!(more[0].created_at_micros > first[999].created_at_micros);
    }

    #[test]
    fn contacts_are_plausible_rich_and_valid_cards() {
        let contacts: Vec<_> = Generator::new(42, 0).take(20_000).collect();
        let mut emails = HashSet::new();
        for c in &contacts {
            let card = &c.card;
            // Every generated card is one the form would accept as it is.
            let mut again = Card::parse(&card.to_input()).expect("a valid card");
            for (phone, seeded) in again.phones.iter_mut().zip(&card.phones) {
                phone.e164.clone_from(&seeded.e164);
            }
            assert_eq!(&again, card);
            for email in &card.emails {
                assert!(email.value.as_str().is_ascii());
                assert!(
                    emails.insert(email.value.normalized()),
                    "duplicate email {}",
                    email.value.as_str()
                );
            }
        }
        // Variety the directory and its search need to be exercised properly.
        let share = |test: &dyn Fn(&Card) -> bool| {
            contacts.iter().filter(|c| test(&c.card)).count() as f64 / contacts.len() as f64
        };
        assert!(share(&|c| !c.name.is_ascii()) > 0.01);
        assert!(share(&|c| c.notes.is_none()) > 0.1);
        assert!(share(&|c| c.notes.as_ref().is_some_and(|n| n.len() > 500)) > 0.001);
        assert!(share(&|c| c.emails.len() >= 2) > 0.2);
        assert!(share(&|c| c.phones.len() >= 2) > 0.2);
        assert!(share(&|c| c.addresses.len() >= 2) > 0.1);
        assert!(share(&|c| c.birthday.is_some_and(|b| b.year.is_none())) > 0.05);
        assert!(share(&|c| c.phones.iter().any(|p| p.e164.is_some())) > 0.3);
        assert!(share(&|c| !c.links.is_empty()) > 0.2);
        let tiers: HashSet<_> = contacts.iter().map(|c| c.card.tier).collect();
        assert_eq!(tiers.len(), 4);
        let times: Vec<_> = contacts.iter().map(|c| c.created_at_micros).collect();
        assert!(
            times.windows(2).all(|w| w[0] < w[1]),
            "later contacts are newer"
        );
    }

    /// As in a real population: thousands of names, a few of them very common and
    /// most of them rare; hundreds of companies and cities.
    #[test]
    fn names_are_many_and_few_of_them_common() {
        use std::collections::HashMap;
        let contacts: Vec<_> = Generator::new(42, 0).take(50_000).collect();
        let mut given: HashMap<&str, usize> = HashMap::new();
        let mut family: HashMap<&str, usize> = HashMap::new();
        for c in &contacts {
            let parts = &c.card.name_parts;
            *given.entry(parts.given.as_deref().unwrap()).or_default() += 1;
            *family.entry(parts.family.as_deref().unwrap()).or_default() += 1;
        }
        assert!(given.len() >= 1_000, "{} given names", given.len());
        assert!(family.len() >= 1_500, "{} family names", family.len());
        let mut counts: Vec<usize> = family.values().copied().collect();
        counts.sort_unstable();
        let (median, top) = (counts[counts.len() / 2], counts[counts.len() - 1]);
        assert!(
            top >= 20 * median,
            "the commonest {top} times, the median {median}"
        );
        let companies: HashSet<_> = contacts
            .iter()
            .filter_map(|c| c.card.company.as_ref())
            .collect();
        let cities: HashSet<_> = contacts.iter().filter_map(|c| c.card.city()).collect();
        assert!(companies.len() >= 300, "{} companies", companies.len());
        assert!(cities.len() >= 150, "{} cities", cities.len());
    }

    #[test]
    fn slugs_fold_accents_and_drop_punctuation() {
        assert_eq!(slug("Ó Súilleabháin"), "osuilleabhain");
        assert_eq!(slug("Łukasz"), "lukasz");
        assert_eq!(slug("Søren"), "soren");
        assert_eq!(slug("Nguyễn"), "nguyen");
        assert_eq!(slug("Willow & Finch"), "willowfinch");
        assert_eq!(slug("Groß"), "gross");
    }

    #[test]
    fn copy_text_escapes_what_copy_treats_specially() {
        let mut out = String::new();
        push_copy_text(&mut out, "a\tb\nc\\d\re");
        assert_eq!(out, "a\\tb\\nc\\\\d\\re");
        assert_eq!(
            array_literal(&[
                "plain".into(),
                "with \"quote\"".into(),
                "back\\slash".into()
            ]),
            r#"{"plain","with \"quote\"","back\\slash"}"#
        );
        assert_eq!(array_literal(&[]), "{}");
    }
}
