//! The index's recent commits, each with the view of the index it left and the
//! contacts it changed: what lets a cached answer outlive the changes that do not touch
//! it.
//!
//! An answer computed at one position is still exact at a later one when no contact
//! changed in between matches its words, neither before its change nor after: the
//! contacts it matches are then the same ones with the same values, so its hits, its
//! total and its filter counts are too. (Scores are constants per kind of match and
//! area, not statistics of the index, so an unrelated change moves no score; see
//! `query`.)
//!
//! To find that out cheaply, each commit keeps the contacts it changed, as they were
//! before it and as they are after, in a small index in memory ([`Changed`]). An
//! answer is checked by running its own words on the small indexes of the commits since
//! it was last known exact: the same query, the same analyzers, so the same verdict the
//! index itself would give, over a handful of documents instead of a million. Under a
//! steady trickle of edits most cached answers are untouched by each one; without this,
//! every edit retired every answer within half a second (`MAX_STALENESS`).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use arc_swap::ArcSwap;
use tantivy::{
    Index, ReloadPolicy, Searcher, Term,
    collector::TopDocs,
    directory::RamDirectory,
    query::{Query, TermQuery},
    schema::IndexRecordOption,
    tokenizer::TokenizerManager,
};

use super::{
    query::{self, Parsed},
    replica::Replica,
    schema,
    sync::Change,
    tokenizers,
};

/// Commits kept (their views hold their segments' readers open).
const KEPT_COMMITS: usize = 128;
/// A commit changing more contacts than this (an import's batch) is not indexed for
/// checks: answers from before it are computed again.
pub const MAX_CHECKED_CONTACTS: usize = 256;
/// Memory for building a commit's small index.
const SMALL_INDEX_MEMORY: usize = 15_000_000;
/// An answer is checked against at most this many commits (each a small search); one
/// last known exact further back is computed again. At the load test's 50 visits a
/// second, 64 instead of 16 took the search cache's hits from 46% to 60% and the time
/// spent on searches down a fifth, checks averaging 0.6 ms (docs/PERFORMANCE.md).
const MAX_CHECKED_COMMITS: usize = 64;

/// The contacts one commit changed, before and after.
pub enum Changed {
    /// None (a view of the same contacts after merges).
    Nothing,
    /// Their versions before the commit and after it, in an index of their own.
    Indexed(Searcher),
    /// Too many, or not indexed: every answer from before the commit is stale.
    Unknown,
}

impl Changed {
    /// The contacts `changes` touch, as `before` holds them and as the changes leave
    /// them. Blocking.
    pub fn index(replica: &Replica, before: &Searcher, changes: &[Change]) -> Changed {
        if changes.is_empty() {
            return Changed::Nothing;
        }
        if changes.len() > MAX_CHECKED_CONTACTS {
            return Changed::Unknown;
        }
        match small_index(replica, before, changes) {
            Ok(searcher) => Changed::Indexed(searcher),
            Err(error) => {
                tracing::warn!(%error, "could not index a commit's changes for cache checks");
                Changed::Unknown
            }
        }
    }

    /// Whether this commit touched what `parsed` matches (filters aside: the counts an
    /// answer shows are of what the words match). Blocking.
    fn touches(&self, replica: &Replica, parsed: &Parsed) -> tantivy::Result<bool> {
        match self {
            Changed::Nothing => Ok(false),
            Changed::Unknown => Ok(true),
            Changed::Indexed(searcher) => {
                let words = query::text_query(searcher, &replica.fields, parsed);
                Ok(words.count(searcher)? > 0)
            }
        }
    }
}

fn small_index(
    replica: &Replica,
    before: &Searcher,
    changes: &[Change],
) -> tantivy::Result<Searcher> {
    let (schema, _) = schema::schema();
    let analyzers = TokenizerManager::default();
    tokenizers::register_in(&analyzers);
    let mut writer = Index::builder()
        .schema(schema)
        .tokenizers(analyzers)
        .single_segment_index_writer(RamDirectory::create(), SMALL_INDEX_MEMORY)?;
    let fields = &replica.fields;
    for change in changes {
        let id = change.id();
        let was = TermQuery::new(
            Term::from_field_text(fields.id, &id.to_string()),
            IndexRecordOption::Basic,
        );
        for (_, address) in before.search(&was, &TopDocs::with_limit(1).order_by_score())? {
            let old = replica.stored_contact(before, address)?;
            writer.add_document(schema::document(fields, &old))?;
        }
        if let Change::Upsert(new) = change {
            writer.add_document(schema::document(fields, new))?;
        }
    }
    let index = writer.finalize()?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    Ok(reader.searcher())
}

/// One commit as searches see it.
pub struct View {
    /// The change position the index reached with it.
    pub position: i64,
    /// The index as of this commit and no later one.
    pub searcher: Searcher,
    /// What it changed.
    changed: Changed,
}

/// The recent commits of one replica, oldest first, and the latest one.
pub struct Commits {
    latest: ArcSwap<View>,
    kept: Mutex<VecDeque<Arc<View>>>,
}

impl Commits {
    /// The log of a replica opened or built at `position`, seen by `searcher`.
    pub fn new(position: i64, searcher: Searcher) -> Self {
        let first = Arc::new(View {
            position,
            searcher,
            changed: Changed::Nothing,
        });
        Commits {
            latest: ArcSwap::new(first.clone()),
            kept: Mutex::new(VecDeque::from([first])),
        }
    }

    /// The newest view: what a search run now sees, and the position it reflects.
    pub fn latest(&self) -> Arc<View> {
        self.latest.load_full()
    }

