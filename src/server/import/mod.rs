//! Importing contacts: a file is stored with its job, checked (a dry run: what would be
//! created, updated, skipped and why), then committed in the background in batches.
//!
//! Rows are matched to contacts by normalized email; a row without an email matches a
//! contact with the same name and company. A matched contact is updated only if
//! something differs, so importing the same file again changes nothing. Rows that
//! repeat a match seen earlier in the file are duplicates and skipped. See
//! `migrations/0004_imports.sql` for how jobs survive a crash.

mod plan;
pub mod read;
pub mod text;
pub mod vcard;

pub use plan::ImportLimits;
use plan::*;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::json;
use sqlx::{PgConnection, PgPool, postgres::PgListener};
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    db::{
        audit::{self, Actor},
        contacts,
    },
    error::{Error, Result},
    search::SearchIndex,
};
use crate::{
    domain::{
        AuditAction, Card, FieldChange,
        import::{ColumnMapping, ImportCounts, ImportFormat, ImportJob, ImportStatus},
    },
    error::AppError,
};

/// Rows applied per transaction.
const BATCH_ROWS: usize = 2_000;
/// Bytes per stored chunk of a file.
const CHUNK_BYTES: usize = 1 << 20;
/// Wakes the runners when a job is started.
pub const JOBS_CHANNEL: &str = "roster_imports";
/// How often runners look for work without a notification.
const POLL: Duration = Duration::from_secs(2);
/// Names the advisory locks that say who runs a job.
const JOB_LOCK_CLASS: i32 = 7_626_102;

/// Where uploaded and fetched import files are kept while in use.
/// How long an uploaded file waits to be started before it is removed with its job.
pub const UNSTARTED_KEPT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the jobs never started within [`UNSTARTED_KEPT`] of their upload (their file
/// in Postgres goes with them), and files left in this process's work folder as long.
/// Returns how many jobs were removed.
pub async fn sweep_unstarted(db: &PgPool, data_dir: &Path) -> Result<u64> {
    let removed = sqlx::query(
        "DELETE FROM import_jobs
          WHERE status = 'ready' AND created_at < now() - make_interval(secs => $1)",
    )
    .bind(UNSTARTED_KEPT.as_secs_f64())
    .execute(db)
    .await?
    .rows_affected();
    let folder = work_dir(data_dir);
    if let Ok(mut entries) = tokio::fs::read_dir(&folder).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let old = entry
                .metadata()
                .await
                .ok()
                .and_then(|meta| meta.modified().ok())
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > UNSTARTED_KEPT);
            if old {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
    Ok(removed)
}

pub fn work_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("imports")
}

/// A file being received, written to a temporary file with a size limit.
pub struct Upload {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    size: u64,
}

impl Upload {
    pub async fn new(data_dir: &Path) -> Result<Upload> {
        let dir = work_dir(data_dir);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(anyhow::Error::from)?;
        let (file, path) = tempfile::NamedTempFile::new_in(&dir)
            .map_err(anyhow::Error::from)?
            .into_parts();
        Ok(Upload {
            file: tokio::fs::File::from_std(file),
            path,
            size: 0,
        })
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        self.size += bytes.len() as u64;
        if self.size > crate::domain::import::MAX_IMPORT_BYTES {
            return Err(AppError::BadRequest(format!(
                "The file is larger than {} MB. Split it into smaller files and import each.",
                crate::domain::import::MAX_IMPORT_MB
            ))
            .into());
        }
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| anyhow::anyhow!("writing the upload: {e}"))?;
        Ok(())
    }

    async fn finish(mut self) -> Result<(tempfile::TempPath, u64)> {
        use tokio::io::AsyncWriteExt;
        self.file
            .flush()
            .await
            .map_err(|e| anyhow::anyhow!("writing the upload: {e}"))?;
        Ok((self.path, self.size))
    }
}

/// Makes a job of an uploaded file: guesses the mapping, runs the dry run, and stores
/// the file with the job. The job waits for the person to check it and commit.
/// How long the dry run of an upload may take (100,000 rows take a few seconds).
const DRY_RUN_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);

