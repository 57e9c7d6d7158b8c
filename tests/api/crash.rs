//! A `roster serve` process killed with SIGKILL in the middle of an import and of a
//! burst of edits: after a restart, nothing acknowledged is lost, no batch is half
//! applied, and the search index matches Postgres (every id and version).

use std::{
    collections::BTreeSet,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use roster::{
    domain::{SaveOutcome, import::ImportStatus},
    server::search::{replica::Replica, sync::database_position},
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, ServerProcess, contact_form, eventually, job_at,
    live_ids_and_versions, new_client, people_csv, sign_in, spawn_app, spawn_process_in,
    start_import_at, upload_at, url_for,
};

/// A database of its own, with no server running on it (so only the processes the
/// test starts serve it): its name, its Redis prefix and a pool to check it with.
async fn bare_database() -> (String, String, PgPool) {
    let app = spawn_app().await;
    let (database, prefix) = (app.database.clone(), app.state.config.redis_prefix.clone());
    app.stop().await;
    let db = PgPool::connect(&url_for(&database)).await.unwrap();
    (database, prefix, db)
}

/// The per-user limits out of the way: the tests poll and write far faster than a
/// person (as `test_config` does for in-process apps).
fn unlimited() -> Vec<(&'static str, String)> {
    [
        "ROSTER_LIMIT_READS_PER_MINUTE",
        "ROSTER_LIMIT_WRITES_PER_MINUTE",
        "ROSTER_LIMIT_SEARCHES_PER_MINUTE",
        "ROSTER_LIMIT_UPLOADS_PER_MINUTE",
    ]
    .into_iter()
    .map(|name| (name, "1000000".to_owned()))
    .collect()
}

/// A `roster serve` process on `database` with the data folder `data`.
async fn serve(database: &str, prefix: &str, data: tempfile::TempDir) -> ServerProcess {
    spawn_process_in(database, prefix, data, &unlimited()).await
}

async fn signed_in(server: &ServerProcess) -> reqwest::Client {
    let client = new_client();
    sign_in(&client, &server.address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    client
}

/// Waits until the index the server at `data` keeps holds exactly what Postgres holds.
async fn index_matches_postgres(data: &Path, db: &PgPool) {
    let root = data.join("index");
    let outcome = eventually(Duration::from_secs(120), || async {
        let wanted = database_position(db).await.ok()?;
        let (replica, payload) = Replica::open_active(&root, Default::default()).ok()??;
        if payload.position < wanted {
            return None;
        }
        let indexed: BTreeSet<(Uuid, i32)> = replica
            .all_contacts()
            .ok()?
            .into_iter()
            .map(|contact| (contact.id, contact.version))
            .collect();
        Some(indexed)
    })
    .await
    .expect("the index catches up with Postgres");
    assert_eq!(outcome, live_ids_and_versions(db).await);
}

#[tokio::test]
async fn a_server_killed_mid_import_resumes_it_with_no_batch_half_applied() {
    let (database, prefix, db) = bare_database().await;
    let server = serve(&database, &prefix, tempfile::tempdir().unwrap()).await;
    let client = signed_in(&server).await;

    let rows: i64 = 30_000;
    let csv = people_csv(rows);
    let id = upload_at(&client, &server.address, "many.csv", csv).await;
    eventually(Duration::from_secs(60), || async {
        let job = job_at(&client, &server.address, id).await;
        (job.status == ImportStatus::Ready).then_some(())
    })
    .await
    .expect("the dry run finishes");
    start_import_at(&client, &server.address, id).await;
    let progress = || async {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT (done->>'rows')::bigint FROM import_jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap()
        .unwrap_or(0)
    };
    eventually(Duration::from_secs(60), || async {
        (progress().await > 0).then_some(())
    })
    .await
    .expect("a first batch is committed");

    let data = server.kill().await;
    let stopped_at = progress().await;
    assert!(stopped_at < rows, "killed mid-way: {stopped_at} of {rows}");
    let committed: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        committed, stopped_at,
        "exactly the rows reported done are in"
    );

    // The restarted server takes the job over and finishes it, each row once.
    let server = serve(&database, &prefix, data).await;
    let client = signed_in(&server).await;
    let done = eventually(Duration::from_secs(180), || async {
        let job = job_at(&client, &server.address, id).await;
        (job.status != ImportStatus::Running).then_some(job)
    })
    .await
    .expect("the import finishes");
    assert_eq!(done.status, ImportStatus::Done, "{:?}", done.error);
    assert_eq!(done.done.rows, rows as u64);
    let (contacts, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT lower(emails->0->>'value')) FROM contacts")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((contacts, distinct), (rows, rows));
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'import'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, rows, "each row applied once");
    index_matches_postgres(server.data.path(), &db).await;
}

