//! Search: a local tantivy index per process, kept in step with Postgres by the
//! change feed, with a two-level cache in front.
//!
//! - [`text`]: what a word is (shared by index, query and highlighter)
//! - [`schema`]: fields, and how a contact becomes a document
//! - [`query`]: from typed text and filters to a tantivy query
//! - [`replica`]: one index on disk; running a search against it
//! - [`facets`]: counts per tier, location, company and tag in the same pass
//! - [`highlight`], [`suggest`]: marking matches; "did you mean"
//! - [`sync`]: the follower that builds the index and applies the feed

pub mod facets;
pub mod highlight;
pub mod query;
pub mod replica;
pub mod schema;
pub mod suggest;
pub mod sync;
pub mod text;

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
    replica::{Outcome, Replica},
    schema::IndexedContact,
};
use super::{
    cache::CacheNamespace,
    error::{Error, Result},
};
use crate::domain::{
    ContactSummary, Tier,
    search::{FacetValue, Facets, SearchHit, SearchPage, SearchQuery},
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

/// The process's index: the replica being served and where it stands.
pub struct SearchIndex {
    root: PathBuf,
    replica: ArcSwapOption<Published>,
    database_position: AtomicI64,
    state: Mutex<IndexState>,
}

/// A replica together with the position it has reached, swapped as one.
pub struct Published {
    pub replica: Arc<Replica>,
    pub directory: Uuid,
    pub position: AtomicI64,
}

impl SearchIndex {
    pub fn new(root: PathBuf) -> Arc<Self> {
        Arc::new(SearchIndex {
            root,
            replica: ArcSwapOption::empty(),
            database_position: AtomicI64::new(0),
            state: Mutex::new(IndexState::Starting),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The replica being served, if there is one.
    pub fn current(&self) -> Option<Arc<Published>> {
        self.replica.load_full()
    }

    fn publish(&self, replica: Arc<Replica>, directory: Uuid, position: i64) {
        self.replica.store(Some(Arc::new(Published {
            replica,
            directory,
            position: AtomicI64::new(position),
        })));
    }

    fn advance(&self, position: i64) {
        if let Some(published) = self.replica.load().as_ref() {
            published.position.store(position, Ordering::Release);
        }
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
        }
    }

    pub fn status(&self) -> IndexStatus {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let published = self.current();
        let position = published
            .as_ref()
            .map_or(0, |p| p.position.load(Ordering::Acquire));
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

pub struct SearchService {
    pub index: Arc<SearchIndex>,
    cache: CacheNamespace<SearchPage>,
    db: PgPool,
    /// Searches running at once on blocking threads (about one per core).
    permits: Semaphore,
}

impl SearchService {
    pub fn new(index: Arc<SearchIndex>, cache: CacheNamespace<SearchPage>, db: PgPool) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchService {
            index,
            cache,
            db,
            permits: Semaphore::new(cores * 2),
        }
    }

    pub fn cache(&self) -> &CacheNamespace<SearchPage> {
        &self.cache
    }

    /// A page of results: from the cache when this exact search was answered at the
    /// index's current position, else from the index (or, while there is none yet,
    /// from Postgres).
    pub async fn search(&self, query: SearchQuery) -> Result<SearchPage> {
        let started = Instant::now();
        let Some(published) = self.index.current() else {
            return self.fallback(query, started).await;
        };
        let generation = published.position.load(Ordering::Acquire);
        // The position is in the key: once a change is applied, no earlier answer is used.
        let key = format!(
            "{}:{generation}:{}:{}",
            published.directory,
            schema::SCHEMA_VERSION,
            query.to_query_string()
        );
        if let Some(page) = self.cache.get(&key).await {
            let mut page = (*page).clone();
            page.cached = true;
            page.took_micros = started.elapsed().as_micros() as u64;
            return Ok(page);
        }

        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        let replica = published.replica.clone();
        let mut page = tokio::task::spawn_blocking(move || run(&replica, query))
            .await
            .map_err(anyhow::Error::from)??;
        self.cache.put(key, Arc::new(page.clone()));
        page.took_micros = started.elapsed().as_micros() as u64;
        Ok(page)
    }

    /// Before the first index is built: matching in Postgres, newest first, without
    /// typo tolerance or facet counts. The page says so.
    async fn fallback(&self, query: SearchQuery, started: Instant) -> Result<SearchPage> {
        let words = text::folded_words(&query.text);
        let hits = super::db::contacts::search_fallback(&self.db, &query, &words).await?;
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

/// A search against one replica, dressed as the page shows it. Blocking.
pub fn run(replica: &Replica, query: SearchQuery) -> Result<SearchPage> {
    let parsed = query::parse(&query.text);
    let Outcome {
        hits,
        total,
        facets,
    } = replica
        .search(&query, &parsed)
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
        companies: facet_values(facets.companies, &filters.companies),
        tags: facet_values(facets.tags, &filters.tags),
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
    let tier = Tier::try_from(contact.tier).map_err(|_| {
        Error::Other(anyhow::anyhow!(
            "indexed contact {} has tier {}",
            contact.id,
            contact.tier
        ))
    })?;
    let name_highlights = highlight::highlights(&contact.name, terms);
    let notes_snippet = contact
        .notes
        .as_deref()
        .and_then(|notes| highlight::snippet(notes, terms));
    Ok(SearchHit {
        contact: ContactSummary {
            id: contact.id,
            name: contact.name,
            email: contact.email,
            company: contact.company,
            title: contact.title,
            location: contact.location,
            tier,
            tags: contact.tags,
        },
        name_highlights,
        notes_snippet,
    })
}

/// The most frequent values (then alphabetical), with every selected value included.
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
