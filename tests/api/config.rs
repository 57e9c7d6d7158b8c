use std::process::Command;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn every_connection_has_the_statement_timeout() {
    let app = spawn_app_with(|mut config| {
        config.db_statement_timeout_ms = 300;
        config
    })
    .await;

    let shown: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(shown, "300ms");

    let error = sqlx::query("SELECT pg_sleep(2)")
        .execute(&app.db)
        .await
        .expect_err("the timeout cancels a slow statement");
    let code = error.as_database_error().and_then(|e| e.code()).unwrap();
    assert_eq!(code, "57014", "query_canceled");
}

fn roster() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .arg("migrate")
        .env_remove("ROSTER_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL");
    command
}

#[test]
fn a_missing_setting_stops_startup_and_is_named() {
    let output = roster().output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL is not set"), "{stderr}");
}

#[test]
fn a_malformed_setting_stops_startup_and_is_named() {
    let output = roster()
        .env("DATABASE_URL", "postgres://localhost/roster")
        .env("ROSTER_DB_MAX_CONNECTIONS", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ROSTER_DB_MAX_CONNECTIONS is malformed"),
        "{stderr}"
    );
}

#[test]
fn a_missing_config_file_is_named() {
    let output = roster()
        .env("ROSTER_CONFIG", "/nonexistent/roster.toml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/roster.toml"), "{stderr}");
}
