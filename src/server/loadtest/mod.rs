//! `roster loadtest`: drives a running Roster as many people would, and reports.
//!
//! - `prepare` readies a database for it (the one `DATABASE_URL` names, which must be
//!   a load-test database: its name starts with `roster_load`): contacts up to a count,
//!   the Postgres full-text baseline's column and index, and the accounts the simulated
//!   people sign in as.
//! - `visits` is the open model, in the design documents' phases (warm-up, sustained,
//!   peak), with per-user limits as in real use.
//! - `pages` is the throughput run: server-rendered search pages on N connections,
//!   again with thousands of idle keep-alive connections open, and the same queries on
//!   Postgres full text.
//!
//! - `writes` is reads while writes run: the search load alone, beside steady edits,
//!   then beside an import too, and how soon edits are found on every instance.
//! - `soak` is the visits' mix by a fixed crowd for a long stretch, judged at the end:
//!   no errors, latencies within the targets, the server's memory not growing.
//!
//! Every HTTP request goes through reqwest; nothing here speaks HTTP by hand.
//! `scripts/loadtest.sh` (`make loadtest`) runs the whole thing against a server it
//! starts, and docs/PERFORMANCE.md has the figures.

pub mod pages;
pub mod soak;
pub mod stats;
pub mod visits;
pub mod writes;

use std::{collections::BTreeMap, fmt::Write as _, sync::Arc, time::Duration};

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::{PgPool, postgres::PgPoolOptions};

use super::{auth::password, bench, config::Config, db};
use crate::domain::{Role, SearchQuery};

/// The accounts a run signs in as: `load-00000@loadtest.invalid` and on, editors, all
/// with one password. They exist only in a load-test database.
pub struct Accounts {
    count: usize,
}

const PASSWORD: &str = "load test password, not a secret";

