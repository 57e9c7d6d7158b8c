//! Keeping the local index in step with Postgres.
//!
//! One task per process owns the index writer. At start it opens the index on disk
//! and checks it belongs to this database and is not ahead of it; otherwise it builds
//! a new one from a consistent snapshot while the site keeps serving (searches use
//! the old index if it is still usable, else a slower Postgres path). Then it follows
//! the change feed (see `migrations/0002_change_feed.sql`): woken by NOTIFY, and
//! polling as well, it reads every change above the position it has reached, applies
//! them, commits with the new position in the commit payload, and reloads the reader.
//! Index work runs on blocking threads, never on the async workers.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use sqlx::{PgPool, postgres::PgListener};
use tantivy::{
    IndexWriter, Searcher, TantivyError, Term,
    directory::error::LockError,
    indexer::{LogMergePolicy, NoMergePolicy},
};
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    IndexState, SearchIndex,
    changes::Changed,
    replica::{Payload, Replica},
    schema::{self, IndexedContact, SCHEMA_VERSION},
};
use crate::server::db;

/// How often the feed is polled when no notification arrives.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Changes read and applied per commit.
const BATCH: i64 = 5_000;
/// The least time from one commit's start to the next under a stream of changes: each
/// commit costs the same whatever it holds (a segment, a reload, a small index of what
/// changed, one more commit for every cached answer to be checked against), so under
/// a stream of edits changes are gathered for up to this long rather than committed
/// one by one. A lone change still goes in at once.
const COMMIT_EVERY: Duration = Duration::from_millis(100);
/// Contacts read per query while building.
const BUILD_BATCH: i64 = 10_000;
/// The least memory tantivy lets one indexing thread have, with room to spare: a
/// budget is split over as many threads as cores, but never below this each.
const THREAD_MEMORY_FLOOR: usize = 32 * 1024 * 1024;
/// Segments under this many documents form the lowest merge level (tantivy's default
/// is 10,000, made for bulk loads). Under a trickle of edits every commit adds a
/// segment of a few documents; with the default, each merge of those also rewrote
/// the ten-thousand-document segment they had grown into so far, and merging took
/// an eighth of the server's CPU at the load test's sustained rate. With a small
/// floor, segments merge with others of their own size (eight at a time), so a
/// document is rewritten once per level it climbs, a handful of times in all.
const MERGE_FLOOR_DOCS: u32 = 100;
/// A segment with more than this share of its documents deleted (edited contacts
/// leave their old version behind) is merged anew, even alone, so searches do not
/// step over ever more dead documents.
const MERGE_DELETED_SHARE: f32 = 0.25;
/// Channels the follower listens on.
pub const CHANGES_CHANNEL: &str = "contacts_changed";
pub const REINDEX_CHANNEL: &str = "roster_reindex";

pub enum Change {
    Upsert(Box<IndexedContact>),
    Delete(Uuid),
}

impl Change {
    pub fn id(&self) -> Uuid {
        match self {
            Change::Upsert(contact) => contact.id,
            Change::Delete(id) => *id,
        }
    }
}

/// One entry of the feed as a change: a live contact as it now is, or a deletion
/// (soft or hard). The row holds the feed's `deleted` and `feed_id` columns and, for a
/// live contact, every column of `contacts`.
fn into_change(row: &sqlx::postgres::PgRow) -> anyhow::Result<Change> {
    use sqlx::{FromRow, Row};
    let id: Uuid = row.try_get("feed_id")?;
    if row.try_get::<bool, _>("deleted")? {
        return Ok(Change::Delete(id));
    }
    let contact = db::contacts::ContactRow::from_row(row)?.into_contact()?;
    Ok(Change::Upsert(Box::new(IndexedContact::from(contact))))
}

/// The feed after `position`, at most `BATCH` entries, read in one statement (one
/// snapshot), oldest first: each with the contact's columns when it is live.
async fn fetch_changes(db: &PgPool, position: i64) -> sqlx::Result<Vec<sqlx::postgres::PgRow>> {
    sqlx::query(
        "SELECT f.change_seq AS feed_seq, f.deleted, f.id AS feed_id, c.*,
                k.domain AS company_domain FROM (
            (SELECT change_seq, deleted_at IS NOT NULL AS deleted, id
               FROM contacts WHERE change_seq > $1 ORDER BY change_seq LIMIT $2)
            UNION ALL
            (SELECT change_seq, true, id
               FROM contact_tombstones WHERE change_seq > $1 ORDER BY change_seq LIMIT $2)
         ) AS f LEFT JOIN contacts c ON NOT f.deleted AND c.id = f.id
           LEFT JOIN companies k ON k.id = c.company_id
         ORDER BY f.change_seq LIMIT $2",
    )
    .bind(position)
    .bind(BATCH)
    .fetch_all(db)
    .await
}

