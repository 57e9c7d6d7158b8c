//! The search index's schema and how a contact becomes a document.
//!
//! Text is analyzed by the tokenizers in [`super::tokenizers`] (thin wrappers over
//! [`super::text`], which the query builder uses too), so the index and the queries
//! cannot disagree on what a word is. Each searchable area has a field of whole words
//! (exact and fuzzy matches) and, for the short ones, a field of word prefixes (edge
//! n-grams: "anthony" → "a", "an", … "anthony"), so search-as-you-type is one term
//! lookup rather than a walk of the dictionary.

use serde::{Deserialize, Serialize};
use tantivy::{
    TantivyDocument,
    schema::{
        FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
        TextOptions,
    },
};
use uuid::Uuid;

use super::{text, tokenizers};
use crate::domain::{Card, Contact, ContactSummary, custom::CustomValue, search::choice_value};

/// Bump when the schema or what goes into it changes: older indexes are then rebuilt.
pub const SCHEMA_VERSION: u32 = 9;

/// Prefixes are indexed up to this many characters; longer typed prefixes use the
/// whole-word field's dictionary instead.
pub const MAX_PREFIX_CHARS: usize = 20;

/// Outside names, a typed word shorter than this is not matched as a prefix (one or
/// two letters would match most of the directory's cities or companies), so those
/// prefixes are not indexed either.
pub const MIN_OTHER_PREFIX_CHARS: usize = 3;

/// The contact as the index stores it, to render results and write exports without
/// asking Postgres: the whole card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexedContact {
    pub id: Uuid,
    pub card: Card,
    /// The company's web domain (searched with the company; not part of the card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_domain: Option<String>,
    pub created_at_micros: i64,
    pub version: i32,
}

impl From<Contact> for IndexedContact {
    fn from(contact: Contact) -> Self {
        IndexedContact {
            id: contact.id,
            card: contact.card,
            company_domain: contact.company_domain,
            created_at_micros: contact.created_at_micros,
            version: contact.version,
        }
    }
}

impl IndexedContact {
    /// A contact with a name and nothing else (tier 3), made at `created_at_micros`.
    pub fn named(id: Uuid, name: &str, created_at_micros: i64) -> Self {
        let card = Card::parse(&crate::domain::ContactInput {
            name: name.to_owned(),
            tier: "3".to_owned(),
            ..Default::default()
        })
        .expect("a name is a card");
        IndexedContact {
            id,
            card,
            company_domain: None,
            created_at_micros,
            version: 1,
        }
    }

    /// The row a list of results shows.
    pub fn summary(&self) -> ContactSummary {
        self.card.summary(self.id)
    }
}

/// The searchable areas of a contact, in the order they rank (name highest). Each
/// holds every entry of its kind: all emails, all phones, every part of every address
/// (`Location`), the title with the department, the notes with links and handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Name,
    Email,
    Phone,
    Company,
    Title,
    Tags,
    Location,
    Notes,
}

impl Area {
    pub const ALL: [Area; 8] = [
        Area::Name,
        Area::Email,
        Area::Phone,
        Area::Company,
        Area::Title,
        Area::Tags,
        Area::Location,
        Area::Notes,
    ];

