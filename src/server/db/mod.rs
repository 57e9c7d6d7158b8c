//! Postgres: the pool, migrations, and queries grouped by table. Each query is a small
//! function taking a pool, connection or transaction.

pub mod audit;
pub mod companies;
pub mod contacts;
pub mod custom_fields;
pub mod drafts;
pub mod replica;
pub mod users;

use std::str::FromStr;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use sqlx::{
    ConnectOptions, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use super::config::Config;

/// The schema, compiled into the binary from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens the pool: bounded, with an acquire timeout and a `statement_timeout` on every
/// connection, so an overloaded or stuck database makes requests fail fast instead of
/// piling up.
pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let options = connect_options(config)?;
    PgPoolOptions::new()
        .min_connections(config.db_min_connections)
        .max_connections(config.db_max_connections)
        .acquire_timeout(config.db_acquire_timeout())
        .idle_timeout(std::time::Duration::from_secs(600))
        // Every acquisition's wait, for `db_client_connection_wait_time_seconds`
        // (`monitor::log` reads these events; the log's own filter hides them).
        .acquire_time_level(log::LevelFilter::Trace)
        .connect_with(options)
        .await
        .context("could not connect to Postgres (DATABASE_URL)")
}

/// Connection settings from the config, with the per-connection session settings applied.
pub fn connect_options(config: &Config) -> anyhow::Result<PgConnectOptions> {
    options_for(config.database_url.expose_secret(), config, "DATABASE_URL")
}

/// Connection settings for `url` (named by `setting` in errors), with the config's
/// per-connection session settings.
pub fn options_for(url: &str, config: &Config, setting: &str) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("{setting} is not a valid Postgres URL"))?
        .application_name("roster")
        .options([(
            "statement_timeout",
            format!("{}ms", config.db_statement_timeout().as_millis()),
        )])
        .log_statements(log::LevelFilter::Trace)
        .log_slow_statements(
            log::LevelFilter::Warn,
            std::time::Duration::from_millis(250),
        );
    Ok(options)
}

/// Applies pending migrations. Safe to run from several processes at once: sqlx holds
/// a Postgres advisory lock while it migrates.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations failed")
}