/// The highest change sequence Postgres has committed.
pub async fn database_position(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT greatest(
            (SELECT coalesce(max(change_seq), 0) FROM contacts),
            (SELECT coalesce(max(change_seq), 0) FROM contact_tombstones))",
    )
    .fetch_one(db)
    .await
}

pub async fn directory_id(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("SELECT id FROM directory")
        .fetch_one(db)
        .await
}

/// The live index: the replica being served and the one writer that updates it.
struct Live {
    replica: Arc<Replica>,
    /// `None` only after a failed apply, until it is reopened.
    writer: Option<IndexWriter>,
    payload: Payload,
}

/// Why following stopped.
enum Stop {
    Shutdown,
    Reindex,
}

pub struct Follower {
    db: PgPool,
    index: Arc<SearchIndex>,
    shutdown: watch::Receiver<bool>,
}

impl Follower {
    pub fn new(db: PgPool, index: Arc<SearchIndex>, shutdown: watch::Receiver<bool>) -> Self {
        Follower {
            db,
            index,
            shutdown,
        }
    }

    /// Runs until shutdown: opens or builds the index, then follows the feed.
    pub async fn run(mut self) {
        let mut backoff = Duration::from_millis(200);
        let mut force_rebuild = false;
        loop {
            let live = if force_rebuild {
                self.build().await
            } else {
                self.open_or_build().await
            };
            let live = match live {
                Ok(live) => live,
                Err(error) => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "search index unavailable; retrying"
                    );
                    self.index.set_state(IndexState::Failed {
                        reason: "the search index could not be opened or built".to_owned(),
                    });
                    if self.sleep_or_shutdown(backoff).await {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            backoff = Duration::from_millis(200);
            match self.follow(live).await {
                Stop::Shutdown => return,
                Stop::Reindex => force_rebuild = true,
            }
        }
    }

    /// Sleeps, returning early (with `true`) if shutdown is requested.
    async fn sleep_or_shutdown(&mut self, duration: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => false,
            _ = self.shutdown.changed() => true,
        }
    }

