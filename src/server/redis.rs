//! Redis connection pools: one for the caches and rate limits, whose callers skip
//! Redis and carry on while it is down, and one for sessions, with a longer command
//! timeout. Both reconnect by themselves.

use std::time::Duration;

use anyhow::Context as _;
use fred::{
    interfaces::ClientLike,
    prelude::{Builder, Config, Pool, ReconnectPolicy},
};
use secrecy::{ExposeSecret, SecretString};

pub type Redis = Pool;

/// How long a cache or rate-limit command may take before it is abandoned (the caller
/// then carries on without Redis).
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

/// How long a session command may take: a request cannot go on without its session,
/// so a busy moment must not turn into a 503.
pub const SESSION_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Builds the pool and starts connecting in the background: startup does not wait
/// for (or fail on) Redis.
pub fn connect(url: &SecretString) -> anyhow::Result<Redis> {
    connect_with_timeout(url, COMMAND_TIMEOUT)
}

/// [`connect`], with another command timeout.
pub fn connect_with_timeout(url: &SecretString, timeout: Duration) -> anyhow::Result<Redis> {
    let config =
        Config::from_url(url.expose_secret()).context("REDIS_URL is not a valid Redis URL")?;
    let pool = Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = Duration::from_secs(2);
            connection.internal_command_timeout = Duration::from_secs(2);
            connection.max_command_attempts = 1;
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = timeout;
        })
        // Retry forever: 100 ms, doubling, at most 2 s apart.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build_pool(4)
        .context("building the Redis pool")?;
    let _connections = pool.connect();
    Ok(pool)
}

/// Whether commands can be sent now (else they would wait for a reconnection).
pub fn is_up(redis: &Redis) -> bool {
    redis.is_connected()
}

/// Runs one Redis command (or pipeline), recording its latency in
/// `redis_command_duration_seconds` and a failure in `redis_errors_total`, by
/// operation (a fixed name, never a key).
pub async fn timed<T, E>(
    operation: &'static str,
    command: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    let result = command.await;
    metrics::histogram!("redis_command_duration_seconds", "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!("redis_errors_total", "operation" => operation).increment(1);
    }
    result
}
