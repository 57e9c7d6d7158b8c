//! Search: a local tantivy index per process, kept in step with Postgres by the
//! change feed, with a two-level cache in front.
//!
//! - [`text`]: what a word is (shared by index, query and highlighter)
//! - [`tokenizers`]: the index's analyzers, built on [`text`]
//! - [`schema`]: fields, and how a contact becomes a document
//! - [`query`]: from typed text and filters to a tantivy query
//! - [`replica`]: one index on disk; running a search against it
//! - [`facets`]: counts per tier, location, company and tag in the same pass
//! - [`highlight`], [`suggest`]: marking matches; "did you mean"
//! - [`sync`]: the follower that builds the index and applies the feed
//! - [`changes`]: the recent commits, so cached answers outlive changes that do not
//!   touch them

pub mod changes;
pub mod facets;
pub mod files;
pub mod highlight;
pub mod query;
pub mod replica;
pub mod schema;
pub mod suggest;
pub mod sync;
pub mod text;
pub mod tokenizers;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::Instant,
};

use arc_swap::ArcSwapOption;
use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::Semaphore;
use uuid::Uuid;

use self::{
    changes::{Commits, View},
    replica::{Outcome, Replica},
    schema::IndexedContact,
};
use super::{
    cache::{CacheNamespace, Flights},
    error::{Error, Result},
    monitor::window::now_ms,
};
use crate::domain::{
    Tier,
    custom::CustomField,
    search::{ChoiceFacet, FacetValue, Facets, SearchHit, SearchPage, SearchQuery},
};

/// Facet values listed per filter (the selected ones are always listed too).
const FACET_VALUES_SHOWN: usize = 12;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IndexState {
    Starting,
    Building { indexed: u64, total: u64 },
    Ready,
    Failed { reason: String },
}

/// The index's health, for `/health/deep` and the dashboard.
#[derive(Clone, Debug, Serialize)]
pub struct IndexStatus {
    #[serde(flatten)]
    pub state: IndexState,
    /// Whether searches are answered from an index (else from the slower fallback).
    pub serving: bool,
    pub documents: u64,
    /// The change sequence applied, and the highest one Postgres had when last checked.
    pub position: i64,
    pub database_position: i64,
    pub lag: i64,
}

/// The index writer's memory unless a setting says otherwise: the default of
/// `ROSTER_INDEX_WRITER_MB`.
pub const DEFAULT_WRITER_MEMORY: usize = 256 * 1024 * 1024;

/// How the index uses memory: the settings `ROSTER_INDEX_WRITER_MB`,
/// `ROSTER_INDEX_MAP_ALL` and `ROSTER_FACET_COUNTS_MB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Bytes for the index writer's gathered documents.
    pub writer_memory: usize,
    /// Map every index file into memory, not only the columns and the term
    /// dictionaries (see [`files`]).
    pub map_all: bool,
    /// Bytes of facet counts kept per query (see [`facets`]).
    pub kept_counts: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            writer_memory: DEFAULT_WRITER_MEMORY,
            map_all: false,
            kept_counts: facets::DEFAULT_KEPT_COUNTS_BYTES,
        }
    }
}

/// The process's index: the replica being served and where it stands.
pub struct SearchIndex {
    root: PathBuf,
    tuning: Tuning,
    replica: ArcSwapOption<Published>,
    database_position: AtomicI64,
    state: Mutex<IndexState>,
    /// Woken whenever the served position moves.
    advanced: tokio::sync::Notify,
}

/// A replica together with its recent commits, the latest of which holds the position
/// it has reached; swapped as one.
pub struct Published {
    pub replica: Arc<Replica>,
    pub directory: Uuid,
    /// Its recent commits, each with its view of the index.
    pub commits: Commits,
}

impl Published {
    /// What a search run now sees, and the position that reflects.
    pub fn view(&self) -> Arc<View> {
        self.commits.latest()
    }

    /// The change position searches see.
    pub fn position(&self) -> i64 {
        self.commits.latest().position
    }
}

impl SearchIndex {
    /// The index under `root`, tuned by default.
    pub fn new(root: PathBuf) -> Arc<Self> {
        Self::tuned(root, Tuning::default())
    }

