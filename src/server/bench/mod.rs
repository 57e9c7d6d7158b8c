//! `roster bench search`: Roster's index against the engines people weigh it
//! against, on one dataset and one query set, in one run.
//!
//! It works in a database of its own, `roster_bench_<N>`, on the server named by
//! `DATABASE_URL` (created, migrated and seeded on first use, reused after), because
//! it adds what the other engines need and must never touch real data. It builds the
//! index through the same code the server uses, and copies of the same contacts, as
//! the same words, into Postgres full text and SQLite FTS5 (see [`engines`]), derives
//! a mixed query set from the data (deterministic for a seed), checks that every
//! engine gives the same answers (newest first, so that the order is the same
//! question too), then times every query on every engine: one untimed warm-up run,
//! then `runs` timed runs, reported as the median of the runs' percentiles with their
//! spread. The whole search path with its cache warm is timed too, labelled as such.

use std::{
    fmt::Write as _,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use secrecy::ExposeSecret;
use sqlx::{Connection, Executor, PgConnection, PgPool, postgres::PgPoolOptions};

use super::{
    cache::CacheNamespace,
    config::Config,
    db, redis,
    search::{self, SearchIndex, SearchService, sync},
    seed,
};
use crate::domain::{
    SearchQuery, Tier,
    search::{Filters, RESULTS_PER_PAGE, SortOrder},
};

mod engines;
pub mod pages;
pub mod start;

pub struct BenchOptions {
    pub contacts: u64,
    pub queries: usize,
    /// Timed runs over the whole set on each engine.
    pub runs: usize,
    pub seed: u64,
    /// Keep the index here between runs (else a temporary folder, built each run).
    pub index_dir: Option<std::path::PathBuf>,
    /// Run these queries (each counted as "prefix") instead of the generated set.
    pub only: Vec<String>,
    /// The engines run beside the index (which always runs: the others' answers are
    /// checked against it).
    pub compared: Vec<Compared>,
}

/// An engine the index is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Compared {
    /// Postgres full text: weighted tsvector with GIN, pg_trgm for phone digits.
    Postgres,
    /// The same copy indexed by the RUM extension, where Postgres has it.
    Rum,
    /// SQLite FTS5 with bm25 and prefix indexes.
    Sqlite,
}

/// What a query exercises, for the per-kind figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A whole name or a family name, as written.
    Exact,
    /// One email address.
    Email,
    /// A phone number, whole or its last digits.
    Phone,
    /// A name as typed, one letter at a time: every state before the whole name.
    Prefix,
    Typo,
    /// One to three letters of a name under a tier or a city.
    Filtered,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Exact,
        Kind::Email,
        Kind::Phone,
        Kind::Prefix,
        Kind::Typo,
        Kind::Filtered,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Prefix => "prefix",
            Kind::Typo => "typo",
            Kind::Filtered => "filtered",
        }
    }

    /// Questions with one right answer: every engine must give it.
    fn exact_match(self) -> bool {
        matches!(self, Kind::Exact | Kind::Email | Kind::Phone)
    }
}

pub(super) struct BenchQuery {
    pub(super) kind: Kind,
    pub(super) query: SearchQuery,
}

/// Latencies of one engine over its timed runs, in microseconds, by kind.
#[derive(Default)]
struct Timings {
    runs: Vec<Vec<(Kind, u64)>>,
}

/// A percentile as the median over runs, with the runs' lowest and highest.
#[derive(Clone, Copy)]
struct Spread {
    median: f64,
    low: f64,
    high: f64,
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ({:.2}–{:.2})", self.median, self.low, self.high)
    }
}

/// The percentiles the bench reports: p50, p90, p99, p99.9.
const QUANTILES: [f64; 4] = [0.50, 0.90, 0.99, 0.999];

impl Timings {
    fn start_run(&mut self) {
        self.runs.push(Vec::new());
    }

    fn record(&mut self, kind: Kind, elapsed: Duration) {
        if self.runs.is_empty() {
            self.start_run();
        }
        let run = self.runs.last_mut().expect("a run");
        run.push((kind, elapsed.as_micros() as u64));
    }

    /// Each quantile's median over the runs and its spread, and the samples per run;
    /// `None` when no query of these kinds ran.
    fn percentiles(&self, filter: impl Fn(Kind) -> bool) -> Option<([Spread; 4], usize)> {
        let mut per_run: Vec<[f64; 4]> = Vec::new();
        let mut samples = 0;
        for run in &self.runs {
            let mut values: Vec<u64> = run
                .iter()
                .filter(|(kind, _)| filter(*kind))
                .map(|(_, micros)| *micros)
                .collect();
            if values.is_empty() {
                continue;
            }
            values.sort_unstable();
            samples = values.len();
            let at = |q: f64| {
                let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
                values[rank - 1] as f64 / 1_000.0
            };
            per_run.push(QUANTILES.map(at));
        }
        if per_run.is_empty() {
            return None;
        }
        let spread = |i: usize| {
            let mut values: Vec<f64> = per_run.iter().map(|p| p[i]).collect();
            values.sort_by(f64::total_cmp);
            Spread {
                median: values[values.len() / 2],
                low: values[0],
                high: values[values.len() - 1],
            }
        };
        Some(([spread(0), spread(1), spread(2), spread(3)], samples))
    }
}

/// How an engine's answers compare with the index's, on the queries of one kind.
struct KindAgreement {
    kind: Kind,
    queries: usize,
    /// Answers equal: the count, and the first page's ids as a set.
    equal: usize,
    /// The sum of first-page overlaps (shared ids ÷ the larger page).
    overlap: f64,
    /// How many the index matched, per query.
    totals: Vec<u64>,
}

