//! One process's copy of the index: where it lives on disk, how it is opened and
//! checked, and how a search runs against it.
//!
//! Layout under `<data dir>/index/`: one folder per build (`build-<timestamp>`), and
//! a file `ACTIVE` naming the one in use, replaced atomically when a new build is
//! ready. Each commit carries a payload recording what the index holds: the schema
//! version, the directory it was built from, and the change sequence it has reached.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, Order, ReloadPolicy, Searcher, TantivyDocument,
    collector::TopDocs, query::Query, schema::Value,
};
use uuid::Uuid;

use super::{
    Tuning,
    facets::{ColumnCache, FacetCollector, FacetCounts},
    files::IndexFiles,
    query::{self, Parsed},
    schema::{self, Fields, IndexedContact, SCHEMA_VERSION},
    tokenizers,
};
use crate::domain::search::{RESULTS_PER_PAGE, SearchQuery, SortOrder};

const ACTIVE_FILE: &str = "ACTIVE";
const DOCSTORE_BLOCK_BYTES: usize = 4_096;

/// What an index commit records about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub schema: u32,
    pub directory: Uuid,
    /// The highest change sequence applied.
    pub position: i64,
}

pub struct Replica {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub path: PathBuf,
    /// Facet columns decoded per segment, and kept counts (see [`ColumnCache`]).
    pub(super) columns: ColumnCache,
}

