//! From what the user typed to a tantivy query.
//!
//! Every word must match somewhere; the last word also matches as a prefix (search as
//! you type); words of five letters or more also match with typos (see
//! [`text::typo_budget`]). A word's score is its best match, by kind and by area:
//! kind (exact 4 > prefix 2 > fuzzy 1) times the area's weight (name highest). Scores
//! are constants rather than BM25, so the order is what the product promises —
//! exact before prefix before fuzzy, name before notes — whatever the statistics of
//! each replica's index. A contact whose whole name is the query gets a bonus above
//! all of that. Equal scores keep index order (see `Replica::search`).
//!
//! Alternatives whose term occurs nowhere are left out while the query is built, so
//! most words become one or two term lookups rather than a union of many.

use tantivy::{
    Searcher, Term,
    query::{
        AllQuery, BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery,
        Occur, Query, TermQuery,
    },
    schema::{Field, IndexRecordOption},
};

use super::{
    schema::{Area, Fields, MAX_PREFIX_CHARS, MIN_OTHER_PREFIX_CHARS},
    text,
    tokenizers::MIN_NOTES_WORD_CHARS,
};
use crate::domain::search::Filters;

/// At most this many words of a query are used; the rest are ignored.
pub const MAX_TERMS: usize = 12;

const EXACT: f32 = 4.0;
const PREFIX: f32 = 2.0;
const FUZZY: f32 = 1.0;
/// Above any sum of word scores: the query is the contact's whole name.
const WHOLE_NAME_BONUS: f32 = 1_000.0;

/// One word of the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryTerm {
    pub text: String,
    /// The last word, matched as a prefix too.
    pub last: bool,
    pub typos: u8,
}

/// What the query text asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Nothing searchable (empty, or only punctuation): every contact.
    Everything,
    /// One email address: that contact only.
    Email(String),
    /// A phone number: contacts whose number ends with these digits, or with the
    /// digits of its E.164 form (when it reads as a whole number in the default region,
    /// so "020 7946 0958" finds "+44 20 7946 0958").
    Phone {
        digits: String,
        e164: Option<String>,
    },
    Words(Vec<QueryTerm>),
}

impl Parsed {
    pub fn terms(&self) -> &[QueryTerm] {
        match self {
            Parsed::Words(terms) => terms,
            _ => &[],
        }
    }
}

pub fn parse(text: &str) -> Parsed {
    let text = text.trim();
    if text::looks_like_email(text) {
        return Parsed::Email(text::normalize_email(text));
    }
    if text::looks_like_phone(text) {
        let digits = text::digits(text);
        let e164 = crate::domain::Phone::parse(text)
            .ok()
            .flatten()
            .and_then(|phone| crate::server::phones::e164(&phone))
            .map(|e164| text::digits(&e164))
            .filter(|e164| *e164 != digits);
        return Parsed::Phone { digits, e164 };
    }
    let mut words = text::folded_words(text);
    words.truncate(MAX_TERMS);
    if words.is_empty() {
        return Parsed::Everything;
    }
    let count = words.len();
    Parsed::Words(
        words
            .into_iter()
            .enumerate()
            .map(|(i, word)| QueryTerm {
                typos: text::typo_budget(&word),
                last: i + 1 == count,
                text: word,
            })
            .collect(),
    )
}