pub async fn create_job(
    db: &PgPool,
    upload: Upload,
    file_name: &str,
    charset: text::Charset,
    actor: &Actor,
    limits: ImportLimits,
) -> Result<Uuid> {
    let (received, size) = upload.finish().await?;
    if size == 0 {
        return Err(AppError::BadRequest("The file is empty.".into()).into());
    }
    let file_name: String = file_name.chars().take(255).collect();
    // Converted to UTF-8 once, here: everything after reads text. Then its format,
    // from its first line or its name (file reads: off the async workers).
    let by_name = ImportFormat::from_file_name(&file_name);
    let (converted, format) = tokio::task::spawn_blocking(move || {
        text::to_utf8(received, charset).map(|converted| {
            let format = read::format_of(&converted.path, by_name);
            (converted, format)
        })
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| anyhow::anyhow!("converting the upload to UTF-8: {e}"))?;
    let path = converted.path;
    let guessed = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || read::guess_mapping(&path, format))
            .await
            .map_err(anyhow::Error::from)?
    };
    let mut mapping = guessed.map_err(AppError::BadRequest)?;
    let live = crate::server::db::custom_fields::live(db).await?;
    mapping.match_custom(&live);
    if format == ImportFormat::Csv
        && let Some(remembered) = remembered_mapping(db, &mapping.headers).await?
    {
        mapping = remembered.fitted(&mapping.headers, &live);
    }
    let report = checked_dry_run(db, &path, format, &mapping, limits).await?;

    let id = Uuid::new_v4();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO import_jobs (id, file_name, format, size_bytes, status, mapping, planned,
                                  invalid_rows, duplicate_rows, possible_duplicates, actor, ip,
                                  request_id, owner_id, charset)
         VALUES ($1, $2, $3, $4, 'ready', $5, $6, $7, $8, $12, $9, $10::inet, $11, $13, $14)",
    )
    .bind(id)
    .bind(&file_name)
    .bind(format.as_str())
    .bind(size as i64)
    .bind(json(&mapping))
    .bind(json(&report.counts))
    .bind(json(&report.invalid_rows))
    .bind(json(&report.duplicate_rows))
    .bind(&actor.name)
    .bind(actor.ip.map(|ip| ip.to_string()))
    .bind(&actor.request_id)
    .bind(json(&report.possible_duplicates))
    .bind(actor.user_id)
    .bind(text::name(converted.encoding))
    .execute(&mut *tx)
    .await?;
    store_file(&mut tx, id, &path).await?;
    tx.commit().await?;
    Ok(id)
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("import types serialize")
}

async fn store_file(conn: &mut PgConnection, id: Uuid, path: &Path) -> Result<()> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(anyhow::Error::from)?;
    let mut seq = 0i32;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK_BYTES);
        let read = (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut chunk)
            .await
            .map_err(anyhow::Error::from)?;
        if read == 0 {
            break;
        }
        sqlx::query("INSERT INTO import_chunks (job_id, seq, data) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(seq)
            .bind(chunk)
            .execute(&mut *conn)
            .await?;
        seq += 1;
    }
    Ok(())
}

/// Copies a job's file from Postgres into a temporary file here.
async fn fetch_file(db: &PgPool, id: Uuid, data_dir: &Path) -> Result<tempfile::TempPath> {
    use tokio::io::AsyncWriteExt;
    let upload = Upload::new(data_dir).await?;
    let (mut file, path) = (upload.file, upload.path);
    let chunks: i32 =
        sqlx::query_scalar("SELECT count(*)::int FROM import_chunks WHERE job_id = $1")
            .bind(id)
            .fetch_one(db)
            .await?;
    for seq in 0..chunks {
        let data: Vec<u8> =
            sqlx::query_scalar("SELECT data FROM import_chunks WHERE job_id = $1 AND seq = $2")
                .bind(id)
                .bind(seq)
                .fetch_one(db)
                .await?;
        file.write_all(&data).await.map_err(anyhow::Error::from)?;
    }
    file.flush().await.map_err(anyhow::Error::from)?;
    Ok(path)
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    file_name: String,
    format: String,
    charset: Option<String>,
    status: String,
    mapping: serde_json::Value,
    planned: serde_json::Value,
    done: serde_json::Value,
    invalid_rows: serde_json::Value,
    duplicate_rows: serde_json::Value,
    possible_duplicates: serde_json::Value,
    created_at: time::OffsetDateTime,
    started_at: Option<time::OffsetDateTime>,
    finished_at: Option<time::OffsetDateTime>,
    error: Option<String>,
    actor: Option<String>,
    ip: Option<String>,
    request_id: Option<String>,
}