    /// The index under `root`, tuned by `tuning`.
    pub fn tuned(root: PathBuf, tuning: Tuning) -> Arc<Self> {
        Arc::new(SearchIndex {
            root,
            tuning,
            replica: ArcSwapOption::empty(),
            database_position: AtomicI64::new(0),
            state: Mutex::new(IndexState::Starting),
            advanced: tokio::sync::Notify::new(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// The replica being served, if there is one.
    pub fn current(&self) -> Option<Arc<Published>> {
        self.replica.load_full()
    }

    /// Serves `replica`, which holds every change up to `position` and no later one.
    fn publish(&self, replica: Arc<Replica>, directory: Uuid, position: i64) {
        let commits = Commits::new(position, replica.searcher());
        self.replica.store(Some(Arc::new(Published {
            replica,
            directory,
            commits,
        })));
        self.advanced.notify_waiters();
    }

    /// The change position searches currently see (0 with no index).
    pub fn position(&self) -> i64 {
        self.current().map_or(0, |published| published.position())
    }

    /// Waits until searches see every change up to `position`, or `timeout` passes.
    /// Returns whether they do. Lets a write's own author find it in search at once.
    pub async fn wait_for(&self, position: i64, timeout: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let advanced = self.advanced.notified();
            if self.position() >= position {
                return true;
            }
            if tokio::time::timeout_at(deadline, advanced).await.is_err() {
                return self.position() >= position;
            }
        }
    }

    /// Searches now see `searcher`: the served replica after a commit that reached
    /// `position` by making the changes `changed` (none, for a view of the same
    /// contacts after merges).
    fn advance(&self, position: i64, changed: changes::Changed, searcher: tantivy::Searcher) {
        if let Some(published) = self.replica.load().as_ref() {
            published.commits.record(position, changed, searcher);
        }
        self.advanced.notify_waiters();
    }

    fn note_database_position(&self, position: i64) {
        self.database_position.store(position, Ordering::Relaxed);
    }

    fn set_state(&self, state: IndexState) {
        let mut current = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *current != state {
            *current = state;
            drop(current);
            // Searches waiting for an index being opened learn it is being built.
            self.advanced.notify_waiters();
        }
    }

    /// The served index; or, while the process is still opening one (`Starting`: it
    /// has not found out yet whether one is on disk), that one once served, waiting at
    /// most `timeout`. `None` once it is known that one must be built: searches then
    /// fall back to Postgres rather than wait for the build.
    pub async fn current_or_opening(&self, timeout: std::time::Duration) -> Option<Arc<Published>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let advanced = self.advanced.notified();
            if let Some(published) = self.current() {
                return Some(published);
            }
            let starting = matches!(
                *self
                    .state
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                IndexState::Starting
            );
            if !starting || tokio::time::timeout_at(deadline, advanced).await.is_err() {
                return self.current();
            }
        }
    }

    pub fn status(&self) -> IndexStatus {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let published = self.current();
        let position = published.as_ref().map_or(0, |p| p.position());
        let database_position = self.database_position.load(Ordering::Relaxed).max(position);
        IndexStatus {
            state,
            serving: published.is_some(),
            documents: published.as_ref().map_or(0, |p| p.replica.num_docs()),
            position,
            database_position,
            lag: database_position - position,
        }
    }
}

/// How long after it was computed a cached answer may still be served although the
/// index has moved on since. Without this every change anyone saves would retire
/// every cached answer at once (under a steady trickle of edits almost nothing would
/// be served from the cache); with it each distinct search is computed at most about
/// twice a second per instance however busy the editors are. The person who made a
/// change never sees an answer from before it (see [`SearchService::search`]).
pub const MAX_STALENESS: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a search that arrives while the process opens its index on disk waits for
/// it (opening a million contacts' index takes about 0.4 s) rather than falling back to
/// Postgres, whose matching reads the whole table (seconds at a million, with a cold
/// cache).
const OPENING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a search waits for this instance's index to reach a change its session
/// made (on another instance, or before the save's own wait timed out).
const READ_YOUR_WRITES_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A cached answer and the point in the change feed it reflects.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct CachedPage {
    /// The index position the answer was computed at (it reflects every change up to it).
    pub position: i64,
    /// When it was computed, milliseconds since the Unix epoch (instances share Redis,
    /// so this is wall-clock time, not an `Instant`).
    pub computed_at_ms: i64,
    pub page: SearchPage,
    /// A later position this process found it still exact at (see [`changes`]).
    #[serde(skip)]
    checked: Mutex<Checked>,
}

/// A position an answer was found still exact at, and when (milliseconds since the
/// Unix epoch); zero for never.
#[derive(Clone, Copy, Debug, Default)]
struct Checked {
    position: i64,
    at_ms: i64,
}

/// What to do with a cached answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Serve it.
    Serve,
    /// Serve it if no contact changed since this position touches it.
    CheckSince(i64),
    /// Compute the answer again.
    Stale,
}