impl Accounts {
    pub fn new(count: usize) -> Self {
        Accounts {
            count: count.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn email(&self, n: usize) -> String {
        format!("load-{n:05}@loadtest.invalid")
    }

    pub fn password(&self) -> &'static str {
        PASSWORD
    }
}

/// A client as a browser tab is: its own cookie jar (when `cookies`), its own
/// connection (let go after 20 s idle), no redirects followed (the answers are read
/// as they come).
pub(crate) fn client(cookies: bool) -> reqwest::Client {
    builder()
        .cookie_store(cookies)
        .pool_idle_timeout(Duration::from_secs(20))
        .build()
        .expect("a plain HTTP client builds")
}

/// A client that keeps its one connection open however long it is idle.
pub(crate) fn idle_client() -> reqwest::Client {
    builder()
        .pool_idle_timeout(None)
        .build()
        .expect("a plain HTTP client builds")
}

fn builder() -> reqwest::ClientBuilder {
    // As a browser on Roster's own page says of its requests (a post carrying a session
    // cookie without it is refused as possibly cross-site).
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
}

/// The load-test database, refusing any other: `prepare` adds a column, an index and
/// accounts, and runs edit real rows.
async fn load_database(config: &Config) -> anyhow::Result<PgPool> {
    let url = config.database_url.expose_secret();
    let name = url
        .rsplit_once('/')
        .map(|(_, rest)| rest.split('?').next().unwrap_or(rest))
        .unwrap_or_default();
    anyhow::ensure!(
        name.starts_with("roster_load"),
        "DATABASE_URL names the database `{name}`; the load test only works in a database \
         whose name starts with `roster_load`, so that it never touches real contacts"
    );
    PgPoolOptions::new()
        .max_connections(20)
        .connect(url)
        .await
        .context("connecting to the load-test database")
}

pub async fn prepare(config: &Config, contacts: u64, accounts: usize) -> anyhow::Result<String> {
    let pool = load_database(config).await?;
    db::migrate(&pool).await?;
    let mut out = String::new();
    if let Some(report) = bench::fill(&pool, contacts).await? {
        let _ = writeln!(out, "{report}");
    }
    bench::prepare_full_text(&pool).await?;
    sqlx::query("ANALYZE contacts").execute(&pool).await?;

    let accounts = Accounts::new(accounts);
    let added = add_accounts(&pool, &accounts).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
        .fetch_one(&pool)
        .await?;
    let _ = writeln!(
        out,
        "load-test database ready: {total} contacts, {} accounts ({added} new)",
        accounts.len()
    );
    Ok(out)
}

/// Creates the run's accounts that do not exist yet; how many were new.
pub async fn add_accounts(pool: &PgPool, accounts: &Accounts) -> anyhow::Result<u64> {
    // One hash for every account (they share the password): hashing thousands would
    // take minutes and measure nothing.
    let hash = password::hash(PASSWORD.to_owned()).await?;
    let emails: Vec<String> = (0..accounts.len()).map(|n| accounts.email(n)).collect();
    let added = sqlx::query(
        "INSERT INTO users (email, password_hash, role)
         SELECT email, $2, $3 FROM UNNEST($1::text[]) AS email
         ON CONFLICT ((lower(email))) DO NOTHING",
    )
    .bind(&emails)
    .bind(&hash)
    .bind(Role::Editor.as_str())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(added)
}

pub struct VisitsCommand {
    pub url: String,
    pub accounts: usize,
    /// Seconds of each phase: warm-up, sustained, peak.
    pub durations: [u64; 3],
    /// Visits per second of each phase.
    pub rates: [f64; 3],
    pub sign_in_share: f64,
    pub edit_share: f64,
    pub pace: f64,
    pub metrics_url: Option<String>,
}

pub async fn visits(config: &Config, command: VisitsCommand) -> anyhow::Result<String> {
    let pool = load_database(config).await?;
    let words = words(&pool).await?;
    let before = scrape(command.metrics_url.as_deref()).await;
    let names = ["warm-up", "sustained", "peak"];
    let phases = (0..3)
        .filter(|&i| command.durations[i] > 0)
        .map(|i| visits::Phase {
            name: names[i],
            rate: command.rates[i],
            duration: Duration::from_secs(command.durations[i]),
        })
        .collect();
    let options = visits::VisitOptions {
        phases,
        sign_in_share: command.sign_in_share,
        edit_share: command.edit_share,
        pace: command.pace,
        seed: 7,
    };
    let results = visits::run(
        &command.url,
        Accounts::new(command.accounts),
        words,
        options,
    )
    .await?;
    let after = scrape(command.metrics_url.as_deref()).await;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Visits (open model)\n\n{} accounts (editors); a visit signs in anew with probability {} \
         (else it continues its account's session), opens the directory, types a search letter \
         by letter, opens a result, and edits it with probability {}; pauses at a person's pace \
         × {}.\n",
        command.accounts, command.sign_in_share, command.edit_share, command.pace
    );
    for phase in &results {
        let seconds = phase.elapsed.as_secs_f64();
        let _ = writeln!(
            out,
            "### {}: {} visits/s for {} s\n\n{} visits, {} requests in {:.1} s ({:.0} requests/s); \
             arrivals at most {} ms behind plan.\n",
            phase.name,
            phase.rate,
            phase.duration.as_secs(),
            phase.visits,
            phase.recorder.requests(),
            seconds,
            phase.recorder.requests() as f64 / seconds,
            phase.worst_start_lag.as_millis(),
        );
        out.push_str(&phase.recorder.table(phase.elapsed));
        out.push('\n');
        out.push_str(&phase.recorder.failures());
        out.push('\n');
    }
    out.push_str(&server_figures(&before, &after));
    let errors: u64 = results
        .iter()
        .map(|phase| phase.recorder.error_count())
        .sum();
    let _ = writeln!(out, "\nTotal errors: {errors}");
    Ok(out)
}

pub struct PagesCommand {
    pub url: String,
    pub accounts: usize,
    pub connections: usize,
    pub seconds: u64,
    /// Pages a second for the open-model runs.
    pub rate: f64,
    pub idle_connections: usize,
    pub postgres_connections: u32,
    pub metrics_url: Option<String>,
    /// Distinct searches, asked in turn.
    pub queries: usize,
    pub seed: u64,
    /// Only the runs at `rate`.
    pub rate_only: bool,
    /// Search pages or the search box's answers.
    pub endpoint: pages::Endpoint,
}

/// One measured run of the pages command, with the server's own figures over its
/// measured part (after the warm-up): its page-cache hits and misses, and its p99.
struct PagesRun {
    name: String,
    run: pages::Throughput,
    page_cache: Option<(f64, f64)>,
    /// The upper bound of the histogram bucket holding the server's p99 for the
    /// search pages, in seconds (the time to the response head, as the server sees it).
    server_p99: Option<f64>,
}

/// The server's figures over a measured stretch of requests to `endpoint`, from the
/// scrapes of `/metrics` at its start and end.
fn server_side(
    endpoint: pages::Endpoint,
    before: &Option<String>,
    after: &Option<String>,
) -> (Option<(f64, f64)>, Option<f64>) {
    let p99 = match (before, after) {
        (Some(before), Some(after)) => bucket_quantile(
            before,
            after,
            "http_server_request_duration_seconds",
            &format!("route=\"{}\"", endpoint.route()),
            0.99,
        ),
        _ => None,
    };
    (cache_figures(endpoint, before, after), p99)
}

/// Search pages at `pace` on `clients`, with the server's figures scraped when the
/// warm-up ends and once the last answer is in, so the two sides cover the same
/// requests.
async fn pages_run(
    name: String,
    target: (&str, pages::Endpoint, Option<&str>),
    clients: &[reqwest::Client],
    queries: Arc<pages::Queries>,
    pace: pages::Pace,
    (warm_up, duration): (Duration, Duration),
) -> PagesRun {
    let (base, endpoint, metrics) = target;
    let (run, before) = tokio::join!(
        pages::search_pages((base, endpoint), clients, queries, pace, warm_up, duration),
        async {
            tokio::time::sleep(warm_up).await;
            scrape(metrics).await
        }
    );
    let (page_cache, server_p99) = server_side(endpoint, &before, &scrape(metrics).await);
    PagesRun {
        name,
        run,
        page_cache,
        server_p99,
    }
}

/// `count` different searches drawn from the directory with `seed` (the bench's mix,
/// each search once).
async fn distinct_queries(
    pool: &PgPool,
    count: usize,
    seed: u64,
) -> anyhow::Result<Vec<SearchQuery>> {
    let mut seen = std::collections::HashSet::new();
    let mut queries = Vec::with_capacity(count);
    // The mix repeats common prefixes and names: draw more until there are enough, from
    // other samples of the directory, within reason.
    for round in 0..8 {
        let drawn = bench::query_set(pool, count, seed.wrapping_add(round)).await?;
        for query in drawn.into_iter().map(|q| q.query) {
            if queries.len() < count && seen.insert(query.to_query_string()) {
                queries.push(query);
            }
        }
        if queries.len() == count {
            break;
        }
    }
    Ok(queries)
}

pub async fn pages(config: &Config, command: PagesCommand) -> anyhow::Result<String> {
    let pool = load_database(config).await?;
    let queries = Arc::new(pages::Queries::new(
        distinct_queries(&pool, command.queries, command.seed).await?,
    ));
    let base = command.url.trim_end_matches('/').to_owned();
    let accounts = Accounts::new(command.accounts);
    let duration = Duration::from_secs(command.seconds);
    let timing = (Duration::from_secs(3), duration);
    let port = reqwest::Url::parse(&base)?
        .port_or_known_default()
        .context("the URL has no port")?;
    let metrics = command.metrics_url.as_deref();
    let endpoint = command.endpoint;
    let target = (base.as_str(), endpoint, metrics);

    eprintln!("signing in {} connections…", command.connections);
    let clients = pages::signed_in_clients(&base, &accounts, command.connections).await?;
    let first = scrape(metrics).await;
    let mut runs = Vec::new();

    if !command.rate_only {
        eprintln!(
            "search pages, closed loop, on {} connections for {} s…",
            clients.len(),
            command.seconds
        );
        runs.push(
            pages_run(
                format!("Roster, closed loop, {} connections", command.connections),
                target,
                &clients,
                queries.clone(),
                pages::Pace::ClosedLoop,
                timing,
            )
            .await,
        );
    }

    eprintln!("search pages at {} a second…", command.rate);
    let open_name = format!(
        "Roster, {:.0} {}s/s over {} connections",
        command.rate,
        endpoint.noun(),
        command.connections
    );
    runs.push(
        pages_run(
            open_name.clone(),
            target,
            &clients,
            queries.clone(),
            pages::Pace::Rate(command.rate),
            timing,
        )
        .await,
    );

    let mut held = None;
    if command.idle_connections > 0 {
        eprintln!(
            "opening {} idle keep-alive connections…",
            command.idle_connections
        );
        let idle = pages::idle_connections(&base, command.idle_connections).await?;
        eprintln!("search pages at {} a second beside them…", command.rate);
        runs.push(
            pages_run(
                format!(
                    "{open_name}, beside {} idle keep-alive connections",
                    idle.len()
                ),
                target,
                &clients,
                queries.clone(),
                pages::Pace::Rate(command.rate),
                timing,
            )
            .await,
        );
        held = Some((idle.len(), pages::established_to(port)));
        drop(idle);
    }
    let last = scrape(metrics).await;
    let asked = queries.asked();

    let postgres = if command.rate_only {
        None
    } else {
        eprintln!("the same queries on Postgres full text…");
        let postgres_pool = PgPoolOptions::new()
            .max_connections(command.postgres_connections)
            .connect(config.database_url.expose_secret())
            .await?;
        Some(
            pages::postgres_full_text(
                &postgres_pool,
                queries.clone(),
                command.connections,
                duration,
            )
            .await,
        )
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Search {}\n\n{} connections, each signed in, asking for {} (`Accept-Encoding: br, \
         gzip`; {} distinct searches (seed {}), \
         each asked once before any again, {asked} asked in all: names, surnames, \
         prefixes, typos, emails, phones, filters, from the directory): {}at {:.0} a \
         second in all (open model: latency counted from when each request was due), for \
         {} s each after {} s unmeasured. \"server p99\" is the server's own, from its \
         request histogram over the same stretch: the bound of the bucket that holds it, \
         time to the response head. A client p99 far above it was lost outside the \
         server's handlers (the load generator, the kernel, the scheduler).\n",
        match endpoint {
            pages::Endpoint::Page => "pages",
            pages::Endpoint::ServerFunction => "box answers",
        },
        command.connections,
        match endpoint {
            pages::Endpoint::Page => "server-rendered search pages (`GET /?q=…`)",
            pages::Endpoint::ServerFunction =>
                "the search box's answers (`GET /api/directory-view?query=…`, as typing \
                 with JavaScript on)",
        },
        queries.distinct(),
        command.seed,
        if command.rate_only {
            ""
        } else {
            "first as fast as the answers come (closed loop: what the server can give), then "
        },
        command.rate,
        command.seconds,
        timing.0.as_secs(),
    );
    let _ = writeln!(
        out,
        "| run | requests | per s | p50 ms | p95 ms | p99 ms | max ms | errors | {} hits | server p99 ms |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        match endpoint {
            pages::Endpoint::Page => "page cache",
            pages::Endpoint::ServerFunction => "search cache",
        }
    );
    let row = |out: &mut String, name: &str, run: &pages::Throughput, server: Option<&PagesRun>| {
        let hits = server
            .and_then(|measured| measured.page_cache)
            .map_or("–".to_owned(), |(hits, misses)| {
                format!("{:.1}%", 100.0 * hits / (hits + misses).max(1.0))
            });
        let p99 = server
            .and_then(|measured| measured.server_p99)
            .map_or("–".to_owned(), bucket_bound_ms);
        let _ = writeln!(
            out,
            "| {name} | {} | {:.0} | {} | {} | {hits} | {p99} |",
            run.requests,
            run.per_second(),
            run.latency.cells(),
            run.errors
        );
    };
    for measured in &runs {
        row(&mut out, &measured.name, &measured.run, Some(measured));
    }
    if let Some(postgres) = &postgres {
        row(
            &mut out,
            &format!(
                "Postgres full text, {} clients on {} connections, closed loop (queries only)",
                command.connections, command.postgres_connections
            ),
            postgres,
            None,
        );
    }
    out.push('\n');
    if let (Some((idle, held)), [.., open, loaded]) = (held, &runs[..]) {
        let ratio = f64::from(loaded.run.latency.p99) / f64::from(open.run.latency.p99.max(1));
        let _ = writeln!(
            out,
            "With {idle} idle connections open, p99 at {:.0} pages/s is {ratio:.2}× the p99 \
             without them; connections established to the server at the end: {}.",
            command.rate,
            held.map_or("unknown".to_owned(), |held| held.to_string())
        );
    }
    if let Some(postgres) = &postgres {
        let closed = &runs[0].run;
        let _ = writeln!(
            out,
            "Roster served {:.1}× the pages per second of the Postgres full-text queries \
             alone (closed loops on the same connections), at {:.2}× their p99.\n",
            closed.per_second() / postgres.per_second().max(f64::EPSILON),
            f64::from(closed.latency.p99) / f64::from(postgres.latency.p99.max(1)),
        );
    }
    for run in runs
        .iter()
        .map(|measured| &measured.run)
        .chain(postgres.as_ref())
    {
        if run.errors > 0 {
            out.push_str(&run.recorder.failures());
        }
    }
    out.push_str(&server_figures(&first, &last));
    Ok(out)
}

