//! "Did you mean": when a search finds nothing, the nearest spelling that finds
//! something.
//!
//! Each query word that matches no word anywhere is replaced by the closest word of
//! the names, companies, titles, locations and tags (within two edits, the most
//! common on a tie). Those vocabularies are small next to the index, and this runs
//! only for searches that found nothing, so a plain walk of the dictionaries will do.

use std::collections::HashMap;

use tantivy::{Term, schema::Field};

use super::{
    query::{self, Parsed, QueryTerm},
    replica::Replica,
    schema::{Area, MAX_PREFIX_CHARS},
    text,
};
use crate::domain::search::Filters;

/// Areas whose words are offered as spellings.
const VOCABULARY: [Area; 5] = [
    Area::Name,
    Area::Company,
    Area::Title,
    Area::Location,
    Area::Tags,
];
const MAX_EDITS: usize = 2;

pub fn suggest(replica: &Replica, parsed: &Parsed) -> Option<String> {
    let Parsed::Words(terms) = parsed else {
        return None;
    };
    let mut changed = false;
    let mut words = Vec::with_capacity(terms.len());
    for term in terms {
        if is_known(replica, term) {
            words.push(term.text.clone());
            continue;
        }
        let replacement = nearest(replica, &term.text)?;
        changed = true;
        words.push(replacement);
    }
    if !changed {
        return None;
    }
    let suggestion = words.join(" ");
    let respelled = query::parse(&suggestion);
    let searcher = replica.searcher();
    let query = query::full_query(&searcher, &replica.fields, &respelled, &Filters::default());
    let found = replica.count(query.as_ref()).ok()?;
    (found > 0).then_some(suggestion)
}

/// Whether the word occurs in some area (as a prefix, for the last word).
fn is_known(replica: &Replica, term: &QueryTerm) -> bool {
    let searcher = replica.searcher();
    let fields = &replica.fields;
    let mut lookups: Vec<Field> = VOCABULARY.iter().map(|area| fields.words(*area)).collect();
    lookups.push(fields.notes_words);
    lookups.push(fields.email_words);
    if term.last && term.text.chars().count() <= MAX_PREFIX_CHARS {
        lookups.extend(VOCABULARY.iter().filter_map(|area| fields.prefixes(*area)));
    }
    lookups.into_iter().any(|field| {
        searcher
            .doc_freq(&Term::from_field_text(field, &term.text))
            .is_ok_and(|freq| freq > 0)
    })
}

/// The closest known word, preferring fewer edits, then more contacts.
fn nearest(replica: &Replica, word: &str) -> Option<String> {
    let length = word.chars().count();
    let limit = if length <= 4 { 1 } else { MAX_EDITS };
    let mut candidates: HashMap<String, (usize, u64)> = HashMap::new();
    for segment in replica.searcher().segment_readers() {
        for area in VOCABULARY {
            let Ok(inverted) = segment.inverted_index(replica.fields.words(area)) else {
                continue;
            };
            let Ok(mut stream) = inverted.terms().stream() else {
                continue;
            };
            while let Some((key, info)) = stream.next() {
                let Ok(candidate) = std::str::from_utf8(key) else {
                    continue;
                };
                if candidate.chars().count().abs_diff(length) > limit {
                    continue;
                }
                let distance = text::edit_distance(candidate, word, limit);
                if distance == 0 || distance > limit {
                    continue;
                }
                let entry = candidates
                    .entry(candidate.to_owned())
                    .or_insert((distance, 0));
                entry.1 += u64::from(info.doc_freq);
            }
        }
    }
    candidates
        .into_iter()
        .min_by(|a, b| {
            (a.1.0, std::cmp::Reverse(a.1.1), &a.0).cmp(&(b.1.0, std::cmp::Reverse(b.1.1), &b.0))
        })
        .map(|(word, _)| word)
}