/// A save at `address`; the contact's id if it was acknowledged as saved.
async fn save_at(
    client: &reqwest::Client,
    address: &str,
    fields: Vec<(String, String)>,
) -> Option<Uuid> {
    let response = client
        .post(format!("{address}/api/save-contact"))
        .header("accept", "application/json")
        .form(&fields)
        .send()
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    match response.json::<SaveOutcome>().await.ok()? {
        SaveOutcome::Saved { id } => Some(id),
        _ => None,
    }
}

#[tokio::test]
async fn a_server_killed_mid_burst_of_edits_keeps_every_acknowledged_one() {
    let (database, prefix, db) = bare_database().await;
    let server = serve(&database, &prefix, tempfile::tempdir().unwrap()).await;
    let client = signed_in(&server).await;

    // Eight writers save new contacts and edit them again, as fast as they can.
    let acknowledged: Arc<Mutex<Vec<(Uuid, i32)>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, address, acknowledged) =
            (client.clone(), server.address.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let name = format!("Burst {writer} {n}");
                let fields = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
                    contact_form(&name, extra)
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value.to_owned()))
                        .collect()
                };
                let Some(id) = save_at(&client, &address, fields(&[])).await else {
                    return;
                };
                acknowledged.lock().unwrap().push((id, 1));
                let id_text = id.to_string();
                let edit = fields(&[
                    ("title", "Edited"),
                    ("id", id_text.as_str()),
                    ("version", "1"),
                ]);
                let Some(_) = save_at(&client, &address, edit).await else {
                    return;
                };
                acknowledged.lock().unwrap().push((id, 2));
            }
        }));
    }
    eventually(Duration::from_secs(30), || async {
        (acknowledged.lock().unwrap().len() >= 200).then_some(())
    })
    .await
    .expect("edits are acknowledged");
    let data = server.kill().await;
    for writer in writers {
        writer.await.unwrap();
    }

    // Every acknowledged save is there, at least at the version acknowledged.
    let stored: std::collections::HashMap<Uuid, i32> =
        sqlx::query_as::<_, (Uuid, i32)>("SELECT id, version FROM contacts")
            .fetch_all(&db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for (id, version) in acknowledged.lock().unwrap().iter() {
        let found = stored.get(id).copied();
        assert!(
            found.is_some_and(|stored| stored >= *version),
            "{id} acknowledged at version {version}, stored {found:?}"
        );
    }

    let server = serve(&database, &prefix, data).await;
    index_matches_postgres(server.data.path(), &db).await;
}

#[tokio::test]
async fn with_its_index_gone_a_server_rebuilds_it_while_serving_and_says_how_far() {
    let app = spawn_app().await;
    app.seed(30_000).await;
    let (database, prefix) = (app.database.clone(), app.state.config.redis_prefix.clone());
    app.stop().await;
    let db = PgPool::connect(&url_for(&database)).await.unwrap();

    // A data folder without an index, as if it had been deleted while the server was
    // down (the corrupted-index tests in search.rs damage one instead).
    let server = serve(&database, &prefix, tempfile::tempdir().unwrap()).await;
    let client = signed_in(&server).await;
    let progress: Arc<Mutex<Vec<String>>> = Arc::default();
    let served_while_building = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ready = eventually(Duration::from_secs(120), || {
        let (client, address) = (client.clone(), server.address.clone());
        let (progress, served) = (progress.clone(), served_while_building.clone());
        async move {
            let health = client
                .get(format!("{address}/health/deep"))
                .send()
                .await
                .ok()?;
            let status = health.status();
            let body: serde_json::Value = health.json().await.ok()?;
            let index = body["checks"]["search-index:lag"][0].clone();
            if index["status"] == "pass" {
                return Some(());
            }
            assert_eq!(status, 200, "a building index is a warning: {body}");
            assert_eq!(index["status"], "warn", "{body}");
            progress
                .lock()
                .unwrap()
                .push(index["output"].as_str().unwrap_or_default().to_owned());
            // Meanwhile the directory and search answer.
            for path in ["/", "/?q=person"] {
                let page = client
                    .get(format!("{address}{path}"))
                    .header("accept", "text/html")
                    .send()
                    .await
                    .ok()?;
                let status = page.status();
                assert_eq!(
                    status,
                    200,
                    "{path} while the index builds: {}",
                    page.text().await.unwrap_or_default()
                );
            }
            served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            None
        }
    })
    .await;
    let progress = progress.lock().unwrap().clone();
    assert!(ready.is_some(), "the index is built: {progress:?}");
    assert!(
        progress
            .iter()
            .any(|output| output.starts_with("building the index:") && output.contains("of 30000")),
        "progress was reported: {progress:?}"
    );
    assert!(served_while_building.load(std::sync::atomic::Ordering::Relaxed) > 0);
    index_matches_postgres(server.data.path(), &db).await;
}
