//! `/metrics`: the Prometheus text format, for admins only, moving with the traffic.

use roster::domain::{
    AuditAction, Role,
    dashboard::{AuditPage, Dashboard, Level, Period},
};

use crate::helpers::{sample, save, spawn_app};

#[tokio::test]
async fn request_durations_are_counted_by_route_template() {
    let app = spawn_app().await;
    // Searches answered from the index (before it is built they fall back to Postgres).
    app.index_caught_up().await;
    let scrape = || async {
        let response = app.get("/metrics").await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        response.text().await.unwrap()
    };
    let search = r#"http_server_request_duration_seconds_count{method="GET",route="/api/search",status="2xx"}"#;
    let contact_page = r#"http_server_request_duration_seconds_count{method="GET",route="/contacts/{id}",status="4xx"}"#;
    let before = scrape().await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/search?query=q%3Dann").await.status(), 200);
    }
    // A contact that does not exist: its page answers 404, labelled by the template.
    assert_eq!(
        app.get("/contacts/00000000-0000-0000-0000-000000000000")
            .await
            .status(),
        404
    );
    let after = scrape().await;
    // Other tests share the process's recorder: at least this test's requests.
    assert!(
        sample(&after, search) - sample(&before, search) >= 3.0,
        "{after}"
    );
    assert!(sample(&after, contact_page) - sample(&before, contact_page) >= 1.0);
    assert!(after.contains(r#"http_server_request_duration_seconds_bucket{method="GET",route="/api/search",status="2xx",le="0.005"}"#));
    assert!(
        !after.contains("00000000-0000-0000-0000-000000000000"),
        "no raw paths as labels"
    );
    assert!(!after.contains("q=ann"), "no raw queries as labels");
    // The same search three times: answered once from the index, then from the cache.
    let searched = |kind: &str| {
        let series = format!(r#"search_duration_seconds_count{{kind="{kind}"}}"#);
        sample(&after, &series) - sample(&before, &series)
    };
    assert!(
        searched("uncached") >= 1.0 && searched("cached") >= 2.0,
        "{after}"
    );
    // Gauges: the pool and the index (sampled as the app starts, then every 5 s).
    for gauge in [
        r#"db_pool_connections{state="in_use"}"#,
        "db_pool_connections_max",
        "search_index_documents",
        "search_index_lag_changes",
    ] {
        assert!(
            after.lines().any(|line| line.starts_with(gauge)),
            "{gauge} in {after}"
        );
    }

    // Not for everyone.
    let (_, viewer) = app.user("viewer@metrics.example", Role::Viewer).await;
    assert_eq!(
        viewer
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let stranger = app
        .stranger()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 303, "to sign in");
}

#[tokio::test]
async fn slow_requests_are_counted_by_route() {
    let app = crate::helpers::spawn_app_with(|mut config| {
        config.slow_request_ms = 0;
        config
    })
    .await;
    let series = r#"http_server_slow_requests_total{route="/api/me"}"#;
    let before = sample(&app.get("/metrics").await.text().await.unwrap(), series);
    for _ in 0..2 {
        assert_eq!(app.get("/api/me").await.status(), 200);
    }
    let after = sample(&app.get("/metrics").await.text().await.unwrap(), series);
    assert!(after - before >= 2.0, "{before} → {after}");
}

#[tokio::test]
async fn a_private_address_serves_the_metrics_alone() {
    let app = crate::helpers::spawn_app_with(|mut config| {
        config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        config
    })
    .await;
    let address = format!(
        "http://127.0.0.1:{}",
        app.metrics_port.expect("a metrics port")
    );
    // No sign-in on that address (it is meant for a scraper on a private network)…
    let metrics = app
        .stranger()
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("http_server_request_duration_seconds")
    );
    // …and nothing else.
    let other = app
        .stranger()
        .get(format!("{address}/api/search"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    app.stop().await;
}

async fn dashboard(app: &crate::helpers::TestApp, period: &str) -> Dashboard {
    let response = app
        .get(&format!("/api/admin/dashboard?period={period}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_dashboard_counts_what_happens_and_judges_it() {
    let app = spawn_app().await;
    app.index_caught_up().await;
    let before = dashboard(&app, "15m").await;
    for n in 0..4 {
        let response = app.get(&format!("/api/search?query=q%3Dzed{n}")).await;
        assert_eq!(response.status(), 200);
    }
    let after = dashboard(&app, "15m").await;
    assert!(
        after.search_count() >= before.search_count() + 4,
        "{} → {}",
        before.search_count(),
        after.search_count()
    );
    assert_eq!(after.period, Period::Minutes15);
    // One tile per rule and per dependency, each with a verdict.
    let names: Vec<&str> = after.tiles.iter().map(|tile| tile.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Search p95",
            "Error ratio",
            "Cache hit ratio",
            "Database pool in use",
            "Postgres",
            "Redis",
            "Search index"
        ]
    );
    let tile = |name: &str| after.tiles.iter().find(|tile| tile.name == name).unwrap();
    assert_eq!(tile("Postgres").level, Level::Ok);
    assert_eq!(tile("Redis").level, Level::Ok);
    // A handful of searches cannot be judged (20 are needed)…
    assert!(matches!(
        tile("Search p95").level,
        Level::NoData | Level::Ok
    ));
    // …and this instance is listed, with the requests it served.
    let me = after
        .instances
        .iter()
        .find(|row| row.instance == after.served_by)
        .expect("this instance");
    assert!(me.requests >= 4);
    // Charts hold one point per ten seconds over 15 minutes.
    assert_eq!(after.traffic.lines[0].values.len(), 90);
    assert!(
        after.traffic.lines[0].values.iter().flatten().sum::<f64>() > 0.0,
        "requests drawn"
    );
    // The statements and Redis commands behind them were timed.
    assert!(
        after
            .pool
            .queries
            .iter()
            .any(|row| row.name == "SELECT" && row.count > 0)
    );
    assert!(
        after
            .redis
            .commands
            .iter()
            .any(|row| row.name == "session_load" && row.count > 0),
        "{:?}",
        after.redis.commands
    );
    // An unknown period falls back to the default rather than failing.
    assert_eq!(dashboard(&app, "7d").await.period, Period::Minutes15);
    assert_eq!(
        dashboard(&app, "24h").await.traffic.lines[0].values.len(),
        72
    );

    // The page itself: admins only, and readable without JavaScript.
    let page = app
        .client
        .get(app.url("/admin"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("Search p95"),
        "{html}"
    );
    let (_, viewer) = app.user("viewer@dashboard.example", Role::Viewer).await;
    let refused = viewer
        .get(app.url("/admin"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refused = viewer
        .get(app.url("/api/admin/dashboard?period=15m"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn the_database_and_redis_timings_and_open_sessions_reach_the_metrics() {
    let app = spawn_app().await;
    let scrape = || async { app.get("/metrics").await.text().await.unwrap() };
    let select = r#"db_client_operation_duration_seconds_count{operation="SELECT"}"#;
    let wait = "db_client_connection_wait_time_seconds_count";
    let session = r#"redis_command_duration_seconds_count{operation="session_load"}"#;
    let before = scrape().await;
    let page = app
        .client
        .get(app.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let after = crate::helpers::eventually(std::time::Duration::from_secs(15), || async {
        let text = scrape().await;
        // Open sessions are counted every 5 s.
        (text
            .lines()
            .any(|line| line.starts_with("sessions_active ")))
        .then_some(text)
    })
    .await
    .expect("the open sessions are counted");
    for series in [select, wait, session] {
        assert!(
            sample(&after, series) > sample(&before, series),
            "{series}: {after}"
        );
    }
    // The gauge is process-wide (the other tests' apps set it too): the count itself.
    assert_eq!(app.state.sessions.count_active().await.unwrap(), 1);
    let (_, _viewer) = app.user("viewer@sessions.example", Role::Viewer).await;
    assert_eq!(app.state.sessions.count_active().await.unwrap(), 2);
}

#[tokio::test]
async fn two_instances_show_on_each_others_dashboard() {
    let app = spawn_app().await;
    let other = crate::helpers::spawn_second(&app).await;
    assert_eq!(other.get("/api/me").await.status(), 200);
    let mine = app.state.monitor.instance().to_owned();
    let theirs = other.state.monitor.instance().to_owned();
    assert_ne!(mine, theirs);
    // Rollups are published every ten seconds, through Redis.
    let seen = crate::helpers::eventually(std::time::Duration::from_secs(30), || async {
        let now = dashboard(&app, "15m").await;
        let names: Vec<String> = now
            .instances
            .iter()
            .map(|row| row.instance.clone())
            .collect();
        (names.contains(&mine) && names.contains(&theirs)).then_some(now)
    })
    .await
    .expect("both instances on the dashboard");
    let theirs_row = seen
        .instances
        .iter()
        .find(|row| row.instance == theirs)
        .unwrap();
    assert!(theirs_row.requests >= 1, "{theirs_row:?}");
}

#[tokio::test]
async fn web_vitals_are_checked_bounded_and_counted() {
    let app = crate::helpers::spawn_app_with(|mut config| {
        config.limit_anonymous_per_15_minutes = 3;
        config
    })
    .await;
    let lcp = r#"browser_web_vital_seconds_count{name="lcp"}"#;
    let shift = "browser_cumulative_layout_shift_count";
    let scrape = || async { app.get("/metrics").await.text().await.unwrap() };
    let before = scrape().await;
    let send = |client: reqwest::Client, body: &'static str| {
        let url = app.url("/api/vitals");
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let accepted = send(
        app.client.clone(),
        r#"{"lcp": 850, "cls": 0.03, "ttfb": 35.5}"#,
    )
    .await;
    assert_eq!(accepted.status(), 204);
    for (body, reason) in [
        (r#"{"lcp": -5}"#, "zero or more"),
        (r#"{"lcp": 99999999}"#, "at most"),
        (r#"{"password": 1}"#, "not a web vital"),
        ("not json", "JSON object"),
    ] {
        let refused = send(app.client.clone(), body).await;
        assert_eq!(refused.status(), 400, "{body}");
        assert!(refused.text().await.unwrap().contains(reason), "{body}");
    }
    let after = scrape().await;
    assert_eq!(sample(&after, lcp) - sample(&before, lcp), 1.0);
    assert_eq!(sample(&after, shift) - sample(&before, shift), 1.0);
    let vitals = dashboard(&app, "15m").await.vitals;
    let lcp_row = vitals.iter().find(|row| row.name == "LCP").unwrap();
    assert!(lcp_row.samples >= 1 && lcp_row.p75.is_some(), "{vitals:?}");

    // The sign-in page reports too (no session), within the per-address limit of
    // three (the test's own sign-in counted against it already).
    let stranger = app.stranger();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            send(stranger.clone(), r#"{"fcp": 120}"#)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [204, 204, 429, 429]);
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_who_action_and_day() {
    let app = spawn_app().await;
    let created = save(&app, &[("name", "Audited Person")]).await;
    assert!(
        matches!(created, roster::domain::SaveOutcome::Saved { .. }),
        "{created:?}"
    );
    let (_, editor) = app.user("editor@audit.example", Role::Editor).await;
    let response = editor
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .form(&[("name", "Edited Elsewhere")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let audit = |query: &str| {
        let url = app.url(&format!("/api/admin/audit?{query}"));
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let page = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 200);
        response.json::<AuditPage>().await.unwrap()
    };
    let everything = page(audit("who=&action=&date=&before=").await).await;
    assert_eq!(everything.entries.len(), 2);
    assert!(
        everything.entries[0].id > everything.entries[1].id,
        "newest first"
    );

    let by_editor = page(audit("who=EDITOR%40audit&action=&date=&before=").await).await;
    assert_eq!(by_editor.entries.len(), 1);
    assert_eq!(
        by_editor.entries[0].contact_name.as_deref(),
        Some("Edited Elsewhere")
    );
    assert_eq!(by_editor.entries[0].action, AuditAction::Create);
    // Wildcards are taken literally.
    let literal = page(audit("who=%25&action=&date=&before=").await).await;
    assert!(literal.entries.is_empty());

    let deletes = page(audit("who=&action=delete&date=&before=").await).await;
    assert!(deletes.entries.is_empty());
    let today = roster::domain::format::iso_date(everything.entries[0].at_micros);
    let on_the_day = page(audit(&format!("who=&action=create&date={today}&before=")).await).await;
    assert_eq!(on_the_day.entries.len(), 2);
    let other_day = page(audit("who=&action=&date=2001-01-01&before=").await).await;
    assert!(other_day.entries.is_empty());
    // Paging: older than the newest.
    let older = page(
        audit(&format!(
            "who=&action=&date=&before={}",
            everything.entries[0].id
        ))
        .await,
    )
    .await;
    assert_eq!(older.entries.len(), 1);

    // Bad filters: a plain 400, never a 500.
    for query in [
        "who=&action=drop&date=&before=",
        "who=&action=&date=2026-02-30&before=",
        "who=&action=&date=&before=x",
    ] {
        let response = audit(query).await;
        assert_eq!(response.status(), 400, "{query}");
    }
}
