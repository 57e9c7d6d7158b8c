//! `roster bench search` asks every engine the same questions: on a small directory,
//! Postgres full text (GIN and RUM) and SQLite FTS5 must give the index's answers to
//! every kind of query, or the bench's comparisons would be of different work.

use crate::helpers::{TestApp, spawn_app, url_for};

/// `roster bench search` on 1,234 contacts, its index and SQLite copy kept in `folder`.
async fn bench(app: &TestApp, folder: &std::path::Path, args: &[&str]) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["bench", "search", "--contacts", "1234", "--runs", "1"])
        .args(args)
        .arg("--index-dir")
        .arg(folder)
        .env_remove("ROSTER_CONFIG")
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", url_for(&app.database))
        .output()
        .await
        .expect("the roster command runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

#[tokio::test]
async fn every_engine_gives_the_index_answers_to_every_kind_of_query() {
    let app = spawn_app().await;
    let folder = tempfile::tempdir().unwrap();
    let report = bench(&app, folder.path(), &["--queries", "200"]).await;
    // RUM is installed by `make test`'s bootstrap (postgresql-15-rum).
    for engine in ["Postgres full text", "Postgres RUM", "SQLite FTS5"] {
        for kind in ["exact", "email", "phone", "prefix", "typo", "filtered"] {
            let row = report
                .lines()
                .find(|line| line.starts_with(&format!("| {engine} | {kind} |")))
                .unwrap_or_else(|| panic!("no {kind} queries for {engine}:\n{report}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let queries: usize = cells[3].parse().unwrap();
            assert!(queries > 0, "{row}");
            assert_eq!(
                cells[5],
                format!("{queries} (100.0 %)"),
                "{engine} answers {kind} queries differently:\n{report}"
            );
        }
    }
    // Ratios are given (they are withheld when answers differ), with every percentile.
    assert!(!report.contains("answers differ"), "{report}");
    assert!(report.contains("| p50 | p90 | p99 | p99.9 |"), "{report}");
    assert!(report.contains("| SQLite FTS5 | 200 |"), "{report}");
    assert!(report.contains("| Postgres RUM | 200 |"), "{report}");

    // `--engines` picks the engines beside the index; with none, the index runs alone.
    let report = bench(
        &app,
        folder.path(),
        &["--queries", "50", "--engines", "sqlite"],
    )
    .await;
    assert!(report.contains("| SQLite FTS5 | 50 |"), "{report}");
    let sqlite_rows = report
        .lines()
        .filter(|line| line.starts_with("| SQLite FTS5 | ") && line.contains(" (100.0 %) |"));
    assert!(sqlite_rows.count() > 0, "{report}");
    assert!(!report.contains("Postgres"), "{report}");
    let report = bench(&app, folder.path(), &["--queries", "50", "--engines"]).await;
    assert!(report.contains("| index, uncached | 50 |"), "{report}");
    assert!(report.contains("no other engine compared"), "{report}");
    assert!(
        !report.contains("SQLite") && !report.contains("Postgres"),
        "{report}"
    );
}
