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
async fn every_response_carries_a_request_id_and_echoes_the_callers() {
    let app = spawn_app().await;

    let generated = app.get("/health").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a generated UUID: {id}");

    let echoed = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
}
