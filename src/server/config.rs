//! Typed settings, read once at startup from the environment and an optional TOML file.
//!
//! Every setting has an environment variable (`ROSTER_<NAME>`, plus the conventional
//! `DATABASE_URL` and `REDIS_URL`) and the same name in lower case in the file given by
//! `ROSTER_CONFIG`. The environment wins over the file. A missing or malformed setting
//! stops startup with a message that names it. Secrets are wrapped so they never print.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Where the settings came from and what they say.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Address the web server listens on (`ROSTER_LISTEN`).
    pub listen: SocketAddr,
    /// A second address serving only `/metrics`, without sign-in, for a Prometheus
    /// scraper on a private network (`ROSTER_METRICS_LISTEN`); none by default.
    pub metrics_listen: Option<SocketAddr>,
    /// Postgres connection URL (`DATABASE_URL`). Required.
    pub database_url: SecretString,
    /// A streaming replica of that database for reads that tolerate a little lag
    /// (`DATABASE_READ_URL`): directory pages, contact and company pages, history and
    /// exports. Writes, the change feed and a user's reads just after their own change
    /// stay on the primary. None by default.
    pub database_read_url: Option<SecretString>,
    /// How far behind the primary (milliseconds) the replica may be for reads to go
    /// there; beyond it they go to the primary until it catches up.
    pub replica_max_lag_ms: u64,
    /// Redis connection URL (`REDIS_URL`). Optional until sessions and caches arrive.
    pub redis_url: Option<SecretString>,
    /// Folder for the process's local state: the search index, import files.
    pub data_dir: PathBuf,
    /// Folder holding the built site (the wasm bundle, CSS, public files).
    pub site_root: String,
    /// Connections the pool keeps open even when idle.
    pub db_min_connections: u32,
    /// Connections the pool opens at most.
    pub db_max_connections: u32,
    /// How long a request waits for a free connection before giving up (milliseconds).
    pub db_acquire_timeout_ms: u64,
    /// Postgres `statement_timeout` on every connection (milliseconds).
    pub db_statement_timeout_ms: u64,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Log as JSON lines (`json`) or for people reading a terminal (`pretty`).
    pub log_format: LogFormat,
    /// Prefix of every key Roster writes in Redis (instances of one deployment share it).
    pub redis_prefix: String,
    /// Roster is reached over HTTPS (directly or through a proxy): cookies are `Secure`
    /// and named `__Host-…`, and responses carry HSTS. On by default in release builds,
    /// where turning it off is allowed only when listening on a loopback address
    /// (plain HTTP on this machine, as `make run` serves); off by default in debug builds.
    pub https: bool,
    /// A session ends after this many seconds without a request (30 minutes).
    pub session_idle_secs: u64,
    /// A session ends this many seconds after sign-in, however active (12 hours).
    pub session_lifetime_secs: u64,
    /// The first admin account, created when there is no account at all.
    pub admin_email: String,
    /// Its password; when unset, a random one is generated, printed once and written
    /// to `admin-password` in the data folder.
    pub admin_password: Option<SecretString>,
    /// Proxies (addresses or networks) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Other origins allowed to call Roster from a browser (CORS); none by default.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body in bytes, the import upload excepted.
    pub body_limit_bytes: usize,
    /// How long a request may take to be answered (uploads and streamed bodies excepted).
    pub request_timeout_secs: u64,
    /// Requests slower than this (milliseconds) are logged at WARN and counted.
    pub slow_request_ms: u64,
    /// On SIGTERM, how long requests in flight may take to finish before the server
    /// closes their connections and stops anyway.
    pub shutdown_drain_secs: u64,
    /// On SIGTERM, how long connections already open are still read from (their
    /// answers saying `Connection: close`) before the server stops reading new
    /// requests; cut short once every open connection has closed.
    pub shutdown_grace_ms: u64,
    /// Memory for rendered search pages kept for reuse, in MiB (0 turns it off).
    pub page_cache_mb: u64,
    /// Memory for search answers kept in this process (in front of Redis), in MiB,
    /// counted as their size in JSON.
    pub search_cache_mb: u64,
    /// The most memory the search index writer gathers documents in before writing a
    /// segment, in MiB: reached while building or following a large import; a larger
    /// budget writes fewer, larger segments.
    pub index_writer_mb: u64,
    /// Map every search index file into memory. Off (the default), only the columns a
    /// search reads whole and the term dictionaries are mapped, and stored contacts and
    /// postings are read in pieces through the kernel's file cache, so their pages are
    /// not counted as the process's resident memory (docs/PERFORMANCE.md).
    pub index_map_all: bool,
    /// Memory for the facet counts searches keep per query on large index segments,
    /// so the same search on an unchanged segment need not count again, in MiB.
    pub facet_counts_mb: u64,
    /// Tell in an `x-page-cache: hit|miss` header whether a page was kept already (for
    /// tests and diagnosis; off, the header is never sent).
    pub expose_page_cache_header: bool,
    /// How long a connection has to send a request's headers, counted from its first
    /// byte; a slower one is closed (a client trickling headers holds nothing long).
    pub header_read_timeout_secs: u64,
    /// How long a kept-alive connection may wait for its next request before it is closed.
    pub keep_alive_idle_secs: u64,
    /// Connections served at once; one more is answered 503 at once and closed.
    pub max_connections: usize,
    /// Exports one user may be downloading at once (429 beyond).
    pub exports_per_user: u32,
    /// The region (ISO 3166 code) phone numbers typed without a country code are read
    /// in, for their E.164 form.
    pub default_region: String,
    /// Rows one import file may hold (its dry run keeps a key per row).
    pub import_max_rows: u64,
    /// How long an answer may wait for a client that reads nothing (its socket full)
    /// before the connection is closed: a stalled download holds nothing for long.
    pub send_timeout_secs: u64,
    /// Rate limits (see README): sign-in attempts per client address per minute.
    pub limit_sign_in_per_minute: u32,
    /// Failed sign-ins per account per 15 minutes.
    pub limit_sign_in_failures_per_15_minutes: u32,
    /// Server-function and API requests per client address per 15 minutes, signed out.
    pub limit_anonymous_per_15_minutes: u32,
    /// Per signed-in user, per minute: searches, other reads, changes and uploads.
    pub limit_searches_per_minute: u32,
    pub limit_reads_per_minute: u32,
    pub limit_writes_per_minute: u32,
    pub limit_uploads_per_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The defaults, in the shape the file and environment override. Secrets have none.
