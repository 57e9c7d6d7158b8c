//! `roster bench search`: the search engine against the ways peers search, on one
//! dataset and one query set, in one run.
//!
//! It works in a database of its own, `roster_bench_<N>`, on the server named by
//! `DATABASE_URL` (created, migrated and seeded on first use, reused after), because
//! it adds what the Postgres full-text baseline needs (a tsvector column and its GIN
//! index) and must never touch real data. Then it builds the index through the same
//! code the server uses, derives a mixed query set from the data (deterministic for
//! a seed), and times each query on: the index without any cache, the full search
//! path with the cache warm, Postgres `ILIKE`, and Postgres full text. Postgres runs
//! a sample of the set (every k-th query) because its slower queries take seconds.

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
    search::{Filters, RESULTS_PER_PAGE},
};

pub mod pages;

pub struct BenchOptions {
    pub contacts: u64,
    pub queries: usize,
    /// Queries run on each Postgres engine (a sample of the set).
    pub postgres_queries: usize,
    /// Passes over the query set for the index (more samples for the tail).
    pub passes: usize,
    pub seed: u64,
    /// Keep the index here between runs (else a temporary folder, built each run).
    pub index_dir: Option<std::path::PathBuf>,
    /// Run these queries (each counted as "prefix") instead of the generated set.
    pub only: Vec<String>,
}

/// What a query exercises, for the per-kind figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Exact,
    Prefix,
    Typo,
    Filtered,
}

impl Kind {
    pub(super) fn label(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::Prefix => "prefix",
            Kind::Typo => "typo",
            Kind::Filtered => "filtered",
        }
    }

    /// The issue's two budgets: exact and prefix (with or without filters) vs typos.
    fn tolerates_typos(self) -> bool {
        self == Kind::Typo
    }
}

pub(super) struct BenchQuery {
    pub(super) kind: Kind,
    pub(super) query: SearchQuery,
}

/// Latencies of one engine, in microseconds.
#[derive(Default)]
struct Timings {
    samples: Vec<(Kind, u64)>,
}

impl Timings {
    fn record(&mut self, kind: Kind, elapsed: Duration) {
        self.samples.push((kind, elapsed.as_micros() as u64));
    }

    fn percentiles(&self, filter: impl Fn(Kind) -> bool) -> Option<[f64; 4]> {
        let mut values: Vec<u64> = self
            .samples
            .iter()
            .filter(|(kind, _)| filter(*kind))
            .map(|(_, micros)| *micros)
            .collect();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
            values[rank - 1] as f64 / 1_000.0
        };
        Some([at(0.50), at(0.95), at(0.99), values.len() as f64])
    }
}

pub async fn run(config: &Config, options: BenchOptions) -> anyhow::Result<String> {
    let database = format!("roster_bench_{}", options.contacts);
    let pool = seeded_database(config, &database).await?;
    if let Some(report) = fill(&pool, options.contacts).await? {
        eprintln!("{report}");
    }
    sqlx::query("ANALYZE contacts").execute(&pool).await?;
    let contacts: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&pool)
        .await?;

    eprintln!("building the index from {contacts} contacts…");
    let folder = tempfile::tempdir().context("creating a temporary index folder")?;
    let root = match &options.index_dir {
        Some(dir) => dir.join(&database),
        None => folder.path().join("index"),
    };
    let index = SearchIndex::new(root);
    let started = Instant::now();
    let documents = sync::open_or_build_now(&pool, index.clone()).await?;
    let build_seconds = started.elapsed().as_secs_f64();
    let published = index.current().context("the built index is published")?;
    let replica = published.replica.clone();
    let segments = replica.searcher().segment_readers().len();

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
    eprintln!("running {} queries…", queries.len());

    // The index, no cache: one pass to warm the operating system's page cache, then
    // timed passes. No facet counts kept from the pass before either: each search
    // counts every document it matches, as on segments it has not seen.
    for bench in &queries {
        search::run(&replica, bench.query.clone())?;
    }
    let mut uncached = Timings::default();
    for _ in 0..options.passes.max(1) {
        for bench in &queries {
            replica.forget_kept_counts();
            let started = Instant::now();
            let page = search::run(&replica, bench.query.clone())?;
            uncached.record(bench.kind, started.elapsed());
            std::hint::black_box(page);
        }
    }

    // The whole search path with its two-level cache warm.
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
        100_000,
        Duration::from_secs(600),
        Duration::from_secs(600),
    );
    let service = SearchService::new(index.clone(), cache, pool.clone());
    for bench in &queries {
        service.search(bench.query.clone(), 0).await?;
    }
    let mut cached = Timings::default();
    for bench in &queries {
        let started = Instant::now();
        let page = service.search(bench.query.clone(), 0).await?;
        cached.record(bench.kind, started.elapsed());
        anyhow::ensure!(page.cached, "a warm cache answers");
    }

    // Postgres, on an evenly spread sample of the same queries.
    let step = (queries.len() / options.postgres_queries.max(1)).max(1);
    let sample: Vec<&BenchQuery> = queries
        .iter()
        .step_by(step)
        .take(options.postgres_queries)
        .collect();
    let mut conn = PgConnection::connect(&bench_url(config, &database)?).await?;
    conn.execute("SET statement_timeout = '120s'").await?;
    let mut ilike = Timings::default();
    let mut full_text = Timings::default();
    eprintln!(
        "running {} queries on Postgres (ILIKE, then full text)…",
        sample.len()
    );
    for bench in &sample {
        let started = Instant::now();
        postgres_ilike(&mut conn, &bench.query).await?;
        ilike.record(bench.kind, started.elapsed());
    }
    for bench in &sample {
        let started = Instant::now();
        postgres_full_text(&mut conn, &bench.query).await?;
        full_text.record(bench.kind, started.elapsed());
    }

    Ok(report(
        &ReportInput {
            contacts,
            documents,
            segments,
            build_seconds,
            queries: queries.len(),
            passes: options.passes.max(1),
            sample: sample.len(),
        },
        &[
            ("index, uncached", &uncached),
            ("index, cache warm", &cached),
            ("Postgres ILIKE", &ilike),
            ("Postgres full text", &full_text),
        ],
    ))
}

