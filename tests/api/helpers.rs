//! `spawn_app()`: a fresh database and a running application for one test.
//!
//! Needs `ROSTER_TEST_DATABASE_URL` (or `DATABASE_URL`): a URL to the Postgres server
//! whose user may create databases. `REDIS_URL` is used when set. `make test` sets
//! both to the embedded servers.

use roster::domain::import::{ImportJob, ImportStatus};
use std::{
    future::Future,
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};
use uuid::Uuid;

use roster::{
    domain::{SearchPage, SearchQuery},
    server::{
        AppState, Application,
        config::Config,
        db::MIGRATOR,
        search::IndexState,
        seed::{SeedOptions, seed},
    },
};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::{sync::oneshot, task::JoinHandle};

pub struct TestApp {
    pub address: String,
    pub db: PgPool,
    pub state: AppState,
    pub client: reqwest::Client,
    pub database: String,
    /// The `/metrics`-only listener's port, when the test configured one.
    pub metrics_port: Option<u16>,
    /// Keeps the data folder alive as long as any app uses it.
    _data: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<anyhow::Result<()>>>,
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

    /// A search through the server function, as the hydrated page makes it.
    pub async fn search(&self, query: &SearchQuery) -> SearchPage {
        let response = self
            .client
            .get(self.url("/api/search"))
            .query(&[("query", query.to_query_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "search for {query}");
        response.json().await.unwrap()
    }

    pub async fn search_text(&self, text: &str) -> SearchPage {
        self.search(&SearchQuery::default().with_text(text)).await
    }

    /// Waits until the index is built and has applied every change in Postgres.
    pub async fn index_caught_up(&self) {
        let index = self.state.search.index.clone();
        let db = self.db.clone();
        eventually(Duration::from_secs(60), || {
            let index = index.clone();
            let db = db.clone();
            async move {
                let status = index.status();
                let wanted = roster::server::search::sync::database_position(&db)
                    .await
                    .ok()?;
                (status.state == IndexState::Ready && status.serving && status.position >= wanted)
                    .then_some(())
            }
        })
        .await
        .expect("the search index catches up");
    }

    /// Runs `sql` (a write to contacts), waits until the index has applied it, then
    /// past the half second in which any cached answer is served after the index
    /// moves (`MAX_STALENESS`): from then on an answer from before the write is served
    /// only if the write did not touch it.
    pub async fn write_past_staleness(&self, sql: &str) {
        sqlx::query(sql).execute(&self.db).await.unwrap();
        self.index_caught_up().await;
        tokio::time::sleep(roster::server::search::MAX_STALENESS).await;
    }

    /// Stops serving and waits until the app has shut down (index committed).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            tokio::time::timeout(Duration::from_secs(30), serving)
                .await
                .expect("the app stops within 30 s")
                .expect("the app task ends")
                .expect("the app stops cleanly");
        }
    }
}

/// Every contact not deleted, as (id, version): what a search index must hold.
pub async fn live_ids_and_versions(db: &PgPool) -> std::collections::BTreeSet<(Uuid, i32)> {
    sqlx::query_as::<_, (Uuid, i32)>("SELECT id, version FROM contacts WHERE deleted_at IS NULL")
        .fetch_all(db)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// A CSV of `rows` people (`Person i`, `personi@example.com`, one of 97 companies).
pub fn people_csv(rows: i64) -> String {
    use std::fmt::Write as _;
    let mut csv = String::from("Name,Email,Company\n");
    for i in 0..rows {
        writeln!(csv, "Person {i},person{i}@example.com,Company {}", i % 97).unwrap();
    }
    csv
}

/// Polls `check` every 20 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn server_url() -> String {
    std::env::var("ROSTER_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("set ROSTER_TEST_DATABASE_URL or DATABASE_URL to a Postgres server for tests")
}

/// A path inside the checkout whose tests are running. Read when the tests run, not
/// baked in when they are built: checkouts share one target directory
/// (`scripts/lib.sh`), and a test binary built in another one is reused here.
pub fn in_checkout(relative: &str) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    root.join(relative)
}