    /// Records a commit that reached `position` by making `changed`, and makes its
    /// view, `searcher`, the one searches use.
    pub fn record(&self, position: i64, changed: Changed, searcher: Searcher) {
        let view = Arc::new(View {
            position,
            searcher,
            changed,
        });
        let mut kept = self.lock();
        kept.push_back(view.clone());
        while kept.len() > KEPT_COMMITS {
            kept.pop_front();
        }
        self.latest.store(view);
    }

    /// Whether no commit after position `from`, up to `to`, touched what `parsed`
    /// matches; `None` when the log no longer holds that stretch or it has more than
    /// [`MAX_CHECKED_COMMITS`] commits. Blocking.
    pub fn untouched(
        &self,
        replica: &Replica,
        parsed: &Parsed,
        from: i64,
        to: i64,
    ) -> tantivy::Result<Option<bool>> {
        let since: Vec<Arc<View>> = {
            let kept = self.lock();
            // The newest view at `from` (one recorded again at the same position, after
            // merges, holds the same contacts).
            let Some(start) = kept.iter().rposition(|view| view.position == from) else {
                return Ok(None);
            };
            kept.iter()
                .skip(start + 1)
                .take_while(|view| view.position <= to)
                .cloned()
                .collect()
        };
        if since.len() > MAX_CHECKED_COMMITS {
            return Ok(None);
        }
        for view in since {
            if view.changed.touches(replica, parsed)? {
                return Ok(Some(false));
            }
        }
        Ok(Some(true))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<View>>> {
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::server::search::tests::{contact, index_of};

    fn upsert(n: u128, name: &str) -> Change {
        Change::Upsert(Box::new(contact(n, name, None)))
    }

    /// A replica holding Ada Lovelace (1) and Grace Hopper (2), committed.
    fn replica() -> (tempfile::TempDir, Replica) {
        index_of(&[
            contact(1, "Ada Lovelace", None),
            contact(2, "Grace Hopper", None),
        ])
    }

    fn touches(replica: &Replica, changed: &Changed, text: &str) -> bool {
        changed.touches(replica, &query::parse(text)).unwrap()
    }

    #[test]
    fn a_commit_touches_what_its_contacts_matched_before_or_after_it() {
        let (_dir, replica) = replica();
        let before = replica.searcher();
        // Grace becomes a Lovelace.
        let renamed = Changed::index(&replica, &before, &[upsert(2, "Grace Lovelace")]);
        assert!(touches(&replica, &renamed, "lovelace"), "after the change");
        assert!(touches(&replica, &renamed, "hopper"), "before the change");
        assert!(touches(&replica, &renamed, "gra"), "a prefix, both times");
        assert!(!touches(&replica, &renamed, "ada"), "Ada did not change");
        assert!(!touches(&replica, &renamed, "lovelace ada"));

        // A deleted contact touched what it matched.
        let deleted = Changed::index(&replica, &before, &[Change::Delete(Uuid::from_u128(1))]);
        assert!(touches(&replica, &deleted, "ada"));
        assert!(!touches(&replica, &deleted, "grace"));

        // A new contact, with a typo in the search (the index's own fuzzy matching).
        let added = Changed::index(&replica, &before, &[upsert(3, "Katherine Johnson")]);
        assert!(touches(&replica, &added, "jonhson"));
        assert!(!touches(&replica, &added, "hopper"));

        // Nothing changed touches nothing; too much to index touches everything.
        assert!(!touches(&replica, &Changed::Nothing, "ada"));
        let many: Vec<Change> = (100..101 + MAX_CHECKED_CONTACTS as u128)
            .map(|n| upsert(n, "Someone Else"))
            .collect();
        let unknown = Changed::index(&replica, &before, &many);
        assert!(matches!(unknown, Changed::Unknown));
        assert!(touches(&replica, &unknown, "ada"));
    }

    #[test]
    fn the_log_checks_every_commit_since_a_view_it_still_holds() {
        let (_dir, replica) = replica();
        let searcher = replica.searcher();
        let commits = Commits::new(10, searcher.clone());
        let renamed = Changed::index(&replica, &searcher, &[upsert(2, "Grace Lovelace")]);
        commits.record(12, renamed, searcher.clone());
        commits.record(15, Changed::Nothing, searcher.clone());
        assert_eq!(commits.latest().position, 15);

        let untouched = |text: &str, from, to| {
            commits
                .untouched(&replica, &query::parse(text), from, to)
                .unwrap()
        };
        assert_eq!(untouched("ada", 10, 15), Some(true));
        assert_eq!(untouched("hopper", 10, 15), Some(false));
        assert_eq!(untouched("hopper", 10, 11), Some(true), "up to `to` only");
        assert_eq!(untouched("hopper", 12, 15), Some(true), "after `from` only");
        assert_eq!(untouched("ada", 11, 15), None, "never a view at 11");

        // Too many commits since: computed again rather than checked.
        for position in 16..16 + MAX_CHECKED_COMMITS as i64 {
            commits.record(position, Changed::Nothing, searcher.clone());
        }
        assert_eq!(
            untouched("ada", 15, 15 + MAX_CHECKED_COMMITS as i64),
            Some(true)
        );
        assert_eq!(untouched("ada", 12, 15 + MAX_CHECKED_COMMITS as i64), None);

        // Views older than the log keeps are gone.
        for position in 100..100 + KEPT_COMMITS as i64 {
            commits.record(position, Changed::Nothing, searcher.clone());
        }
        assert_eq!(untouched("ada", 15, 15), None);
        assert_eq!(untouched("ada", 200, 210), Some(true));
    }
}
