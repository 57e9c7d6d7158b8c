//! Fault tests: Redis and Postgres stopped and started for real under traffic.
//!
//! Run by `make chaos` (scripts/chaos.sh), which gives them a Postgres and a Redis of
//! their own and runs them one at a time; `cargo test` alone leaves this target out
//! (`test = false` in Cargo.toml), since stopping the servers every other test uses
//! would fail those tests.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use roster::domain::{SaveOutcome, SearchQuery};
use uuid::Uuid;

use helpers::{TestApp, contact_form, eventually, spawn_app_with};

/// Stops or starts one of the servers `make chaos` started (`stop-redis`, …).
fn services(command: &str) {
    let script = std::env::var("ROSTER_CHAOS_SERVICES")
        .expect("run the fault tests with `make chaos` (it sets ROSTER_CHAOS_SERVICES)");
    let status = std::process::Command::new(script)
        .arg(command)
        .status()
        .expect("the services script runs");
    assert!(status.success(), "services.sh {command}");
}

/// One request's outcome: its status (0 when no answer came) and how long it took.
#[derive(Clone, Copy, Debug)]
struct Outcome {
    status: u16,
    took: Duration,
}

/// Requests sent in a loop by a signed-in client until stopped, each outcome kept.
struct Traffic {
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Traffic {
    /// `request(n)` builds the n-th request.
    fn start(
        request: impl Fn(u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
        on_answer: impl Fn(u16, String) + Send + Sync + 'static,
    ) -> Traffic {
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn({
            let outcomes = outcomes.clone();
            async move {
                let mut n = 0u64;
                while !*stopped.borrow_and_update() {
                    n += 1;
                    let started = Instant::now();
                    let answer = request(n).send().await;
                    let took = started.elapsed();
                    let status = match answer {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            on_answer(status, response.text().await.unwrap_or_default());
                            status
                        }
                        Err(_) => 0,
                    };
                    outcomes.lock().unwrap().push(Outcome { status, took });
                }
            }
        });
        Traffic {
            outcomes,
            stop,
            task,
        }
    }

    fn since(&self, from: usize) -> Vec<Outcome> {
        self.outcomes.lock().unwrap()[from..].to_vec()
    }

    fn len(&self) -> usize {
        self.outcomes.lock().unwrap().len()
    }

    /// How many answers came with each status so far (0: no answer), for failure messages.
    fn statuses(&self) -> std::collections::BTreeMap<u16, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for outcome in self.outcomes.lock().unwrap().iter() {
            *counts.entry(outcome.status).or_default() += 1;
        }
        counts
    }

    async fn stop(self) -> Vec<Outcome> {
        let _ = self.stop.send(true);
        self.task.await.unwrap();
        Arc::try_unwrap(self.outcomes)
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// Nothing hung during an outage: every request got an answer, a page or a 503,
/// within 5 s.
fn answered_fast(what: &str, outcomes: &[Outcome]) {
    let slowest = outcomes.iter().map(|outcome| outcome.took).max().unwrap();
    assert!(
        slowest < Duration::from_secs(5),
        "{what}: slowest answer {slowest:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.status == 200 || outcome.status == 503),
        "{what}: only answers or 503: {outcomes:?}"
    );
}

fn page_request(app: &TestApp) -> impl Fn(u64) -> reqwest::RequestBuilder + Send + Sync + 'static {
    let (client, base) = (app.client.clone(), app.address.clone());
    move |n| {
        client
            .get(format!("{base}/?q=person+{}", n % 50))
            .header("accept", "text/html")
    }
}

#[tokio::test]
async fn redis_stopped_under_traffic_then_back_within_five_seconds() {
    // The deep check's details come from the metrics address, which needs no session.
    let app = spawn_app_with(|mut config| {
        config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        config
    })
    .await;
    app.seed(200).await;
    app.index_caught_up().await;
    let traffic = Traffic::start(page_request(&app), |_, _| {});
    eventually(Duration::from_secs(10), || async {
        (traffic.len() > 20).then_some(())
    })
    .await
    .expect("traffic flows");
    assert!(traffic.since(0).iter().all(|outcome| outcome.status == 200));

    services("stop-redis");
    let stopped_at = traffic.len();
    // Pages that need the session store get the clear 503 page, quickly.
    app.pages_say_unavailable().await;
    // The health check names Redis as what fails.
    let health = eventually(Duration::from_secs(10), || async {
        let response = app.deep_health().await;
        (response.status() == 503).then_some(response)
    })
    .await
    .expect("the deep check fails");
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["checks"]["redis:responseTime"][0]["status"], "fail");
    assert_eq!(
        health["checks"]["postgres:responseTime"][0]["status"],
        "pass"
    );
    // Search itself needs no Redis: it answers, uncached.
    for n in 0..5 {
        let query = SearchQuery::default().with_text(&format!("outage {n}"));
        let page = app
            .state
            .search
            .search(query, 0)
            .await
            .expect("search answers without Redis");
        assert!(!page.cached);
    }
    // Nothing hangs: every request during the outage got its answer within seconds.
    eventually(Duration::from_secs(15), || async {
        (traffic.len() > stopped_at + 20).then_some(())
    })
    .await
    .expect("traffic goes on while Redis is down");
    answered_fast("pages while Redis is down", &traffic.since(stopped_at));