/// How an engine's answers compare with the index's, by kind.
#[derive(Default)]
struct Agreement {
    by_kind: Vec<KindAgreement>,
    /// Exact-match queries whose answers differ, for the report.
    differing: Vec<String>,
}

impl Agreement {
    fn add(&mut self, kind: Kind, text: &str, index: &engines::Answer, other: &engines::Answer) {
        let mine: std::collections::HashSet<_> = index.ids.iter().collect();
        let theirs: std::collections::HashSet<_> = other.ids.iter().collect();
        let shared = mine.intersection(&theirs).count();
        let larger = mine.len().max(theirs.len());
        let overlap = if larger == 0 {
            1.0
        } else {
            shared as f64 / larger as f64
        };
        let equal = index.total == other.total && mine == theirs;
        if !equal && kind.exact_match() && self.differing.len() < 5 {
            self.differing.push(format!(
                "{text:?}: {} vs {} matches",
                index.total, other.total
            ));
        }
        let entry = match self.by_kind.iter().position(|entry| entry.kind == kind) {
            Some(at) => &mut self.by_kind[at],
            None => {
                self.by_kind.push(KindAgreement {
                    kind,
                    queries: 0,
                    equal: 0,
                    overlap: 0.0,
                    totals: Vec::new(),
                });
                self.by_kind.last_mut().expect("just pushed")
            }
        };
        entry.queries += 1;
        entry.equal += usize::from(equal);
        entry.overlap += overlap;
        entry.totals.push(index.total);
    }

    /// Whether every exact-match question got the index's answer.
    fn exact_answers_equal(&self) -> bool {
        self.by_kind
            .iter()
            .filter(|entry| entry.kind.exact_match())
            .all(|entry| entry.queries == entry.equal)
    }
}