/// The hits and misses between two scrapes of `/metrics` of the cache that answers
/// `endpoint` without rendering or searching anew: the page cache for pages, the
/// search answers for the search box (whose rendered parts are kept with them).
fn cache_figures(
    endpoint: pages::Endpoint,
    before: &Option<String>,
    after: &Option<String>,
) -> Option<(f64, f64)> {
    let (Some(before), Some(after)) = (before, after) else {
        return None;
    };
    let label = Some(match endpoint {
        pages::Endpoint::Page => "namespace=\"pages\"",
        pages::Endpoint::ServerFunction => "namespace=\"search\"",
    });
    let hits = counter_total(after, "cache_hits_total", label)
        - counter_total(before, "cache_hits_total", label);
    let misses = counter_total(after, "cache_misses_total", label)
        - counter_total(before, "cache_misses_total", label);
    (hits + misses > 0.0).then_some((hits, misses))
}

/// A quantile of a histogram over the stretch between two scrapes (the differences of
/// its cumulative buckets, summed over the series whose labels contain `label`), as
/// the upper bound of the bucket that holds it, in seconds; infinite when only the
/// `+Inf` bucket does. `None` when nothing was recorded in between.
fn bucket_quantile(
    before: &str,
    after: &str,
    name: &str,
    label: &str,
    quantile: f64,
) -> Option<f64> {
    let buckets = |text: &str| {
        let mut by_bound: BTreeMap<u64, f64> = BTreeMap::new();
        let prefix = format!("{name}_bucket{{");
        for line in text.lines().filter(|line| line.starts_with(&prefix)) {
            let (labels, count) = line.rsplit_once(' ').unwrap_or_default();
            if !labels.contains(label) {
                continue;
            }
            let Some(bound) = labels
                .split("le=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            let bound = if bound == "+Inf" {
                f64::INFINITY
            } else {
                match bound.parse::<f64>() {
                    Ok(bound) => bound,
                    Err(_) => continue,
                }
            };
            if let Ok(count) = count.parse::<f64>() {
                // Positive floats order as their bits do.
                *by_bound.entry(bound.to_bits()).or_default() += count;
            }
        }
        by_bound
    };
    let (before, after) = (buckets(before), buckets(after));
    let counts: Vec<(f64, f64)> = after
        .iter()
        .map(|(bits, count)| {
            let earlier = before.get(bits).copied().unwrap_or_default();
            (f64::from_bits(*bits), count - earlier)
        })
        .collect();
    let total = counts.last()?.1;
    if total <= 0.0 {
        return None;
    }
    counts
        .iter()
        .find(|(_, cumulative)| *cumulative >= quantile * total)
        .map(|(bound, _)| *bound)
}