#[derive(Serialize)]
struct Defaults {
    listen: SocketAddr,
    data_dir: PathBuf,
    site_root: String,
    db_min_connections: u32,
    db_max_connections: u32,
    db_acquire_timeout_ms: u64,
    db_statement_timeout_ms: u64,
    replica_max_lag_ms: u64,
    migrate_on_start: bool,
    log_format: LogFormat,
    redis_prefix: String,
    https: bool,
    session_idle_secs: u64,
    session_lifetime_secs: u64,
    admin_email: String,
    trusted_proxies: Vec<ipnet::IpNet>,
    cors_allowed_origins: Vec<String>,
    body_limit_bytes: usize,
    request_timeout_secs: u64,
    slow_request_ms: u64,
    shutdown_drain_secs: u64,
    shutdown_grace_ms: u64,
    page_cache_mb: u64,
    search_cache_mb: u64,
    index_writer_mb: u64,
    index_map_all: bool,
    facet_counts_mb: u64,
    expose_page_cache_header: bool,
    header_read_timeout_secs: u64,
    keep_alive_idle_secs: u64,
    max_connections: usize,
    exports_per_user: u32,
    default_region: String,
    import_max_rows: u64,
    send_timeout_secs: u64,
    limit_sign_in_per_minute: u32,
    limit_sign_in_failures_per_15_minutes: u32,
    limit_anonymous_per_15_minutes: u32,
    limit_searches_per_minute: u32,
    limit_reads_per_minute: u32,
    limit_writes_per_minute: u32,
    limit_uploads_per_minute: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from(".data"),
            site_root: "target/site".to_owned(),
            db_min_connections: 5,
            db_max_connections: 20,
            db_acquire_timeout_ms: 3_000,
            db_statement_timeout_ms: 5_000,
            // The search index's own lag goal: a page read from the replica is no
            // older than a search answer may be.
            replica_max_lag_ms: 1_000,
            migrate_on_start: true,
            // JSON lines from release builds (production), readable text from debug
            // builds (development); `ROSTER_LOG_FORMAT` decides otherwise.
            log_format: if cfg!(debug_assertions) {
                LogFormat::Pretty
            } else {
                LogFormat::Json
            },
            redis_prefix: "roster".to_owned(),
            https: !cfg!(debug_assertions),
            session_idle_secs: 30 * 60,
            session_lifetime_secs: 12 * 3600,
            admin_email: "admin@roster.local".to_owned(),
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            slow_request_ms: 1_000,
            // Inside Kubernetes's default 30 s grace period, with time left to commit
            // the search index and close the pools.
            shutdown_drain_secs: 20,
            // A balancer holding a kept-alive connection may send on it just as the
            // listener closes; a second lets that request be answered. Ends early once
            // the open connections have closed.
            shutdown_grace_ms: 1_000,
            // About 13 KB a page compressed: some 5,000 searches.
            page_cache_mb: 64,
            // About 1,000 answers (a page of fifty and its facets: 15 KB on average,
            // 19 KB at the median, as JSON, on the load test's searches at 1M).
            search_cache_mb: 16,
            // What the index was built with before this was a setting.
            index_writer_mb: 256,
            index_map_all: false,
            facet_counts_mb: 32,
            expose_page_cache_header: false,
            header_read_timeout_secs: 10,
            // Longer than a load balancer's own idle timeout (nginx: 60 s), so the
            // balancer, not Roster, closes an idle upstream connection.
            keep_alive_idle_secs: 75,
            // Each open connection costs a few KB; the load test holds 10,000 idle ones
            // beside 200 busy ones (docs/PERFORMANCE.md).
            max_connections: 16_384,
            exports_per_user: 2,
            default_region: "US".to_owned(),
            import_max_rows: 1_000_000,
            send_timeout_secs: 60,
            // The design docs' figures where they give one; see README for the others.
            limit_sign_in_per_minute: 10,
            limit_sign_in_failures_per_15_minutes: 5,
            limit_anonymous_per_15_minutes: 100,
            limit_searches_per_minute: 300,
            limit_reads_per_minute: 120,
            limit_writes_per_minute: 60,
            limit_uploads_per_minute: 5,
        }
    }
}