/// The folder's size on disk, in bytes.
fn folder_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => folder_bytes(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

const MIB: f64 = 1024.0 * 1024.0;

pub async fn run(config: &Config, options: BenchOptions) -> anyhow::Result<String> {
    let database = format!("roster_bench_{}", options.contacts);
    let pool = seeded_database(config, &database).await?;
    if let Some(report) = fill(&pool, options.contacts).await? {
        eprintln!("{report}");
    }
    sqlx::query("ANALYZE contacts").execute(&pool).await?;
    let contacts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
            .fetch_one(&pool)
            .await?;

    eprintln!("building the index from {contacts} contacts…");
    let folder = tempfile::tempdir().context("creating a temporary index folder")?;
    let keep = options.index_dir.as_deref().unwrap_or(folder.path());
    std::fs::create_dir_all(keep)?;
    let root = keep.join(&database);
    // Tuned as the server would be (`ROSTER_INDEX_MAP_ALL` and the rest).
    let tuning = config.search_index().tuning();
    let index = SearchIndex::tuned(root.clone(), tuning);
    let started = Instant::now();
    let documents = sync::open_or_build_now(&pool, index.clone()).await?;
    let build_seconds = started.elapsed().as_secs_f64();
    let published = index.current().context("the built index is published")?;
    let replica = published.replica.clone();
    let segments = replica.searcher().segment_readers().len();
    let index_bytes = folder_bytes(&root);
    let resident_with_index = resident();

    // The other engines' copies, made from the same contacts as the same words.
    let compared = |engine| options.compared.contains(&engine);
    // RUM when this Postgres has it (Debian's postgresql-15-rum; `make test`'s
    // bootstrap installs it): a copy of the Postgres copy, indexed by RUM.
    let rum = compared(Compared::Rum) && engines::rum_available(&pool).await?;
    let gin = compared(Compared::Postgres);
    let position = sync::database_position(&pool).await?;
    let label = engines::store_label(contacts, position);
    let sqlite_path = keep.join(format!("{database}.sqlite"));
    let postgres_missing = (gin || rum) && !engines::postgres_is_current(&pool, &label).await?;
    let mut sqlite = match compared(Compared::Sqlite) {
        true => engines::Sqlite::open_current(&sqlite_path, &label)?.map(|open| (open, false)),
        false => None,
    };
    let sqlite_missing = compared(Compared::Sqlite) && sqlite.is_none();
    let mut copies_seconds = None;
    if postgres_missing || sqlite_missing {
        eprintln!("copying the contacts into the other engines…");
        let started = Instant::now();
        if postgres_missing {
            engines::postgres_create(&pool).await?;
        }
        if sqlite_missing {
            sqlite = Some((engines::Sqlite::create(&sqlite_path)?, true));
        }
        let mut reader = engines::DocReader::new(&pool).await?;
        let mut rowid = 1;
        while let Some(docs) = reader.next().await? {
            if postgres_missing {
                engines::postgres_insert(&pool, &docs).await?;
            }
            if let Some((building, true)) = &mut sqlite {
                building.insert(&docs, rowid)?;
            }
            rowid += docs.len() as i64;
        }
        if postgres_missing {
            engines::postgres_finish(&pool, &label).await?;
        }
        if let Some((building, true)) = &mut sqlite {
            building.finish(&label)?;
        }
        copies_seconds = Some(started.elapsed().as_secs_f64());
    }
    let sqlite = sqlite.map(|(open, _)| open);
    if compared(Compared::Rum) && !rum {
        eprintln!("Postgres has no RUM extension (postgresql-15-rum): RUM is not benched");
    }
    let mut rum_seconds = None;
    if rum && !engines::rum_is_current(&pool).await? {
        eprintln!("copying the Postgres copy into one indexed by RUM…");
        let started = Instant::now();
        engines::rum_create(&pool).await?;
        rum_seconds = Some(started.elapsed().as_secs_f64());
    }
    let rum_bytes = match rum {
        true => Some(engines::rum_bytes(&pool).await?),
        false => None,
    };
    let postgres_bytes = match gin {
        true => Some(engines::postgres_bytes(&pool).await?),
        false => None,
    };
    let sqlite_bytes = sqlite
        .as_ref()
        .map(|_| engines::Sqlite::bytes(&sqlite_path));

    let queries = if options.only.is_empty() {
        query_set(&pool, options.queries, options.seed).await?
    } else {
        options
            .only
            .iter()
            .map(|text| BenchQuery {
                kind: Kind::Prefix,
                query: SearchQuery::from_query_string(text),
            })
            .collect()
    };
    let questions: Vec<engines::Question> = queries
        .iter()
        .map(|bench| engines::Question::of(&bench.query))
        .collect();
    let mut conn = PgConnection::connect(&bench_url(config, &database)?).await?;
    engines::postgres_session(&mut conn).await?;

    // The same answers? Asked newest first, an order every engine gives alike.
    eprintln!(
        "comparing the engines' answers on {} queries…",
        queries.len()
    );
    let mut postgres_agreement = Agreement::default();
    let mut rum_agreement = Agreement::default();
    let mut sqlite_agreement = Agreement::default();
    for (bench, question) in queries.iter().zip(&questions) {
        let mut newest = bench.query.clone();
        newest.sort = SortOrder::Newest;
        let page = search::run(&replica, newest)?;
        let index_answer = engines::Answer {
            ids: page.hits.iter().map(|hit| hit.contact.id).collect(),
            total: page.total,
        };
        let filters = &bench.query.filters;
        let newest = engines::Order::Newest;
        if gin {
            let answer =
                engines::postgres(&mut conn, engines::Postgres::Gin, question, filters, newest)
                    .await?;
            postgres_agreement.add(bench.kind, &bench.query.text, &index_answer, &answer);
        }
        if rum {
            let answer =
                engines::postgres(&mut conn, engines::Postgres::Rum, question, filters, newest)
                    .await?;
            rum_agreement.add(bench.kind, &bench.query.text, &index_answer, &answer);
        }
        if let Some(sqlite) = &sqlite {
            let answer = sqlite.search(question, filters, engines::Order::Newest)?;
            sqlite_agreement.add(bench.kind, &bench.query.text, &index_answer, &answer);
        }
    }

    let runs = options.runs.max(1);
    // The index, no cache: each search counts every document it matches, as on
    // segments it has not seen (no facet counts kept from the run before).
    eprintln!("timing the index: 1 + {runs} runs…");
    let mut uncached = Timings::default();
    for run in 0..=runs {
        if run > 0 {
            uncached.start_run();
        }
        for bench in &queries {
            replica.forget_kept_counts();
            let started = Instant::now();
            let page = search::run(&replica, bench.query.clone())?;
            if run > 0 {
                uncached.record(bench.kind, started.elapsed());
            }
            std::hint::black_box(page);
        }
    }
    let resident_after_index = resident();
    let copies = gin
        .then_some(engines::Postgres::Gin)
        .into_iter()
        .chain(rum.then_some(engines::Postgres::Rum));
    let mut postgres = Timings::default();
    let mut postgres_rum = Timings::default();
    for copy in copies {
        eprintln!("timing Postgres ({copy:?}): 1 + {runs} runs…");
        let timings = match copy {
            engines::Postgres::Gin => &mut postgres,
            engines::Postgres::Rum => &mut postgres_rum,
        };
        for run in 0..=runs {
            if run > 0 {
                timings.start_run();
            }
            for (bench, question) in queries.iter().zip(&questions) {
                let started = Instant::now();
                let answer = engines::postgres(
                    &mut conn,
                    copy,
                    question,
                    &bench.query.filters,
                    engines::Order::Relevance,
                )
                .await?;
                if run > 0 {
                    timings.record(bench.kind, started.elapsed());
                }
                std::hint::black_box(answer);
            }
        }
    }
    let mut fts5 = Timings::default();
    for run in 0..=runs {
        let Some(sqlite) = &sqlite else { break };
        if run == 0 {
            eprintln!("timing SQLite FTS5: 1 + {runs} runs…");
        } else {
            fts5.start_run();
        }
        for (bench, question) in queries.iter().zip(&questions) {
            let started = Instant::now();
            let answer =
                sqlite.search(question, &bench.query.filters, engines::Order::Relevance)?;
            if run > 0 {
                fts5.record(bench.kind, started.elapsed());
            }
            std::hint::black_box(answer);
        }
    }

    // The whole search path with its two-level cache warm (a cached figure).
    let redis = config.redis_url.as_ref().map(redis::connect).transpose()?;
    if let Some(redis) = &redis {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            fred::interfaces::ClientLike::wait_for_connect(redis),
        )
        .await;
    }
    let cache = CacheNamespace::new(
        "bench",
        redis,
        // Every answer of the run kept (a cached figure).
        4 * 1024 * 1024 * 1024,
        Duration::from_secs(600),
        Duration::from_secs(600),
    );
    let service = SearchService::new(index.clone(), cache, pool.clone());
    for bench in &queries {
        service.search(bench.query.clone(), 0).await?;
    }
    let mut cached = Timings::default();
    for run in 0..runs {
        if run > 0 {
            cached.start_run();
        }
        for bench in &queries {
            let started = Instant::now();
            let page = service.search(bench.query.clone(), 0).await?;
            cached.record(bench.kind, started.elapsed());
            anyhow::ensure!(page.cached, "a warm cache answers");
        }
    }

    Ok(report(
        &ReportInput {
            contacts,
            documents,
            segments,
            build_seconds,
            index_bytes,
            postgres_bytes,
            rum_bytes,
            rum_seconds,
            sqlite_bytes,
            copies_seconds,
            queries: &queries,
            runs,
            resident: resident_with_index,
            resident_after: resident_after_index,
            map_all: tuning.map_all,
        },
        &[
            ("index, uncached", &uncached, None),
            (
                "Postgres full text",
                &postgres,
                gin.then_some(&postgres_agreement),
            ),
            ("Postgres RUM", &postgres_rum, rum.then_some(&rum_agreement)),
            (
                "SQLite FTS5",
                &fts5,
                sqlite.is_some().then_some(&sqlite_agreement),
            ),
            ("index, cache warm (cached)", &cached, None),
        ],
    ))
}

