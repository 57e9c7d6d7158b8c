//! The index's analyzers, registered with tantivy so that its indexing threads (not
//! the thread feeding them) do the work. Each is a thin wrapper over [`super::text`],
//! which the query builder and the highlighter use too.

use tantivy::{
    Index,
    tokenizer::{Token, TokenStream, Tokenizer, TokenizerManager},
};

use super::{
    schema::{MAX_PREFIX_CHARS, MIN_OTHER_PREFIX_CHARS},
    text,
};

/// Words shorter than this are not indexed in notes: "a", "at", "in" are in most
/// notes and would make every short query match the whole directory.
pub const MIN_NOTES_WORD_CHARS: usize = 3;

/// Phone numbers are indexed by every digit suffix at least this long, so
/// "5550102000" finds "+1 (555) 010-2000".
const MIN_PHONE_SUFFIX: usize = 4;

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Folded words.
    Words,
    /// Folded words of at least [`MIN_NOTES_WORD_CHARS`] letters.
    NotesWords,
    /// Every prefix of every folded word (edge n-grams): for names.
    Prefixes,
    /// The prefixes of at least [`MIN_OTHER_PREFIX_CHARS`] letters: for the other
    /// areas, where shorter ones are never searched.
    OtherPrefixes,
    /// All folded words joined by single spaces, as one term.
    Whole,
    /// An email address, trimmed and lower-cased, as one term.
    Email,
    /// The words of an email address, without its top-level domain.
    EmailWords,
    /// Their prefixes of at least [`MIN_OTHER_PREFIX_CHARS`] letters.
    EmailPrefixes,
    /// Every digit suffix of a phone number.
    Phone,
}

/// Registers every analyzer under the name the schema uses.
pub fn register(index: &Index) {
    register_in(index.tokenizers());
}

/// [`register`] into `manager`, for an index built with it.
pub fn register_in(manager: &TokenizerManager) {
    for (name, kind) in [
        (WORDS, Kind::Words),
        (NOTES_WORDS, Kind::NotesWords),
        (PREFIXES, Kind::Prefixes),
        (OTHER_PREFIXES, Kind::OtherPrefixes),
        (WHOLE, Kind::Whole),
        (EMAIL, Kind::Email),
        (EMAIL_WORDS, Kind::EmailWords),
        (EMAIL_PREFIXES, Kind::EmailPrefixes),
        (PHONE, Kind::Phone),
    ] {
        manager.register(
            name,
            Analyzer {
                kind,
                tokens: Vec::new(),
            },
        );
    }
}

pub const WORDS: &str = "roster_words";
pub const NOTES_WORDS: &str = "roster_notes_words";
pub const PREFIXES: &str = "roster_prefixes";
pub const OTHER_PREFIXES: &str = "roster_other_prefixes";
pub const WHOLE: &str = "roster_whole";
pub const EMAIL: &str = "roster_email";
pub const EMAIL_WORDS: &str = "roster_email_words";
pub const EMAIL_PREFIXES: &str = "roster_email_prefixes";
pub const PHONE: &str = "roster_phone";

/// The terms an analyzer makes of `value` (for tests and the query side).
pub fn terms(kind_name: &str, value: &str) -> Vec<String> {
    let kind = match kind_name {
        WORDS => Kind::Words,
        NOTES_WORDS => Kind::NotesWords,
        PREFIXES => Kind::Prefixes,
        OTHER_PREFIXES => Kind::OtherPrefixes,
        WHOLE => Kind::Whole,
        EMAIL => Kind::Email,
        EMAIL_WORDS => Kind::EmailWords,
        EMAIL_PREFIXES => Kind::EmailPrefixes,
        _ => Kind::Phone,
    };
    analyze(kind, value)
}

