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

/// Where a cached answer was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// This process's memory.
    Memory,
    /// Redis, shared by every instance.
    Redis,
}

pub struct CacheNamespace<V> {
    name: &'static str,
    /// Each answer with its size as JSON, which is what bounds the memory kept.
    memory: moka::sync::Cache<String, (Arc<V>, u32)>,
    redis: Option<Redis>,
    redis_ttl: Duration,
    pub stats: Arc<CacheStats>,
}

impl<V> CacheNamespace<V>
where
    V: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Answers kept in process, `memory_bytes` of them at most (as JSON, about what
    /// they hold in memory), for `memory_ttl`; in Redis for `redis_ttl`.
    pub fn new(
        name: &'static str,
        redis: Option<Redis>,
        memory_bytes: u64,
        memory_ttl: Duration,
        redis_ttl: Duration,
    ) -> Self {
        CacheNamespace {
            name,
            memory: moka::sync::Cache::builder()
                .max_capacity(memory_bytes)
                .weigher(|key: &String, (_, bytes): &(Arc<V>, u32)| {
                    u32::try_from(key.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(*bytes)
                })
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
        self.get_if(key, |_| true).await
    }

    /// The stored answer if `usable` accepts it. One that it refuses (too old for
    /// this caller) counts as a miss, as no answer would: the hit ratio says how often
    /// the cache spared a computation.
    pub async fn get_if(&self, key: &str, usable: impl Fn(&V) -> bool) -> Option<Arc<V>> {
        match self.peek(key).await.filter(|(value, _)| usable(value)) {
            Some((value, layer)) => {
                self.count_hit(layer);
                Some(value)
            }
            None => {
                self.count_miss();
                None
            }
        }
    }

    /// The stored answer and the layer it came from, not yet counted as a hit or a
    /// miss: for callers that decide only later whether it spared them a computation
    /// ([`Self::count_hit`], [`Self::count_miss`]).
    pub async fn peek(&self, key: &str) -> Option<(Arc<V>, Layer)> {
        if let Some((value, _)) = self.memory.get(key) {
            return Some((value, Layer::Memory));
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
                        self.memory
                            .insert(key.to_owned(), (value.clone(), weight(bytes.len())));
                        return Some((value, Layer::Redis));
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
        None
    }

    /// Stores an answer in process at once and in Redis in the background.
    pub fn put(&self, key: String, value: Arc<V>) {
        // Written as JSON even without Redis: its length is the answer's weight.
        let bytes = match serde_json::to_vec(value.as_ref()) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(namespace = self.name, %error, "cannot serialize a cache entry");
                return;
            }
        };
        let weight = weight(bytes.len());
        if let Some(redis) = self.redis.as_ref().filter(|redis| redis::is_up(redis)) {
            let redis = redis.clone();
            let redis_key = self.redis_key(&key);
            let ttl = self.redis_ttl.as_secs().max(1) as i64;
            tokio::spawn(async move {
                let stored = redis::timed(
                    "cache_set",
                    redis.set::<(), _, _>(redis_key, bytes, Some(Expiration::EX(ttl)), None, false),
                )
                .await;
                if let Err(error) = stored {
                    tracing::debug!(%error, "cache write failed");
                }
            });
        }
        self.memory.insert(key, (value, weight));
    }

    /// Counts a lookup that spared a computation.
    pub fn count_hit(&self, layer: Layer) {
        let (counter, name) = match layer {
            Layer::Memory => (&self.stats.memory_hits, "memory"),
            Layer::Redis => (&self.stats.redis_hits, "redis"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cache_hits_total", "namespace" => self.name, "layer" => name)
            .increment(1);
    }

    /// Counts a lookup that did not.
    pub fn count_miss(&self) {
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cache_misses_total", "namespace" => self.name).increment(1);
    }
}

/// An answer's weight in the in-process cache: its length as JSON.
fn weight(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// Computations running now, by key, so that requests asking the same thing at the same
/// moment share one computation instead of each doing it (a stampede when a popular
/// answer has just gone stale and the machine is busy). The first caller computes;
/// the others wait for its answer. If the one computing gives up (its request was
/// cancelled) or fails, the next waiting caller computes in its place.
pub struct Flights<V> {
    running:
        std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::OnceCell<Arc<V>>>>>,
}

impl<V> Default for Flights<V> {
    fn default() -> Self {
        Flights {
            running: std::sync::Mutex::default(),
        }
    }
}

impl<V> Flights<V> {
    pub async fn run<E, F, Fut>(&self, key: &str, compute: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<V>, E>>,
    {
        let cell = self
            .lock()
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::OnceCell::new()))
            .clone();
        let result = cell.get_or_try_init(compute).await.cloned();
        // Done: later callers find the answer in the cache, not here.
        let mut running = self.lock();
        if running
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, &cell))
        {
            running.remove(key);
        }
        result
    }

    /// How many computations are running (for tests).
    pub fn running(&self) -> usize {
        self.lock().len()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, Arc<tokio::sync::OnceCell<Arc<V>>>>,
    > {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A namespace without Redis keeping `bytes` of answers for a minute.
    fn in_process<V>(bytes: u64) -> CacheNamespace<V>
    where
        V: Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        let minute = Duration::from_secs(60);
        CacheNamespace::new("test", None, bytes, minute, minute)
    }

    #[tokio::test]
    async fn the_memory_kept_is_bounded_by_the_answers_size_in_json() {
        // Answers of 102 bytes as JSON (a string of 100 letters, quoted), 1,000 bytes
        // allowed: about nine kept, whatever their number.
        let cache = in_process::<String>(1_000);
        for n in 0..100 {
            cache.put(format!("k{n:02}"), Arc::new("x".repeat(100)));
        }
        cache.memory.run_pending_tasks();
        let (kept, weight) = (cache.memory.entry_count(), cache.memory.weighted_size());
        assert!(weight <= 1_000, "{weight} bytes kept");
        assert!((5..=9).contains(&kept), "{kept} answers kept");
    }

    #[tokio::test]
    async fn an_answer_the_caller_refuses_counts_as_a_miss() {
        let cache = in_process::<u32>(10);
        cache.put("k".to_owned(), Arc::new(1));
        assert_eq!(cache.get_if("k", |value| *value == 2).await, None);
        assert_eq!(
            cache.get_if("k", |value| *value == 1).await.map(|v| *v),
            Some(1)
        );
        assert_eq!(cache.get("absent").await, None);
        assert_eq!(cache.stats.memory_hits.load(Ordering::Relaxed), 1);
        assert_eq!(cache.stats.misses.load(Ordering::Relaxed), 2);
        assert_eq!(cache.stats.hit_ratio(), Some(1.0 / 3.0));
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_computation() {
        let flights = Arc::new(Flights::<u32>::default());
        let computed = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let flights = flights.clone();
            let computed = computed.clone();
            let mut released = released.clone();
            callers.spawn(async move {
                flights
                    .run("q=a", || async move {
                        computed.fetch_add(1, Ordering::SeqCst);
                        let _ = released.wait_for(|go| *go).await;
                        Ok::<_, ()>(Arc::new(42))
                    })
                    .await
            });
        }
        // Every caller has joined the one flight before it is allowed to finish.
        while callers.len() == 8 && flights.running() == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        while let Some(answer) = callers.join_next().await {
            assert_eq!(*answer.unwrap().unwrap(), 42);
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
        assert_eq!(flights.running(), 0);
    }

    #[tokio::test]
    async fn a_failed_computation_is_tried_again_by_the_next_caller() {
        let flights = Flights::<u32>::default();
        let failed: Result<Arc<u32>, &str> = flights.run("k", || async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        let answer = flights
            .run("k", || async { Ok::<_, &str>(Arc::new(7)) })
            .await;
        assert_eq!(answer.map(|v| *v), Ok(7));
        // Different keys never share.
        let other = flights
            .run("j", || async { Ok::<_, &str>(Arc::new(8)) })
            .await;
        assert_eq!(other.map(|v| *v), Ok(8));
    }
}