/// Seeds generated contacts (seed 42) until the database holds `contacts`; the seed's
/// report when it seeded. Shared by the benches and the load test's `prepare`.
pub(super) async fn fill(pool: &PgPool, contacts: u64) -> anyhow::Result<Option<seed::SeedReport>> {
    let present: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(pool)
        .await?;
    let mut report = None;
    if (present as u64) < contacts {
        let missing = contacts - present as u64;
        eprintln!("seeding {missing} contacts…");
        report = Some(
            seed::seed(
                pool,
                seed::SeedOptions {
                    count: missing,
                    seed: 42,
                    if_empty: false,
                },
            )
            .await?,
        );
    }
    Ok(report)
}

/// The bench database's URL: `DATABASE_URL` with its database replaced.
fn bench_url(config: &Config, database: &str) -> anyhow::Result<String> {
    let url = config.database_url.expose_secret();
    let (server, _) = url
        .rsplit_once('/')
        .context("DATABASE_URL has no database name")?;
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok(format!("{server}/{database}{query}"))
}

/// A bench database that the generator fills: made anew when an earlier vocabulary
/// of the generator filled it (its comment names the vocabulary), so figures are never
/// of contacts from two generators.
async fn seeded_database(config: &Config, database: &str) -> anyhow::Result<PgPool> {
    let label = format!("contacts by roster seed, vocabulary {}", seed::VOCABULARY);
    let mut admin = PgConnection::connect(&bench_url(config, "postgres")?)
        .await
        .context("connecting to the Postgres server to check the bench database")?;
    let found: Option<Option<String>> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(database)
    .fetch_optional(&mut admin)
    .await?;
    if found
        .as_ref()
        .is_some_and(|comment| comment.as_deref() != Some(&label))
    {
        eprintln!("{database} holds contacts of an earlier generator: making it anew");
        admin
            .execute(format!(r#"DROP DATABASE "{database}" WITH (FORCE)"#).as_str())
            .await?;
    }
    let pool = bench_database(config, database).await?;
    admin
        .execute(format!(r#"COMMENT ON DATABASE "{database}" IS '{label}'"#).as_str())
        .await?;
    admin.close().await?;
    Ok(pool)
}

async fn bench_database(config: &Config, database: &str) -> anyhow::Result<PgPool> {
    let mut admin = PgConnection::connect(&bench_url(config, "postgres")?)
        .await
        .context("connecting to the Postgres server to create the bench database")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        admin
            .execute(format!(r#"CREATE DATABASE "{database}""#).as_str())
            .await?;
    }
    admin.close().await?;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&bench_url(config, database)?)
        .await?;
    db::migrate(&pool).await?;
    Ok(pool)
}

/// The load test's Postgres baseline, what peers do: a tsvector over the searchable
/// fields and a GIN index on it. (The search bench's tuned copies are in [`engines`].)
pub(super) async fn prepare_full_text(db: &PgPool) -> anyhow::Result<()> {
    eprintln!("preparing the Postgres full-text baseline (tsvector + GIN)…");
    // Array output is only STABLE in Postgres; text[] of plain words is safe to call
    // immutable, as full-text setups commonly do.
    db.execute(
        "CREATE OR REPLACE FUNCTION bench_words(text[]) RETURNS text
            LANGUAGE sql IMMUTABLE AS $$ SELECT array_to_string($1, ' ') $$",
    )
    .await?;
    db.execute(
        "ALTER TABLE contacts ADD COLUMN IF NOT EXISTS bench_tsv tsvector GENERATED ALWAYS AS (
            to_tsvector('simple',
                coalesce(name, '') || ' ' || jsonb_path_query_array(emails, '$[*].value')::text || ' ' ||
                coalesce(company, '') || ' ' || coalesce(title, '') || ' ' ||
                coalesce(addresses->0->>'city', '') || ' ' ||
                bench_words(tags) || ' ' || coalesce(notes, ''))) STORED",
    )
    .await?;
    db.execute(
        "CREATE INDEX IF NOT EXISTS contacts_bench_tsv_idx ON contacts USING gin (bench_tsv)",
    )
    .await?;
    Ok(())
}

/// A mixed query set drawn from the data, as people search a directory (the same set
/// for the same seed and contacts). Contacts are drawn uniformly, so names come with the generator's Zipf frequencies. Each draw
/// is one of: a name typed letter by letter (every state a query: "a", "ad", "ada",
/// "ada l", … then the whole name), a family name, a whole name, a word of five
/// letters or more with a typo, an email address, a phone number whole or its last
/// six to eight digits, or one to three letters of a name under a tier or a city.
/// Weighted so that about 40 % of the queries are typed prefixes, 15 % whole or family
/// names, 15 % typos, and 10 % each emails, phones and filtered prefixes.
pub(super) async fn query_set(
    db: &PgPool,
    count: usize,
    seed: u64,
) -> anyhow::Result<Vec<BenchQuery>> {
    type Row = (String, Option<String>, Option<String>, Option<String>, i16);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT name, addresses->0->>'city', emails->0->>'value', phones->0->>'value', tier
           FROM contacts TABLESAMPLE SYSTEM (5) REPEATABLE ($1) WHERE deleted_at IS NULL LIMIT 5000",
    )
    .bind(seed as f64)
    .fetch_all(db)
    .await?;
    anyhow::ensure!(!rows.is_empty(), "the bench database has no contacts");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut queries = Vec::with_capacity(count);
    let text = |words: &str| SearchQuery::default().with_text(words);
    let kind_weights =
        rand::distr::weighted::WeightedIndex::new([10, 24, 21, 45, 30, 30, 30]).expect("weights");
    while queries.len() < count {
        let (name, location, email, phone, tier) = rows.choose(&mut rng).expect("rows");
        let words: Vec<&str> = name.split_whitespace().collect();
        let first = words[0];
        let last = words[words.len() - 1];
        match rng.sample(&kind_weights) {
            0 => {
                let typed = name.to_lowercase();
                let states: Vec<usize> = typed
                    .char_indices()
                    .map(|(at, ch)| at + ch.len_utf8())
                    .filter(|&end| !typed[..end].ends_with(' '))
                    .collect();
                for end in states {
                    let kind = if end == typed.len() {
                        Kind::Exact
                    } else {
                        Kind::Prefix
                    };
                    queries.push(BenchQuery {
                        kind,
                        query: text(&typed[..end]),
                    });
                }
            }
            1 => queries.push(BenchQuery {
                kind: Kind::Exact,
                query: text(last),
            }),
            2 => queries.push(BenchQuery {
                kind: Kind::Exact,
                query: text(name),
            }),
            3 => {
                let long: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| w.chars().count() >= 5)
                    .collect();
                if let Some(word) = long.choose(&mut rng) {
                    queries.push(BenchQuery {
                        kind: Kind::Typo,
                        query: text(&misspell(word, &mut rng)),
                    });
                }
            }
            4 => {
                if let Some(email) = email {
                    queries.push(BenchQuery {
                        kind: Kind::Email,
                        query: text(email),
                    });
                }
            }
            5 => {
                if let Some(phone) = phone {
                    let digits = search::text::digits(phone);
                    let typed = if rng.random_bool(0.5) || digits.len() < 8 {
                        phone.clone()
                    } else {
                        let keep = rng.random_range(6..=8);
                        digits[digits.len() - keep..].to_owned()
                    };
                    queries.push(BenchQuery {
                        kind: Kind::Phone,
                        query: text(&typed),
                    });
                }
            }
            _ => {
                let length = rng.random_range(1..=3);
                let prefix: String = first.chars().take(length).collect();
                let mut query = text(&prefix);
                query.filters = match location {
                    Some(location) if rng.random_bool(0.5) => Filters {
                        locations: vec![location.clone()],
                        ..Default::default()
                    },
                    _ => Filters {
                        tiers: vec![Tier::try_from(*tier).unwrap_or(Tier::ALL[3])],
                        ..Default::default()
                    },
                };
                queries.push(BenchQuery {
                    kind: Kind::Filtered,
                    query,
                });
            }
        }
    }
    queries.truncate(count);
    Ok(queries)
}

/// One typing mistake: swap two neighbours, drop a letter, or change one.
fn misspell(word: &str, rng: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.random_range(1..chars.len() - 1);
    match rng.random_range(0..3) {
        0 => chars.swap(at, at + 1),
        1 => {
            chars.remove(at);
        }
        _ => chars[at] = if chars[at] == 'x' { 'y' } else { 'x' },
    }
    chars.into_iter().collect()
}

/// `to_tsquery` with every word required and the last as a prefix (`word:*`).
pub(super) async fn postgres_full_text(
    conn: &mut PgConnection,
    query: &SearchQuery,
) -> anyhow::Result<()> {
    let words: Vec<String> = search::text::folded_words(&query.text);
    let mut condition = String::from("true");
    let mut binds: Vec<String> = Vec::new();
    if !words.is_empty() {
        let last = words.len() - 1;
        let terms: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                if i == last {
                    format!("{word}:*")
                } else {
                    word.clone()
                }
            })
            .collect();
        binds.push(terms.join(" & "));
        condition = "bench_tsv @@ to_tsquery('simple', $1)".to_owned();
    }
    add_filters(&mut condition, &mut binds, query);
    run_page_and_count(conn, &condition, &binds).await
}