fn term(field: Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn constant(query: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

fn exact(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(term(field, text), IndexRecordOption::Basic))
}

/// The shortest last word that is matched as a prefix in each area. One- and
/// two-letter prefixes only look at names: "a" anywhere would match most of the
/// directory (the index holds no shorter ones elsewhere).
pub fn min_prefix_chars(area: Area) -> usize {
    match area {
        Area::Name => 1,
        Area::Company | Area::Location | Area::Tags | Area::Email | Area::Title => {
            MIN_OTHER_PREFIX_CHARS
        }
        Area::Phone => 3,
        Area::Notes => 4,
    }
}

/// Whether any document holds this term. Checked while building a query so that
/// alternatives that cannot match are left out (a union of one is no union at all).
fn occurs(searcher: &Searcher, term: &Term) -> bool {
    searcher.doc_freq(term).is_ok_and(|freq| freq > 0)
}

/// Everything one word may match, each alternative scored by kind and area; `None`
/// if it can match nothing.
fn word_query(searcher: &Searcher, fields: &Fields, word: &QueryTerm) -> Option<Box<dyn Query>> {
    let chars = word.text.chars().count();
    let is_number = word.text.chars().all(|ch| ch.is_ascii_digit());
    let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
    for area in Area::ALL {
        if area == Area::Phone && (!is_number || chars < 3) {
            continue;
        }
        if area == Area::Notes && chars < MIN_NOTES_WORD_CHARS {
            continue;
        }
        let weight = area.weight();
        let words = fields.words(area);
        if occurs(searcher, &term(words, &word.text)) {
            alternatives.push(constant(exact(words, &word.text), EXACT * weight));
        }

        if word.last && chars >= min_prefix_chars(area) {
            match fields.prefixes(area) {
                Some(prefixes) if chars <= MAX_PREFIX_CHARS => {
                    if occurs(searcher, &term(prefixes, &word.text)) {
                        alternatives.push(constant(exact(prefixes, &word.text), PREFIX * weight));
                    }
                }
                // No prefix field, or a prefix longer than it holds: walk the word
                // dictionary with a prefix automaton (a narrow walk at this length).
                _ => alternatives.push(constant(
                    Box::new(FuzzyTermQuery::new_prefix(term(words, &word.text), 0, true)),
                    PREFIX * weight,
                )),
            }
        }

        if word.typos > 0 && !matches!(area, Area::Notes | Area::Phone | Area::Email) {
            let fuzzy = FuzzyTermQuery::new(term(words, &word.text), word.typos, true);
            alternatives.push(constant(Box::new(fuzzy), FUZZY * weight));
        }
    }
    match alternatives.len() {
        0 => None,
        1 => alternatives.pop(),
        _ => Some(Box::new(DisjunctionMaxQuery::new(alternatives))),
    }
}

/// The query for the words alone (no filters).
pub fn text_query(searcher: &Searcher, fields: &Fields, parsed: &Parsed) -> Box<dyn Query> {
    match parsed {
        Parsed::Everything => Box::new(AllQuery),
        Parsed::Email(email) => constant(exact(fields.email_exact, email), EXACT),
        Parsed::Phone { digits, e164 } => {
            let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
            for digits in std::iter::once(digits).chain(e164) {
                let suffix = term(fields.phone_suffixes, digits);
                alternatives.push(constant(
                    Box::new(TermQuery::new(suffix.clone(), IndexRecordOption::Basic)),
                    EXACT,
                ));
                alternatives.push(constant(
                    Box::new(FuzzyTermQuery::new_prefix(suffix, 0, true)),
                    PREFIX,
                ));
            }
            Box::new(DisjunctionMaxQuery::new(alternatives))
        }
        Parsed::Words(words) => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(words.len() + 1);
            for word in words {
                match word_query(searcher, fields, word) {
                    Some(query) => clauses.push((Occur::Must, query)),
                    // A word that can match nothing makes the whole query match nothing.
                    None => return Box::new(EmptyQuery),
                }
            }
            let whole: Vec<&str> = words.iter().map(|word| word.text.as_str()).collect();
            let whole = term(fields.name_exact, &whole.join(" "));
            if occurs(searcher, &whole) {
                clauses.push((
                    Occur::Should,
                    constant(
                        Box::new(TermQuery::new(whole, IndexRecordOption::Basic)),
                        WHOLE_NAME_BONUS,
                    ),
                ));
            }
            if clauses.len() == 1 {
                return clauses.pop().expect("one clause").1;
            }
            Box::new(BooleanQuery::new(clauses))
        }
    }
}

