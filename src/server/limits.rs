//! Rate limits, shared by every instance through Redis.
//!
//! Each limit is a GCRA (generic cell rate algorithm): a quota of `limit` requests per
//! `window`, refilled smoothly (one every `window / limit`), so a client may burst up
//! to the quota and then go at the refill rate. The state of one client is one number
//! in Redis (the theoretical arrival time), read and written by one Lua script: one
//! atomic round trip per check. When Redis cannot answer, the same algorithm runs in
//! this process (limits then hold per instance), and the fact is logged and counted.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fred::{interfaces::ClientLike as _, types::scripts::Script};

use super::{config::Config, redis::Redis};

/// The kinds of request that are limited, each with its own quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Sign-in attempts, per client address.
    SignIn,
    /// Failed sign-ins, per account.
    SignInFailure,
    /// Requests to server functions and the API by someone not signed in, per address.
    Anonymous,
    /// Searches by a signed-in user.
    Search,
    /// Other reads by a signed-in user (pages, server functions that read).
    Read,
    /// Changes by a signed-in user.
    Write,
    /// Import uploads by a signed-in user.
    Upload,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::SignIn,
        Kind::SignInFailure,
        Kind::Anonymous,
        Kind::Search,
        Kind::Read,
        Kind::Write,
        Kind::Upload,
    ];

    /// The policy's name in keys, headers and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::SignInFailure => "sign-in-failures",
            Kind::Anonymous => "anonymous",
            Kind::Search => "search",
            Kind::Read => "read",
            Kind::Write => "write",
            Kind::Upload => "upload",
        }
    }
}

/// A quota: `limit` requests per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window: Duration,
}

impl Quota {
    pub fn for_kind(config: &Config, kind: Kind) -> Quota {
        let minute = Duration::from_secs(60);
        let quarter = Duration::from_secs(15 * 60);
        let (limit, window) = match kind {
            Kind::SignIn => (config.limit_sign_in_per_minute, minute),
            Kind::SignInFailure => (config.limit_sign_in_failures_per_15_minutes, quarter),
            Kind::Anonymous => (config.limit_anonymous_per_15_minutes, quarter),
            Kind::Search => (config.limit_searches_per_minute, minute),
            Kind::Read => (config.limit_reads_per_minute, minute),
            Kind::Write => (config.limit_writes_per_minute, minute),
            Kind::Upload => (config.limit_uploads_per_minute, minute),
        };
        Quota {
            limit: limit.max(1),
            window,
        }
    }

    /// Milliseconds between two requests at the refill rate.
    fn interval_ms(self) -> u64 {
        (self.window.as_millis() as u64 / u64::from(self.limit)).max(1)
    }

    fn window_ms(self) -> u64 {
        self.interval_ms() * u64::from(self.limit)
    }
}

/// The answer to one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub kind: Kind,
    pub allowed: bool,
    pub quota: Quota,
    /// Requests left right now.
    pub remaining: u32,
    /// When a refused request may be tried again (0 if allowed), in milliseconds.
    pub retry_after_ms: u64,
    /// When the quota is whole again, in milliseconds.
    pub reset_after_ms: u64,
}

impl Decision {
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after_ms.div_ceil(1000).max(1)
    }

    /// The IETF `RateLimit-Policy` and `RateLimit` header values
    /// (draft-ietf-httpapi-ratelimit-headers).
    pub fn headers(&self) -> [(&'static str, String); 2] {
        let name = self.kind.name();
        [
            (
                "ratelimit-policy",
                format!(
                    "\"{name}\";q={};w={}",
                    self.quota.limit,
                    self.quota.window.as_secs()
                ),
            ),
            (
                "ratelimit",
                format!(
                    "\"{name}\";r={};t={}",
                    self.remaining,
                    self.reset_after_ms.div_ceil(1000)
                ),
            ),
        ]
    }
}