    /// How much a match here counts. Name matches outrank every other area's of the
    /// same kind (exact, prefix, fuzzy).
    pub fn weight(self) -> f32 {
        match self {
            Area::Name => 10.0,
            Area::Email | Area::Phone => 8.0,
            Area::Company => 6.0,
            Area::Title | Area::Tags | Area::Location => 4.0,
            Area::Notes => 2.0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub id: Field,
    /// The stored [`IndexedContact`], as JSON.
    pub stored: Field,
    pub name_words: Field,
    pub name_prefixes: Field,
    /// The whole folded name as one term: an exact full-name match.
    pub name_exact: Field,
    pub email_words: Field,
    pub email_prefixes: Field,
    /// The whole normalized address as one term.
    pub email_exact: Field,
    pub phone_suffixes: Field,
    pub company_words: Field,
    pub company_prefixes: Field,
    pub title_words: Field,
    pub title_prefixes: Field,
    pub tag_words: Field,
    pub tag_prefixes: Field,
    pub location_words: Field,
    pub location_prefixes: Field,
    pub notes_words: Field,
    /// Exact values for filters and facet counts.
    pub tier: Field,
    pub location: Field,
    /// The first address's country (ISO code).
    pub country: Field,
    pub company: Field,
    pub tag: Field,
    /// The options of choice-type custom values, each `7:M` (`choice_value`).
    pub choice: Field,
    /// Sort keys.
    pub created_at: Field,
    pub sort_name: Field,
}

impl Fields {
    /// The whole-word field of an area.
    pub fn words(&self, area: Area) -> Field {
        match area {
            Area::Name => self.name_words,
            Area::Email => self.email_words,
            Area::Phone => self.phone_suffixes,
            Area::Company => self.company_words,
            Area::Title => self.title_words,
            Area::Tags => self.tag_words,
            Area::Location => self.location_words,
            Area::Notes => self.notes_words,
        }
    }

    /// The prefix field of an area, if it has one.
    pub fn prefixes(&self, area: Area) -> Option<Field> {
        match area {
            Area::Name => Some(self.name_prefixes),
            Area::Email => Some(self.email_prefixes),
            Area::Company => Some(self.company_prefixes),
            Area::Title => Some(self.title_prefixes),
            Area::Tags => Some(self.tag_prefixes),
            Area::Location => Some(self.location_prefixes),
            Area::Phone | Area::Notes => None,
        }
    }
}

pub fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Terms only: matching is scored by our own constants, not by frequencies.
    let mut text = |name: &str, tokenizer: &str| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        builder.add_text_field(name, options)
    };
    use tokenizers::{
        EMAIL, EMAIL_PREFIXES, EMAIL_WORDS, NOTES_WORDS, OTHER_PREFIXES, PHONE, PREFIXES, WHOLE,
        WORDS,
    };
    let name_words = text("name_words", WORDS);
    let name_prefixes = text("name_prefixes", PREFIXES);
    let name_exact = text("name_exact", WHOLE);
    let email_words = text("email_words", EMAIL_WORDS);
    let email_prefixes = text("email_prefixes", EMAIL_PREFIXES);
    let email_exact = text("email_exact", EMAIL);
    let phone_suffixes = text("phone_suffixes", PHONE);
    let company_words = text("company_words", WORDS);
    let company_prefixes = text("company_prefixes", OTHER_PREFIXES);
    let title_words = text("title_words", WORDS);
    let title_prefixes = text("title_prefixes", OTHER_PREFIXES);
    let tag_words = text("tag_words", WORDS);
    let tag_prefixes = text("tag_prefixes", OTHER_PREFIXES);
    let location_words = text("location_words", WORDS);
    let location_prefixes = text("location_prefixes", OTHER_PREFIXES);
    let notes_words = text("notes_words", NOTES_WORDS);

    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        stored: builder.add_text_field("stored", STORED),
        name_words,
        name_prefixes,
        name_exact,
        email_words,
        email_prefixes,
        email_exact,
        phone_suffixes,
        company_words,
        company_prefixes,
        title_words,
        title_prefixes,
        tag_words,
        tag_prefixes,
        location_words,
        location_prefixes,
        notes_words,
        tier: builder.add_u64_field("tier", INDEXED | FAST),
        location: builder.add_text_field("location", STRING | FAST),
        country: builder.add_text_field("country", STRING | FAST),
        company: builder.add_text_field("company", STRING | FAST),
        tag: builder.add_text_field("tag", STRING | FAST),
        choice: builder.add_text_field("choice", STRING | FAST),
        created_at: builder.add_i64_field("created_at", FAST),
        sort_name: builder.add_text_field("sort_name", TextOptions::default().set_fast("raw")),
    };
    (builder.build(), fields)
}

/// The name folded for sorting: its folded words joined by spaces.
pub fn sort_key(name: &str) -> String {
    text::folded_words(name).join(" ")
}

