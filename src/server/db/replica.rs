//! Reads that may be served by a streaming replica (`DATABASE_READ_URL`).
//!
//! A read goes to the replica only when the replica has replayed every commit the
//! primary had made by a moment that is
//! - less than `replica_max_lag` ago: the lag every reader tolerates; and
//! - later than the reading session's own last change: a user sees what they just did.
//!
//! Otherwise, and when the replica gives no connection within the acquire timeout,
//! the read goes to the primary. Writes, the search index's change feed and forms
//! opened to edit never come here: they use the primary pool directly.
//!
//! The watcher ([`Reads::watch`]) knows that moment: every [`WATCH_EVERY`] it notes
//! the primary's flushed WAL position beside the time it asked, then asks the replica
//! how far it has replayed. The latest noted time whose position is replayed is the
//! moment: every commit that had returned by then is visible on the replica.
//!
//! Times are wall-clock milliseconds, because a change noted by one instance may be
//! read through another: instances must keep their clocks in step (NTP), as they do
//! for session expiry.

use std::{
    collections::VecDeque,
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use secrecy::ExposeSecret;
use sqlx::{PgConnection, PgPool, Postgres, pool::PoolConnection, postgres::PgPoolOptions};
use tokio::sync::watch;
use uuid::Uuid;

use crate::server::config::Config;

/// How often the watcher compares the replica with the primary.
pub const WATCH_EVERY: Duration = Duration::from_millis(50);

/// Where a read went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Primary,
    Replica,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Primary => "primary",
            Source::Replica => "replica",
        }
    }
}

/// A connection for reading, and which server it is on.
pub struct ReadConnection {
    conn: PoolConnection<Postgres>,
    pub source: Source,
}

impl Deref for ReadConnection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for ReadConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// The primary pool and, when configured, the replica's.
pub struct Reads {
    primary: PgPool,
    replica: Option<Replica>,
}

struct Replica {
    pool: PgPool,
    /// The watcher's own connection: it takes none from readers, and the replica's
    /// activity view tells its statements from theirs (`roster-read-watch`).
    watch_pool: PgPool,
    /// Milliseconds since the epoch before which every commit on the primary has been
    /// replayed on the replica; 0 while the replica is down or not known to be in step.
    synced_before_ms: AtomicI64,
    max_lag_ms: i64,
}

impl Replica {
    /// Whether a session whose last change was noted at `written_ms` (0 for none) may
    /// read here at `now_ms`.
    fn serves(&self, written_ms: i64, now_ms: i64) -> bool {
        in_step(
            self.synced_before_ms.load(Ordering::Acquire),
            written_ms,
            now_ms,
            self.max_lag_ms,
        )
    }

    fn set_down(&self) {
        self.synced_before_ms.store(0, Ordering::Release);
    }
}