fn micros(at: time::OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

/// A stored JSON column; what does not read is empty (never a failed page).
fn parse<T: serde::de::DeserializeOwned + Default>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap_or_default()
}

impl JobRow {
    fn into_job(self) -> Result<ImportJob> {
        Ok(ImportJob {
            id: self.id,
            file_name: self.file_name,
            format: ImportFormat::parse(&self.format)
                .ok_or_else(|| anyhow::anyhow!("import job with format {}", self.format))?,
            charset: self.charset,
            status: ImportStatus::parse(&self.status)
                .ok_or_else(|| anyhow::anyhow!("import job with status {}", self.status))?,
            mapping: parse(self.mapping),
            planned: parse(self.planned),
            done: parse(self.done),
            invalid_rows: parse(self.invalid_rows),
            duplicate_rows: parse(self.duplicate_rows),
            possible_duplicates: parse(self.possible_duplicates),
            created_at_micros: micros(self.created_at),
            started_at_micros: self.started_at.map(micros),
            finished_at_micros: self.finished_at.map(micros),
            error: self.error,
            observed_at_micros: micros(time::OffsetDateTime::now_utc()),
        })
    }

    fn actor(&self) -> Actor {
        Actor {
            name: self.actor.clone(),
            user_id: None,
            ip: self.ip.as_deref().and_then(|ip| ip.parse().ok()),
            request_id: self.request_id.clone(),
        }
    }
}

