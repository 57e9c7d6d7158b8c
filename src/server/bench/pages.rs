//! `roster bench pages`: how long a running Roster takes to render the pages nothing
//! keeps — a page of the directory further down than the first, and a contact's page —
//! asked one at a time, each a different page.
//!
//! The contacts are drawn from the database `DATABASE_URL` names (the one the server
//! runs on), in an order fixed by the seed: each directory page starts after one of
//! them (`/?after=<cursor>`, the link "Next" makes), and each contact page is one of
//! them. No URL is asked twice, so no kept page can answer (the page cache keeps only
//! the first directory page and search pages anyway). The clock runs from sending the
//! request to the last byte of the body, on one keep-alive connection over loopback,
//! with the `accept-encoding` a browser sends: the figure is the render, the
//! compression and the local HTTP round trip, an upper bound of the render alone.
//!
//! It signs in as the load test's first account (`roster loadtest prepare` makes it),
//! speaks only HTTP to the server and reads only contacts' ids and creation times
//! from the database, so it measures any build of Roster that serves these pages.

use std::{fmt::Write as _, time::Instant};

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::{Connection as _, PgConnection};
use uuid::Uuid;

use super::super::{
    config::Config,
    loadtest::{self, stats::Summary},
};

pub struct PagesOptions {
    pub url: String,
    /// Timed requests of each kind.
    pub requests: usize,
    /// Untimed requests of each kind first (other contacts).
    pub warm_up: usize,
    pub seed: u64,
}

/// One kind of page and the paths to ask for it.
struct Kind {
    label: &'static str,
    paths: Vec<String>,
}

pub async fn run(config: &Config, options: PagesOptions) -> anyhow::Result<String> {
    let per_kind = options.requests + options.warm_up;
    let contacts = sample(config, per_kind * 2, options.seed).await?;
    anyhow::ensure!(
        contacts.len() == per_kind * 2,
        "the database holds {} contacts; {} are needed (twice --requests plus --warm-up)",
        contacts.len(),
        per_kind * 2
    );
    let (for_directory, for_contacts) = contacts.split_at(per_kind);
    let kinds = [
        Kind {
            label: "directory page (a later page, by its cursor)",
            paths: for_directory
                .iter()
                .map(|(id, micros)| format!("/?after={micros}.{}", id.simple()))
                .collect(),
        },
        Kind {
            label: "contact page",
            paths: for_contacts
                .iter()
                .map(|(id, _)| format!("/contacts/{id}"))
                .collect(),
        },
    ];

    let base = options.url.trim_end_matches('/');
    let client = loadtest::pages::signed_in_clients(base, &loadtest::Accounts::new(1), 1)
        .await?
        .pop()
        .context("one signed-in client")?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} timed requests of each kind ({} untimed first), one at a time, each a different URL, \
         on one connection to {base}\n",
        options.requests, options.warm_up
    );
    let _ = writeln!(
        out,
        "| page | requests | p50 ms | p95 ms | p99 ms | max ms | mean bytes |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for kind in kinds {
        let mut micros = Vec::with_capacity(options.requests);
        let mut bytes = 0usize;
        for (n, path) in kind.paths.iter().enumerate() {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("accept", "text/html")
                .header("accept-encoding", "gzip, deflate, br, zstd")
                .send()
                .await
                .with_context(|| format!("asking for {path}"))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .with_context(|| format!("reading {path}"))?;
            let took = started.elapsed();
            anyhow::ensure!(
                status.is_success() && !body.is_empty(),
                "{path} answered HTTP {status} with {} bytes",
                body.len()
            );
            if n >= options.warm_up {
                micros.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                bytes += body.len();
            }
        }
        let count = micros.len().max(1);
        let summary = Summary::of(&mut micros);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            kind.label,
            summary.count,
            summary.cells(),
            bytes / count
        );
    }
    Ok(out)
}

/// `count` live contacts' ids and creation times (microseconds since the epoch, as a
/// directory cursor writes them), in an order fixed by `seed`.
async fn sample(config: &Config, count: usize, seed: u64) -> anyhow::Result<Vec<(Uuid, i64)>> {
    let mut conn = PgConnection::connect(config.database_url.expose_secret())
        .await
        .context("connecting to the database the server runs on")?;
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT id, (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint
         FROM contacts
         WHERE deleted_at IS NULL
         ORDER BY md5(id::text || $1)
         LIMIT $2",
    )
    .bind(seed.to_string())
    .bind(i64::try_from(count).unwrap_or(i64::MAX))
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    Ok(rows)
}