/// Seeds generated contacts (seed 42) until the database holds `contacts`, then
/// readies the Postgres full-text baseline; the seed's report when it seeded. Shared
/// by the search bench and the load test's `prepare`.
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
    eprintln!("preparing the Postgres full-text baseline (tsvector + GIN)…");
    prepare_full_text(pool).await?;
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

/// What peers do: a tsvector over the searchable fields and a GIN index on it.
pub(super) async fn prepare_full_text(db: &PgPool) -> anyhow::Result<()> {
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

/// A mixed query set drawn from the data: full names and family names; prefixes of
/// one to four letters, alone and after a whole word; typos (a swap, a dropped or a
/// changed letter) in words of five letters or more; and prefixes under filters.
pub(super) async fn query_set(
    db: &PgPool,
    count: usize,
    seed: u64,
) -> anyhow::Result<Vec<BenchQuery>> {
    let rows: Vec<(String, Option<String>, Option<String>, i16)> = sqlx::query_as(
        "SELECT name, company, addresses->0->>'city', tier FROM contacts TABLESAMPLE SYSTEM (5) LIMIT 5000",
    )
    .fetch_all(db)
    .await?;
    anyhow::ensure!(!rows.is_empty(), "the bench database has no contacts");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut queries = Vec::with_capacity(count);
    let text = |words: String| SearchQuery::default().with_text(&words);
    while queries.len() < count {
        let (name, _company, location, tier) = rows.choose(&mut rng).expect("rows");
        let words: Vec<&str> = name.split_whitespace().collect();
        let first = words[0];
        let last = words[words.len() - 1];
        let choice = queries.len() % 8;
        let bench = match choice {
            0 => BenchQuery {
                kind: Kind::Exact,
                query: text(name.clone()),
            },
            1 => BenchQuery {
                kind: Kind::Exact,
                query: text(last.to_owned()),
            },
            2 | 3 => {
                let length = rng.random_range(1..=4);
                BenchQuery {
                    kind: Kind::Prefix,
                    query: text(first.chars().take(length).collect()),
                }
            }
            4 => {
                let length = rng.random_range(1..=4);
                let prefix: String = last.chars().take(length).collect();
                BenchQuery {
                    kind: Kind::Prefix,
                    query: text(format!("{first} {prefix}")),
                }
            }
            5 | 6 => {
                let long: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| w.chars().count() >= 5)
                    .collect();
                let Some(word) = long.choose(&mut rng) else {
                    continue;
                };
                let typo = misspell(word, &mut rng);
                BenchQuery {
                    kind: Kind::Typo,
                    query: text(typo),
                }
            }
            _ => {
                let length = rng.random_range(1..=3);
                let mut query = text(first.chars().take(length).collect());
                query.filters = if rng.random_bool(0.5) {
                    Filters {
                        tiers: vec![Tier::try_from(*tier).unwrap_or(Tier::ALL[3])],
                        ..Default::default()
                    }
                } else {
                    Filters {
                        locations: location.iter().cloned().collect(),
                        ..Default::default()
                    }
                };
                BenchQuery {
                    kind: Kind::Filtered,
                    query,
                }
            }
        };
        queries.push(bench);
    }
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

/// Every word somewhere, case-insensitively, as `ILIKE '%word%'`; a page and a count.
async fn postgres_ilike(conn: &mut PgConnection, query: &SearchQuery) -> anyhow::Result<()> {
    let words: Vec<&str> = query.text.split_whitespace().collect();
    let mut condition = String::from("true");
    let mut binds: Vec<String> = Vec::new();
    for word in &words {
        binds.push(format!("%{word}%"));
        let n = binds.len();
        write!(
            condition,
            " AND (name ILIKE ${n} OR emails::text ILIKE ${n} OR company ILIKE ${n} OR title ILIKE ${n}
               OR addresses::text ILIKE ${n} OR notes ILIKE ${n} OR array_to_string(tags, ' ') ILIKE ${n})"
        )?;
    }
    add_filters(&mut condition, &mut binds, query);
    run_page_and_count(conn, &condition, &binds).await
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

struct ReportInput {
    contacts: i64,
    documents: u64,
    segments: usize,
    build_seconds: f64,
    queries: usize,
    passes: usize,
    sample: usize,
}

fn report(input: &ReportInput, engines: &[(&str, &Timings)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "contacts: {}  indexed: {} in {:.1} s ({} segments)  queries: {} ({} timed passes on the index; {} on Postgres)\n",
        input.contacts,
        input.documents,
        input.build_seconds,
        input.segments,
        input.queries,
        input.passes,
        input.sample
    );
    let baseline = engines[0].1;
    for (title, filter) in [
        ("all queries", (|_| true) as fn(Kind) -> bool),
        (
            "exact and prefix (with and without filters)",
            |kind: Kind| !kind.tolerates_typos(),
        ),
        ("typo-tolerant", |kind: Kind| kind.tolerates_typos()),
    ] {
        let _ = writeln!(out, "{title}:");
        let _ = writeln!(
            out,
            "| engine | queries | p50 ms | p95 ms | p99 ms | p99 ÷ index uncached p99 |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        let base = baseline.percentiles(filter).map_or(f64::NAN, |p| p[2]);
        for (name, timings) in engines {
            if let Some([p50, p95, p99, n]) = timings.percentiles(filter) {
                let _ = writeln!(
                    out,
                    "| {name} | {n} | {p50:.2} | {p95:.2} | {p99:.2} | {:.1}× |",
                    p99 / base
                );
            }
        }
        let _ = writeln!(out);
    }
    for kind in [Kind::Exact, Kind::Prefix, Kind::Typo, Kind::Filtered] {
        if let Some([p50, p95, p99, n]) = baseline.percentiles(|k| k == kind) {
            let _ = writeln!(
                out,
                "index uncached, {}: {n} queries, p50 {p50:.2} ms, p95 {p95:.2} ms, p99 {p99:.2} ms",
                kind.label()
            );
        }
    }
    out
}

/// The field every benched row fills.
const BENCH_FIELD: &str = "Member number";

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
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(0.0)
            / 1024.0
    };
    Resident {
        all: field("VmRSS:"),
        anonymous: field("RssAnon:"),
        files: field("RssFile:"),
    }
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
    let field = match crate::server::db::custom_fields::all(&base_pool)
        .await?
        .into_iter()
        .find(|f| f.name == BENCH_FIELD)
    {
        Some(field) => field,
        None => {
            let mut conn = base_pool.acquire().await?;
            crate::server::db::custom_fields::create(
                &mut conn,
                &crate::domain::custom::CustomFieldSpec {
                    name: BENCH_FIELD.into(),
                    kind: crate::domain::custom::CustomKind::Text,
                    options: Vec::new(),
                },
            )
            .await?
        }
    };
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
    {
        let fields = std::slice::from_ref(&field);
        let mut csv = csv::Writer::from_path(&csv_file)?;
        csv.write_record(crate::server::export::csv_header(fields))?;
        let mut vcards = std::io::BufWriter::new(std::fs::File::create(&vcard_file)?);
        let mut generator = seed::Generator::new(99, 0);
        for n in 0..rows {
            let contact = rich_contact(&mut generator, n, &field)?;
            csv.write_record(crate::server::export::csv_record(&contact, fields))?;
            std::io::Write::write_all(
                &mut vcards,
                crate::server::export::vcard(&contact, fields).as_bytes(),
            )?;
        }
        csv.flush()?;
        std::io::Write::flush(&mut vcards)?;
    }

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
