//! The search index's schema and how a contact becomes a document.
//!
//! Text is tokenized here, by [`super::text`], and handed to tantivy pre-tokenized, so
//! the index and the query builder cannot disagree on what a word is. Each searchable
//! area has a field of whole words (exact and fuzzy matches) and, for the short ones,
//! a field of word prefixes (edge n-grams: "anthony" → "a", "an", … "anthony"), so
//! search-as-you-type is one term lookup rather than a scan of the dictionary.

use serde::{Deserialize, Serialize};
use tantivy::{
    TantivyDocument,
    schema::{
        FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
        TextOptions,
    },
    tokenizer::{PreTokenizedString, Token},
};
use uuid::Uuid;

use super::text::{self, Word};

/// Bump when the schema or what goes into it changes: older indexes are then rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

/// Prefixes are indexed up to this many characters; longer typed prefixes use the
/// whole-word field's dictionary instead.
pub const MAX_PREFIX_CHARS: usize = 20;

/// Phone numbers are indexed by every digit suffix at least this long, so "5550102000"
/// finds "+1 (555) 010-2000".
const MIN_PHONE_SUFFIX: usize = 4;

/// The contact as the index stores it, to render results without asking Postgres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexedContact {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub tier: i16,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub created_at_micros: i64,
    pub version: i32,
}

/// The searchable areas of a contact, in the order they rank (name highest).
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
    pub company: Field,
    pub tag: Field,
    /// Sort keys and tie-breakers.
    pub created_at: Field,
    pub sort_name: Field,
    pub name_word_count: Field,
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
    let terms = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let mut text = |name: &str| builder.add_text_field(name, terms.clone());
    let name_words = text("name_words");
    let name_prefixes = text("name_prefixes");
    let name_exact = text("name_exact");
    let email_words = text("email_words");
    let email_prefixes = text("email_prefixes");
    let email_exact = text("email_exact");
    let phone_suffixes = text("phone_suffixes");
    let company_words = text("company_words");
    let company_prefixes = text("company_prefixes");
    let title_words = text("title_words");
    let title_prefixes = text("title_prefixes");
    let tag_words = text("tag_words");
    let tag_prefixes = text("tag_prefixes");
    let location_words = text("location_words");
    let location_prefixes = text("location_prefixes");
    let notes_words = text("notes_words");

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
        company: builder.add_text_field("company", STRING | FAST),
        tag: builder.add_text_field("tag", STRING | FAST),
        created_at: builder.add_i64_field("created_at", FAST),
        sort_name: builder.add_text_field("sort_name", TextOptions::default().set_fast("raw")),
        name_word_count: builder.add_u64_field("name_word_count", FAST),
    };
    (builder.build(), fields)
}

/// Terms given as they are: the "raw" tokenizer is never run on them.
fn pre_tokenized(terms: impl IntoIterator<Item = String>) -> PreTokenizedString {
    let tokens: Vec<Token> = terms
        .into_iter()
        .enumerate()
        .map(|(position, text)| Token {
            offset_from: 0,
            offset_to: 0,
            position,
            text,
            position_length: 1,
        })
        .collect();
    PreTokenizedString {
        text: String::new(),
        tokens,
    }
}

/// Every prefix of every word, up to [`MAX_PREFIX_CHARS`], without repeats.
pub fn prefixes_of(words: &[Word]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in words {
        let mut prefix = String::new();
        for ch in word.folded.chars().take(MAX_PREFIX_CHARS) {
            prefix.push(ch);
            out.push(prefix.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every digit suffix of a phone number at least [`MIN_PHONE_SUFFIX`] long.
pub fn phone_suffixes(phone: &str) -> Vec<String> {
    let digits = text::digits(phone);
    (0..digits.len())
        .map(|start| digits[start..].to_owned())
        .filter(|suffix| suffix.len() >= MIN_PHONE_SUFFIX)
        .collect()
}

/// The name folded for sorting: its folded words joined by spaces.
pub fn sort_key(name: &str) -> String {
    text::folded_words(name).join(" ")
}

pub fn document(fields: &Fields, contact: &IndexedContact) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.id, contact.id.to_string());
    doc.add_text(
        fields.stored,
        serde_json::to_string(contact).expect("a contact serializes"),
    );

    let mut add_area = |words_field: Field, prefix_field: Option<Field>, value: &str| {
        let words = text::words(value);
        if let Some(prefix_field) = prefix_field {
            doc.add_pre_tokenized_text(prefix_field, pre_tokenized(prefixes_of(&words)));
        }
        doc.add_pre_tokenized_text(
            words_field,
            pre_tokenized(words.into_iter().map(|word| word.folded)),
        );
    };
    add_area(fields.name_words, Some(fields.name_prefixes), &contact.name);
    for (value, words, prefixes) in [
        (&contact.email, fields.email_words, fields.email_prefixes),
        (
            &contact.company,
            fields.company_words,
            fields.company_prefixes,
        ),
        (&contact.title, fields.title_words, fields.title_prefixes),
        (
            &contact.location,
            fields.location_words,
            fields.location_prefixes,
        ),
    ] {
        if let Some(value) = value {
            add_area(words, Some(prefixes), value);
        }
    }
    for tag in &contact.tags {
        add_area(fields.tag_words, Some(fields.tag_prefixes), tag);
    }
    if let Some(notes) = &contact.notes {
        add_area(fields.notes_words, None, notes);
    }

    let name_key = sort_key(&contact.name);
    doc.add_pre_tokenized_text(fields.name_exact, pre_tokenized([name_key.clone()]));
    doc.add_text(fields.sort_name, name_key.as_str());
    doc.add_u64(
        fields.name_word_count,
        text::words(&contact.name).len() as u64,
    );
    if let Some(email) = &contact.email {
        doc.add_pre_tokenized_text(
            fields.email_exact,
            pre_tokenized([text::normalize_email(email)]),
        );
    }
    if let Some(phone) = &contact.phone {
        doc.add_pre_tokenized_text(fields.phone_suffixes, pre_tokenized(phone_suffixes(phone)));
    }

    doc.add_u64(fields.tier, contact.tier.clamp(1, 4) as u64);
    if let Some(location) = &contact.location {
        doc.add_text(fields.location, location);
    }
    if let Some(company) = &contact.company {
        doc.add_text(fields.company, company);
    }
    for tag in &contact.tags {
        doc.add_text(fields.tag, tag);
    }
    doc.add_i64(fields.created_at, contact.created_at_micros);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_every_word_start() {
        let words = text::words("Anthony May");
        let prefixes = prefixes_of(&words);
        for expected in ["a", "an", "anthony", "m", "ma", "may"] {
            assert!(prefixes.contains(&expected.to_owned()), "{expected}");
        }
        assert!(!prefixes.contains(&"nthony".to_owned()));
    }

    #[test]
    fn long_words_index_prefixes_up_to_the_limit() {
        let words = text::words(&"x".repeat(30));
        assert_eq!(prefixes_of(&words).len(), MAX_PREFIX_CHARS);
    }

    #[test]
    fn phone_suffixes_let_local_numbers_match() {
        let suffixes = phone_suffixes("+1 (555) 010-2000");
        assert!(suffixes.contains(&"15550102000".to_owned()));
        assert!(suffixes.contains(&"5550102000".to_owned()));
        assert!(suffixes.contains(&"2000".to_owned()));
        assert!(!suffixes.contains(&"000".to_owned()));
    }

    #[test]
    fn sort_key_folds_the_name() {
        assert_eq!(sort_key("Élodie  Lefèvre"), "elodie lefevre");
    }
}
