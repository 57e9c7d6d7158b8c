//! `/metrics`: the Prometheus text format, for admins only, moving with the traffic.

use roster::domain::Role;

use crate::helpers::spawn_app;

/// The value of the sample line that starts with `series` (name and labels, exact).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

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