impl CachedPage {
    pub fn new(position: i64, computed_at_ms: i64, page: SearchPage) -> Self {
        CachedPage {
            position,
            computed_at_ms,
            page,
            checked: Mutex::default(),
        }
    }

    /// The latest position the answer is known exact at, and since when.
    fn exact_at(&self) -> Checked {
        let checked = *self.checked();
        if checked.position > self.position {
            checked
        } else {
            Checked {
                position: self.position,
                at_ms: self.computed_at_ms,
            }
        }
    }

    /// Notes that the answer is still exact at `position`, as found at `at_ms`.
    fn mark_exact(&self, position: i64, at_ms: i64) {
        let mut checked = self.checked();
        if position > checked.position {
            *checked = Checked { position, at_ms };
        }
    }

    fn checked(&self) -> std::sync::MutexGuard<'_, Checked> {
        self.checked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `other` is this very answer: the same computation, whether held here or
    /// read back from Redis (where a copy is a new value, so identity by address
    /// would miss it).
    pub fn is_same_answer(&self, other: &CachedPage) -> bool {
        self.position == other.position && self.computed_at_ms == other.computed_at_ms
    }

    /// Whether this answer may be served to a session that has seen changes up to
    /// `seen`, when the index is at `current` and the time is `now_ms`.
    pub fn serves(&self, seen: i64, current: i64, now_ms: i64) -> bool {
        let exact = self.exact_at();
        fresh_enough(exact.position, exact.at_ms, seen, current, now_ms)
    }

    /// [`Self::serves`], or else whether it may be served once checked against what
    /// changed since it was last known exact. An answer that found nothing is computed
    /// again instead: its "did you mean" depends on every word in the index.
    pub fn freshness(&self, seen: i64, current: i64, now_ms: i64) -> Freshness {
        if self.serves(seen, current, now_ms) {
            return Freshness::Serve;
        }
        let exact = self.exact_at();
        if exact.position < current && self.page.total > 0 {
            Freshness::CheckSince(exact.position)
        } else {
            Freshness::Stale
        }
    }
}

/// Whether something computed at index `position` and time `computed_at_ms` may be
/// served to a session that has seen changes up to `seen`, when the index is at
/// `current` and the time is `now_ms`: never if it predates the session's own changes;
/// else if the index has not moved since, or for [`MAX_STALENESS`] after.
pub fn fresh_enough(
    position: i64,
    computed_at_ms: i64,
    seen: i64,
    current: i64,
    now_ms: i64,
) -> bool {
    position >= seen
        && (position >= current
            || now_ms.saturating_sub(computed_at_ms) <= MAX_STALENESS.as_millis() as i64)
}

/// A search's answer, and where it came from.
pub enum Found {
    /// A cached answer, still current.
    Kept(Arc<CachedPage>),
    /// Computed for this request (or for another asking the same at the same moment).
    Computed(Arc<CachedPage>),
    /// Before the first index: from Postgres, not kept.
    Fallback(Box<SearchPage>),
}

pub struct SearchService {
    pub index: Arc<SearchIndex>,
    cache: CacheNamespace<CachedPage>,
    db: PgPool,
    /// Searches running at once on blocking threads (about one per core).
    permits: Semaphore,
    /// The same search asked at the same moment runs once.
    flights: Flights<CachedPage>,
    /// The live custom fields as read when the index stood at a position (they name
    /// the choice facets): every change to them moves the index (see
    /// `server::custom_fields`), so they are read again once it has.
    fields: ArcSwapOption<(i64, Arc<[CustomField]>)>,
    /// Held while they are read: under a stream of edits the index moves many times a
    /// second, and every search page asked at that moment would read them at once.
    fields_reading: tokio::sync::Mutex<()>,
}