/// One step of GCRA at `now` (ms) from the stored arrival time `tat` (ms), for a
/// request of `cost` (0 only asks). Returns the decision's numbers and the arrival
/// time to store if allowed. The Lua script below is the same computation.
fn gcra(now: u64, tat: Option<u64>, quota: Quota, cost: u64) -> (bool, u32, u64, u64, u64) {
    let interval = quota.interval_ms();
    let window = quota.window_ms();
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + cost.max(1) * interval;
    let allow_at = new_tat.saturating_sub(window);
    if now < allow_at {
        return (false, 0, allow_at - now, tat - now, tat);
    }
    let stored = if cost == 0 { tat } else { new_tat };
    let remaining = (window - (new_tat - now)) / interval;
    (true, remaining as u32, 0, stored - now, stored)
}

const SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local step = cost
if step < 1 then step = 1 end
local new_tat = tat + step * interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
local stored = tat
if cost > 0 then
  stored = new_tat
  redis.call('SET', KEYS[1], stored, 'PX', stored - now)
end
return {1, math.floor((window - (new_tat - now)) / interval), 0, stored - now}
";

pub struct Limiter {
    redis: Option<Redis>,
    prefix: String,
    /// By kind, in the order of [`Kind::ALL`] (the kinds' declaration order).
    quotas: [Quota; Kind::ALL.len()],
    script: Script,
    /// The in-process fallback: arrival times by key.
    memory: moka::sync::Cache<String, u64>,
    /// Whether the last check fell back (to log the change, not every check).
    falling_back: AtomicBool,
}

impl Limiter {
    pub fn new(config: &Config, redis: Option<Redis>) -> Arc<Self> {
        Arc::new(Limiter {
            redis,
            prefix: config.redis_prefix.clone(),
            quotas: Kind::ALL.map(|kind| Quota::for_kind(config, kind)),
            script: Script::from_lua(SCRIPT),
            memory: moka::sync::Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(Duration::from_secs(15 * 60))
                .build(),
            falling_back: AtomicBool::new(false),
        })
    }

    pub fn quota(&self, kind: Kind) -> Quota {
        self.quotas[kind as usize]
    }

    /// Counts one request of `kind` by `subject` and says whether it may go ahead.
    pub async fn take(&self, kind: Kind, subject: &str) -> Decision {
        self.check(kind, subject, 1).await
    }

    /// Whether a request of `kind` by `subject` would be allowed, counting nothing.
    pub async fn peek(&self, kind: Kind, subject: &str) -> Decision {
        self.check(kind, subject, 0).await
    }