    async fn open_or_build(&mut self) -> anyhow::Result<Live> {
        let directory = directory_id(&self.db).await?;
        let database_position = database_position(&self.db).await?;
        let root = self.index.root().to_owned();
        let tuning = self.index.tuning();
        let opened =
            tokio::task::spawn_blocking(move || Replica::open_active(&root, tuning)).await?;
        match opened {
            Ok(Some((replica, payload)))
                if payload.directory == directory && payload.position <= database_position =>
            {
                let writer = open_writer(&replica, self.index.tuning().writer_memory)?;
                tracing::info!(
                    documents = replica.num_docs(),
                    position = payload.position,
                    behind = database_position - payload.position,
                    "search index opened; catching up"
                );
                let replica = Arc::new(replica);
                self.index
                    .publish(replica.clone(), payload.directory, payload.position);
                Ok(Live {
                    replica,
                    writer: Some(writer),
                    payload,
                })
            }
            Ok(Some((_, payload))) => {
                tracing::warn!(
                    index_directory = %payload.directory,
                    index_position = payload.position,
                    %directory,
                    database_position,
                    "the search index belongs to another database or is ahead of it; rebuilding"
                );
                self.build().await
            }
            Ok(None) => {
                tracing::info!("no search index yet; building it from Postgres");
                self.build().await
            }
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the search index is unusable; rebuilding"
                );
                self.build().await
            }
        }
    }

    /// Builds a new index from one consistent snapshot of Postgres, then makes it the
    /// active one. Searches keep using the current replica (if any) meanwhile.
    async fn build(&mut self) -> anyhow::Result<Live> {
        let started = std::time::Instant::now();
        let mut tx = self.db.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let directory = directory_id(&mut *tx).await?;
        let position = database_position(&mut *tx).await?;
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
                .fetch_one(&mut *tx)
                .await?;
        self.index.set_state(IndexState::Building {
            indexed: 0,
            total: total as u64,
        });

        let root = self.index.root().to_owned();
        let tuning = self.index.tuning();
        let replica = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&root)?;
            Replica::create(&root, tuning)
        })
        .await??;
        let mut writer = open_writer(&replica, self.index.tuning().writer_memory)?;
        // No merging while loading: the segments are merged once, into even parts,
        // at the end (see `balance`).
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let fields = replica.fields;
        // Newest first: results that tie in relevance keep index order, so this makes
        // them (mostly) newest first for free.
        let mut after: Option<(i64, Uuid)> = None;
        let mut indexed = 0u64;
        loop {
            let rows = db::contacts::live_batch(&mut tx, after, BUILD_BATCH).await?;
            let Some(last) = rows.last() else { break };
            after = Some((last.created_at_micros, last.id));
            let count = rows.len() as u64;
            writer = tokio::task::spawn_blocking(move || -> tantivy::Result<IndexWriter> {
                for contact in rows {
                    writer
                        .add_document(schema::document(&fields, &IndexedContact::from(contact)))?;
                }
                Ok(writer)
            })
            .await??;
            indexed += count;
            self.index.set_state(IndexState::Building {
                indexed,
                total: total as u64,
            });
            if self.shutdown.has_changed().unwrap_or(true) {
                anyhow::bail!("shutting down during an index build");
            }
        }
        tx.commit().await?;

        let payload = Payload {
            schema: SCHEMA_VERSION,
            directory,
            position,
        };
        let replica = Arc::new(replica);
        let committed = payload.clone();
        let built = replica.clone();
        let writer = tokio::task::spawn_blocking(move || {
            commit(&mut writer, &built, &committed)?;
            balance(&mut writer, &built)?;
            writer.set_merge_policy(merge_policy());
            commit(&mut writer, &built, &committed).map(|()| writer)
        })
        .await??;
        let root = self.index.root().to_owned();
        let active = replica.clone();
        tokio::task::spawn_blocking(move || active.make_active(&root)).await??;
        tracing::info!(
            documents = indexed,
            position,
            seconds = started.elapsed().as_secs_f64(),
            "search index built"
        );
        self.index.publish(replica.clone(), directory, position);
        Ok(Live {
            replica,
            writer: Some(writer),
            payload,
        })
    }

    /// Applies the feed until shutdown or a reindex request.
    async fn follow(&mut self, mut live: Live) -> Stop {
        let mut listener: Option<PgListener> = None;
        let mut failures = 0u32;
        let mut last_commit: Option<tokio::time::Instant> = None;
        loop {
            if listener.is_none() {
                listener = connect_listener(&self.db).await;
            }
            if let Some(last) = last_commit {
                tokio::time::sleep_until(last + COMMIT_EVERY).await;
            }
            last_commit = Some(tokio::time::Instant::now());
            match self.catch_up(&mut live).await {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures += 1;
                    if failures == 1 || failures.is_power_of_two() {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            failures,
                            "could not apply search changes; retrying"
                        );
                    }
                }
            }
            self.index.set_state(IndexState::Ready);

            let notified = async {
                match listener.as_mut() {
                    Some(listener) => listener.try_recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = notified => match received {
                    Ok(Some(notification)) if notification.channel() == REINDEX_CHANNEL => {
                        tracing::info!("reindex requested");
                        // One writer per process: release this one before building anew.
                        drop(live);
                        return Stop::Reindex;
                    }
                    Ok(Some(_)) => {}
                    // The connection dropped; it reconnects on the next call.
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(%error, "lost the change notification connection");
                        listener = None;
                    }
                },
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = self.shutdown.changed() => {
                    // The last requests served may have written: their changes go in
                    // before the final commit, so the index starts next time where
                    // Postgres stood.
                    if let Err(error) = self.catch_up(&mut live).await {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "could not apply the last search changes before stopping"
                        );
                    }
                    finish(live).await;
                    return Stop::Shutdown;
                }
            }
        }
    }

    /// Applies every change above the live position.
    async fn catch_up(&mut self, live: &mut Live) -> anyhow::Result<()> {
        self.index
            .note_database_position(database_position(&self.db).await?);
        loop {
            let rows = fetch_changes(&self.db, live.payload.position).await?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            let full = rows.len() as i64 >= BATCH;
            let payload = Payload {
                position: sqlx::Row::try_get::<i64, _>(last, "feed_seq")?,
                ..live.payload.clone()
            };
            let changes: Vec<Change> = rows.iter().map(into_change).collect::<Result<_, _>>()?;
            // After a failure the writer was dropped, which rolled the index back to its
            // last commit; reopen it and apply the same changes again.
            let writer = match live.writer.take() {
                Some(writer) => writer,
                None => open_writer(&live.replica, self.index.tuning().writer_memory)?,
            };
            let replica = live.replica.clone();
            let committed = payload.clone();
            let (writer, changed, searcher) = tokio::task::spawn_blocking(move || {
                apply_and_commit(writer, &replica, changes, &committed)
            })
            .await??;
            live.writer = Some(writer);
            live.payload = payload;
            self.index.advance(live.payload.position, changed, searcher);
            if !full {
                return Ok(());
            }
        }
    }
}