/// The test server's URL, pointing at another database on it.
pub fn url_for(database: &str) -> String {
    let mut url = url::Url::parse(&server_url()).expect("a valid Postgres URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

pub async fn admin_connection() -> PgConnection {
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
        // Migrate under a temporary name and rename when done, so a template that
        // exists is always complete, even if a migration failed in an earlier run.
        let building = format!("{template}_building");
        admin
            .execute(format!(r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#).as_str())
            .await
            .expect("drop a half-built template");
        admin
            .execute(format!(r#"CREATE DATABASE "{building}""#).as_str())
            .await
            .expect("create template");
        let mut conn = PgConnection::connect(&url_for(&building))
            .await
            .expect("connect to template");
        let migrated = MIGRATOR.run(&mut conn).await;
        conn.close().await.expect("close template connection");
        if let Err(error) = migrated {
            let _ = admin.execute("SELECT pg_advisory_unlock(727274)").await;
            panic!("the migrations fail: {error}");
        }
        admin
            .execute(format!(r#"ALTER DATABASE "{building}" RENAME TO "{template}""#).as_str())
            .await
            .expect("rename template");
    }
    admin
        .execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("unlock");
    template
}

/// A new, migrated, empty database for one test, with a directory id of its own.
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
    // Clones share the template's directory id; each test's data must have its own
    // (the search cache in the shared Redis is keyed by it).
    let mut conn = PgConnection::connect(&url_for(&name))
        .await
        .expect("connect");
    conn.execute("UPDATE directory SET id = gen_random_uuid()")
        .await
        .expect("new directory id");
    conn.close().await.expect("close");
    name
}

/// A new database with nothing in it (not even the migrations): what an operator
/// creates to restore a backup into.
pub async fn empty_database() -> String {
    let mut admin = admin_connection().await;
    let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!(r#"CREATE DATABASE "{name}" TEMPLATE template0"#).as_str())
        .await
        .expect("create an empty database");
    name
}

/// Starts an app on an existing database, with a data folder of its own.
pub async fn spawn_on(database: String) -> TestApp {
    let data = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    start(database, data, |config| config).await
}

/// The settings a test app runs with: a free port, its own database, a small pool.
pub fn test_config(database: &str, data_dir: &Path) -> Config {
    let mut figment = Config::defaults()
        .merge(("database_url", url_for(database)))
        .merge(("listen", "127.0.0.1:0"))
        .merge(("db_min_connections", 0))
        .merge(("db_max_connections", 5))
        .merge(("data_dir", data_dir))
        // Static files as the built site serves them (the release site is built after
        // the tests; `public/` is what it copies).
        .merge(("site_root", in_checkout("public")))
        // Keys in the shared Redis are the app's own (instances on one database share them).
        .merge(("redis_prefix", format!("test-{database}")))
        .merge(("admin_email", ADMIN_EMAIL))
        .merge(("admin_password", ADMIN_PASSWORD))
        // Tests poll and repeat far faster than a person: the per-user limits are out of
        // the way unless a test sets them (the rate-limit tests do).
        .merge(("limit_searches_per_minute", 1_000_000))
        .merge(("limit_reads_per_minute", 1_000_000))
        .merge(("limit_writes_per_minute", 1_000_000))
        .merge(("limit_uploads_per_minute", 1_000_000))
        // Whether a search page came from the page cache (tests/api/page_cache.rs).
        .merge(("expose_page_cache_header", true));
    if let Ok(redis) = std::env::var("REDIS_URL") {
        figment = figment.merge(("redis_url", redis));
    }
    Config::from_figment(figment).expect("test configuration is valid")
}

/// The first admin every test app creates, and its password.
pub const ADMIN_EMAIL: &str = "admin@test.example";
pub const ADMIN_PASSWORD: &str = "admin password for tests";

/// A client that keeps cookies, does not follow redirects, fails a request that hangs
/// instead of stalling the suite, and says, as a browser on Roster's own page does,
/// that its requests come from the same origin (`Sec-Fetch-Site`).
pub fn new_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    bare_client_builder()
        .default_headers(headers)
        .build()
        .expect("client builds")
}

/// [`new_client`] without the `Sec-Fetch-Site` header: a client that says nothing of
/// where its requests come from.
pub fn bare_client() -> reqwest::Client {
    bare_client_builder().build().expect("client builds")
}

fn bare_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
}

/// Signs `client` in at `address`; panics if that fails.
pub async fn sign_in(client: &reqwest::Client, address: &str, email: &str, password: &str) {
    let response = attempt_sign_in(client, address, email, password).await;
    assert_eq!(response.status(), 200, "{email} signs in");
}

/// A sign-in as the hydrated page sends it (JSON back), whatever its outcome.
pub async fn attempt_sign_in(
    client: &reqwest::Client,
    address: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{address}/api/sign-in"))
        .header("accept", "application/json")
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("the app answers")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|config| config).await
}

/// Starts the app on a fresh database with settings adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(Config) -> Config) -> TestApp {
    let database = fresh_database().await;
    let data = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    start(database, data, adjust).await
}

/// Like [`spawn_app_with`], with a client that is not signed in (for apps whose
/// session store is unreachable).
pub async fn spawn_app_signed_out(adjust: impl FnOnce(Config) -> Config) -> TestApp {
    let database = fresh_database().await;
    let data = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    start_as(database, data, adjust, false).await
}

/// Another app on the database of `app`, with a data folder of its own.
pub async fn spawn_second(app: &TestApp) -> TestApp {
    let data = Arc::new(tempfile::tempdir().expect("a temporary folder"));
    start(app.database.clone(), data, |config| config).await
}

/// Restarts on the same database and data folder (after `stop`).
pub async fn restart(database: String, data: Arc<tempfile::TempDir>) -> TestApp {
    start(database, data, |config| config).await
}

impl TestApp {
    /// A new account with `role`, and a client signed in as it.
    pub async fn user(&self, email: &str, role: roster::domain::Role) -> (Uuid, reqwest::Client) {
        let password = "a long enough password";
        let id = roster::server::auth::users::create(&self.db, email, password, role)
            .await
            .expect("the account is created");
        let client = new_client();
        sign_in(&client, &self.address, email, password).await;
        (id, client)
    }

    /// Waits (10 s at most) until this app's pages answer the clear "temporarily
    /// unavailable" page, with 503: what signed-in people see while Redis is down.
    pub async fn pages_say_unavailable(&self) {
        let page = eventually(Duration::from_secs(10), || async {
            let response = self
                .client
                .get(self.url("/"))
                .header("accept", "text/html")
                .send()
                .await
                .ok()?;
            (response.status() == 503).then_some(response)
        })
        .await
        .expect("pages answer 503 while Redis is down");
        assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("temporarily unavailable")
        );
    }

    /// `/health/deep` with its details: from the metrics address when the app has one
    /// (no session needed, so it answers while Redis is down), else as the admin.
    pub async fn deep_health(&self) -> reqwest::Response {
        match self.metrics_port {
            Some(port) => self
                .stranger()
                .get(format!("http://127.0.0.1:{port}/health/deep"))
                .send()
                .await
                .expect("the metrics address answers"),
            None => self.get("/health/deep").await,
        }
    }

    /// A client that is not signed in.
    pub fn stranger(&self) -> reqwest::Client {
        new_client()
    }

    /// What `restart` needs to bring this app back after `stop`.
    pub fn identity(&self) -> (String, Arc<tempfile::TempDir>) {
        (self.database.clone(), self._data.clone())
    }
}

async fn start(
    database: String,
    data: Arc<tempfile::TempDir>,
    adjust: impl FnOnce(Config) -> Config,
) -> TestApp {
    start_as(database, data, adjust, true).await
}

async fn start_as(
    database: String,
    data: Arc<tempfile::TempDir>,
    adjust: impl FnOnce(Config) -> Config,
    signed_in: bool,
) -> TestApp {
    roster::server::telemetry::init_for_tests();
    let config = adjust(test_config(&database, data.path()));
    let app = Application::build(config).await.expect("the app builds");
    let port = app.port();
    let metrics_port = app.metrics_port();
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let address = format!("http://127.0.0.1:{port}");
    let client = new_client();
    if signed_in {
        sign_in(&client, &address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }
    TestApp {
        address,
        db: state.db.clone(),
        state,
        client,
        database,
        metrics_port,
        _data: data,
        stop: Some(stop),
        serving: Some(serving),
    }
}

// Imports, as the upload form and the job page drive them.

/// Uploads `contents` as the form does; returns the job's id.
pub async fn upload(app: &TestApp, name: &str, contents: impl Into<Vec<u8>>) -> Uuid {
    upload_at(&app.client, &app.address, name, contents).await
}

/// Posts `contents` as the import form does, with `accept` (the browser's, or a
/// script's), whatever the answer.
pub async fn post_upload(
    app: &TestApp,
    name: &str,
    contents: impl Into<Vec<u8>>,
    accept: &str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(contents.into()).file_name(name.to_owned()),
    );
    app.client
        .post(app.url("/import/upload"))
        .header("accept", accept)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// [`upload`] by `client` to the server at `address`.
pub async fn upload_at(
    client: &reqwest::Client,
    address: &str,
    name: &str,
    contents: impl Into<Vec<u8>>,
) -> Uuid {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(contents.into()).file_name(name.to_owned()),
    );
    let response = client
        .post(format!("{address}/import/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap();
    location
        .strip_prefix("/import/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("to the job's page, not {location}"))
}

pub async fn job(app: &TestApp, id: Uuid) -> ImportJob {
    job_at(&app.client, &app.address, id).await
}

pub async fn job_at(client: &reqwest::Client, address: &str, id: Uuid) -> ImportJob {
    let response = client
        .get(format!("{address}/api/import-job?id={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub async fn start_import(app: &TestApp, id: Uuid) {
    start_import_at(&app.client, &app.address, id).await
}

pub async fn start_import_at(client: &reqwest::Client, address: &str, id: Uuid) {
    let response = client
        .post(format!("{address}/api/start-import"))
        .header("accept", "application/json")
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

pub async fn finished(app: &TestApp, id: Uuid, limit: Duration) -> ImportJob {
    eventually(limit, || async {
        let job = job(app, id).await;
        (job.status != ImportStatus::Running).then_some(job)
    })
    .await
    .expect("the import finishes")
}

/// The form as the browser sends it: every field (empty when blank), with one row of
/// emails and phones as a new form shows them, plus `extra`. In `extra`, `email`,
/// `phone` and `location` are short for the first email, the first phone and the city
/// of the first address.
pub fn contact_form<'a>(name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", name),
        ("given", ""),
        ("family", ""),
        ("emails[0][label]", ""),
        ("emails[0][value]", ""),
        ("phones[0][label]", ""),
        ("phones[0][value]", ""),
        ("birthday", ""),
        ("company", ""),
        ("department", ""),
        ("title", ""),
        ("tier", "4"),
        ("tags", ""),
        ("notes", ""),
    ];
    for (key, value) in extra {
        let key = match *key {
            "email" => "emails[0][value]",
            "phone" => "phones[0][value]",
            "location" => "addresses[0][city]",
            key => key,
        };
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some(field) => field.1 = value,
            None => fields.push((key, value)),
        }
    }
    fields
}

/// Every field of one contact, as its page reads it (200 expected).
pub async fn contact(app: &TestApp, id: Uuid) -> roster::domain::Contact {
    let response = app.get(&format!("/api/contact?id={id}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// One contact's history, newest first (200 expected).
pub async fn history(app: &TestApp, id: Uuid) -> Vec<roster::domain::HistoryEntry> {
    let response = app.get(&format!("/api/contact-history?id={id}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A save of the contact form, as the hydrated page makes it (JSON back).
pub async fn save(app: &TestApp, fields: &[(&str, &str)]) -> roster::domain::SaveOutcome {
    save_as(app, &app.client, fields).await
}

/// [`save`] by the user signed in on `client`.
pub async fn save_as(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> roster::domain::SaveOutcome {
    let response = client
        .post(app.url("/api/save-contact"))
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status();
    if status != 200 {
        panic!("save answers {status}: {}", response.text().await.unwrap());
    }
    response.json().await.unwrap()
}

/// A `roster serve` process of its own on the database of `app`, with extra settings.
pub struct ServerProcess {
    pub address: String,
    pub port: u16,
    child: tokio::process::Child,
    pub data: tempfile::TempDir,
}

impl ServerProcess {
    /// Sends SIGTERM, as a service manager stops a server.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the server is running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and hands back its
    /// data folder.
    pub async fn kill(mut self) -> tempfile::TempDir {
        self.child.start_kill().expect("SIGKILL sent");
        self.child
            .wait()
            .await
            .expect("the killed server is reaped");
        self.data
    }

    /// Waits for the process to exit, for at most `limit`.
    pub async fn exited(&mut self, limit: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .expect("the server exits in time")
            .expect("the exit status")
    }
}

pub async fn spawn_process(app: &TestApp, settings: &[(&str, String)]) -> ServerProcess {
    spawn_process_in(
        &app.database,
        &app.state.config.redis_prefix,
        tempfile::tempdir().unwrap(),
        settings,
    )
    .await
}

/// A `roster serve` process on `database` with the data folder `data` (one that a
/// killed process left, say).
pub async fn spawn_process_in(
    database: &str,
    redis_prefix: &str,
    data: tempfile::TempDir,
    settings: &[(&str, String)],
) -> ServerProcess {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .arg("serve")
        .env_remove("ROSTER_CONFIG")
        // A replica `make replica` started serves another database than the test's.
        .env_remove("DATABASE_READ_URL")
        .env("DATABASE_URL", url_for(database))
        .env("ROSTER_LISTEN", format!("127.0.0.1:{port}"))
        .env("ROSTER_DATA_DIR", data.path())
        .env("ROSTER_DB_MIN_CONNECTIONS", "0")
        .env("ROSTER_REDIS_PREFIX", redis_prefix)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    for (name, value) in settings {
        command.env(name, value);
    }
    let child = command.spawn().expect("the server binary starts");
    let address = format!("http://127.0.0.1:{port}");
    let probe = new_client();
    eventually(Duration::from_secs(60), || async {
        let response = probe.get(format!("{address}/health")).send().await.ok()?;
        response.status().is_success().then_some(())
    })
    .await
    .expect("the server process starts");
    ServerProcess {
        address,
        port,
        child,
        data,
    }
}

/// A Redis server of this test's own, to stop and start (the shared one serves the
/// other tests).
pub struct PrivateRedis {
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    /// On a free port, with its URL.
    pub fn start_anywhere() -> (PrivateRedis, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        (
            PrivateRedis::start(port),
            format!("redis://127.0.0.1:{port}"),
        )
    }

    pub fn start(port: u16) -> PrivateRedis {
        let child = std::process::Command::new(
            std::env::var("ROSTER_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned()),
        )
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server runs (scripts/bootstrap.sh installs it)");
        PrivateRedis { child: Some(child) }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every stored field of every live contact (the whole row but its identity and
/// bookkeeping, and the company record's own id), by name: what an export must carry
/// to another directory.
pub async fn rows(app: &TestApp) -> Vec<serde_json::Value> {
    sqlx::query_scalar(
        "SELECT to_jsonb(c) - 'id' - 'created_at' - 'updated_at' - 'change_seq' - 'version'
                - 'deleted_at' - 'company_id'
           FROM contacts c WHERE deleted_at IS NULL ORDER BY name, emails::text",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Uploads a file, commits the import, and waits for it to finish.
pub async fn import(
    app: &TestApp,
    name: &str,
    contents: Vec<u8>,
) -> roster::domain::import::ImportJob {
    let id = upload(app, name, contents).await;
    start_import(app, id).await;
    finished(app, id, Duration::from_secs(30)).await
}

/// The value of the `/metrics` sample line that starts with `series` (name and labels,
/// exact); 0 when there is none yet.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}