    services("start-redis");
    let back = Instant::now();
    let restarted_at = traffic.len();
    // Everything recovers with no restart: the same session (Redis keeps it across its
    // own restart), pages, and the deep check.
    eventually(Duration::from_secs(5), || async {
        let page = app
            .client
            .get(app.url("/?q=recovered"))
            .header("accept", "text/html")
            .send()
            .await
            .ok()?;
        let health = app.deep_health().await;
        (page.status() == 200 && health.status() == 200).then_some(())
    })
    .await
    .expect("pages and the deep check recover within 5 s of Redis starting");
    let recovered_in = back.elapsed();
    let outcomes = traffic.stop().await;
    assert!(
        outcomes[restarted_at..]
            .iter()
            .rev()
            .take(3)
            .all(|outcome| outcome.status == 200),
        "traffic flows again"
    );
    eprintln!("recovered {recovered_in:?} after Redis started");
}

#[tokio::test]
async fn postgres_restarted_under_traffic_loses_no_acknowledged_write() {
    let app = spawn_app_with(|mut config| {
        config.db_acquire_timeout_ms = 1_000;
        config
    })
    .await;
    let saved: Arc<Mutex<Vec<Uuid>>> = Arc::default();
    let last_refusal: Arc<Mutex<Option<String>>> = Arc::default();
    let writes = Traffic::start(
        {
            let (client, base) = (app.client.clone(), app.address.clone());
            move |n| {
                let name = format!("Written {n}");
                client
                    .post(format!("{base}/api/save-contact"))
                    .header("accept", "application/json")
                    .form(&contact_form(&name, &[]))
            }
        },
        {
            let (saved, last_refusal) = (saved.clone(), last_refusal.clone());
            move |status, body| match serde_json::from_str(&body) {
                Ok(SaveOutcome::Saved { id }) if status == 200 => saved.lock().unwrap().push(id),
                _ => *last_refusal.lock().unwrap() = Some(format!("{status}: {body}")),
            }
        },
    );
    let reads = Traffic::start(page_request(&app), |_, _| {});
    // Each save waits (2 s at most) for the index to show it, and the index commits
    // with an fsync: on a busy disk the first saves can be slow, so the time allowed is
    // generous. What this test checks comes after.
    if eventually(Duration::from_secs(30), || async {
        (saved.lock().unwrap().len() >= 10).then_some(())
    })
    .await
    .is_none()
    {
        panic!(
            "writes are acknowledged: {} saved; writes by status {:?}, reads by status {:?}; \
             the last write not saved: {:?}",
            saved.lock().unwrap().len(),
            writes.statuses(),
            reads.statuses(),
            last_refusal.lock().unwrap()
        );
    }

    services("stop-postgres");
    let (writes_at, reads_at) = (writes.len(), reads.len());
    // Requests fail fast (the pool's acquire timeout), with 503, and do not pile up.
    eventually(Duration::from_secs(20), || async {
        let failed = writes
            .since(writes_at)
            .iter()
            .filter(|outcome| outcome.status == 503)
            .count();
        (failed >= 3).then_some(())
    })
    .await
    .expect("writes fail with 503 while Postgres is down");
    services("start-postgres");
    let restarted = Instant::now();

    // The pool recovers on its own.
    eventually(Duration::from_secs(30), || async {
        let recent = writes.since(writes.len().saturating_sub(3));
        (recent.len() == 3 && recent.iter().all(|outcome| outcome.status == 200)).then_some(())
    })
    .await
    .expect("writes succeed again");
    eprintln!(
        "writes succeed {:?} after Postgres started",
        restarted.elapsed()
    );
    let write_outcomes = writes.stop().await;
    let read_outcomes = reads.stop().await;
    answered_fast(
        "writes while Postgres was down or starting",
        &write_outcomes[writes_at..],
    );
    answered_fast(
        "reads while Postgres was down or starting",
        &read_outcomes[reads_at..],
    );

    // Every write that was acknowledged is there.
    let saved = saved.lock().unwrap().clone();
    let stored: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM contacts WHERE id = ANY($1)")
        .bind(&saved)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored.len(),
        saved.len(),
        "every acknowledged write is stored"
    );
    app.index_caught_up().await;
}

/// The URL of the same database on the read replica `make chaos` started beside its
/// Postgres (scripts/services.sh start-replica).
fn on_replica(primary_url: &str) -> String {
    let port =
        |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by make chaos"));
    primary_url.replacen(
        &format!(":{}/", port("ROSTER_PG_PORT")),
        &format!(":{}/", port("ROSTER_PG_REPLICA_PORT")),
        1,
    )
}

/// Reads served by `server` ("primary" or "replica") since the process started.
async fn reads_served(app: &TestApp, server: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    helpers::sample(&text, &format!("db_reads_total{{server=\"{server}\"}}"))
}

