//! `roster loadtest`'s machinery against a real server: visits arrive at their rate and
//! do every step without an error (edits included, saved in Postgres), the page run
//! counts pages and search box answers, idle keep-alive connections stay open, and
//! the writes run's edits are saved at their rate and found by search.

use std::{
    sync::{Arc, atomic::AtomicUsize},
    time::Duration,
};

use roster::{
    domain::SearchQuery,
    server::loadtest::{
        Accounts, add_accounts,
        pages::{self, established_to},
        visits::{self, Phase, VisitOptions, Words},
        writes::Editing,
    },
};

use crate::helpers::{TestApp, spawn_app_with};

async fn app() -> TestApp {
    let app = spawn_app_with(|mut config| {
        // Every simulated person comes from 127.0.0.1, as in the real run.
        config.limit_sign_in_per_minute = 100_000;
        config.limit_anonymous_per_15_minutes = 100_000;
        config
    })
    .await;
    app.seed(300).await;
    app.index_caught_up().await;
    app
}

#[tokio::test]
async fn visits_arrive_at_their_rate_and_every_step_succeeds() {
    let app = app().await;
    let accounts = Accounts::new(4);
    assert_eq!(add_accounts(&app.db, &accounts).await.unwrap(), 4);
    // Created once: a second run adds none.
    assert_eq!(add_accounts(&app.db, &accounts).await.unwrap(), 0);
    let words: Vec<String> =
        sqlx::query_scalar("SELECT split_part(name, ' ', 1) FROM contacts LIMIT 50")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let options = VisitOptions {
        phases: vec![Phase {
            name: "short",
            rate: 6.0,
            duration: Duration::from_secs(2),
        }],
        sign_in_share: 0.5,
        edit_share: 1.0,
        pace: 0.02,
        seed: 3,
    };
    let results = visits::run(&app.address, accounts, Words(words), options)
        .await
        .unwrap();
    let phase = &results[0];
    assert_eq!(phase.visits, 12);
    assert_eq!(
        phase.recorder.error_count(),
        0,
        "{}",
        phase.recorder.failures()
    );
    let table = phase.recorder.table(phase.elapsed);
    for kind in [
        "sign-in page",
        "sign in (server fn)",
        "directory page",
        "search (server fn)",
        "contact page",
        "contact form page",
        "save contact (server fn)",
    ] {
        assert!(
            table.contains(&format!("| {kind} |")),
            "{kind} missing from\n{table}"
        );
    }
    let edited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE notes LIKE 'Load test visit %'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(edited > 0, "the edits were saved");
}

#[tokio::test]
async fn the_page_run_counts_pages_and_box_answers_and_idle_connections_stay_open() {
    let app = app().await;
    let accounts = Accounts::new(2);
    add_accounts(&app.db, &accounts).await.unwrap();
    let clients = pages::signed_in_clients(&app.address, &accounts, 3)
        .await
        .unwrap();
    let queries = Arc::new(pages::Queries::new(vec![
        SearchQuery::default().with_text("a"),
        SearchQuery::default().with_text("ma"),
    ]));
    let run = pages::search_pages(
        (&app.address, pages::Endpoint::Page),
        &clients,
        queries.clone(),
        pages::Pace::ClosedLoop,
        Duration::from_millis(100),
        Duration::from_millis(700),
    )
    .await;
    assert!(run.requests > 3, "{} pages", run.requests);
    // Every request took the next search in turn (the warm-up's too).
    assert!(queries.asked() >= run.requests, "{} asked", queries.asked());
    assert_eq!(run.errors, 0, "{}", run.recorder.failures());
    assert!(run.latency.p50 > 0 && run.latency.p99 >= run.latency.p50);

    // At 30 a second over the three connections, the 0.7 s counted hold about 21.
    let paced = pages::search_pages(
        (&app.address, pages::Endpoint::Page),
        &clients,
        queries.clone(),
        pages::Pace::Rate(30.0),
        Duration::from_millis(100),
        Duration::from_millis(700),
    )
    .await;
    assert!(
        (18..=24).contains(&paced.requests),
        "{} pages",
        paced.requests
    );
    assert_eq!(paced.errors, 0, "{}", paced.recorder.failures());

    // A slow pace (each connection every 0.5 s) serves the rate asked: the run ends when
    // its last counted answer is in, not when a request due after it would have been.
    let slow = pages::search_pages(
        (&app.address, pages::Endpoint::Page),
        &clients,
        queries.clone(),
        pages::Pace::Rate(6.0),
        Duration::from_millis(100),
        Duration::from_millis(700),
    )
    .await;
    assert_eq!(slow.requests, 4);
    assert!(slow.per_second() > 5.0, "{:.2} a second", slow.per_second());

    // The search box's server function, asked the same way: a malformed request would
    // be answered 400 and counted as an error.
    let typed = pages::search_pages(
        (&app.address, pages::Endpoint::ServerFunction),
        &clients,
        queries,
        pages::Pace::ClosedLoop,
        Duration::from_millis(100),
        Duration::from_millis(500),
    )
    .await;
    assert!(typed.requests > 3, "{} answers", typed.requests);
    assert_eq!(typed.errors, 0, "{}", typed.recorder.failures());

    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let before = established_to(port).unwrap();
    let idle = pages::idle_connections(&app.address, 40).await.unwrap();
    assert_eq!(idle.len(), 40);
    let held = established_to(port).unwrap();
    assert!(held >= before + 40, "{held} established, {before} before");
}

#[tokio::test]
async fn edits_are_saved_at_their_rate_and_each_probed_one_is_found_by_search() {
    let app = app().await;
    let accounts = Accounts::new(3);
    add_accounts(&app.db, &accounts).await.unwrap();
    let editors = pages::signed_in_clients(&app.address, &accounts, 2)
        .await
        .unwrap();
    let probe = pages::signed_in_clients(&app.address, &accounts, 1)
        .await
        .unwrap()
        .remove(0);
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM contacts ORDER BY random() LIMIT 40")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let editing = Editing::new(
        (&app.address, editors),
        vec![(app.address.clone(), probe)],
        (Arc::new(ids), Arc::new(AtomicUsize::new(0))),
        1,
        5,
    );
    // 10 a second for 1.2 s: edits due at 0, 0.1 … 1.1 s.
    editing.clone().run(10.0, Duration::from_millis(1200)).await;

    let requests = editing.requests();
    assert_eq!(requests.error_count(), 0, "{}", requests.failures());
    let saves = requests
        .by_kind()
        .into_iter()
        .find(|(kind, _)| *kind == "save contact (server fn)")
        .map(|(_, summary)| summary.count)
        .unwrap_or_default();
    assert_eq!(saves, 12);
    // Every edit was probed, and each was found by search, after its save was sent.
    let found = editing.found(0);
    assert_eq!(found.error_count(), 0, "{}", found.failures());
    let lag = found.all();
    assert_eq!(lag.count, saves);
    assert!(lag.p50 > 0);
    // The probe words are in the saved notes.
    let noted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE notes LIKE 'Load test edit %'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(noted, 12);
}