impl SearchService {
    pub fn new(index: Arc<SearchIndex>, cache: CacheNamespace<CachedPage>, db: PgPool) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchService {
            index,
            cache,
            db,
            permits: Semaphore::new(cores * 2),
            flights: Flights::default(),
            fields: ArcSwapOption::empty(),
            fields_reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The custom fields as the index's position last saw them (read from Postgres
    /// when the index has moved since).
    pub async fn custom_fields(&self) -> Result<Arc<[CustomField]>> {
        let position = self.index.position();
        let read_since = || {
            self.fields
                .load_full()
                .filter(|seen| seen.0 >= position)
                .map(|seen| seen.1.clone())
        };
        if let Some(fields) = read_since() {
            return Ok(fields);
        }
        // One reads them; the others asking meanwhile take what it read.
        let _reading = self.fields_reading.lock().await;
        if let Some(fields) = read_since() {
            return Ok(fields);
        }
        let position = self.index.position();
        let fields: Arc<[CustomField]> = super::db::custom_fields::all(&self.db).await?.into();
        self.fields
            .store(Some(Arc::new((position, fields.clone()))));
        Ok(fields)
    }

    /// Names the page's choice facets by their fields, in the fields' order (a page
    /// is kept without them, as a rename does not change its matches).
    pub async fn name_choices(&self, page: &mut SearchPage) -> Result<()> {
        if !page.facets.choices.is_empty() {
            name_choice_facets(&mut page.facets, &self.custom_fields().await?);
        }
        Ok(())
    }

    /// What names the choice facets of `page` show, as one number (0 when it shows
    /// none): something rendered from the page is current while this is the same.
    pub async fn choice_names_key(&self, page: &SearchPage) -> Result<u64> {
        if page.facets.choices.is_empty() {
            return Ok(0);
        }
        Ok(names_key(&self.custom_fields().await?))
    }

    pub fn cache(&self) -> &CacheNamespace<CachedPage> {
        &self.cache
    }

    /// A page of results, for a session that has itself written every change up to
    /// index position `seen` (0 if it has written nothing): from the cache when an
    /// answer is current enough (see [`CachedPage::freshness`]), else from the index
    /// (or, while there is none yet, from Postgres). If this instance's index has not
    /// yet reached `seen` (the change was saved through another instance), it waits
    /// for it, briefly.
    pub async fn search(&self, query: SearchQuery, seen: i64) -> Result<SearchPage> {
        let started = Instant::now();
        let found = self.answer(query, seen).await?;
        self.present(found, started).await
    }

    /// The page for an answer found since `started`, its choice filters named.
    pub async fn present(&self, found: Found, started: Instant) -> Result<SearchPage> {
        let took_micros = started.elapsed().as_micros() as u64;
        let mut page = match found {
            Found::Kept(cached) => SearchPage {
                cached: true,
                took_micros,
                ..cached.page.clone()
            },
            Found::Computed(cached) => SearchPage {
                took_micros,
                ..cached.page.clone()
            },
            Found::Fallback(page) => *page,
        };
        self.name_choices(&mut page).await?;
        Ok(page)
    }

    /// [`Self::search`]'s answer as it is kept: callers that keep something made from
    /// it (a rendered page) can tell by its identity whether it is still the answer.
    pub async fn answer(&self, query: SearchQuery, seen: i64) -> Result<Found> {
        let started = Instant::now();
        if self.index.current().is_some() && self.index.position() < seen {
            self.index.wait_for(seen, READ_YOUR_WRITES_WAIT).await;
        }
        let Some(published) = self.index.current_or_opening(OPENING_WAIT).await else {
            let page = self.fallback(query, started).await;
            record_duration("fallback", started);
            return page.map(|page| Found::Fallback(Box::new(page)));
        };
        // The position and the view searches see, taken together.
        let view = published.view();
        let position = view.position;
        let key = format!(
            "{}:{}:{}",
            published.directory,
            schema::SCHEMA_VERSION,
            query.to_query_string()
        );
        let kept = match self.cache.peek(&key).await {
            Some((cached, layer)) => match cached.freshness(seen, position, now_ms()) {
                Freshness::Serve => {
                    self.cache.count_hit(layer);
                    record_duration("cached", started);
                    return Ok(Found::Kept(cached));
                }
                Freshness::CheckSince(since) => Some((cached, layer, since)),
                Freshness::Stale => None,
            },
            None => None,
        };

        // Shared only by callers wanting the same search at the same position.
        let flight = format!("{key}@{position}");
        let answer = self
            .flights
            .run(&flight, || async {
                let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
                if let Some((cached, _, since)) = &kept
                    && self
                        .still_exact(&published, &view, &query, *since)
                        .await
                        .unwrap_or_else(|error| {
                            tracing::warn!(%error, "could not check a cached answer");
                            false
                        })
                {
                    cached.mark_exact(position, now_ms());
                    return Ok::<_, Error>(cached.clone());
                }
                let replica = published.replica.clone();
                let view = view.clone();
                let page =
                    tokio::task::spawn_blocking(move || run_on(&replica, &view.searcher, query))
                        .await
                        .map_err(anyhow::Error::from)??;
                let cached = Arc::new(CachedPage::new(position, now_ms(), page));
                self.cache.put(key.clone(), cached.clone());
                Ok(cached)
            })
            .await?;
        match kept {
            Some((cached, layer, _)) if Arc::ptr_eq(&cached, &answer) => {
                self.cache.count_hit(layer);
                record_duration("checked", started);
                Ok(Found::Kept(answer))
            }
            _ => {
                self.cache.count_miss();
                record_duration("uncached", started);
                Ok(Found::Computed(answer))
            }
        }
    }

    /// Whether no contact changed after position `since` (up to `view`) touches what
    /// `query` shows: its words match none of them, before or after its change.
    async fn still_exact(
        &self,
        published: &Arc<Published>,
        view: &Arc<View>,
        query: &SearchQuery,
        since: i64,
    ) -> Result<bool> {
        let published = published.clone();
        let to = view.position;
        let parsed = query::parse(&query.text);
        let untouched = tokio::task::spawn_blocking(move || {
            published
                .commits
                .untouched(&published.replica, &parsed, since, to)
        })
        .await
        .map_err(anyhow::Error::from)?
        .map_err(anyhow::Error::from)?;
        Ok(untouched == Some(true))
    }

    /// Before the first index is built: matching in Postgres, newest first, without
    /// typo tolerance or facet counts. The page says so.
    async fn fallback(&self, query: SearchQuery, started: Instant) -> Result<SearchPage> {
        let words = text::folded_words(&query.text);
        let email = match query::parse(&query.text) {
            query::Parsed::Email(email) => Some(email),
            _ => None,
        };
        let hits = super::db::contacts::search_fallback(&self.db, &query, &words, email.as_deref())
            .await?;
        let total = hits.len() as u64;
        Ok(SearchPage {
            hits: hits
                .into_iter()
                .map(|contact| SearchHit {
                    contact,
                    name_highlights: Vec::new(),
                    notes_snippet: None,
                })
                .collect(),
            total,
            query,
            took_micros: started.elapsed().as_micros() as u64,
            degraded: true,
            ..Default::default()
        })
    }
}

/// A search against one replica as it now stands, dressed as the page shows it.
/// Blocking.
pub fn run(replica: &Replica, query: SearchQuery) -> Result<SearchPage> {
    run_on(replica, &replica.searcher(), query)
}

/// [`run`] on `searcher`, one view of the replica. Blocking.
pub fn run_on(
    replica: &Replica,
    searcher: &tantivy::Searcher,
    query: SearchQuery,
) -> Result<SearchPage> {
    let parsed = query::parse(&query.text);
    let Outcome {
        hits,
        total,
        facets,
    } = replica
        .search(searcher, &query, &parsed)
        .map_err(anyhow::Error::from)?;
    let terms = parsed.terms();
    let hits = hits
        .into_iter()
        .map(|contact| hit(contact, terms))
        .collect::<Result<Vec<_>>>()?;
    let suggestion = if total == 0 {
        suggest::suggest(replica, &parsed)
    } else {
        None
    };
    let filters = &query.filters;
    let facets = Facets {
        tiers: Tier::ALL
            .iter()
            .map(|tier| {
                let count = facets.tiers[usize::from(tier.get())];
                (*tier, count, filters.tiers.contains(tier))
            })
            .collect(),
        locations: facet_values(facets.locations, &filters.locations),
        countries: facet_values(facets.countries, &filters.countries),
        companies: facet_values(facets.companies, &filters.companies),
        tags: facet_values(facets.tags, &filters.tags),
        choices: choice_facets(facets.choices, &filters.choices),
    };
    Ok(SearchPage {
        query,
        hits,
        total,
        facets,
        suggestion,
        ..Default::default()
    })
}

fn hit(contact: IndexedContact, terms: &[query::QueryTerm]) -> Result<SearchHit> {
    let summary = contact.summary();
    let card = &contact.card;
    let name_highlights = highlight::highlights(&card.name, terms);
    // The notes excerpt explains a match the other fields do not: look in the notes
    // only for the words nothing else matched.
    let places: Vec<String> = card.addresses.iter().map(|a| a.one_line()).collect();
    let unexplained = highlight::unexplained(
        terms,
        [
            Some(card.name.as_str()),
            card.company.as_deref(),
            card.title.as_deref(),
            card.department.as_deref(),
        ]
        .into_iter()
        .flatten()
        .chain(card.emails.iter().map(|e| e.value.as_str()))
        .chain(places.iter().map(String::as_str))
        .chain(
            [&card.name_parts.nickname, &card.name_parts.middle]
                .into_iter()
                .flatten()
                .map(String::as_str),
        )
        .chain(card.tags.iter().map(String::as_str)),
    );
    let notes_snippet = card
        .notes
        .as_deref()
        .filter(|_| !unexplained.is_empty())
        .and_then(|notes| highlight::snippet(notes, &unexplained));
    Ok(SearchHit {
        contact: summary,
        name_highlights,
        notes_snippet,
    })
}

/// The most frequent values (then alphabetical), with every selected value included.
/// The choices counted, by custom field (in id order; the page names and orders them
/// by the live fields, [`name_choice_facets`]).
fn choice_facets(counts: HashMap<String, u64>, selected: &[String]) -> Vec<ChoiceFacet> {
    let mut by_field: std::collections::BTreeMap<i32, HashMap<String, u64>> = Default::default();
    for (value, count) in counts {
        if let Some((field, _)) = crate::domain::search::parse_choice_value(&value) {
            by_field.entry(field).or_default().insert(value, count);
        }
    }
    for value in selected {
        if let Some((field, _)) = crate::domain::search::parse_choice_value(value) {
            by_field.entry(field).or_default();
        }
    }
    by_field
        .into_iter()
        .map(|(field, counts)| {
            let mine: Vec<String> = selected
                .iter()
                .filter(|value| {
                    crate::domain::search::parse_choice_value(value).map(|(f, _)| f) == Some(field)
                })
                .cloned()
                .collect();
            ChoiceFacet {
                field,
                name: String::new(),
                values: facet_values(counts, &mine),
            }
        })
        .collect()
}

/// The custom fields' names (with their ids and whether retired) as one number: by
/// what names them, not by the list's address, which a later list may reuse.
pub fn names_key(fields: &[CustomField]) -> u64 {
    let names: String = fields
        .iter()
        .map(|field| format!("{}:{}:{}\n", field.id, field.retired, field.name))
        .collect();
    xxhash_rust::xxh3::xxh3_64(names.as_bytes())
}

/// Names each choice facet by its field and puts them in the fields' order; the
/// facets of fields no longer live are left out.
pub fn name_choice_facets(facets: &mut Facets, fields: &[crate::domain::custom::CustomField]) {
    let mut named: Vec<ChoiceFacet> = Vec::new();
    for field in fields.iter().filter(|field| !field.retired) {
        if let Some(mut facet) = facets
            .choices
            .iter()
            .find(|facet| facet.field == field.id)
            .cloned()
        {
            facet.name.clone_from(&field.name);
            named.push(facet);
        }
    }
    facets.choices = named;
}

fn facet_values(counts: HashMap<String, u64>, selected: &[String]) -> Vec<FacetValue> {
    let mut values: Vec<(String, u64)> = counts.into_iter().collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut shown: Vec<FacetValue> = values
        .iter()
        .take(FACET_VALUES_SHOWN)
        .map(|(value, count)| FacetValue {
            value: value.clone(),
            count: *count,
            selected: selected.contains(value),
        })
        .collect();
    for value in selected {
        if !shown.iter().any(|shown| &shown.value == value) {
            let count = values
                .iter()
                .find(|(v, _)| v == value)
                .map_or(0, |(_, c)| *c);
            shown.push(FacetValue {
                value: value.clone(),
                count,
                selected: true,
            });
        }
    }
    shown
}

/// `search_duration_seconds` by kind: `cached`, `checked` (cached, and found untouched
/// by the changes since: see [`changes`]), `uncached` (the index), `fallback`
/// (Postgres, before the first index is built), `page` (the whole page kept, see
/// `http::page_cache`: the search is a person's all the same, answered without running).
pub(crate) fn record_duration(kind: &'static str, started: Instant) {
    metrics::histogram!("search_duration_seconds", "kind" => kind)
        .record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests;