fn add_filters(condition: &mut String, binds: &mut Vec<String>, query: &SearchQuery) {
    if let Some(tier) = query.filters.tiers.first() {
        let _ = write!(condition, " AND tier = {}", tier.get());
    }
    if let Some(location) = query.filters.locations.first() {
        binds.push(location.clone());
        let _ = write!(condition, " AND addresses->0->>'city' = ${}", binds.len());
    }
}

/// What a results page needs: the first page (newest first) and the total.
async fn run_page_and_count(
    conn: &mut PgConnection,
    condition: &str,
    binds: &[String],
) -> anyhow::Result<()> {
    let page = format!(
        "SELECT id, name, emails->0->>'value', company, title, addresses->0->>'city', tier, tags FROM contacts
          WHERE {condition} ORDER BY created_at DESC LIMIT {RESULTS_PER_PAGE}"
    );
    let count = format!("SELECT count(*) FROM contacts WHERE {condition}");
    let mut rows = sqlx::query(&page);
    for bind in binds {
        rows = rows.bind(bind);
    }
    rows.fetch_all(&mut *conn).await?;
    let mut total = sqlx::query_scalar::<_, i64>(&count);
    for bind in binds {
        total = total.bind(bind);
    }
    total.fetch_one(&mut *conn).await?;
    Ok(())
}

