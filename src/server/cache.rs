//! A two-level cache: a small in-process cache in front of Redis, shared by every
//! instance. Keys carry whatever makes an answer current (for search, the index
//! position), so nothing is ever invalidated: a changed world simply asks new keys,
//! and TTLs bound memory. Hits and misses are counted per namespace and layer.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use fred::{interfaces::KeysInterface, types::Expiration};
use serde::{Serialize, de::DeserializeOwned};

use super::redis::{self, Redis};

/// How long a Redis read may take before the cache counts it as a miss.
const READ_TIMEOUT: Duration = Duration::from_millis(50);

#[derive(Debug, Default)]
pub struct CacheStats {
    pub memory_hits: AtomicU64,
    pub redis_hits: AtomicU64,
    pub misses: AtomicU64,
}

impl CacheStats {
    /// Hits over lookups, or `None` before the first lookup.
    pub fn hit_ratio(&self) -> Option<f64> {
        let hits =
            self.memory_hits.load(Ordering::Relaxed) + self.redis_hits.load(Ordering::Relaxed);
        let total = hits + self.misses.load(Ordering::Relaxed);
        (total > 0).then(|| hits as f64 / total as f64)
    }
}

pub struct CacheNamespace<V> {
    name: &'static str,
    memory: moka::sync::Cache<String, Arc<V>>,
    redis: Option<Redis>,
    redis_ttl: Duration,
    pub stats: Arc<CacheStats>,
}

impl<V> CacheNamespace<V>
where
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// `memory_entries` answers kept in process for `memory_ttl`; in Redis for
    /// `redis_ttl`.
    pub fn new(
        name: &'static str,
        redis: Option<Redis>,
        memory_entries: u64,
        memory_ttl: Duration,
        redis_ttl: Duration,
    ) -> Self {
        CacheNamespace {
            name,
            memory: moka::sync::Cache::builder()
                .max_capacity(memory_entries)
                .time_to_live(memory_ttl)
                .build(),
            redis,
            redis_ttl,
            stats: Arc::default(),
        }
    }

    fn redis_key(&self, key: &str) -> String {
        format!(
            "roster:{}:{:032x}",
            self.name,
            xxhash_rust::xxh3::xxh3_128(key.as_bytes())
        )
    }

    pub async fn get(&self, key: &str) -> Option<Arc<V>> {
        if let Some(value) = self.memory.get(key) {
            self.count_hit("memory", &self.stats.memory_hits);
            return Some(value);
        }
        if let Some(redis) = self.redis.as_ref().filter(|redis| redis::is_up(redis)) {
            let lookup = redis::timed(
                "cache_get",
                redis.get::<Option<Vec<u8>>, _>(self.redis_key(key)),
            );
            match tokio::time::timeout(READ_TIMEOUT, lookup).await {
                Ok(Ok(Some(bytes))) => match serde_json::from_slice::<V>(&bytes) {
                    Ok(value) => {
                        let value = Arc::new(value);
                        self.memory.insert(key.to_owned(), value.clone());
                        self.count_hit("redis", &self.stats.redis_hits);
                        return Some(value);
                    }
                    Err(error) => {
                        tracing::warn!(namespace = self.name, %error, "unreadable cache entry");
                    }
                },
                Ok(Ok(None)) => {}
                Ok(Err(error)) => {
                    tracing::debug!(namespace = self.name, %error, "cache read failed");
                }
                Err(_) => {
                    metrics::counter!("redis_errors_total", "operation" => "cache_get_timeout")
                        .increment(1);
                }
            }
        }
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cache_misses_total", "namespace" => self.name).increment(1);
        None
    }

    /// Stores an answer in process at once and in Redis in the background.
    pub fn put(&self, key: String, value: Arc<V>) {
        if let Some(redis) = self.redis.as_ref().filter(|redis| redis::is_up(redis)) {
            match serde_json::to_vec(value.as_ref()) {
                Ok(bytes) => {
                    let redis = redis.clone();
                    let redis_key = self.redis_key(&key);
                    let ttl = self.redis_ttl.as_secs().max(1) as i64;
                    tokio::spawn(async move {
                        let stored = redis::timed(
                            "cache_set",
                            redis.set::<(), _, _>(
                                redis_key,
                                bytes,
                                Some(Expiration::EX(ttl)),
                                None,
                                false,
                            ),
                        )
                        .await;
                        if let Err(error) = stored {
                            tracing::debug!(%error, "cache write failed");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(namespace = self.name, %error, "cannot serialize a cache entry")
                }
            }
        }
        self.memory.insert(key, value);
    }

    fn count_hit(&self, layer: &'static str, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cache_hits_total", "namespace" => self.name, "layer" => layer)
            .increment(1);
    }
}