fn analyze(kind: Kind, value: &str) -> Vec<String> {
    match kind {
        Kind::Words => text::folded_words(value),
        Kind::NotesWords => text::folded_words(value)
            .into_iter()
            .filter(|word| word.chars().count() >= MIN_NOTES_WORD_CHARS)
            .collect(),
        Kind::Prefixes => prefixes(text::folded_words(value), 1),
        Kind::OtherPrefixes => prefixes(text::folded_words(value), MIN_OTHER_PREFIX_CHARS),
        Kind::Whole => {
            let whole = text::folded_words(value).join(" ");
            if whole.is_empty() {
                Vec::new()
            } else {
                vec![whole]
            }
        }
        Kind::Email => {
            let email = text::normalize_email(value);
            if email.is_empty() {
                Vec::new()
            } else {
                vec![email]
            }
        }
        Kind::EmailWords => email_words(value),
        Kind::EmailPrefixes => prefixes(email_words(value), MIN_OTHER_PREFIX_CHARS),
        Kind::Phone => {
            let digits = text::digits(value);
            (0..digits.len())
                .map(|start| digits[start..].to_owned())
                .filter(|suffix| suffix.len() >= MIN_PHONE_SUFFIX)
                .collect()
        }
    }
}

/// "jose.pena48213@northwind.example" → jose, pena48213, northwind: the local part
/// and the domain without its last label, which every address shares with millions.
fn email_words(value: &str) -> Vec<String> {
    let value = value.trim();
    let (local, domain) = value.rsplit_once('@').unwrap_or((value, ""));
    let domain = domain.rsplit_once('.').map_or(domain, |(rest, _tld)| rest);
    let mut words = text::folded_words(local);
    words.extend(text::folded_words(domain));
    words
}

/// Every prefix of every word from `shortest` characters up to [`MAX_PREFIX_CHARS`].
fn prefixes(words: Vec<String>, shortest: usize) -> Vec<String> {
    let mut out = Vec::new();
    for word in words {
        let mut prefix = String::new();
        for (count, ch) in (1..).zip(word.chars().take(MAX_PREFIX_CHARS)) {
            prefix.push(ch);
            if count >= shortest {
                out.push(prefix.clone());
            }
        }
    }
    out
}

#[derive(Clone)]
struct Analyzer {
    kind: Kind,
    tokens: Vec<Token>,
}

impl Tokenizer for Analyzer {
    type TokenStream<'a> = Tokens<'a>;

    fn token_stream<'a>(&'a mut self, value: &'a str) -> Tokens<'a> {
        self.tokens.clear();
        for (position, text) in analyze(self.kind, value).into_iter().enumerate() {
            self.tokens.push(Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            });
        }
        Tokens {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

struct Tokens<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_every_word_start() {
        let found = terms(PREFIXES, "Anthony May");
        for expected in ["a", "an", "anthony", "m", "ma", "may"] {
            assert!(found.contains(&expected.to_owned()), "{expected}");
        }
        assert!(!found.contains(&"nthony".to_owned()));
        assert_eq!(terms(PREFIXES, &"x".repeat(30)).len(), MAX_PREFIX_CHARS);
    }

    #[test]
    fn other_areas_keep_only_the_prefixes_searched_there() {
        assert_eq!(
            terms(OTHER_PREFIXES, "Lyon Co"),
            ["lyo", "lyon"],
            "no one- or two-letter prefixes, no word shorter than three"
        );
        assert_eq!(
            terms(EMAIL_PREFIXES, "ana.li@home.example"),
            ["ana", "hom", "home"]
        );
    }

    #[test]
    fn phone_suffixes_let_local_numbers_match() {
        let suffixes = terms(PHONE, "+1 (555) 010-2000");
        assert!(suffixes.contains(&"15550102000".to_owned()));
        assert!(suffixes.contains(&"5550102000".to_owned()));
        assert!(suffixes.contains(&"2000".to_owned()));
        assert!(!suffixes.contains(&"000".to_owned()));
    }

    #[test]
    fn email_words_leave_out_the_top_level_domain() {
        assert_eq!(
            terms(EMAIL_WORDS, "José.Peña48213@Northwind.example"),
            ["jose", "pena48213", "northwind"]
        );
        assert_eq!(terms(EMAIL, " Ana@Example.COM "), ["ana@example.com"]);
    }

    #[test]
    fn notes_skip_the_shortest_words() {
        assert_eq!(
            terms(NOTES_WORDS, "Met at a demo day in Lisbon"),
            ["met", "demo", "day", "lisbon"]
        );
    }

    #[test]
    fn whole_names_fold_into_one_term() {
        assert_eq!(terms(WHOLE, "Élodie  Lefèvre"), ["elodie lefevre"]);
        assert!(terms(WHOLE, "🎉").is_empty());
    }
}
