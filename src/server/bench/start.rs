//! `roster bench start`: how long a server takes from its process starting to its
//! first correct search, on the bench database of `--contacts` contacts, twice: with
//! the index already on disk (a restart), and with no index (a new instance, or one
//! whose index was lost), which it must build from Postgres.
//!
//! Each start is a `roster serve` child of this same binary on a fresh data folder
//! (the index copied in for the first case) and free ports. From the moment it is
//! spawned, the bench polls: `/health` until it answers (listening); then, signed in
//! as the load test's first account, the search box's server function with a
//! different email address each time, until the answer holds that address's contact
//! (the first correct search, whichever path answered it: while the index is built,
//! searches fall back to Postgres); then until the server's own metrics count a search
//! answered by the index. The server's resident memory is read at that point.
//! The operating system's file cache is dropped before each start when this process
//! may (as root), so the index and the database are read from disk.

use std::{
    fmt::Write as _,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use sqlx::PgPool;

use super::{bench_url, fill, seeded_database};
use crate::{
    domain::SearchQuery,
    server::{
        config::Config,
        loadtest::{self, Accounts},
        search::{SearchIndex, sync},
    },
};

pub struct StartOptions {
    pub contacts: u64,
}

/// What one start took, each from the spawn.
struct Start {
    listening: Duration,
    first_correct: Duration,
    from_index: Duration,
    resident_mib: f64,
    file_cache_dropped: bool,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Drops the kernel's clean file cache, if this process may (root); whether it did.
fn drop_file_cache() -> bool {
    // Written pages first, so that dropping leaves nothing behind.
    rustix::fs::sync();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

pub async fn run(config: &Config, options: StartOptions) -> anyhow::Result<String> {
    let database = format!("roster_bench_{}", options.contacts);
    let pool = seeded_database(config, &database).await?;
    if let Some(report) = fill(&pool, options.contacts).await? {
        eprintln!("{report}");
    }
    let accounts = Accounts::new(1);
    loadtest::add_accounts(&pool, &accounts).await?;
    let targets: Vec<(String, String)> = sqlx::query_as(
        "SELECT id::text, emails->0->>'value' FROM contacts
          WHERE deleted_at IS NULL AND jsonb_array_length(emails) > 0
          ORDER BY created_at LIMIT 2000",
    )
    .fetch_all(&pool)
    .await?;
    anyhow::ensure!(
        !targets.is_empty(),
        "no contact with an email to search for"
    );
    let url = bench_url(config, &database)?;

    let with_index = {
        let data = tempfile::tempdir()?;
        eprintln!("building the index for the restart case (not timed)…");
        sync::open_or_build_now(&pool, SearchIndex::new(data.path().join("index"))).await?;
        eprintln!("starting a server on the existing index…");
        start(&url, data.path(), &accounts, &targets).await?
    };
    let without_index = {
        let data = tempfile::tempdir()?;
        eprintln!("starting a server with no index…");
        start(&url, data.path(), &accounts, &targets).await?
    };

    let contacts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
            .fetch_one(&pool)
            .await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "contacts: {contacts}; seconds from spawning `roster serve`\n\n\
         | start | listening | first correct search | first search from the index | resident then |\n\
         |---|---|---|---|---|"
    );
    for (name, start) in [
        ("index on disk", &with_index),
        ("no index: built from Postgres", &without_index),
    ] {
        let _ = writeln!(
            out,
            "| {name}{} | {:.2} | {:.2} | {:.2} | {:.0} MiB |",
            if start.file_cache_dropped {
                ", file cache dropped"
            } else {
                ""
            },
            start.listening.as_secs_f64(),
            start.first_correct.as_secs_f64(),
            start.from_index.as_secs_f64(),
            start.resident_mib,
        );
    }
    close(pool).await;
    Ok(out)
}

async fn close(pool: PgPool) {
    pool.close().await;
}

/// Starts a server on `data` and times it (see the module's documentation).
async fn start(
    database_url: &str,
    data: &std::path::Path,
    accounts: &Accounts,
    targets: &[(String, String)],
) -> anyhow::Result<Start> {
    let port = free_port()?;
    let metrics_port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");
    let file_cache_dropped = drop_file_cache();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("serve")
        .env_remove("ROSTER_CONFIG")
        .env("DATABASE_URL", database_url)
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .env("ROSTER_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
        .env("ROSTER_DATA_DIR", data)
        .env("ROSTER_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting `roster serve`")?;
    let pid = child.id().context("the server's process id")?;
    let outcome = async {
        let deadline = Duration::from_secs(600);
        let probe = loadtest::client(false);
        let listening = loop {
            anyhow::ensure!(started.elapsed() < deadline, "the server did not listen");
            if let Ok(response) = probe.get(format!("{base}/health")).send().await
                && response.status().is_success()
            {
                break started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let client = loadtest::client(true);
        let signed_in = client
            .post(format!("{base}/api/sign-in"))
            .header("accept", "application/json")
            .form(&[
                ("email", accounts.email(0).as_str()),
                ("password", accounts.password()),
            ])
            .send()
            .await?;
        anyhow::ensure!(
            signed_in.status().is_success(),
            "signing in answered {}",
            signed_in.status()
        );
        let mut first_correct = None;
        let mut asked = 0usize;
        let from_index = loop {
            anyhow::ensure!(started.elapsed() < deadline, "no search was answered");
            let (id, email) = &targets[asked % targets.len()];
            asked += 1;
            let query = SearchQuery::default().with_text(email).to_query_string();
            let answer = client
                .get(format!("{base}/api/directory-view"))
                .query(&[("query", query.as_str()), ("page", "first")])
                .send()
                .await;
            let correct = match answer {
                Ok(response) if response.status().is_success() => response
                    .text()
                    .await
                    .unwrap_or_default()
                    .contains(id.as_str()),
                _ => false,
            };
            if correct {
                first_correct.get_or_insert(started.elapsed());
                if answered_by_index(&probe, &metrics).await {
                    break started.elapsed();
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Ok((listening, first_correct.unwrap_or(from_index), from_index))
    }
    .await;
    let resident_mib = resident_mib(pid);
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).context("a process id")?,
        rustix::process::Signal::TERM,
    );
    let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
    let (listening, first_correct, from_index) = outcome?;
    Ok(Start {
        listening,
        first_correct,
        from_index,
        resident_mib,
        file_cache_dropped,
    })
}

/// Whether the server's metrics count a search answered by its index (from its cache
/// or not) rather than by the fallback.
async fn answered_by_index(client: &reqwest::Client, metrics: &str) -> bool {
    let Ok(response) = client.get(metrics).send().await else {
        return false;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines().any(|line| {
        (line.starts_with("search_duration_seconds_count{kind=\"uncached\"}")
            || line.starts_with("search_duration_seconds_count{kind=\"checked\"}"))
            && line
                .rsplit(' ')
                .next()
                .and_then(|count| count.parse::<f64>().ok())
                .is_some_and(|count| count > 0.0)
    })
}

fn resident_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    super::status_mib(&status, "VmRSS:")
}