/// The document for a contact. Only raw values go in: tantivy's indexing threads
/// analyze them.
pub fn document(fields: &Fields, contact: &IndexedContact) -> TantivyDocument {
    let card = &contact.card;
    let parts = &card.name_parts;
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.id, contact.id.to_string());
    doc.add_text(
        fields.stored,
        serde_json::to_string(contact).expect("a contact serializes"),
    );
    for field in [fields.name_words, fields.name_prefixes, fields.name_exact] {
        doc.add_text(field, &card.name);
    }
    // Other names the person goes by are found like the name (not as a whole name).
    for other in [
        &parts.nickname,
        &parts.phonetic_given,
        &parts.phonetic_family,
        &parts.middle,
    ]
    .into_iter()
    .flatten()
    {
        doc.add_text(fields.name_words, other);
        doc.add_text(fields.name_prefixes, other);
    }
    for email in &card.emails {
        for field in [
            fields.email_words,
            fields.email_prefixes,
            fields.email_exact,
        ] {
            doc.add_text(field, email.value.as_str());
        }
    }
    for phone in &card.phones {
        // The E.164 form's suffixes hold the typed number's when its digits end with
        // them ("+1 201…" typed as "(201) …", or typed as E.164): one set of suffixes.
        match &phone.e164 {
            Some(e164) if text::digits(e164).ends_with(&text::digits(phone.value.as_str())) => {
                doc.add_text(fields.phone_suffixes, e164);
            }
            Some(e164) => {
                doc.add_text(fields.phone_suffixes, phone.value.as_str());
                doc.add_text(fields.phone_suffixes, e164);
            }
            None => doc.add_text(fields.phone_suffixes, phone.value.as_str()),
        }
    }
    let mut words = |value: &str, words: Field, prefixes: Field| {
        doc.add_text(words, value);
        doc.add_text(prefixes, value);
    };
    for value in [&card.company, &contact.company_domain]
        .into_iter()
        .flatten()
    {
        words(value, fields.company_words, fields.company_prefixes);
    }
    for value in [&card.title, &card.department].into_iter().flatten() {
        words(value, fields.title_words, fields.title_prefixes);
    }
    // Custom values that are words (text, choices, links) rank as the title does; a
    // number or a date is found as notes are.
    for value in card.custom.values() {
        match value {
            CustomValue::Text(text) | CustomValue::Url(text) => {
                words(text, fields.title_words, fields.title_prefixes);
            }
            CustomValue::Choice(_) | CustomValue::Choices(_) => {
                for choice in value.choices() {
                    words(choice, fields.title_words, fields.title_prefixes);
                }
            }
            CustomValue::Number(_) | CustomValue::Date(_) | CustomValue::Checkbox(_) => {}
        }
    }
    for address in &card.addresses {
        for value in [
            &address.street,
            &address.extended,
            &address.city,
            &address.region,
            &address.postal_code,
        ]
        .into_iter()
        .flatten()
        {
            words(value, fields.location_words, fields.location_prefixes);
        }
        if let Some(country) = address.country_name() {
            words(country, fields.location_words, fields.location_prefixes);
        }
    }
    for tag in &card.tags {
        doc.add_text(fields.tag_words, tag);
        doc.add_text(fields.tag_prefixes, tag);
        doc.add_text(fields.tag, tag);
    }
    if let Some(notes) = &card.notes {
        doc.add_text(fields.notes_words, notes);
    }
    for entry in card.links.iter().chain(&card.ims) {
        doc.add_text(fields.notes_words, &entry.value);
    }
    for value in card.custom.values() {
        match value {
            CustomValue::Number(text) => doc.add_text(fields.notes_words, text),
            CustomValue::Date(date) => doc.add_text(fields.notes_words, date.to_iso()),
            _ => {}
        }
    }
    doc.add_text(fields.sort_name, sort_key(&card.sort_words()));
    doc.add_u64(fields.tier, u64::from(card.tier.get()));
    // Always a value (empty when there is none): a dense column reads faster, and
    // facets leave the empty value out. The city is the first address's.
    doc.add_text(fields.location, card.city().unwrap_or_default());
    doc.add_text(
        fields.country,
        card.addresses
            .first()
            .and_then(|address| address.country.as_deref())
            .unwrap_or_default(),
    );
    for (id, value) in &card.custom {
        for option in value.choices() {
            doc.add_text(fields.choice, choice_value(*id, option));
        }
    }
    doc.add_text(fields.company, card.company.as_deref().unwrap_or(""));
    doc.add_i64(fields.created_at, contact.created_at_micros);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_key_folds_the_name() {
        assert_eq!(sort_key("Élodie  Lefèvre"), "elodie lefevre");
    }
}