async fn load(db: impl sqlx::PgExecutor<'_>, id: Uuid) -> Result<Option<JobRow>> {
    Ok(sqlx::query_as(
        "SELECT id, file_name, format, charset, status, mapping, planned, done, invalid_rows,
                duplicate_rows, possible_duplicates, created_at, started_at, finished_at, error, actor,
                host(ip) AS ip, request_id
           FROM import_jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// A job as its page shows it.
pub async fn job(db: &PgPool, id: Uuid) -> Result<ImportJob> {
    load(db, id).await?.ok_or(AppError::NotFound)?.into_job()
}

/// The latest `limit` jobs, newest first.
/// Whether `me` may see and act on the job: its owner, or an admin. A job someone
/// else owns is answered as not found (its existence is nobody else's business).
pub async fn ensure_owner(db: &PgPool, id: Uuid, me: &crate::domain::CurrentUser) -> Result<()> {
    let owner: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT owner_id FROM import_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    match owner {
        Some(_) if me.role == crate::domain::Role::Admin => Ok(()),
        Some(Some(owner)) if owner == me.id => Ok(()),
        Some(_) => {
            tracing::warn!(
                job = %id,
                user = %me.id,
                security_event = "forbidden",
                "an import job was asked for by someone other than its owner"
            );
            Err(AppError::NotFound.into())
        }
        None => Err(AppError::NotFound.into()),
    }
}

/// The latest jobs `me` may see (theirs; every job for an admin), newest first.
pub async fn recent(
    db: &PgPool,
    me: &crate::domain::CurrentUser,
    limit: i64,
) -> Result<Vec<ImportJob>> {
    let rows: Vec<JobRow> = sqlx::query_as(
        "SELECT id, file_name, format, charset, status, mapping, planned, done, '[]'::jsonb AS invalid_rows,
                '[]'::jsonb AS duplicate_rows, '[]'::jsonb AS possible_duplicates, created_at, started_at, finished_at, error, actor,
                host(ip) AS ip, request_id
           FROM import_jobs WHERE $2 OR owner_id = $3 ORDER BY created_at DESC LIMIT $1",
    )
    .bind(limit)
    .bind(me.role == crate::domain::Role::Admin)
    .bind(me.id)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(JobRow::into_job).collect()
}

/// Changes a ready job's mapping and runs the dry run again with it.
pub async fn remap(
    db: &PgPool,
    data_dir: &Path,
    id: Uuid,
    mapping: ColumnMapping,
    limits: ImportLimits,
) -> Result<()> {
    let row = load(db, id).await?.ok_or(AppError::NotFound)?;
    let job = row.into_job()?;
    if job.status != ImportStatus::Ready {
        return Err(AppError::BadRequest(
            "This import has already started, so its columns can no longer be changed.".into(),
        )
        .into());
    }
    if mapping.fields.len() != job.mapping.headers.len() {
        return Err(
            AppError::BadRequest("The column mapping does not fit this file.".into()).into(),
        );
    }
    let live = crate::server::db::custom_fields::live(db).await?;
    let custom = mapping
        .custom
        .iter()
        .map(|id| id.filter(|id| live.iter().any(|field| field.id == *id)))
        .collect();
    // A slot names a part of an entry and a label: short words, as guessed.
    let slots = mapping
        .slots
        .into_iter()
        .map(|slot| slot.filter(|slot| slot.group.len() <= 100 && slot.label.len() <= 200))
        .collect();
    let mapping = ColumnMapping {
        headers: job.mapping.headers.clone(),
        fields: mapping.fields,
        custom,
        slots,
        remembered: false,
    };
    let path = fetch_file(db, id, data_dir).await?;
    let report = checked_dry_run(db, &path, job.format, &mapping, limits).await?;
    sqlx::query(
        "UPDATE import_jobs SET mapping = $2, planned = $3, invalid_rows = $4, duplicate_rows = $5,
                possible_duplicates = $6
          WHERE id = $1 AND status = 'ready'",
    )
    .bind(id)
    .bind(json(&mapping))
    .bind(json(&report.counts))
    .bind(json(&report.invalid_rows))
    .bind(json(&report.duplicate_rows))
    .bind(json(&report.possible_duplicates))
    .execute(db)
    .await?;
    remember_mapping(db, &mapping).await?;
    Ok(())
}

/// Remembers how a file's columns are read, for the next file with the same header.
async fn remember_mapping(db: &PgPool, mapping: &ColumnMapping) -> Result<()> {
    sqlx::query(
        "INSERT INTO import_mappings (headers_md5, mapping)
         VALUES (md5(array_to_string($1::text[], E'\\x1f') || E'\\x1f'), $2)
         ON CONFLICT (headers_md5) DO UPDATE SET mapping = EXCLUDED.mapping, updated_at = now()",
    )
    .bind(&mapping.headers)
    .bind(json(mapping))
    .execute(db)
    .await?;
    Ok(())
}

/// The mapping remembered for files with these headers, if any.
async fn remembered_mapping(db: &PgPool, headers: &[String]) -> Result<Option<ColumnMapping>> {
    let found: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT mapping FROM import_mappings
          WHERE headers_md5 = md5(array_to_string($1::text[], E'\\x1f') || E'\\x1f')",
    )
    .bind(headers)
    .fetch_optional(db)
    .await?;
    Ok(found
        .and_then(|value| serde_json::from_value::<ColumnMapping>(value).ok())
        // Two header lists with one md5 are told apart here.
        .filter(|mapping| mapping.headers == headers))
}

/// Starts committing a checked job in the background. Starting a job that has started
/// already does nothing.
pub async fn start(db: &PgPool, id: Uuid) -> Result<()> {
    let row = load(db, id).await?.ok_or(AppError::NotFound)?;
    if row.status == "ready" {
        sqlx::query(
            "UPDATE import_jobs SET status = 'running', started_at = now(), done = $2
              WHERE id = $1 AND status = 'ready'",
        )
        .bind(id)
        .bind(json(&ImportCounts::default()))
        .execute(db)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(JOBS_CHANNEL)
            .bind(id.to_string())
            .execute(db)
            .await?;
    }
    Ok(())
}

/// Runs started jobs, in this process, until `stop` says so: woken by NOTIFY, and
/// looking every couple of seconds for jobs nobody runs (a crashed runner's).
pub async fn run_jobs(
    db: PgPool,
    index: std::sync::Arc<SearchIndex>,
    data_dir: PathBuf,
    mut stop: watch::Receiver<bool>,
) {
    let mut listener = match PgListener::connect_with(&db).await {
        Ok(mut listener) => match listener.listen(JOBS_CHANNEL).await {
            Ok(()) => Some(listener),
            Err(_) => None,
        },
        Err(_) => None,
    };
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(error) = run_waiting(&db, Some(&index), &data_dir, &stop).await {
            tracing::warn!(error = %error, "import runner");
        }
        let wake = async {
            match listener.as_mut() {
                Some(active) => {
                    // A listener that fails at once (its pool closed) would make this
                    // loop spin: it is dropped, and the runner polls from then on.
                    if let Ok(Err(error)) = tokio::time::timeout(POLL, active.recv()).await {
                        tracing::warn!(%error, "lost the import notification connection");
                        listener = None;
                        tokio::time::sleep(POLL).await;
                    }
                }
                None => tokio::time::sleep(POLL).await,
            }
        };
        tokio::select! {
            _ = wake => {}
            _ = stop.changed() => return,
        }
    }
}

/// Runs every started job that no other process is running.
pub async fn run_waiting(
    db: &PgPool,
    index: Option<&SearchIndex>,
    data_dir: &Path,
    stop: &watch::Receiver<bool>,
) -> Result<()> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM import_jobs WHERE status = 'running' ORDER BY created_at",
    )
    .fetch_all(db)
    .await?;
    for id in ids {
        if *stop.borrow() {
            break;
        }
        // A connection of its own holds the lock for as long as the job runs; if this
        // process dies, the lock goes with it.
        let mut lock = db.acquire().await?.detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(JOB_LOCK_CLASS)
            .bind(id.to_string())
            .fetch_one(&mut lock)
            .await?;
        if !locked {
            continue;
        }
        let outcome = run_job(db, index, data_dir, id, stop).await;
        if let Err(error) = &outcome {
            tracing::error!(job = %id, error = ?error, "import failed");
            let message = match error {
                Error::App(error) => error.to_string(),
                _ => "The import stopped because of an error on our side. The rows counted as done are saved; starting again resumes after them.".to_owned(),
            };
            sqlx::query(
                "UPDATE import_jobs SET status = 'failed', error = $2, finished_at = now()
                  WHERE id = $1 AND status = 'running'",
            )
            .bind(id)
            .bind(message)
            .execute(db)
            .await?;
        }
        let _ = sqlx::Connection::close(lock).await;
    }
    Ok(())
}

