//! `roster backup` and `roster restore`: a seeded database backed up while its server
//! runs, restored into a fresh database, and served again, with nothing lost.

use std::{path::Path, process::Output};

use roster::domain::{SaveOutcome, SearchPage, SearchQuery};
use uuid::Uuid;

use crate::helpers::{TestApp, contact_form, empty_database, save, spawn_app, spawn_on, url_for};

/// `roster ARGS` against `database`.
async fn roster(database: &str, args: &[&str]) -> Output {
    roster_with(database, args, &[]).await
}

/// `roster ARGS` against `database` with these settings.
async fn roster_with(database: &str, args: &[&str], settings: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env_remove("ROSTER_CONFIG")
        .env_remove("REDIS_URL")
        .env("DATABASE_URL", url_for(database))
        .envs(settings.iter().copied())
        .output()
        .await
        .expect("the roster command runs")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every contact, deleted ones included: id, version, and whether it is deleted.
async fn ids_and_versions(app: &TestApp) -> Vec<(Uuid, i64, bool)> {
    sqlx::query_as("SELECT id, version::bigint, deleted_at IS NOT NULL FROM contacts ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// The ids of every hit of a search, all its pages read.
async fn every_hit(app: &TestApp, words: &str, pages: u32) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for page in 1..=pages {
        let query = SearchQuery::default().with_text(words).with_page(page);
        ids.extend(
            app.search(&query)
                .await
                .hits
                .iter()
                .map(|hit| hit.contact.id),
        );
    }
    ids.sort();
    ids
}

fn sorted_ids(page: &SearchPage) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = page.hits.iter().map(|hit| hit.contact.id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_backup_restored_into_a_fresh_database_serves_the_same_directory() {
    let app = spawn_app().await;
    app.seed(400).await;
    // Edited contacts carry versions above 1, and one is deleted (a tombstone).
    let some: Vec<(Uuid, i64, String)> =
        sqlx::query_as("SELECT id, version::bigint, name FROM contacts ORDER BY id LIMIT 4")
            .fetch_all(&app.db)
            .await
            .unwrap();
    for (id, version, name) in &some[..3] {
        let (id, version) = (id.to_string(), version.to_string());
        let outcome = save(
            &app,
            &contact_form(
                name,
                &[
                    ("title", "Restored Title"),
                    ("id", &id),
                    ("version", &version),
                ],
            ),
        )
        .await;
        assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
    }
    let deleted = app
        .client
        .post(app.url("/api/delete-contact"))
        .header("accept", "application/json")
        .form(&[("id", some[3].0.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    app.index_caught_up().await;

    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("roster.backup");
    let file_arg = file.to_str().unwrap();
    // Taken while the server runs.
    let backed_up = roster(&app.database, &["backup", file_arg]).await;
    let (out, err) = text(&backed_up);
    assert!(backed_up.status.success(), "{err}");
    assert!(out.contains("399 contacts"), "{out}");
    assert!(!err.contains("password"), "no secret in the output: {err}");
    assert!(!Path::new(&format!("{file_arg}.partial")).exists());
    // The whole directory is in it: readable by its owner only.
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    let fresh = empty_database().await;
    let restored = roster(&fresh, &["restore", file_arg]).await;
    let (out, err) = text(&restored);
    assert!(restored.status.success(), "{err}");
    assert!(out.contains("399 contacts"), "{out}");

    let copy = spawn_on(fresh).await;
    copy.index_caught_up().await;
    // Results that tie keep index order, and an index that followed edits has them in
    // another order than one built at once: the source's index is built afresh too.
    let source = app.database.clone();
    app.stop().await;
    let app = spawn_on(source).await;
    app.index_caught_up().await;
    let original = ids_and_versions(&app).await;
    assert_eq!(original.len(), 400);
    assert_eq!(
        original.iter().filter(|(_, _, deleted)| *deleted).count(),
        1
    );
    assert!(
        original
            .iter()
            .filter(|(_, version, _)| *version >= 2)
            .count()
            >= 3
    );
    assert_eq!(ids_and_versions(&copy).await, original);
    // The same answers: every hit of narrow searches; for broad ones the totals, the
    // filter counts and every hit over all their pages. (Hits that tie in relevance
    // come in index order, which differs between two index builds, so a page of a
    // broad search may hold other tied hits than the same page on the source.)
    let mut narrow: Vec<String> = some.iter().map(|(_, _, name)| name.clone()).collect();
    narrow.push("Restored Title".to_owned());
    for words in narrow {
        let (source, restored) = (
            app.search_text(&words).await,
            copy.search_text(&words).await,
        );
        assert!(source.total <= 50, "{words:?} fits on one page");
        assert_eq!(restored.total, source.total, "{words:?}");
        assert_eq!(sorted_ids(&restored), sorted_ids(&source), "{words:?}");
    }
    for words in ["", "engineer", "sa", "london"] {
        let (source, restored) = (app.search_text(words).await, copy.search_text(words).await);
        assert_eq!(restored.total, source.total, "{words:?}");
        assert_eq!(restored.facets, source.facets, "{words:?}");
        assert_eq!(
            every_hit(&copy, words, restored.page_count()).await,
            every_hit(&app, words, source.page_count()).await,
            "{words:?}: the same contacts over all pages"
        );
    }
    assert_eq!(copy.search_text("Restored Title").await.total, 3);
    // The restored data is a new line of history: its search index and cached
    // answers are its own.
    let directory = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>("SELECT id FROM directory")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_ne!(directory(&copy).await, directory(&app).await);
}

#[tokio::test]
async fn restore_refuses_what_would_lose_data_and_says_why() {
    let app = spawn_app().await;
    app.seed(20).await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("roster.backup");
    let file_arg = file.to_str().unwrap();
    assert!(
        roster(&app.database, &["backup", file_arg])
            .await
            .status
            .success()
    );

    // Over a database that holds data, only when asked to replace it; and never
    // while a server is connected to it.
    let target = empty_database().await;
    assert!(
        roster(&target, &["restore", file_arg])
            .await
            .status
            .success()
    );
    let again = roster(&target, &["restore", file_arg]).await;
    assert!(!again.status.success());
    assert!(
        text(&again).1.contains("pass --replace"),
        "{}",
        text(&again).1
    );
    let running = spawn_on(target.clone()).await;
    let busy = roster(&target, &["restore", "--replace", file_arg]).await;
    assert!(!busy.status.success());
    assert!(
        text(&busy).1.contains("stop every Roster server"),
        "{}",
        text(&busy).1
    );
    running.stop().await;
    let replaced = roster(&target, &["restore", "--replace", file_arg]).await;
    assert!(replaced.status.success(), "{}", text(&replaced).1);
    assert!(text(&replaced).0.contains("20 contacts"));

    // A file that is not a backup: a plain message, and the database untouched.
    let junk = folder.path().join("notes.txt");
    std::fs::write(&junk, "not an archive").unwrap();
    let refused = roster(
        &app.database,
        &["restore", "--replace", junk.to_str().unwrap()],
    )
    .await;
    assert!(!refused.status.success());
    let (_, err) = text(&refused);
    assert!(
        err.contains("is not a backup made by `roster backup`"),
        "{err}"
    );
    let missing = roster(&app.database, &["restore", "/nonexistent/roster.backup"]).await;
    assert!(text(&missing).1.contains("is not a file"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 20);

    // A backup that cannot be written leaves nothing behind.
    let failed = roster(
        &app.database,
        &["backup", "/nonexistent/folder/roster.backup"],
    )
    .await;
    assert!(!failed.status.success());
}

/// Maintenance commands work on the whole database, so the web's statement timeout does
/// not bind them: with it at 1 ms (which migrating, seeding thousands of contacts or
/// reading them all for an index exceeds), each still does its work.
#[tokio::test]
async fn maintenance_commands_are_not_bound_by_the_web_statement_timeout() {
    let database = empty_database().await;
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    let file = folder.path().join("roster.backup");
    let settings = [
        ("ROSTER_DB_STATEMENT_TIMEOUT_MS", "1"),
        ("ROSTER_DATA_DIR", data.to_str().unwrap()),
    ];
    for (args, expected) in [
        (vec!["seed", "--count", "10000"], "10000 contacts"),
        (vec!["reindex"], "10000 contacts"),
        (vec!["backup", file.to_str().unwrap()], "10000 contacts"),
    ] {
        let output = roster_with(&database, &args, &settings).await;
        let (out, err) = text(&output);
        assert!(output.status.success(), "{args:?}: {err}");
        assert!(out.contains(expected), "{args:?}: {out}");
    }
    // The server's pool keeps it: a statement longer than it is cancelled.
    let mut config = crate::helpers::test_config(&database, folder.path());
    config.db_statement_timeout_ms = 1;
    let slow = "SELECT pg_sleep(0.05)";
    let web = roster::server::db::connect(&config).await.unwrap();
    let cancelled = sqlx::query(slow).execute(&web).await;
    assert!(
        cancelled
            .as_ref()
            .is_err_and(|error| error.to_string().contains("statement timeout")),
        "{cancelled:?}"
    );
    let maintenance = roster::server::db::connect(&config.for_maintenance())
        .await
        .unwrap();
    sqlx::query(slow).execute(&maintenance).await.unwrap();
}