impl Replica {
    fn from_index(mut index: Index, path: PathBuf, tuning: Tuning) -> anyhow::Result<Replica> {
        tokenizers::register(&index);
        // Large searches split across segments on every core.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        index.set_multithread_executor(cores)?;
        let (_, fields) = schema::schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Replica {
            index,
            reader,
            fields,
            path,
            columns: ColumnCache::new(tuning.kept_counts),
        })
    }

    /// A new, empty index in a fresh folder under `root`, tuned by `tuning`.
    pub fn create(root: &Path, tuning: Tuning) -> anyhow::Result<Replica> {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let path = root.join(format!("build-{stamp}"));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("creating the index folder {}", path.display()))?;
        let (schema, _) = schema::schema();
        let settings = IndexSettings {
            // Small blocks: fetching a page of hits decompresses 50 small blocks, not 50
            // large ones.
            docstore_blocksize: DOCSTORE_BLOCK_BYTES,
            ..IndexSettings::default()
        };
        let index = Index::builder()
            .schema(schema)
            .settings(settings)
            .open_or_create(IndexFiles::open(&path, tuning.map_all)?)?;
        Self::from_index(index, path, tuning)
    }

    /// The active index under `root` with its payload, after checking every file's
    /// checksum, tuned by `tuning`. `Ok(None)` when there is none; an error when it is
    /// unreadable.
    pub fn open_active(root: &Path, tuning: Tuning) -> anyhow::Result<Option<(Replica, Payload)>> {
        let active = match std::fs::read_to_string(root.join(ACTIVE_FILE)) {
            Ok(name) => name.trim().to_owned(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error).context("reading the index's ACTIVE file"),
        };
        if active.is_empty() || active.contains('/') || active.contains("..") {
            bail!("the index's ACTIVE file names {active:?}, which is not an index folder");
        }
        let path = root.join(&active);
        if !path.is_dir() {
            return Ok(None);
        }
        // Checked whole through a mapping of its own, dropped after: checked through
        // the index served, every page would stay counted as the process's own.
        let corrupted = Index::open_in_dir(&path)
            .context("opening the search index")?
            .validate_checksum()
            .context("checking the search index")?;
        if !corrupted.is_empty() {
            bail!("search index files are corrupted: {corrupted:?}");
        }
        let index = Index::open(IndexFiles::open(&path, tuning.map_all)?)
            .context("opening the search index")?;
        let payload = index
            .load_metas()?
            .payload
            .as_deref()
            .and_then(|text| serde_json::from_str::<Payload>(text).ok());
        let Some(payload) = payload else {
            bail!("the search index has no readable payload");
        };
        if payload.schema != SCHEMA_VERSION {
            bail!(
                "the search index has schema version {}, this build uses {SCHEMA_VERSION}",
                payload.schema
            );
        }
        let replica = Self::from_index(index, path, tuning)?;
        replica
            .columns
            .refresh(replica.searcher().segment_readers())?;
        Ok(Some((replica, payload)))
    }

    /// Makes this replica the one opened on the next start, and removes older builds.
    pub fn make_active(&self, root: &Path) -> anyhow::Result<()> {
        let name = self
            .path
            .file_name()
            .and_then(|name| name.to_str())
            .context("index folder has no name")?;
        let temporary = root.join(format!("{ACTIVE_FILE}.new"));
        std::fs::write(&temporary, name)?;
        std::fs::rename(&temporary, root.join(ACTIVE_FILE))?;
        for entry in std::fs::read_dir(root)?.flatten() {
            let path = entry.path();
            let is_build = entry.file_name().to_string_lossy().starts_with("build-");
            if is_build
                && path != self.path
                && let Err(error) = std::fs::remove_dir_all(&path)
            {
                tracing::warn!(path = %path.display(), %error, "could not remove an old index build");
            }
        }
        Ok(())
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Makes the last commit visible to searches, with the facet columns of its new
    /// segments decoded ahead of them. Blocking.
    pub fn reload(&self) -> tantivy::Result<()> {
        self.reader.reload()?;
        self.columns.refresh(self.searcher().segment_readers())
    }

    /// Forgets the facet counts kept per query, so the next searches count every
    /// matching document (what a search costs on segments it has not seen).
    pub fn forget_kept_counts(&self) {
        self.columns.forget_tallies();
    }

    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Runs a search: the page of hits, the total, and the facet counts, in two
    /// passes over the matching documents that each do as little as they can:
    ///
    /// - the page: the top documents in the requested order, of the words and the
    ///   filters. In relevance order, tantivy skips every document that cannot beat
    ///   the current fiftieth, so this pass is cheap even for millions of matches.
    ///   Equal scores keep index order, which the build makes newest first.
    /// - the counts: what the words alone match, with the filters applied from the
    ///   columns as it goes (see [`FacetCollector`]), reading columns a block at a
    ///   time since no score is needed.
    ///
    /// Runs on `searcher`, a view of this replica (see [`super::changes`]).
    pub fn search(
        &self,
        searcher: &Searcher,
        request: &SearchQuery,
        parsed: &Parsed,
    ) -> tantivy::Result<Outcome> {
        let filters = &request.filters;
        let words = query::text_query(searcher, &self.fields, parsed);
        let page_query = if filters.is_empty() {
            None
        } else {
            Some(query::full_query(searcher, &self.fields, parsed, filters))
        };
        let page_query = page_query.as_deref().unwrap_or(words.as_ref());
        let offset = (request.page.max(1) as usize - 1) * RESULTS_PER_PAGE;
        let top = TopDocs::with_limit(RESULTS_PER_PAGE).and_offset(offset);

        let addresses: Vec<DocAddress> = match request.sort {
            SortOrder::Relevance => searcher
                .search(page_query, &top.order_by_score())?
                .into_iter()
                .map(|(_, at)| at)
                .collect(),
            SortOrder::Newest => searcher
                .search(
                    page_query,
                    &top.order_by_fast_field::<i64>("created_at", Order::Desc),
                )?
                .into_iter()
                .map(|(_, at)| at)
                .collect(),
            SortOrder::Name => searcher
                .search(
                    page_query,
                    &top.order_by_string_fast_field("sort_name", Order::Asc),
                )?
                .into_iter()
                .map(|(_, at)| at)
                .collect(),
        };
        let facets = searcher.search(
            words.as_ref(),
            &FacetCollector {
                filters,
                columns: &self.columns,
                key: format!("{words:?} {filters:?}").into(),
            },
        )?;

        let hits = addresses
            .into_iter()
            .map(|address| self.stored_contact(searcher, address))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Outcome {
            hits,
            total: facets.total,
            facets,
        })
    }

    /// Every contact the search matches, in its order (for exports): the searcher they
    /// were found with and their addresses in it, to be read with [`Self::stored_contacts`]
    /// a chunk at a time. Blocking.
    pub fn matches(
        &self,
        request: &SearchQuery,
        parsed: &Parsed,
    ) -> tantivy::Result<(Searcher, Vec<DocAddress>)> {
        let searcher = self.searcher();
        let query = query::full_query(&searcher, &self.fields, parsed, &request.filters);
        let total = query.count(&searcher)?;
        if total == 0 {
            return Ok((searcher, Vec::new()));
        }
        let top = TopDocs::with_limit(total);
        let addresses: Vec<DocAddress> = match request.sort {
            SortOrder::Relevance => searcher
                .search(query.as_ref(), &top.order_by_score())?
                .into_iter()
                .map(|(_, at)| at)
                .collect(),
            SortOrder::Newest => searcher
                .search(
                    query.as_ref(),
                    &top.order_by_fast_field::<i64>("created_at", Order::Desc),
                )?
                .into_iter()
                .map(|(_, at)| at)
                .collect(),
            SortOrder::Name => searcher
                .search(
                    query.as_ref(),
                    &top.order_by_string_fast_field("sort_name", Order::Asc),
                )?
                .into_iter()
                .map(|(_, at)| at)
                .collect(),
        };
        Ok((searcher, addresses))
    }

    /// The stored contacts at `addresses` in `searcher` (from [`Self::matches`]). Blocking.
    pub fn stored_contacts(
        &self,
        searcher: &Searcher,
        addresses: &[DocAddress],
    ) -> tantivy::Result<Vec<IndexedContact>> {
        addresses
            .iter()
            .map(|address| self.stored_contact(searcher, *address))
            .collect()
    }

    /// How many contacts a query matches.
    pub fn count(&self, query: &dyn Query) -> tantivy::Result<u64> {
        Ok(query.count(&self.searcher())? as u64)
    }

    pub(super) fn stored_contact(
        &self,
        searcher: &Searcher,
        address: DocAddress,
    ) -> tantivy::Result<IndexedContact> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let json = doc
            .get_first(self.fields.stored)
            .and_then(|value| value.as_str())
            .unwrap_or_default();
        serde_json::from_str(json).map_err(|error| {
            tantivy::TantivyError::InternalError(format!("stored contact is unreadable: {error}"))
        })
    }

    /// Every stored contact (for checks that compare the index with Postgres).
    pub fn all_contacts(&self) -> tantivy::Result<Vec<IndexedContact>> {
        let searcher = self.searcher();
        let mut contacts = Vec::new();
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc in segment.doc_ids_alive() {
                contacts.push(
                    self.stored_contact(&searcher, DocAddress::new(segment_ord as u32, doc))?,
                );
            }
        }
        Ok(contacts)
    }
}

/// What a search found, before it is dressed for the page.
pub struct Outcome {
    pub hits: Vec<IndexedContact>,
    pub total: u64,
    pub facets: FacetCounts,
}