/// The rule, alone: a replica in step up to `synced_before_ms` serves a reader whose
/// last change was noted at `written_ms`, at `now_ms`, with `max_lag_ms` tolerated.
fn in_step(synced_before_ms: i64, written_ms: i64, now_ms: i64, max_lag_ms: i64) -> bool {
    synced_before_ms > 0
        && synced_before_ms >= written_ms
        && now_ms - synced_before_ms <= max_lag_ms
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

impl Reads {
    /// Reads from `primary` only.
    pub fn primary_only(primary: PgPool) -> Self {
        Reads {
            primary,
            replica: None,
        }
    }

    /// The primary and, if `DATABASE_READ_URL` is set, a pool for the replica, opened
    /// lazily: a replica that is down at startup delays nothing.
    pub fn new(primary: PgPool, config: &Config) -> anyhow::Result<Self> {
        let Some(url) = &config.database_read_url else {
            return Ok(Self::primary_only(primary));
        };
        let options = super::options_for(url.expose_secret(), config, "DATABASE_READ_URL")?;
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(config.db_acquire_timeout())
            .idle_timeout(Duration::from_secs(600))
            .connect_lazy_with(options.clone().application_name("roster-read"));
        let watch_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(config.db_acquire_timeout())
            .connect_lazy_with(options.application_name("roster-read-watch"));
        Ok(Reads {
            primary,
            replica: Some(Replica {
                pool,
                watch_pool,
                synced_before_ms: AtomicI64::new(0),
                max_lag_ms: config.replica_max_lag().as_millis() as i64,
            }),
        })
    }

    /// Closes the replica's pool (the primary's is the application's to close).
    pub async fn close(&self) {
        if let Some(replica) = &self.replica {
            replica.pool.close().await;
            replica.watch_pool.close().await;
        }
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// A connection for a read by a session whose last change was noted at
    /// `written_ms` (0 if it made none): the replica's when it serves that reader and
    /// gives one within the acquire timeout, else the primary's.
    pub async fn acquire(&self, written_ms: i64) -> sqlx::Result<ReadConnection> {
        if let Some(replica) = &self.replica
            && replica.serves(written_ms, now_ms())
        {
            match replica.pool.acquire().await {
                Ok(conn) => return Ok(counted(conn, Source::Replica)),
                Err(error) => {
                    tracing::warn!(%error, "the read replica gave no connection: reading from the primary");
                    replica.set_down();
                }
            }
        }
        self.acquire_primary().await
    }

    /// A connection to the primary for a read: for one that found nothing on the
    /// replica, where what it looked for may be younger than the replica's lag.
    pub async fn acquire_primary(&self) -> sqlx::Result<ReadConnection> {
        Ok(counted(self.primary.acquire().await?, Source::Primary))
    }

    /// The pool for a read of many statements (an export), chosen as [`Self::acquire`]
    /// chooses.
    pub async fn pool(&self, written_ms: i64) -> sqlx::Result<PgPool> {
        let source = self.acquire(written_ms).await?.source;
        Ok(match (source, &self.replica) {
            (Source::Replica, Some(replica)) => replica.pool.clone(),
            _ => self.primary.clone(),
        })
    }

    /// Keeps the replica's step with the primary known, every [`WATCH_EVERY`], until
    /// `stop`; returns at once without a replica.
    pub async fn watch(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let Some(replica) = &self.replica else {
            return;
        };
        // Enough noted positions to reach back past the tolerated lag.
        let keep = (replica.max_lag_ms / WATCH_EVERY.as_millis() as i64).max(1) as usize + 4;
        let mut noted: VecDeque<(i64, i64)> = VecDeque::with_capacity(keep);
        let mut ticks = tokio::time::interval(WATCH_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was = Step::Unknown;
        let mut primary_directory: Option<Uuid> = None;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => return,
            }
            let asked_ms = now_ms();
            // The primary's position and directory: without them (the primary is down)
            // nothing new is noted, and the replica is judged by what was.
            if let Ok((position, directory)) = sqlx::query_as::<_, (i64, Uuid)>(
                "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint,
                        (SELECT id FROM directory)",
            )
            .fetch_one(&self.primary)
            .await
            {
                if noted.len() == keep {
                    noted.pop_front();
                }
                noted.push_back((asked_ms, position));
                primary_directory = Some(directory);
            }
            let replayed = sqlx::query_as::<_, (bool, Option<i64>, Option<Uuid>)>(
                "SELECT pg_is_in_recovery(),
                        pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint,
                        (SELECT id FROM directory)",
            )
            .fetch_one(&replica.watch_pool)
            .await;
            let (step, synced_before_ms) = match replayed {
                // Another database altogether (a URL naming the wrong one): never read.
                Ok((_, _, directory)) if directory.is_none() || directory != primary_directory => {
                    (Step::Elsewhere, 0)
                }
                Ok((true, Some(replayed), _)) => (
                    Step::Standby,
                    noted
                        .iter()
                        .rev()
                        .find(|(_, position)| *position <= replayed)
                        .map_or(0, |(at, _)| *at),
                ),
                // A server that is not replaying the primary's WAL (a promoted replica,
                // a copy restored elsewhere) is in step with nothing we can check.
                Ok(_) => (Step::NotStandby, 0),
                Err(error) => {
                    if was != Step::Down {
                        tracing::warn!(%error, "the read replica does not answer: reads go to the primary");
                    }
                    (Step::Down, 0)
                }
            };
            replica
                .synced_before_ms
                .store(synced_before_ms, Ordering::Release);
            if synced_before_ms > 0 {
                metrics::gauge!("db_replica_lag_seconds")
                    .set((asked_ms - synced_before_ms).max(0) as f64 / 1000.0);
            }
            if step != was {
                match step {
                    Step::Standby => tracing::info!("the read replica is replaying the primary"),
                    Step::Elsewhere if primary_directory.is_some() => tracing::warn!(
                        "DATABASE_READ_URL names another directory than DATABASE_URL: reads \
                         go to the primary"
                    ),
                    Step::NotStandby => tracing::warn!(
                        "DATABASE_READ_URL is not a hot standby replaying the primary: reads \
                         go to the primary"
                    ),
                    // Logged with its error where it was found.
                    Step::Elsewhere | Step::Down | Step::Unknown => {}
                }
                was = step;
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Unknown,
    Standby,
    NotStandby,
    /// Not the primary's directory, or the primary not known yet.
    Elsewhere,
    Down,
}

fn counted(conn: PoolConnection<Postgres>, source: Source) -> ReadConnection {
    metrics::counter!("db_reads_total", "server" => source.label()).increment(1);
    ReadConnection { conn, source }
}

#[cfg(test)]
mod tests {
    use super::in_step;

    #[test]
    fn a_replica_serves_only_readers_whose_changes_it_has_and_within_the_lag() {
        let (now, lag) = (10_000, 1_000);
        assert!(
            in_step(9_500, 0, now, lag),
            "in step, no change of one's own"
        );
        assert!(in_step(9_500, 9_400, now, lag), "one's change replayed");
        assert!(
            !in_step(9_500, 9_600, now, lag),
            "one's change not yet replayed"
        );
        assert!(in_step(9_000, 0, now, lag), "exactly the tolerated lag");
        assert!(!in_step(8_999, 0, now, lag), "beyond it");
        assert!(!in_step(0, 0, now, lag), "down or unknown");
    }
}