/// The name on a contact's page, as `client` is shown it.
async fn name_shown(app: &TestApp, client: &reqwest::Client, id: Uuid) -> String {
    let response = client
        .get(app.url(&format!("/api/contact?id={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
        .json::<roster::domain::Contact>()
        .await
        .unwrap()
        .card
        .name
}

#[tokio::test]
async fn reads_go_to_the_replica_writes_to_the_primary_and_a_stopped_replica_falls_back() {
    use secrecy::ExposeSecret;
    let app = spawn_app_with(|mut config| {
        let replica = on_replica(config.database_url.expose_secret());
        config.database_read_url = Some(replica.into());
        config.db_acquire_timeout_ms = 1_000;
        // Long enough that a replica held still is still read by others below.
        config.replica_max_lag_ms = 60_000;
        config
    })
    .await;
    let replica_admin = on_replica(&std::env::var("ROSTER_TEST_DATABASE_URL").unwrap());
    let replica = sqlx::PgPool::connect(&replica_admin).await.unwrap();
    // A run that failed half-way may have left replay held still.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&replica)
        .await
        .unwrap();
    let (_, reader) = app
        .user("reader@example.com", roster::domain::Role::Viewer)
        .await;

    // A write: the replica is read-only, so its success is the primary's.
    let SaveOutcome::Saved { id } = helpers::save(&app, &contact_form("Ada Replica", &[])).await
    else {
        panic!("the contact is saved");
    };

    // Once the replica has the new database and is in step, a directory page is read
    // there: counted as the replica's, and its statement is the last one of a replica
    // connection named roster-read.
    let page = || async {
        let response = reader
            .get(app.url("/api/directory?page=first"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    eventually(Duration::from_secs(20), || async {
        let before = reads_served(&app, "replica").await;
        let shown = page().await;
        (reads_served(&app, "replica").await > before && shown.contains("Ada Replica"))
            .then_some(())
    })
    .await
    .expect("directory pages are read from the replica once it is in step");
    let statements: Vec<String> = sqlx::query_scalar(
        "SELECT query FROM pg_stat_activity
          WHERE application_name = 'roster-read' AND datname = $1",
    )
    .bind(&app.database)
    .fetch_all(&replica)
    .await
    .unwrap();
    assert!(
        statements
            .iter()
            .any(|query| query.contains("FROM contacts")),
        "the replica ran the directory's statement: {statements:?}"
    );

    // Replay held still: a change is on the primary only. The one who made it reads it
    // at once (from the primary); another reader may be shown the replica's copy,
    // which is within the lag this app tolerates.
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&replica)
        .await
        .unwrap();
    let id_text = id.to_string();
    let outcome = helpers::save(
        &app,
        &contact_form("Ada Renamed", &[("id", &id_text), ("version", "1")]),
    )
    .await;
    assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
    let primary_before = reads_served(&app, "primary").await;
    assert_eq!(name_shown(&app, &app.client, id).await, "Ada Renamed");
    assert!(
        reads_served(&app, "primary").await > primary_before,
        "the writer's read went to the primary"
    );
    assert_eq!(
        name_shown(&app, &reader, id).await,
        "Ada Replica",
        "another reader is served by the replica, held still"
    );
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&replica)
        .await
        .unwrap();
    replica.close().await;
    eventually(Duration::from_secs(20), || async {
        (name_shown(&app, &reader, id).await == "Ada Renamed").then_some(())
    })
    .await
    .expect("the replica catches up once replay resumes");

    // The replica stopped: reads are answered from the primary, each within the
    // acquire timeout (1 s) and a margin for the rest of the request.
    services("stop-replica");
    let primary_before = reads_served(&app, "primary").await;
    for _ in 0..5 {
        let started = Instant::now();
        assert!(page().await.contains("Ada Renamed"));
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2_000), "a read took {took:?}");
    }
    assert!(reads_served(&app, "primary").await >= primary_before + 5.0);

    // Started again, it serves reads again.
    services("start-replica");
    eventually(Duration::from_secs(20), || async {
        let before = reads_served(&app, "replica").await;
        page().await;
        (reads_served(&app, "replica").await > before).then_some(())
    })
    .await
    .expect("reads go to the replica again once it is back");

    // A read URL naming another directory's copy on the replica (a database name
    // mistyped for a neighbour's) is never read: this app's pages show its own contacts.
    let other = helpers::fresh_database().await;
    let admin = sqlx::PgPool::connect(&replica_admin).await.unwrap();
    eventually(Duration::from_secs(20), || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&other)
            .fetch_one(&admin)
            .await
            .ok()
            .filter(|found| *found == 1)
    })
    .await
    .expect("the other database reaches the replica");
    admin.close().await;
    let mixed = spawn_app_with(|mut config| {
        config.database_read_url = Some(on_replica(&helpers::url_for(&other)).into());
        config
    })
    .await;
    helpers::save(&mixed, &contact_form("Only Here", &[])).await;
    for _ in 0..10 {
        let response = mixed.get("/api/directory?page=first").await;
        assert!(response.text().await.unwrap().contains("Only Here"));
        tokio::time::sleep(roster::server::db::replica::WATCH_EVERY).await;
    }
}