/// Applies changes, commits them with `payload`, and reloads the reader; returns the
/// writer, the contacts changed (before and after, for checking cached answers), and
/// the view of exactly that commit. Runs on a blocking thread. On error the writer is
/// dropped, discarding what was not committed.
fn apply_and_commit(
    mut writer: IndexWriter,
    replica: &Replica,
    changes: Vec<Change>,
    payload: &Payload,
) -> anyhow::Result<(IndexWriter, Changed, Searcher)> {
    // Only this task reloads the reader: this is the view of the last commit.
    let changed = Changed::index(replica, &replica.searcher(), &changes);
    let fields = replica.fields;
    for change in changes {
        match change {
            Change::Upsert(contact) => {
                writer.delete_term(Term::from_field_text(fields.id, &contact.id.to_string()));
                writer.add_document(schema::document(&fields, &contact))?;
            }
            Change::Delete(id) => {
                writer.delete_term(Term::from_field_text(fields.id, &id.to_string()));
            }
        }
    }
    commit(&mut writer, replica, payload)?;
    Ok((writer, changed, replica.searcher()))
}

/// Merges a freshly built index into one segment per core, of about equal size:
/// searches run one thread per segment, so a single large segment would leave cores
/// idle, and many small ones would repeat per-segment work. Blocking.
fn balance(writer: &mut IndexWriter, replica: &Replica) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut segments = replica.index.searchable_segment_metas()?;
    segments.sort_by_key(|segment| std::cmp::Reverse(segment.num_docs()));
    let mut groups: Vec<(u64, Vec<tantivy::index::SegmentId>)> = vec![(0, Vec::new()); cores];
    for segment in segments {
        let lightest = groups
            .iter_mut()
            .min_by_key(|(docs, _)| *docs)
            .expect("at least one group");
        lightest.0 += u64::from(segment.num_docs());
        lightest.1.push(segment.id());
    }
    let merges: Vec<_> = groups
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(_, ids)| writer.merge(&ids))
        .collect();
    for merge in merges {
        merge.wait()?;
    }
    Ok(())
}

/// Commits with `payload` and reloads the reader, so searches see the commit at once.
fn commit(writer: &mut IndexWriter, replica: &Replica, payload: &Payload) -> anyhow::Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::to_string(payload)?);
    prepared.commit()?;
    replica.reload()?;
    Ok(())
}

/// Lets background merges finish before the process exits.
async fn finish(live: Live) {
    let Some(writer) = live.writer else { return };
    let result = tokio::task::spawn_blocking(move || writer.wait_merging_threads()).await;
    if let Ok(Err(error)) = result {
        tracing::warn!(%error, "search index merges did not finish cleanly");
    }
}

/// How the follower's writer merges segments (see [`MERGE_FLOOR_DOCS`]).
fn merge_policy() -> Box<LogMergePolicy> {
    let mut policy = LogMergePolicy::default();
    policy.set_min_layer_size(MERGE_FLOOR_DOCS);
    policy.set_del_docs_ratio_before_merge(MERGE_DELETED_SHARE);
    Box::new(policy)
}

/// The index's writer with `memory` bytes for the documents it gathers before writing
/// a segment (`ROSTER_INDEX_WRITER_MB`), merging as the follower wants (the build sets
/// its own policy while loading). One indexing thread per core, fewer when the budget
/// would give a thread less than [`THREAD_MEMORY_FLOOR`].
fn open_writer(replica: &Replica, memory: usize) -> anyhow::Result<IndexWriter> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (memory / THREAD_MEMORY_FLOOR).clamp(1, cores.min(8));
    match replica.index.writer_with_num_threads(threads, memory) {
        Ok(writer) => {
            writer.set_merge_policy(merge_policy());
            Ok(writer)
        }
        Err(TantivyError::LockFailure(LockError::LockBusy, _)) => anyhow::bail!(
            "another process is writing the search index in {}: give each Roster instance its own ROSTER_DATA_DIR",
            replica.path.display()
        ),
        Err(error) => Err(error).context("opening the search index writer"),
    }
}

