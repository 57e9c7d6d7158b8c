//! Which words of a result to mark, and the excerpt of its notes to show.
//!
//! A word is marked when it matches a query word the way the index matched it:
//! exactly, as a prefix of the last query word, or within the query word's typo
//! budget.

use super::{query::QueryTerm, text};
use crate::domain::search::{Highlight, Snippet};

/// The notes excerpt aims at this many characters.
const SNIPPET_CHARS: usize = 160;

/// How a word matches a query word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    /// The whole word (exactly, or within the typo budget).
    Whole,
    /// Its start: this many folded characters of it.
    Prefix(usize),
}

fn match_word(word: &str, term: &QueryTerm) -> Option<Match> {
    if word == term.text {
        Some(Match::Whole)
    } else if term.last && word.starts_with(term.text.as_str()) {
        Some(Match::Prefix(term.text.chars().count()))
    } else if term.typos > 0
        && text::edit_distance(word, &term.text, usize::from(term.typos)) <= usize::from(term.typos)
    {
        Some(Match::Whole)
    } else {
        None
    }
}

fn matches(word: &str, term: &QueryTerm) -> bool {
    match_word(word, term).is_some()
}

/// The byte offset in `original` where its first `folded_chars` folded characters
/// end ("José", 3 → after "Jos"; "Straße", 5 → after "Straß").
fn prefix_end(original: &str, folded_chars: usize) -> usize {
    let mut folded = 0;
    for (at, ch) in original.char_indices() {
        if folded >= folded_chars {
            return at;
        }
        folded += text::fold(ch.encode_utf8(&mut [0; 4])).chars().count();
    }
    original.len()
}

/// Byte ranges of `value` matching any of `terms`: whole words, or for the last
/// query word matched as a prefix, just the part that was typed.
pub fn highlights(value: &str, terms: &[QueryTerm]) -> Vec<Highlight> {
    if terms.is_empty() {
        return Vec::new();
    }
    text::words(value)
        .into_iter()
        .filter_map(|word| {
            let best = terms
                .iter()
                .filter_map(|term| match_word(&word.folded, term))
                .max_by_key(|found| match found {
                    Match::Whole => usize::MAX,
                    Match::Prefix(chars) => *chars,
                })?;
            let end = match best {
                Match::Whole => word.end,
                Match::Prefix(chars) => {
                    word.start + prefix_end(&value[word.start..word.end], chars)
                }
            };
            Some(Highlight {
                start: word.start as u32,
                end: end as u32,
            })
        })
        .collect()
}

/// The query words that match no word of any of `values`.
pub fn unexplained<'a>(
    terms: &[QueryTerm],
    values: impl Iterator<Item = &'a str>,
) -> Vec<QueryTerm> {
    let mut left: Vec<QueryTerm> = terms.to_vec();
    for value in values {
        if left.is_empty() {
            break;
        }
        let words = text::words(value);
        left.retain(|term| !words.iter().any(|word| matches(&word.folded, term)));
    }
    left
}

/// An excerpt of `notes` around its first matching word, or `None` if no word
/// matches.
pub fn snippet(notes: &str, terms: &[QueryTerm]) -> Option<Snippet> {
    if terms.is_empty() {
        return None;
    }
    let marks = highlights(notes, terms);
    let first = *marks.first()?;
    // Start a little before the first match, at a character boundary.
    let lead = SNIPPET_CHARS / 4;
    let mut start = first.start as usize;
    for _ in 0..lead {
        match notes[..start].char_indices().next_back() {
            Some((at, _)) => start = at,
            None => break,
        }
    }
    // Prefer to start at a word boundary.
    if start > 0
        && let Some(space) = notes[start..first.start as usize].find(' ')
    {
        start += space + 1;
    }
    let end = notes[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(notes.len(), |(at, _)| start + at);
    let text = notes[start..end].to_owned();
    let highlights = marks
        .into_iter()
        .filter(|mark| mark.start as usize >= start && mark.end as usize <= end)
        .map(|mark| Highlight {
            start: mark.start - start as u32,
            end: mark.end - start as u32,
        })
        .collect();
    Some(Snippet {
        text,
        highlights,
        cut_before: start > 0,
        cut_after: end < notes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::search::query::{Parsed, parse};

    fn terms(query: &str) -> Vec<QueryTerm> {
        match parse(query) {
            Parsed::Words(terms) => terms,
            other => panic!("words expected, got {other:?}"),
        }
    }

    fn marked<'a>(value: &'a str, marks: &[Highlight]) -> Vec<&'a str> {
        marks
            .iter()
            .map(|m| &value[m.start as usize..m.end as usize])
            .collect()
    }

    #[test]
    fn marks_exact_prefix_and_fuzzy_words() {
        let name = "José Peña-Anthonyson Maya";
        assert_eq!(
            marked(name, &highlights(name, &terms("jose ma"))),
            ["José", "Ma"]
        );
        assert_eq!(marked(name, &highlights(name, &terms("pe jos"))), ["Jos"]);
        assert_eq!(marked(name, &highlights(name, &terms("pena"))), ["Peña"]);
        // The budget is the query word's: "penna" has five letters, so one typo.
        assert_eq!(marked(name, &highlights(name, &terms("penna"))), ["Peña"]);
        assert!(highlights(name, &terms("zzz")).is_empty());
    }

    #[test]
    fn a_typed_prefix_is_marked_up_to_where_typing_stopped() {
        let name = "Straße O'Brien";
        assert_eq!(marked(name, &highlights(name, &terms("strass"))), ["Straß"]);
        assert_eq!(marked(name, &highlights(name, &terms("obr"))), ["O'Br"]);
        assert_eq!(
            marked(name, &highlights(name, &terms("obrien"))),
            ["O'Brien"]
        );
    }

    #[test]
    fn a_non_final_word_is_not_a_prefix() {
        let name = "Maya May";
        assert_eq!(marked(name, &highlights(name, &terms("may x"))), ["May"]);
    }

    #[test]
    fn words_matched_elsewhere_need_no_excerpt() {
        let left = unexplained(
            &terms("anthony fundraising"),
            ["Anthony May", "Partner"].into_iter(),
        );
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].text, "fundraising");
        assert!(unexplained(&terms("may"), ["Anthony May"].into_iter()).is_empty());
    }

    #[test]
    fn snippet_centres_on_the_first_match() {
        let notes = format!(
            "{} Interested in Series A fundraising. {}",
            "Filler words here. ".repeat(20),
            "More filler after. ".repeat(20)
        );
        let snippet = snippet(&notes, &terms("fundraising")).unwrap();
        assert!(snippet.cut_before && snippet.cut_after);
        assert!(snippet.text.chars().count() <= SNIPPET_CHARS);
        assert_eq!(marked(&snippet.text, &snippet.highlights), ["fundraising"]);
    }

    #[test]
    fn snippet_is_none_without_a_match_and_survives_multibyte_text() {
        assert!(snippet("nothing to see", &terms("fundraising")).is_none());
        let notes = "Ünïcödé ".repeat(100) + "Zürich";
        let snippet = snippet(&notes, &terms("zurich")).unwrap();
        assert_eq!(marked(&snippet.text, &snippet.highlights), ["Zürich"]);
    }
}