/// Applies a running job from where it stands, batch by batch.
async fn run_job(
    db: &PgPool,
    index: Option<&SearchIndex>,
    data_dir: &Path,
    id: Uuid,
    stop: &watch::Receiver<bool>,
) -> Result<()> {
    let row = load(db, id).await?.ok_or(AppError::NotFound)?;
    let actor = row.actor();
    let job = row.into_job()?;
    if job.status != ImportStatus::Running {
        return Ok(());
    }
    let path = fetch_file(db, id, data_dir).await?;
    let resume_after = job.done.rows;
    let mut sorter = Sorter::new(crate::server::db::custom_fields::all(db).await?);
    let mut done = job.done.clone();
    let mut batches = read_batches(path.to_path_buf(), job.format, job.mapping.clone());
    let mut position = 0i64;
    while let Some(batch) = batches.recv().await {
        let batch = batch.map_err(|e| anyhow::anyhow!("reading the import file: {e}"))?;
        // Rows before the resume point were applied by an earlier run: they only
        // refill the duplicate check.
        let mut new_rows = Vec::with_capacity(batch.len());
        for row in batch {
            if sorter.counts.rows < resume_after {
                sorter.sort(row);
            } else {
                new_rows.push(row);
            }
        }
        if new_rows.is_empty() {
            continue;
        }
        let before = sorter.counts.clone();
        let drafts: Vec<ValidRow> = new_rows
            .into_iter()
            .filter_map(|row| sorter.sort(row))
            .collect();
        let skipped = ImportCounts {
            rows: sorter.counts.rows - before.rows,
            invalid: sorter.counts.invalid - before.invalid,
            duplicate: sorter.counts.duplicate - before.duplicate,
            ..ImportCounts::default()
        };
        let mut attempt = 0;
        let applied = loop {
            attempt += 1;
            match apply_batch(db, id, &actor, &drafts, &sorter.fields, &skipped, &done).await {
                Ok(applied) => break applied,
                // A concurrent edit took an email this batch creates: plan again.
                Err(Error::Database(sqlx::Error::Database(e)))
                    if attempt < 3 && e.constraint() == Some(contacts::EMAIL_KEY) => {}
                Err(error) => return Err(error),
            }
        };
        metrics::counter!("import_rows_total").increment(applied.0.rows.saturating_sub(done.rows));
        done = applied.0;
        position = position.max(applied.1);
        if *stop.borrow() {
            // The job stays running; the next process to look resumes it.
            return Ok(());
        }
    }
    // Done means searchable: wait (a little) for this process's index.
    if let Some(index) = index
        && position > 0
        && index.current().is_some()
    {
        index.wait_for(position, Duration::from_secs(60)).await;
    }
    // A large import changes the tables faster than autovacuum's statistics follow:
    // planned on the empty table's numbers, the next file's lookups by email took
    // minutes (`roster bench import`, the same file again). Counted now, in a second.
    if done.create + done.update >= ANALYZE_AFTER_ROWS {
        sqlx::query("ANALYZE contacts, contact_keys")
            .execute(db)
            .await?;
    }
    sqlx::query(
        "UPDATE import_jobs SET status = 'done', finished_at = now(), done = $2
          WHERE id = $1 AND status = 'running'",
    )
    .bind(id)
    .bind(json(&done))
    .execute(db)
    .await?;
    sqlx::query("DELETE FROM import_chunks WHERE job_id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Rows an import must create or update for the planner's statistics to be refreshed
/// when it ends.
const ANALYZE_AFTER_ROWS: u64 = 10_000;

/// One transaction: the batch's creates and updates, their audit entries, and the job's
/// progress. Returns the progress and the highest change stamp written.
async fn apply_batch(
    db: &PgPool,
    id: Uuid,
    actor: &Actor,
    drafts: &[ValidRow],
    fields: &[crate::domain::custom::CustomField],
    skipped: &ImportCounts,
    done_before: &ImportCounts,
) -> Result<(ImportCounts, i64)> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await?;
    let planned = plan::plan(&mut tx, drafts, fields, true).await?;
    let planning = started.elapsed();
    let mut creates: Vec<(u64, &Card)> = Vec::new();
    let mut updates: Vec<(u64, Uuid, Box<Card>, Vec<FieldChange>)> = Vec::new();
    let mut done = ImportCounts {
        rows: done_before.rows + skipped.rows,
        invalid: done_before.invalid + skipped.invalid,
        duplicate: done_before.duplicate + skipped.duplicate,
        ..done_before.clone()
    };
    for (row, plan) in drafts.iter().zip(planned) {
        match plan {
            Planned::Create(draft) => creates.push((row.line, draft)),
            Planned::Update { id, draft, changes } => updates.push((row.line, id, draft, changes)),
            Planned::Unchanged => done.unchanged += 1,
            Planned::Duplicate => done.duplicate += 1,
        }
    }
    // The photos the batch's creates and updates show, before the contacts that show
    // them, each once (a row left unchanged or skipped writes none).
    let shown: std::collections::HashSet<&str> = creates
        .iter()
        .map(|(_, draft)| draft.photo.as_deref())
        .chain(updates.iter().map(|update| update.2.photo.as_deref()))
        .flatten()
        .collect();
    let mut kept = std::collections::HashSet::new();
    for photo in drafts.iter().filter_map(|row| row.photo.as_ref()) {
        if shown.contains(photo.hash.as_str()) && kept.insert(photo.hash.as_str()) {
            crate::server::photos::store(&mut tx, photo).await?;
        }
    }
    let mut entries = Vec::with_capacity(creates.len() + updates.len());
    if !creates.is_empty() {
        let drafts: Vec<&Card> = creates.iter().map(|(_, d)| *d).collect();
        let ids = contacts::insert_many(&mut tx, &drafts).await?;
        for ((line, draft), contact) in creates.iter().zip(ids) {
            entries.push((
                contact,
                1,
                draft.as_created(),
                json!({ "job": id, "line": line }),
            ));
        }
        done.create += creates.len() as u64;
    }
    if !updates.is_empty() {
        let pairs: Vec<(Uuid, &Card)> = updates.iter().map(|u| (u.1, &*u.2)).collect();
        let versions: HashMap<Uuid, i32> = contacts::update_many(&mut tx, &pairs)
            .await?
            .into_iter()
            .collect();
        for (line, contact, _, changes) in updates.iter() {
            let version = versions.get(contact).copied().unwrap_or_default();
            entries.push((
                *contact,
                version,
                changes.clone(),
                json!({ "job": id, "line": line }),
            ));
        }
        done.update += updates.len() as u64;
    }
    let writing = started.elapsed();
    audit::record_many(&mut tx, actor, AuditAction::Import, &entries).await?;
    let auditing = started.elapsed();
    let position: i64 = if entries.is_empty() {
        0
    } else {
        sqlx::query_scalar("SELECT coalesce(max(change_seq), 0) FROM contacts WHERE id = ANY($1)")
            .bind(entries.iter().map(|e| e.0).collect::<Vec<_>>())
            .fetch_one(&mut *tx)
            .await?
    };
    sqlx::query("UPDATE import_jobs SET done = $2 WHERE id = $1")
        .bind(id)
        .bind(json(&done))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // Where a batch's time goes, for whoever tunes imports (`RUST_LOG=roster=debug`).
    tracing::debug!(
        rows = drafts.len(),
        plan_ms = planning.as_millis() as u64,
        write_ms = (writing - planning).as_millis() as u64,
        audit_ms = (auditing - writing).as_millis() as u64,
        commit_ms = (started.elapsed() - auditing).as_millis() as u64,
        "import batch applied"
    );
    Ok((done, position))
}

/// `roster import FILE`: the dry run's report, then (unless `dry_run`) the commit, run
/// in this process with progress printed as it goes.
pub async fn command_line(
    db: &PgPool,
    data_dir: &Path,
    file: &Path,
    dry_run: bool,
    limits: ImportLimits,
) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut upload = Upload::new(data_dir).await?;
    let mut source = tokio::fs::File::open(file)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = source.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        upload.write(&buffer[..read]).await?;
    }
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".to_owned());
    let id = create_job(
        db,
        upload,
        &name,
        text::Charset::Detect,
        &Actor::command_line(),
        limits,
    )
    .await?;
    let planned = job(db, id).await?;
    println!("{}", report("Dry run", &planned.planned));
    for row in planned.invalid_rows.iter().take(20) {
        println!("  line {}: {}", row.line, row.reason);
    }
    if planned.planned.invalid > 20 {
        println!("  … and {} more invalid rows", planned.planned.invalid - 20);
    }
    if dry_run {
        return Ok(());
    }
    start(db, id).await?;
    let (_stop, stopped) = watch::channel(false);
    let progress = tokio::spawn({
        let db = db.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(job) = job(&db, id).await {
                    eprintln!("  {} of {} rows", job.done.rows, job.planned.rows);
                }
            }
        }
    });
    let outcome = run_waiting(db, None, data_dir, &stopped).await;
    progress.abort();
    outcome?;
    let finished = job(db, id).await?;
    if let Some(error) = &finished.error {
        anyhow::bail!("the import failed: {error}");
    }
    println!(
        "{} in {:.1} s",
        report("Imported", &finished.done),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn report(what: &str, counts: &ImportCounts) -> String {
    format!(
        "{what}: {} rows — {} to create, {} to update, {} unchanged, {} duplicates, {} invalid",
        counts.rows,
        counts.create,
        counts.update,
        counts.unchanged,
        counts.duplicate,
        counts.invalid
    )
}