struct ReportInput<'a> {
    contacts: i64,
    documents: u64,
    segments: usize,
    build_seconds: f64,
    index_bytes: u64,
    /// The copies of the engines compared.
    postgres_bytes: Option<u64>,
    /// The RUM copy, when Postgres has RUM.
    rum_bytes: Option<u64>,
    /// When the RUM copy was made in this run, how long it took.
    rum_seconds: Option<f64>,
    sqlite_bytes: Option<u64>,
    /// When the other engines' copies were made in this run, how long it took.
    copies_seconds: Option<f64>,
    queries: &'a [BenchQuery],
    runs: usize,
    /// The bench process once the index was open.
    resident: Resident,
    /// The bench process after the index's timed runs.
    resident_after: Resident,
    /// Whether every index file was mapped (`ROSTER_INDEX_MAP_ALL`).
    map_all: bool,
}

type Engine<'a> = (&'a str, &'a Timings, Option<&'a Agreement>);

/// The compared engines' copies: their sizes, and how long making them took when they
/// were made in this run.
fn copies(input: &ReportInput) -> String {
    let made = |seconds: Option<f64>| {
        seconds
            .map(|s| format!(" (made in this run in {s:.1} s)"))
            .unwrap_or_default()
    };
    let mut parts = Vec::new();
    if let Some(bytes) = input.postgres_bytes {
        parts.push(format!("Postgres copy: {:.0} MiB", bytes as f64 / MIB));
    }
    if let Some(bytes) = input.rum_bytes {
        let made = made(input.rum_seconds);
        parts.push(format!("RUM copy: {:.0} MiB{made}", bytes as f64 / MIB));
    }
    if let Some(bytes) = input.sqlite_bytes {
        parts.push(format!("SQLite FTS5 copy: {:.0} MiB", bytes as f64 / MIB));
    }
    match parts.is_empty() {
        true => "no other engine compared".to_owned(),
        false => format!("{}{}", parts.join("; "), made(input.copies_seconds)),
    }
}