/// The filter clauses: values within a filter are alternatives, tags all required.
pub fn filter_clauses(fields: &Fields, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
    let any_of = |terms: Vec<Term>| -> Box<dyn Query> {
        Box::new(BooleanQuery::new(
            terms
                .into_iter()
                .map(|term| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                })
                .collect(),
        ))
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !filters.tiers.is_empty() {
        let terms = filters
            .tiers
            .iter()
            .map(|tier| Term::from_field_u64(fields.tier, u64::from(tier.get())))
            .collect();
        clauses.push((Occur::Must, any_of(terms)));
    }
    if !filters.locations.is_empty() {
        let terms = filters
            .locations
            .iter()
            .map(|v| term(fields.location, v))
            .collect();
        clauses.push((Occur::Must, any_of(terms)));
    }
    if !filters.countries.is_empty() {
        let terms = filters
            .countries
            .iter()
            .map(|v| term(fields.country, v))
            .collect();
        clauses.push((Occur::Must, any_of(terms)));
    }
    if !filters.companies.is_empty() {
        let terms = filters
            .companies
            .iter()
            .map(|v| term(fields.company, v))
            .collect();
        clauses.push((Occur::Must, any_of(terms)));
    }
    for (field, values) in [
        (fields.tag, &filters.tags),
        (fields.choice, &filters.choices),
    ] {
        for value in values {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(term(field, value), IndexRecordOption::Basic)),
            ));
        }
    }
    clauses
}

/// The words and the filters together; filters do not change scores.
pub fn full_query(
    searcher: &Searcher,
    fields: &Fields,
    parsed: &Parsed,
    filters: &Filters,
) -> Box<dyn Query> {
    let filter_clauses = filter_clauses(fields, filters);
    if filter_clauses.is_empty() {
        return text_query(searcher, fields, parsed);
    }
    let mut clauses = vec![(Occur::Must, text_query(searcher, fields, parsed))];
    for (occur, clause) in filter_clauses {
        clauses.push((occur, constant(clause, 0.0)));
    }
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_is_marked_and_budgets_follow_length() {
        let Parsed::Words(terms) = parse("Anthony  Maye") else {
            panic!("words expected");
        };
        assert_eq!(
            terms,
            vec![
                QueryTerm {
                    text: "anthony".into(),
                    last: false,
                    typos: 1
                },
                QueryTerm {
                    text: "maye".into(),
                    last: true,
                    typos: 0
                },
            ]
        );
    }

    #[test]
    fn queries_are_normalized_like_the_index() {
        let Parsed::Words(terms) = parse("JOSÉ Peña-López") else {
            panic!("words expected");
        };
        let texts: Vec<&str> = terms.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["jose", "pena", "lopez"]);
    }

    #[test]
    fn emails_and_phones_are_recognised() {
        assert_eq!(
            parse(" Jose.Pena@Example.COM "),
            Parsed::Email("jose.pena@example.com".into())
        );
        assert_eq!(
            parse("+1 (555) 010-2000"),
            Parsed::Phone {
                digits: "15550102000".into(),
                e164: None
            }
        );
        // Read in the default region (US unless set): the national form finds the
        // international one.
        assert_eq!(
            parse("(201) 555-0123"),
            Parsed::Phone {
                digits: "2015550123".into(),
                e164: Some("12015550123".into())
            }
        );
    }

    #[test]
    fn punctuation_only_means_everything() {
        for text in ["", "   ", "\"\"", "*", ":()", "🎉", "-- ' ;"] {
            assert_eq!(parse(text), Parsed::Everything, "{text:?}");
        }
    }

    #[test]
    fn very_long_queries_keep_a_bounded_number_of_words() {
        let long = "word ".repeat(2_000);
        assert_eq!(parse(&long).terms().len(), MAX_TERMS);
    }
}
