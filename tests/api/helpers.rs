//! `spawn_app()`: a fresh database and a running application for one test.
//!
//! Needs `ROSTER_TEST_DATABASE_URL` (or `DATABASE_URL`): a URL to the Postgres server
//! whose user may create databases. `make test` sets it to the embedded server.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use roster::server::{
    Application,
    config::Config,
    db::MIGRATOR,
    seed::{SeedOptions, seed},
};
use sqlx::{Connection, Executor, PgConnection, PgPool};

pub struct TestApp {
    pub address: String,
    pub db: PgPool,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the app answers")
    }

    pub async fn seed(&self, count: u64) {
        seed(
            &self.db,
            SeedOptions {
                count,
                seed: 7,
                if_empty: false,
            },
        )
        .await
        .expect("seeding succeeds");
    }
}

fn server_url() -> String {
    std::env::var("ROSTER_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("set ROSTER_TEST_DATABASE_URL or DATABASE_URL to a Postgres server for tests")
}

/// The test server's URL, pointing at another database on it.
fn url_for(database: &str) -> String {
    let mut url = url::Url::parse(&server_url()).expect("a valid Postgres URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

async fn admin_connection() -> PgConnection {
    PgConnection::connect(&server_url())
        .await
        .expect("can connect to the test Postgres server")
}

/// The template's name changes whenever a migration does, so a stale one is never used.
fn template_name() -> String {
    let mut hasher = DefaultHasher::new();
    for migration in MIGRATOR.iter() {
        migration.version.hash(&mut hasher);
        migration.checksum.hash(&mut hasher);
    }
    format!("roster_tpl_{:016x}", hasher.finish())
}

/// Creates the migrated template once across all test processes (under an advisory lock).
async fn ensure_template(admin: &mut PgConnection) -> String {
    let template = template_name();
    admin
        .execute("SELECT pg_advisory_lock(727274)")
        .await
        .expect("lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut *admin)
            .await
            .expect("query pg_database");
    if !exists {
        admin
            .execute(format!(r#"CREATE DATABASE "{template}""#).as_str())
            .await
            .expect("create template");
        let mut conn = PgConnection::connect(&url_for(&template))
            .await
            .expect("connect to template");
        MIGRATOR.run(&mut conn).await.expect("migrate template");
        conn.close().await.expect("close template connection");
    }
    admin
        .execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("unlock");
    template
}

/// A new, migrated, empty database for one test.
pub async fn fresh_database() -> String {
    let mut admin = admin_connection().await;
    let template = ensure_template(&mut admin).await;
    let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
    let create = format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#);
    // Cloning fails while another session is connected to the template; that only
    // lasts an instant (another process finishing its migration), so retry briefly.
    let mut attempts = 0;
    loop {
        match admin.execute(create.as_str()).await {
            Ok(_) => break,
            Err(_) if attempts < 50 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("could not create test database: {error}"),
        }
    }
    name
}

/// The settings a test app runs with: a free port, its own database, a small pool.
pub fn test_config(database: &str) -> Config {
    Config::from_figment(
        Config::defaults()
            .merge(("database_url", url_for(database)))
            .merge(("listen", "127.0.0.1:0"))
            .merge(("db_min_connections", 0))
            .merge(("db_max_connections", 5))
            .merge((
                "data_dir",
                std::env::temp_dir().join(format!("roster-test-{database}")),
            )),
    )
    .expect("test configuration is valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|config| config).await
}

/// Starts the app with settings adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(Config) -> Config) -> TestApp {
    let database = fresh_database().await;
    let config = adjust(test_config(&database));
    let app = Application::build(config).await.expect("the app builds");
    let port = app.port();
    let db = app.state().db.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds"),
    }
}
