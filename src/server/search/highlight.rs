//! Which words of a result to mark, and the excerpt of its notes to show.
//!
//! A word is marked when it matches a query word the way the index matched it:
//! exactly, as a prefix of the last query word, or within the query word's typo
//! budget.

use super::{query::QueryTerm, text};
use crate::domain::search::{Highlight, Snippet};

/// The notes excerpt aims at this many characters.
const SNIPPET_CHARS: usize = 160;

fn matches(word: &str, term: &QueryTerm) -> bool {
    word == term.text
        || (term.last && word.starts_with(term.text.as_str()))
        || (term.typos > 0
            && text::edit_distance(word, &term.text, usize::from(term.typos))
                <= usize::from(term.typos))
}

/// Byte ranges of the words of `value` that match any of `terms`.
pub fn highlights(value: &str, terms: &[QueryTerm]) -> Vec<Highlight> {
    if terms.is_empty() {
        return Vec::new();
    }
    text::words(value)
        .into_iter()
        .filter(|word| terms.iter().any(|term| matches(&word.folded, term)))
        .map(|word| Highlight {
            start: word.start as u32,
            end: word.end as u32,
        })
        .collect()
}

/// An excerpt of `notes` around its first matching word, or `None` if no word
/// matches.
pub fn snippet(notes: &str, terms: &[QueryTerm]) -> Option<Snippet> {
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
            ["José", "Maya"]
        );
        assert_eq!(marked(name, &highlights(name, &terms("pena"))), ["Peña"]);
        // The budget is the query word's: "penna" has five letters, so one typo.
        assert_eq!(marked(name, &highlights(name, &terms("penna"))), ["Peña"]);
        assert!(highlights(name, &terms("zzz")).is_empty());
    }

    #[test]
    fn a_non_final_word_is_not_a_prefix() {
        let name = "Maya May";
        assert_eq!(marked(name, &highlights(name, &terms("may x"))), ["May"]);
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