async fn connect_listener(db: &PgPool) -> Option<PgListener> {
    let result = async {
        let mut listener = PgListener::connect_with(db).await?;
        listener
            .listen_all([CHANGES_CHANNEL, REINDEX_CHANNEL])
            .await?;
        Ok::<_, sqlx::Error>(listener)
    }
    .await;
    match result {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for changes; polling only");
            None
        }
    }
}

/// What `roster reindex` did.
pub enum Reindexed {
    /// Built here, from Postgres.
    Built { documents: u64, seconds: f64 },
    /// A running server owns this index: every running server was asked to rebuild.
    Requested,
}

/// Rebuilds the index under `root`, or, if a running server is writing it, asks the
/// running servers to rebuild theirs.
pub async fn reindex(db: &PgPool, index: Arc<SearchIndex>) -> anyhow::Result<Reindexed> {
    let active_root = index.root().to_owned();
    let tuning = index.tuning();
    let active =
        tokio::task::spawn_blocking(move || Replica::open_active(&active_root, tuning)).await?;
    if let Ok(Some((replica, _))) = active
        && let Err(TantivyError::LockFailure(LockError::LockBusy, _)) =
            replica
                .index
                .writer_with_num_threads::<tantivy::TantivyDocument>(1, THREAD_MEMORY_FLOOR)
    {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(REINDEX_CHANNEL)
            .execute(db)
            .await?;
        return Ok(Reindexed::Requested);
    }
    let started = std::time::Instant::now();
    let (_keep_running, running) = watch::channel(false);
    let mut follower = Follower::new(db.clone(), index.clone(), running);
    let live = follower.build().await?;
    let documents = live.replica.num_docs();
    finish(live).await;
    Ok(Reindexed::Built {
        documents,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Opens the index under `index.root()` if it is current, else builds it from
/// Postgres, and publishes it, waiting for background merges to finish (for
/// benchmarks and tools). Returns the documents indexed.
pub async fn open_or_build_now(db: &PgPool, index: Arc<SearchIndex>) -> anyhow::Result<u64> {
    let (_keep_running, running) = watch::channel(false);
    let mut follower = Follower::new(db.clone(), index.clone(), running);
    let mut live = follower.open_or_build().await?;
    follower.catch_up(&mut live).await?;
    let replica = live.replica.clone();
    let position = live.payload.position;
    finish(live).await;
    // Merges finished after the last commit; let searches see the merged segments
    // (the same contacts: nothing changed).
    replica.reload()?;
    index.advance(position, Changed::Nothing, replica.searcher());
    Ok(replica.num_docs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(n: u128) -> IndexedContact {
        IndexedContact::named(Uuid::from_u128(n), &format!("Pat Person{n}"), n as i64)
    }

    /// Commits of a document or two merge among themselves, without rewriting the
    /// large segment beside them each time (tantivy's default policy did).
    #[test]
    fn small_segments_merge_among_themselves_and_leave_a_large_one_alone() {
        let dir = tempfile::tempdir().unwrap();
        let replica =
            Replica::create(dir.path(), crate::server::search::Tuning::default()).unwrap();
        let mut writer = replica
            .index
            .writer_with_num_threads(1, 100_000_000)
            .unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for n in 0..12_000 {
            writer
                .add_document(schema::document(&replica.fields, &contact(n)))
                .unwrap();
        }
        writer.commit().unwrap();
        writer.wait_merging_threads().unwrap();
        let large = replica.index.searchable_segment_metas().unwrap()[0].id();

        let mut writer = open_writer(&replica, THREAD_MEMORY_FLOOR).unwrap();
        for n in 0..40 {
            writer
                .add_document(schema::document(&replica.fields, &contact(100_000 + n)))
                .unwrap();
            writer.commit().unwrap();
        }
        writer.wait_merging_threads().unwrap();
        let segments = replica.index.searchable_segment_metas().unwrap();
        assert!(
            segments
                .iter()
                .any(|segment| segment.id() == large && segment.max_doc() == 12_000),
            "the large segment was not rewritten"
        );
        assert!(
            segments.len() <= 9,
            "the small segments were merged: {} segments",
            segments.len()
        );
        let docs: u32 = segments.iter().map(|segment| segment.num_docs()).sum();
        assert_eq!(docs, 12_040);
    }
}