fn report(input: &ReportInput, engines: &[Engine]) -> String {
    let mut out = String::new();
    let mix: Vec<String> = Kind::ALL
        .iter()
        .map(|kind| {
            let n = input.queries.iter().filter(|q| q.kind == *kind).count();
            format!("{} {n}", kind.label())
        })
        .collect();
    let _ = writeln!(
        out,
        "contacts: {}  index: {} documents, built or opened in {:.1} s, {} segments, {:.0} MiB on disk, \
         {}; bench process {} once open, {} after the index's runs\n\
         {}\n\
         queries: {} ({}); every engine runs them all: 1 warm-up run, then {} timed runs\n",
        input.contacts,
        input.documents,
        input.build_seconds,
        input.segments,
        input.index_bytes as f64 / MIB,
        if input.map_all {
            "every file mapped"
        } else {
            "only columns and term dictionaries mapped"
        },
        input.resident,
        input.resident_after,
        copies(input),
        input.queries.len(),
        mix.join(", "),
        input.runs,
    );

    if engines.iter().any(|(_, _, agreement)| agreement.is_some()) {
        let _ = writeln!(
            out,
            "Same answers as the index (newest first: the count and the first page's ids):"
        );
        let _ = writeln!(
            out,
            "| engine | kind | queries | matches (median, max) | same answer | first-page overlap |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
    }
    for (name, _, agreement) in engines {
        let Some(agreement) = agreement else { continue };
        let mut kinds: Vec<&KindAgreement> = agreement.by_kind.iter().collect();
        kinds.sort_by_key(|entry| Kind::ALL.iter().position(|kind| *kind == entry.kind));
        for entry in kinds {
            let mut totals = entry.totals.clone();
            totals.sort_unstable();
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {}, {} | {} ({:.1} %) | {:.1} % |",
                entry.kind.label(),
                entry.queries,
                totals[totals.len() / 2],
                totals[totals.len() - 1],
                entry.equal,
                100.0 * entry.equal as f64 / entry.queries as f64,
                100.0 * entry.overlap / entry.queries as f64
            );
        }
        for differing in &agreement.differing {
            let _ = writeln!(out, "  {name} differs on {differing}");
        }
    }
    let _ = writeln!(out);

    let baseline = engines[0].1;
    type Group = (&'static str, fn(Kind) -> bool);
    let groups: [Group; 6] = [
        ("all queries", |_| true),
        ("exact: whole names, family names, emails, phones", |kind| {
            kind.exact_match()
        }),
        ("prefixes, typed letter by letter", |kind| {
            kind == Kind::Prefix
        }),
        ("typos", |kind| kind == Kind::Typo),
        ("prefixes under a filter, with facets", |kind| {
            kind == Kind::Filtered
        }),
        ("everything but typos", |kind| kind != Kind::Typo),
    ];
    let _ = writeln!(
        out,
        "Latency in ms: each percentile is the median of the {} runs (lowest–highest run).",
        input.runs
    );
    for (title, filter) in groups {
        let _ = writeln!(out, "\n{title}:");
        let _ = writeln!(
            out,
            "| engine | queries a run | p50 | p90 | p99 | p99.9 | p50 ÷ index p50 | p99 ÷ index p99 |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        let base = baseline.percentiles(filter);
        for (name, timings, agreement) in engines {
            let Some(([p50, p90, p99, p999], samples)) = timings.percentiles(filter) else {
                continue;
            };
            let ratios = match (agreement, base) {
                (Some(agreement), Some(([b50, _, b99, _], _))) => {
                    if agreement.exact_answers_equal() {
                        format!(
                            "{:.1}× | {:.1}×",
                            p50.median / b50.median,
                            p99.median / b99.median
                        )
                    } else {
                        "— (answers differ) | —".to_owned()
                    }
                }
                _ => "| ".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {name} | {samples} | {p50} | {p90} | {p99} | {p999} | {ratios} |"
            );
        }
    }
    out
}

/// The field every benched row fills.
const BENCH_FIELD: &str = "Member number";

/// The custom field every benched row fills, created when the directory lacks it.
pub(crate) async fn bench_field(
    pool: &PgPool,
) -> anyhow::Result<crate::domain::custom::CustomField> {
    let existing = crate::server::db::custom_fields::all(pool)
        .await?
        .into_iter()
        .find(|f| f.name == BENCH_FIELD);
    if let Some(field) = existing {
        return Ok(field);
    }
    let mut conn = pool.acquire().await?;
    Ok(crate::server::db::custom_fields::create(
        &mut conn,
        &crate::domain::custom::CustomFieldSpec {
            name: BENCH_FIELD.into(),
            kind: crate::domain::custom::CustomKind::Text,
            options: Vec::new(),
        },
    )
    .await?)
}

/// Writes rich generated contacts numbered `numbers` (from the generator of `seed`;
/// the numbers make their emails, so other numbers are other people) as CSV to `csv`
/// and, when asked, as vCard 4.0 to `vcard`.
pub(crate) fn write_rich_files(
    field: &crate::domain::custom::CustomField,
    (seed, numbers): (u64, std::ops::Range<u64>),
    csv: &std::path::Path,
    vcard: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let fields = std::slice::from_ref(field);
    let mut csv = csv::Writer::from_path(csv)?;
    csv.write_record(crate::server::export::csv_header(fields))?;
    let mut vcards = match vcard {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let mut generator = seed::Generator::new(seed, 0);
    for n in numbers {
        let contact = rich_contact(&mut generator, n, field)?;
        csv.write_record(crate::server::export::csv_record(&contact, fields))?;
        if let Some(vcards) = vcards.as_mut() {
            std::io::Write::write_all(
                vcards,
                crate::server::export::vcard(&contact, fields).as_bytes(),
            )?;
        }
    }
    csv.flush()?;
    if let Some(mut vcards) = vcards {
        std::io::Write::flush(&mut vcards)?;
    }
    Ok(())
}

/// A generated contact made rich as the issue asks: three emails, two phones, an
/// address and a custom value.
fn rich_contact(
    generator: &mut seed::Generator,
    n: u64,
    field: &crate::domain::custom::CustomField,
) -> anyhow::Result<crate::server::search::schema::IndexedContact> {
    use crate::domain::card::{AddressInput, EntryInput};
    let contact = generator.next_contact();
    let mut input = contact.card.to_input();
    // Unique addresses: the bench's rows are all new to the directory.
    let local = format!("bench{n}");
    input.emails = vec![
        EntryInput::new("work", &format!("{local}@work.example")),
        EntryInput::new("home", &format!("{local}@home.example")),
        EntryInput::new("other", &format!("{local}@other.example")),
    ];
    input.phones = vec![
        EntryInput::new("mobile", &format!("+44 7700 {:06}", n % 1_000_000)),
        EntryInput::new("work", &format!("+44 20 7946 {:04}", n % 10_000)),
    ];
    input.addresses = vec![AddressInput {
        label: "work".into(),
        street: format!("{} Bench Street", n % 500 + 1),
        city: "London".into(),
        postal_code: "SW1A 1AA".into(),
        country: "GB".into(),
        ..AddressInput::default()
    }];
    input.custom.insert(
        crate::domain::custom::input_key(field.id),
        format!("M-{n:07}"),
    );
    let card = crate::domain::Card::parse_with(&input, std::slice::from_ref(field))
        .map_err(|errors| anyhow::anyhow!("a generated row is invalid: {errors:?}"))?;
    Ok(crate::server::search::schema::IndexedContact {
        id: contact.id,
        card,
        company_domain: None,
        created_at_micros: contact.created_at_micros,
        version: 1,
    })
}

/// The process's resident memory in MiB: all of it, its anonymous part (the heap:
/// what the process holds) and its file-backed part (pages of the index files it has
/// mapped and read, which the kernel drops first under pressure). Linux; zero elsewhere.
#[derive(Clone, Copy, Default)]
struct Resident {
    all: f64,
    anonymous: f64,
    files: f64,
}

fn resident() -> Resident {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Resident {
        all: status_mib(&status, "VmRSS:"),
        anonymous: status_mib(&status, "RssAnon:"),
        files: status_mib(&status, "RssFile:"),
    }
}

/// A memory line of a `/proc/<pid>/status` file (`VmRSS:` …), in MiB (0 if absent).
pub(super) fn status_mib(status: &str, field: &str) -> f64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

impl Resident {
    fn max(self, other: Resident) -> Resident {
        Resident {
            all: self.all.max(other.all),
            anonymous: self.anonymous.max(other.anonymous),
            files: self.files.max(other.files),
        }
    }
}

impl std::fmt::Display for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.0} MiB ({:.0} anonymous, {:.0} mapped index files)",
            self.all, self.anonymous, self.files
        )
    }
}