/// A bucket bound for the report: "≤ 25" (ms), or "> 30000" for the last bucket.
fn bucket_bound_ms(bound: f64) -> String {
    if bound.is_finite() {
        // Microseconds rounded, so 0.025 s reads 25, not 25.000000000000004.
        format!("≤ {}", (bound * 1e6).round() / 1e3)
    } else {
        "beyond the last bucket".to_owned()
    }
}

/// Names and companies to type, from a sample of the directory.
async fn words(pool: &PgPool) -> anyhow::Result<visits::Words> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT name, company FROM contacts TABLESAMPLE SYSTEM (2) WHERE deleted_at IS NULL LIMIT 4000",
    )
    .fetch_all(pool)
    .await?;
    let mut words = Vec::new();
    for (name, company) in rows {
        words.extend(name.split_whitespace().map(str::to_owned));
        words.extend(company);
    }
    anyhow::ensure!(!words.is_empty(), "the load-test database has no contacts");
    Ok(visits::Words(words))
}

/// The server's `/metrics` text, if a metrics address was given.
async fn scrape(url: Option<&str>) -> Option<String> {
    let response = client(false).get(url?).send().await.ok()?;
    response.text().await.ok()
}

/// The sum of a metric's series in a `/metrics` text (those whose labels contain
/// `label`, if given).
fn counter_total(text: &str, name: &str, label: Option<&str>) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.split(['{', ' '])
                .next()
                .is_some_and(|metric| metric == name)
        })
        .filter(|line| label.is_none_or(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The server's own counts over the run: the differences of its counters.
fn server_figures(before: &Option<String>, after: &Option<String>) -> String {
    let (Some(before), Some(after)) = (before, after) else {
        return "The server's figures: no metrics address given.\n".to_owned();
    };
    let delta = |name: &str, label: Option<&str>| {
        counter_total(after, name, label) - counter_total(before, name, label)
    };
    let mut out = String::from("The server's own figures over the run (from its `/metrics`):\n\n");
    let requests = delta("http_server_request_duration_seconds_count", None);
    let seconds = delta("http_server_request_duration_seconds_sum", None);
    let _ = writeln!(
        out,
        "- requests handled: {requests:.0}, mean {:.2} ms in the server",
        1000.0 * seconds / requests.max(1.0)
    );
    for kind in ["cached", "checked", "uncached", "fallback"] {
        let count = delta(
            "search_duration_seconds_count",
            Some(&format!("kind=\"{kind}\"")),
        );
        let sum = delta(
            "search_duration_seconds_sum",
            Some(&format!("kind=\"{kind}\"")),
        );
        if count > 0.0 {
            let _ = writeln!(
                out,
                "- searches {kind}: {count:.0}, mean {:.2} ms",
                1000.0 * sum / count
            );
        }
    }
    for namespace in ["pages", "search"] {
        let label = format!("namespace=\"{namespace}\"");
        let hits = delta("cache_hits_total", Some(&label));
        let misses = delta("cache_misses_total", Some(&label));
        if hits + misses > 0.0 {
            let _ = writeln!(
                out,
                "- {namespace} cache hit ratio: {:.1}% ({hits:.0} hits, {misses:.0} misses)",
                100.0 * hits / (hits + misses)
            );
        }
    }
    let waits = delta("db_client_connection_wait_time_seconds_count", None);
    let waited = delta("db_client_connection_wait_time_seconds_sum", None);
    let _ = writeln!(
        out,
        "- database connections acquired: {waits:.0}, mean wait {:.3} ms",
        1000.0 * waited / waits.max(1.0)
    );
    let statements = delta("db_client_operation_duration_seconds_count", None);
    let statement_time = delta("db_client_operation_duration_seconds_sum", None);
    let _ = writeln!(
        out,
        "- statements: {statements:.0}, mean {:.2} ms",
        1000.0 * statement_time / statements.max(1.0)
    );
    let _ = writeln!(
        out,
        "- errors counted by the server: {:.0}; requests refused by rate limits: {:.0}",
        delta("errors_total", None),
        delta("rate_limited_requests_total", None)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantile_comes_from_the_bucket_differences_between_scrapes() {
        let scrape = |fast: u32, slow: u32, other: u32| {
            format!(
                "# TYPE http_server_request_duration_seconds histogram\n\
                 http_server_request_duration_seconds_bucket{{route=\"/\",le=\"0.005\"}} {fast}\n\
                 http_server_request_duration_seconds_bucket{{route=\"/\",le=\"0.25\"}} {}\n\
                 http_server_request_duration_seconds_bucket{{route=\"/\",le=\"+Inf\"}} {}\n\
                 http_server_request_duration_seconds_bucket{{route=\"/health\",le=\"0.005\"}} 0\n\
                 http_server_request_duration_seconds_bucket{{route=\"/health\",le=\"0.25\"}} 0\n\
                 http_server_request_duration_seconds_bucket{{route=\"/health\",le=\"+Inf\"}} {other}\n",
                fast + slow,
                fast + slow
            )
        };
        let name = "http_server_request_duration_seconds";
        let route = "route=\"/\"";
        // Before: 1,000 slow requests. Between the scrapes: 990 fast and 10 slow, so
        // the p99 is in the first bucket and the p99.9 in the second.
        let (before, after) = (scrape(0, 1_000, 5), scrape(990, 1_010, 500));
        assert_eq!(
            bucket_quantile(&before, &after, name, route, 0.99),
            Some(0.005)
        );
        assert_eq!(
            bucket_quantile(&before, &after, name, route, 0.999),
            Some(0.25)
        );
        // The other route's slow requests are not counted.
        let (before, after) = (scrape(0, 0, 0), scrape(100, 0, 500));
        assert_eq!(
            bucket_quantile(&before, &after, name, route, 0.99),
            Some(0.005)
        );
        // Nothing in between.
        assert_eq!(bucket_quantile(&after, &after, name, route, 0.99), None);
        assert_eq!(bucket_bound_ms(0.025), "≤ 25");
        assert_eq!(bucket_bound_ms(0.0005), "≤ 0.5");
    }

    #[test]
    fn server_figures_are_differences_of_counters() {
        let before = "# TYPE x counter\nhttp_server_request_duration_seconds_count{route=\"/\"} 10\n\
                      http_server_request_duration_seconds_sum{route=\"/\"} 0.5\n\
                      search_duration_seconds_count{kind=\"cached\"} 4\n\
                      search_duration_seconds_sum{kind=\"cached\"} 0.004\n\
                      cache_hits_total{namespace=\"search\"} 4\ncache_misses_total{namespace=\"search\"} 1\n";
        let after = "http_server_request_duration_seconds_count{route=\"/\"} 30\n\
                     http_server_request_duration_seconds_count{route=\"/api/search\"} 10\n\
                     http_server_request_duration_seconds_sum{route=\"/\"} 0.7\n\
                     http_server_request_duration_seconds_sum{route=\"/api/search\"} 0.1\n\
                     search_duration_seconds_count{kind=\"cached\"} 14\n\
                     search_duration_seconds_sum{kind=\"cached\"} 0.014\n\
                     cache_hits_total{namespace=\"search\"} 13\ncache_misses_total{namespace=\"search\"} 2\n\
                     cache_hits_total{namespace=\"pages\",layer=\"memory\"} 15\n\
                     cache_misses_total{namespace=\"pages\"} 5\n\
                     errors_total{kind=\"db\"} 2\n";
        let figures = server_figures(&Some(before.to_owned()), &Some(after.to_owned()));
        assert!(
            figures.contains("requests handled: 30, mean 10.00 ms"),
            "{figures}"
        );
        assert!(
            figures.contains("searches cached: 10, mean 1.00 ms"),
            "{figures}"
        );
        assert!(
            figures.contains("search cache hit ratio: 90.0% (9 hits, 1 misses)"),
            "{figures}"
        );
        assert!(
            figures.contains("pages cache hit ratio: 75.0% (15 hits, 5 misses)"),
            "{figures}"
        );
        assert!(
            figures.contains("errors counted by the server: 2;"),
            "{figures}"
        );
        assert!(!figures.contains("uncached"), "{figures}");
        assert_eq!(
            server_figures(&None, &Some(after.to_owned())),
            "The server's figures: no metrics address given.\n"
        );
    }

    #[test]
    fn accounts_are_numbered_and_never_empty() {
        let accounts = Accounts::new(0);
        assert_eq!(accounts.len(), 1);
        assert_eq!(Accounts::new(3).email(2), "load-00002@loadtest.invalid");
    }
}