/// Why plain HTTP may not be served: a release build serves it only on a loopback
/// address (its cookies would otherwise cross the network in the clear).
fn plain_http_problem(https: bool, listen: SocketAddr, release: bool) -> Option<String> {
    (release && !https && !listen.ip().is_loopback()).then(|| {
        format!(
            "ROSTER_HTTPS is false but Roster listens on {listen}, which is not a loopback \
             address: session cookies would cross the network in plain text. Serve it over \
             HTTPS (a proxy in front is fine) and leave ROSTER_HTTPS on, or listen on 127.0.0.1"
        )
    })
}

/// The settings that are read without the `ROSTER_` prefix, by convention.
const UNPREFIXED: [&str; 3] = ["DATABASE_URL", "DATABASE_READ_URL", "REDIS_URL"];

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// The search index under the data folder, its writer given the configured memory.
    pub fn search_index(&self) -> std::sync::Arc<crate::server::search::SearchIndex> {
        crate::server::search::SearchIndex::tuned(
            self.data_dir.join("index"),
            crate::server::search::Tuning {
                writer_memory: self.index_writer_mb as usize * 1024 * 1024,
                map_all: self.index_map_all,
                kept_counts: self.facet_counts_mb * 1024 * 1024,
            },
        )
    }

    /// The defaults alone, for callers (tests, tools) that supply the rest themselves.
    pub fn defaults() -> Figment {
        Figment::from(Serialized::defaults(Defaults::default()))
    }

    /// Reads the settings from the process environment and the optional `ROSTER_CONFIG` file.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut figment = Self::defaults();
        if let Ok(path) = std::env::var("ROSTER_CONFIG") {
            if !std::path::Path::new(&path).is_file() {
                return Err(ConfigError(format!(
                    "ROSTER_CONFIG names {path}, which is not a readable file"
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment
            .merge(Env::prefixed("ROSTER_").ignore(&["CONFIG"]))
            .merge(Env::raw().only(&UNPREFIXED));
        Self::from_figment(figment)
    }

    /// Extracts and checks the settings; errors name the setting at fault.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|errors| {
            let messages: Vec<String> = errors.into_iter().map(describe).collect();
            ConfigError(messages.join("; "))
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(32..=4000).contains(&self.index_writer_mb) {
            return Err(ConfigError(
                "ROSTER_INDEX_WRITER_MB must be between 32 and 4000".to_owned(),
            ));
        }
        if self.facet_counts_mb > 16_384 {
            return Err(ConfigError(
                "ROSTER_FACET_COUNTS_MB must be at most 16384 (0 keeps none)".to_owned(),
            ));
        }
        if self.db_max_connections == 0 {
            return Err(ConfigError(
                "ROSTER_DB_MAX_CONNECTIONS must be at least 1".to_owned(),
            ));
        }
        if self.db_min_connections > self.db_max_connections {
            return Err(ConfigError(format!(
                "ROSTER_DB_MIN_CONNECTIONS ({}) is more than ROSTER_DB_MAX_CONNECTIONS ({})",
                self.db_min_connections, self.db_max_connections
            )));
        }
        if self.session_idle_secs == 0 || self.session_lifetime_secs == 0 {
            return Err(ConfigError(
                "ROSTER_SESSION_IDLE_SECS and ROSTER_SESSION_LIFETIME_SECS must be above 0"
                    .to_owned(),
            ));
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.contains(char::is_whitespace) {
            return Err(ConfigError(
                "ROSTER_REDIS_PREFIX must be a non-empty word".to_owned(),
            ));
        }
        if let Some(problem) = plain_http_problem(self.https, self.listen, !cfg!(debug_assertions))
        {
            return Err(ConfigError(problem));
        }
        if let Err(problem) = crate::server::phones::parse_region(&self.default_region) {
            return Err(ConfigError(format!("ROSTER_DEFAULT_REGION: {problem}")));
        }
        if self.db_acquire_timeout_ms == 0 || self.db_statement_timeout_ms == 0 {
            return Err(ConfigError(
                "ROSTER_DB_ACQUIRE_TIMEOUT_MS and ROSTER_DB_STATEMENT_TIMEOUT_MS must be above 0"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    pub fn session_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.session_idle_secs)
    }

    pub fn session_lifetime(&self) -> Duration {
        Duration::from_secs(self.session_lifetime_secs)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn shutdown_drain(&self) -> Duration {
        Duration::from_secs(self.shutdown_drain_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// The session cookie's name: with the `__Host-` prefix when it is `Secure`.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.https {
            "__Host-roster"
        } else {
            "roster"
        }
    }

    pub fn replica_max_lag(&self) -> Duration {
        Duration::from_millis(self.replica_max_lag_ms)
    }

    pub fn db_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    /// Zero for a maintenance command's settings ([`Config::for_maintenance`]): no limit.
    pub fn db_statement_timeout(&self) -> Duration {
        Duration::from_millis(self.db_statement_timeout_ms)
    }

    /// The settings for a maintenance command (migrate, seed, import, reindex, backup,
    /// restore): its statements take as long as their work does, which at millions of
    /// contacts is longer than the statement timeout that keeps the web responsive.
    pub fn for_maintenance(mut self) -> Self {
        self.db_statement_timeout_ms = 0;
        self
    }
}

/// The environment variable that sets a given setting.
fn env_name(key: &str) -> String {
    let upper = key.to_uppercase();
    if UNPREFIXED.contains(&upper.as_str()) {
        upper
    } else {
        format!("ROSTER_{upper}")
    }
}

/// One figment error as a sentence naming the setting and how to set it.
fn describe(error: figment::Error) -> String {
    use figment::error::Kind;
    let key = error
        .path
        .last()
        .cloned()
        .or_else(|| match &error.kind {
            Kind::MissingField(field) => Some(field.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let origin = error
        .metadata
        .as_ref()
        .map(|meta| format!(" (from {})", meta.name))
        .unwrap_or_default();
    match &error.kind {
        Kind::MissingField(_) => format!(
            "{} is not set: set the environment variable or `{key}` in the ROSTER_CONFIG file",
            env_name(&key)
        ),
        kind => format!("{} is malformed{origin}: {kind}", env_name(&key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn release_builds_serve_plain_http_only_on_loopback() {
        let any: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        let loopback: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let v6_loopback: SocketAddr = "[::1]:3000".parse().unwrap();
        assert!(plain_http_problem(false, any, true).is_some());
        assert!(plain_http_problem(false, loopback, true).is_none());
        assert!(plain_http_problem(false, v6_loopback, true).is_none());
        assert!(plain_http_problem(true, any, true).is_none());
        assert!(
            plain_http_problem(false, any, false).is_none(),
            "debug builds"
        );
    }

    fn config(toml: &str) -> Result<Config, ConfigError> {
        Config::from_figment(Config::defaults().merge(Toml::string(toml)))
    }

    #[test]
    fn defaults_apply_when_only_the_database_is_given() {
        let config = config(r#"database_url = "postgres://localhost/roster""#).unwrap();
        assert_eq!(config.db_min_connections, 5);
        assert_eq!(config.db_max_connections, 20);
        assert_eq!(config.db_acquire_timeout(), Duration::from_secs(3));
        assert_eq!(config.listen.port(), 3000);
        assert_eq!(
            config.database_url.expose_secret(),
            "postgres://localhost/roster"
        );
        assert!(config.redis_url.is_none());
    }

    #[test]
    fn missing_database_url_is_named() {
        let err = config("").unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL is not set"), "{err}");
    }

    #[test]
    fn malformed_setting_is_named() {
        let err = config(
            r#"database_url = "postgres://x"
               db_max_connections = "lots""#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("ROSTER_DB_MAX_CONNECTIONS is malformed"),
            "{err}"
        );

        let err = config(
            r#"database_url = "postgres://x"
               listen = "not an address""#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ROSTER_LISTEN is malformed"), "{err}");
    }

    #[test]
    fn inconsistent_pool_bounds_are_refused() {
        let err = config(
            r#"database_url = "postgres://x"
               db_min_connections = 30"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ROSTER_DB_MIN_CONNECTIONS (30)"), "{err}");
    }

    #[test]
    fn an_index_writer_budget_tantivy_cannot_use_is_refused() {
        for mb in [0, 31, 4001] {
            let err = config(&format!(
                "database_url = \"postgres://x\"\nindex_writer_mb = {mb}"
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains("ROSTER_INDEX_WRITER_MB"), "{mb}: {err}");
        }
        let at_32 = config("database_url = \"postgres://x\"\nindex_writer_mb = 32").unwrap();
        assert_eq!(
            at_32.search_index().tuning().writer_memory,
            32 * 1024 * 1024
        );
        let err = config("database_url = \"postgres://x\"\nfacet_counts_mb = 16385")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ROSTER_FACET_COUNTS_MB"), "{err}");
        let tuning =
            config("database_url = \"postgres://x\"\nfacet_counts_mb = 0\nindex_map_all = true")
                .unwrap()
                .search_index()
                .tuning();
        assert_eq!((tuning.kept_counts, tuning.map_all), (0, true));
    }

    #[test]
    fn secrets_do_not_print() {
        let config = config(r#"database_url = "postgres://user:hunter2@db/roster""#).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn environment_names_follow_the_convention() {
        assert_eq!(env_name("database_url"), "DATABASE_URL");
        assert_eq!(env_name("db_max_connections"), "ROSTER_DB_MAX_CONNECTIONS");
    }
}