/// `roster bench import`: `rows` rich generated contacts (three emails, two phones, an
/// address and a custom value each), written as CSV and as vCard 4.0, each imported
/// into a copy of a directory of `into` contacts through the same path as an upload
/// (stored file, dry run, background commit in batches) with a live search index
/// following; the clock stops when the import is done *and* searchable. Then the same
/// file again, which must change nothing. Then every contact of the last directory is
/// exported as vCard through the export's own steps (the index read in chunks, each
/// rendered), timed, with the process's memory before and after.
pub async fn import(config: &Config, rows: u64, into: u64) -> anyhow::Result<String> {
    use crate::server::{db::audit::Actor, import};

    // The directory imported into, made once and copied for each format.
    let base = format!("roster_bench_import_base_{into}");
    let base_pool = seeded_database(config, &base).await?;
    let field = bench_field(&base_pool).await?;
    // Seeded as `roster seed` does (no search baseline beside it: a directory as it runs).
    let present: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&base_pool)
        .await?;
    if (present as u64) < into {
        eprintln!("seeding {} contacts…", into - present as u64);
        seed::seed(
            &base_pool,
            seed::SeedOptions {
                count: into - present as u64,
                seed: 42,
                if_empty: false,
            },
        )
        .await?;
    }
    base_pool.close().await;

    let work = tempfile::tempdir().context("creating a temporary folder")?;
    eprintln!("writing {rows} rich generated contacts as CSV and as vCard 4.0…");
    let csv_file = work.path().join("contacts.csv");
    let vcard_file = work.path().join("contacts.vcf");
    write_rich_files(&field, (99, 0..rows), &csv_file, Some(&vcard_file))?;

    let mut out = String::new();
    writeln!(
        out,
        "import of {rows} rich contacts (3 emails, 2 phones, 1 address, 1 custom value each) \
         into a directory of {into}, index included"
    )?;
    let mut last = None;
    for (format, file, name) in [
        ("CSV", &csv_file, "contacts.csv"),
        ("vCard 4.0", &vcard_file, "contacts.vcf"),
    ] {
        let database = "roster_bench_import";
        let mut admin = PgConnection::connect(&bench_url(config, "postgres")?).await?;
        admin
            .execute(format!(r#"DROP DATABASE IF EXISTS "{database}" WITH (FORCE)"#).as_str())
            .await?;
        let copying = Instant::now();
        // A template must have no other session. The base's pool is closed, but a
        // connection it was still opening can outlive the close; end any such session.
        // Autovacuum may also hold one for a moment: retried below.
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&base)
        .execute(&mut admin)
        .await?;
        let mut tries = 0;
        while let Err(error) = admin
            .execute(format!(r#"CREATE DATABASE "{database}" TEMPLATE "{base}""#).as_str())
            .await
        {
            tries += 1;
            let busy = error
                .as_database_error()
                .is_some_and(|e| e.code().as_deref() == Some("55006"));
            if !busy || tries == 10 {
                return Err(error.into());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        admin.close().await?;
        let pool = bench_database(config, database).await?;
        let size = std::fs::metadata(file)?.len();
        eprintln!(
            "{format}: directory copied in {:.1} s; building its index…",
            copying.elapsed().as_secs_f64()
        );

        let index = SearchIndex::new(work.path().join(format!("index-{name}")));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let follower =
            tokio::spawn(sync::Follower::new(pool.clone(), index.clone(), stopped.clone()).run());
        let building = Instant::now();
        while index.current().is_none() || index.status().lag > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        writeln!(
            out,
            "{format} ({:.1} MB): the directory's index ready in {:.1} s ({} documents)",
            size as f64 / 1e6,
            building.elapsed().as_secs_f64(),
            index.status().documents
        )?;
        for pass in ["first import", "same file again"] {
            let started = Instant::now();
            let mut upload = import::Upload::new(work.path()).await?;
            upload.write(&tokio::fs::read(file).await?).await?;
            let id = import::create_job(
                &pool,
                upload,
                name,
                import::text::Charset::Detect,
                &Actor::command_line(),
                import::ImportLimits::default(),
            )
            .await?;
            let checked = started.elapsed();
            import::start(&pool, id).await?;
            let committing = Instant::now();
            import::run_waiting(&pool, Some(&index), work.path(), &stopped).await?;
            let committed = committing.elapsed();
            let job = import::job(&pool, id).await?;
            anyhow::ensure!(job.error.is_none(), "the import failed: {:?}", job.error);
            let total = started.elapsed();
            writeln!(
                out,
                "  {pass}: stored + dry run {:.1} s, commit + index {:.1} s, total {:.1} s ({:.0} rows/s) — created {}, updated {}, unchanged {}, duplicates {}, invalid {}",
                checked.as_secs_f64(),
                committed.as_secs_f64(),
                total.as_secs_f64(),
                rows as f64 / total.as_secs_f64(),
                job.done.create,
                job.done.update,
                job.done.unchanged,
                job.done.duplicate,
                job.done.invalid,
            )?;
        }
        let searchable = index.status();
        writeln!(
            out,
            "  index: {} documents, lag {}",
            searchable.documents, searchable.lag
        )?;
        let _ = stop.send(true);
        let _ = follower.await;
        last = Some((pool, index));
    }

    // The export: every contact of the last directory, read from its index in the
    // export's chunks and rendered as vCard 4.0, written nowhere.
    if let Some((pool, index)) = last {
        let fields: Vec<_> = crate::server::db::custom_fields::all(&pool).await?;
        let published = index.current().context("the index is published")?;
        let before = resident();
        let started = Instant::now();
        let (bytes, contacts, peak) = tokio::task::spawn_blocking(move || {
            let request = crate::domain::SearchQuery::default();
            let parsed = crate::server::search::query::parse(&request.text);
            let (searcher, addresses) = published.replica.matches(&request, &parsed)?;
            let mut bytes = 0usize;
            let mut peak = Resident::default();
            for (n, chunk) in addresses.chunks(500).enumerate() {
                for contact in published.replica.stored_contacts(&searcher, chunk)? {
                    bytes += crate::server::export::vcard(&contact, &fields).len();
                }
                if n % 200 == 0 {
                    peak = peak.max(resident());
                }
            }
            Ok::<_, anyhow::Error>((bytes, addresses.len(), peak.max(resident())))
        })
        .await??;
        let seconds = started.elapsed().as_secs_f64();
        writeln!(
            out,
            "export of {contacts} contacts as vCard 4.0 (index read in chunks of 500, rendered; no HTTP): \
             {seconds:.1} s, {:.0} contacts/s, {:.0} MB; resident {before} before, at most {peak} while exporting",
            contacts as f64 / seconds,
            bytes as f64 / 1e6
        )?;
    }
    Ok(out)
}
