use crate::helpers::{eventually, spawn_app};

#[tokio::test]
async fn health_answers_without_touching_the_database() {
    let app = spawn_app().await;
    // With the pool closed, anything that needs Postgres fails; liveness must not.
    // (Closing waits for connections held by the background listeners, so it is left
    // to finish in the background: the pool refuses new work at once.)
    let db = app.db.clone();
    tokio::spawn(async move { db.close().await });
    eventually(std::time::Duration::from_secs(5), || async {
        app.db.is_closed().then_some(())
    })
    .await
    .expect("the pool closes");

    let response = app.get("/health").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/health+json"
    );
    assert_eq!(response.text().await.unwrap(), r#"{"status":"pass"}"#);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_trusted_proxys() {
    let app = spawn_app().await;
    let with_id = |app: &crate::helpers::TestApp, id: String| {
        app.client
            .get(app.url("/health"))
            .header("x-request-id", id)
            .send()
    };

    let generated = app.get("/health").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    // A client's own id is not believed: it could pose as another request.
    let ignored = with_id(&app, "trace-me-123".to_owned()).await.unwrap();
    assert_ne!(ignored.headers()["x-request-id"], "trace-me-123");

    // From a trusted proxy, a short plain id is kept; a long or odd one is not.
    let proxied = crate::helpers::spawn_app_with(|mut config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        config
    })
    .await;
    let echoed = with_id(&proxied, "trace-me-123".to_owned()).await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
    for odd in [
        "x".repeat(100_000),
        "Bob did this".to_owned(),
        "a".repeat(65),
    ] {
        let replaced = with_id(&proxied, odd.clone()).await.unwrap();
        let id = replaced.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(
            id.len(),
            36,
            "a generated UUID instead of {} bytes",
            odd.len()
        );
    }
}

#[tokio::test]
async fn the_deep_check_fails_on_redis_alone_when_redis_stops() {
    let (mut redis, url) = crate::helpers::PrivateRedis::start_anywhere();
    let app = crate::helpers::spawn_app_with(|mut config| {
        config.redis_url = Some(secrecy::SecretString::from(url.clone()));
        config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        config
    })
    .await;
    // A stranger (a load balancer's probe) gets the verdict alone...
    let verdict: serde_json::Value = app
        .stranger()
        .get(app.url("/health/deep"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(verdict.get("checks").is_none(), "{verdict}");
    assert!(verdict.get("status").is_some(), "{verdict}");
    // ...the details are for admins and the metrics address, which needs no session.
    let deep = || async {
        let response = app.deep_health().await;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (status, body)
    };
    let passing = eventually(std::time::Duration::from_secs(10), || async {
        let (status, body) = deep().await;
        (status == 200 && body["checks"]["redis:responseTime"][0]["status"] == "pass")
            .then_some(body)
    })
    .await
    .expect("Redis passes while it runs");
    assert_eq!(
        passing["checks"]["postgres:responseTime"][0]["status"],
        "pass"
    );

    redis.stop();
    // The answer is reused for two seconds: the next fresh one sees Redis gone.
    let (status, body) = eventually(std::time::Duration::from_secs(10), || async {
        let (status, body) = deep().await;
        (status == 503).then_some((status, body))
    })
    .await
    .expect("503 once Redis is gone");
    assert_eq!(status, 503);
    assert_eq!(body["status"], "fail");
    let check = |name: &str| body["checks"][name][0].clone();
    assert_eq!(check("redis:responseTime")["status"], "fail");
    assert_eq!(check("postgres:responseTime")["status"], "pass");
    assert_ne!(check("search-index:lag")["status"], "fail");
    for name in [
        "redis:responseTime",
        "postgres:responseTime",
        "search-index:lag",
    ] {
        assert!(
            check(name)["time"].is_string(),
            "{name} has its observed time"
        );
    }
}