    async fn check(&self, kind: Kind, subject: &str, cost: u64) -> Decision {
        let quota = self.quota(kind);
        let key = format!("{}:limit:{}:{subject}", self.prefix, kind.name());
        let numbers = match self.in_redis(&key, quota, cost).await {
            Some(numbers) => {
                if self.falling_back.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through Redis again");
                }
                numbers
            }
            None => {
                if !self.falling_back.swap(true, Ordering::Relaxed) && self.redis.is_some() {
                    tracing::warn!(
                        "Redis cannot answer: rate limits are counted in this process until it can"
                    );
                }
                if self.redis.is_some() {
                    metrics::counter!("rate_limit_fallback_total").increment(1);
                }
                self.in_memory(key, quota, cost)
            }
        };
        let (allowed, remaining, retry_after_ms, reset_after_ms) = numbers;
        if !allowed && cost > 0 {
            metrics::counter!("rate_limited_requests_total", "policy" => kind.name()).increment(1);
            crate::server::monitor::window().record_limited(kind.name(), subject);
        }
        Decision {
            kind,
            allowed,
            quota,
            remaining,
            retry_after_ms,
            reset_after_ms,
        }
    }

    async fn in_redis(&self, key: &str, quota: Quota, cost: u64) -> Option<(bool, u32, u64, u64)> {
        let redis = self.redis.as_ref().filter(|redis| redis.is_connected())?;
        let args = vec![
            quota.interval_ms().to_string(),
            quota.window_ms().to_string(),
            cost.to_string(),
        ];
        let answer: Result<Vec<i64>, _> = crate::server::redis::timed(
            "rate_limit",
            self.script
                .evalsha_with_reload(redis.next(), vec![key.to_owned()], args),
        )
        .await;
        match answer {
            Ok(values) if values.len() == 4 => Some((
                values[0] == 1,
                values[1].max(0) as u32,
                values[2].max(0) as u64,
                values[3].max(0) as u64,
            )),
            Ok(values) => {
                tracing::error!(?values, "the rate-limit script answered oddly");
                None
            }
            Err(error) => {
                tracing::debug!(%error, "rate-limit check in Redis");
                None
            }
        }
    }

    fn in_memory(&self, key: String, quota: Quota, cost: u64) -> (bool, u32, u64, u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_millis() as u64)
            .unwrap_or_default();
        let mut result = (true, quota.limit, 0, 0);
        self.memory.entry(key).and_compute_with(|entry| {
            let (allowed, remaining, retry, reset, stored) =
                gcra(now, entry.map(|entry| entry.into_value()), quota, cost);
            result = (allowed, remaining, retry, reset);
            if allowed && cost > 0 {
                moka::ops::compute::Op::Put(stored)
            } else {
                moka::ops::compute::Op::Nop
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(limit: u32, secs: u64) -> Quota {
        Quota {
            limit,
            window: Duration::from_secs(secs),
        }
    }

    /// Runs `count` requests at `now`, threading the stored arrival time.
    fn burst(tat: &mut Option<u64>, now: u64, quota: Quota, count: u32) -> Vec<bool> {
        (0..count)
            .map(|_| {
                let (allowed, _, _, _, stored) = gcra(now, *tat, quota, 1);
                if allowed {
                    *tat = Some(stored);
                }
                allowed
            })
            .collect()
    }

    #[test]
    fn a_full_quota_passes_at_once_then_refills_smoothly() {
        let q = quota(10, 60);
        let mut tat = None;
        let first = burst(&mut tat, 1_000_000, q, 11);
        assert_eq!(first.iter().filter(|allowed| **allowed).count(), 10);
        assert!(!first[10]);
        // One refills every 6 s.
        let (allowed, _, retry, _, _) = gcra(1_000_000, tat, q, 1);
        assert!(!allowed);
        assert_eq!(retry, 6_000);
        assert_eq!(burst(&mut tat, 1_006_000, q, 2), vec![true, false]);
        // After a whole window, the whole quota again.
        let later = burst(&mut tat, 1_100_000, q, 11);
        assert_eq!(later.iter().filter(|allowed| **allowed).count(), 10);
    }

    #[test]
    fn remaining_counts_down_and_peeking_takes_nothing() {
        let q = quota(5, 900);
        let mut tat = None;
        let (_, remaining, _, _, stored) = gcra(0, tat, q, 1);
        assert_eq!(remaining, 4);
        tat = Some(stored);
        let (allowed, remaining, _, _, peeked) = gcra(0, tat, q, 0);
        assert!(allowed);
        assert_eq!(remaining, 3, "a peek reports what one more would leave");
        assert_eq!(peeked, stored, "a peek stores nothing new");
    }

    #[test]
    fn quotas_are_found_by_kind() {
        for (position, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, position, "{kind:?}");
        }
    }

    #[test]
    fn headers_follow_the_ietf_draft() {
        let decision = Decision {
            kind: Kind::Read,
            allowed: false,
            quota: quota(120, 60),
            remaining: 0,
            retry_after_ms: 1_200,
            reset_after_ms: 59_500,
        };
        assert_eq!(decision.retry_after_secs(), 2);
        let [policy, state] = decision.headers();
        assert_eq!(policy.1, "\"read\";q=120;w=60");
        assert_eq!(state.1, "\"read\";r=0;t=60");
    }

    #[test]
    fn the_in_process_limiter_counts() {
        let config = crate::server::config::Config::from_figment(
            crate::server::config::Config::defaults()
                .merge(("database_url", "postgres://x"))
                .merge(("limit_uploads_per_minute", 2)),
        )
        .unwrap();
        let limiter = Limiter::new(&config, None);
        let outcomes: Vec<bool> = (0..3)
            .map(|_| {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
                    .block_on(limiter.take(Kind::Upload, "someone"))
                    .allowed
            })
            .collect();
        assert_eq!(outcomes, vec![true, true, false]);
    }
}
