//! Rate limits, shared by every instance through Redis.
//!
//! Each limit is a GCRA (generic cell rate algorithm): a quota of `limit` requests per
//! `window`, refilled smoothly (one every `window / limit`), so a client may burst up
//! to the quota and then go at the refill rate. The state of one client is one number
//! in Redis (the theoretical arrival time), read and written by one Lua script: one
//! atomic round trip per check. When Redis cannot answer, the same algorithm runs in
//! this process (limits then hold per instance), and the fact is logged and counted.
//!
//! Keys hold a fixed-size digest of what is limited, never the text itself (an email
//! of any length would otherwise become a key of that length), and clients are
//! counted by [`client_group`]: an IPv6 client by its /64, as one household or host
//! usually holds a whole /64.
//!
//! Failed sign-ins are not a quota but a slowing down ([`Limiter::sign_in_wait`]):
//! after a few failures for one account from one client, each further attempt from
//! that client must wait, twice as long each time. Nobody else is slowed, so an
//! attacker cannot lock the owner out; the account's failures from every client are
//! counted as well, to be reported (an admin account under attack is logged and shown
//! on the dashboard).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fred::{
    interfaces::{ClientLike as _, KeysInterface as _, SortedSetsInterface as _},
    types::scripts::Script,
};
use time::OffsetDateTime;

/// The subject of one account's failures from one client.
fn pair(account: &str, client: &str) -> String {
    format!("{account}\n{client}")
}

use super::{config::Config, redis::Redis};

/// The kinds of request that are limited, each with its own quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Sign-in attempts, per client address.
    SignIn,
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
    pub const ALL: [Kind; 6] = [
        Kind::SignIn,
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

/// Failed sign-ins of one subject, `count last_failure_ms`, forgotten `window` ms after
/// the last one: `check` reads them, `fail` adds one, `clear` forgets them. Answers
/// the count and the milliseconds since the last failure.
const FAILURES_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[1] == 'clear' then
  redis.call('DEL', KEYS[1])
  return {0, 0}
end
local count, last = 0, now
local stored = redis.call('GET', KEYS[1])
if stored then
  local c, l = string.match(stored, '^(%d+) (%d+)$')
  count, last = tonumber(c) or 0, tonumber(l) or now
end
if ARGV[1] == 'fail' then
  count = count + 1
  last = now
  redis.call('SET', KEYS[1], count .. ' ' .. last, 'PX', ARGV[2])
end
return {count, now - last}
";

/// How long failed sign-ins are remembered after the last one.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The longest wait between two sign-in attempts after failures.
pub const MAX_SIGN_IN_WAIT: Duration = Duration::from_secs(60);

/// The wait before the next attempt after `failures` failures, when the first `free`
/// cost nothing: 1 s, then doubling, at most [`MAX_SIGN_IN_WAIT`].
pub fn sign_in_wait(failures: u32, free: u32) -> Duration {
    if failures < free.max(1) {
        return Duration::ZERO;
    }
    let doublings = (failures - free.max(1)).min(16);
    Duration::from_secs(1 << doublings).min(MAX_SIGN_IN_WAIT)
}

/// How clients are counted: an IPv4 address (an IPv4-mapped IPv6 one as the IPv4
/// address it is), or an IPv6 address's /64.
pub fn client_group(ip: Option<std::net::IpAddr>) -> String {
    use std::net::IpAddr;
    match ip {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// A fixed-size digest of `subject`, for keys.
fn digest(subject: &str) -> String {
    use blake2::{Blake2s256, Digest as _};
    let hash = Blake2s256::digest(subject.as_bytes());
    hash[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
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
    failures_script: Script,
    /// Free failed sign-ins per account and client before attempts wait.
    free_failures: u32,
    /// The in-process fallback for failed sign-ins: (count, last failure ms) by key.
    failures: moka::sync::Cache<String, (u32, u64)>,
    /// Admin accounts whose sign-ins failed often lately, by email: when last (unix s).
    /// In Redis when there is one (shared with every instance), else here.
    attacked_admins: moka::sync::Cache<String, i64>,
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
            failures_script: Script::from_lua(FAILURES_SCRIPT),
            free_failures: config.limit_sign_in_failures_per_15_minutes.max(1),
            failures: moka::sync::Cache::builder()
                .max_capacity(200_000)
                .time_to_idle(FAILURE_WINDOW)
                .build(),
            attacked_admins: moka::sync::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(FAILURE_WINDOW)
                .build(),
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
        let key = format!("{}:limit:{}:{}", self.prefix, kind.name(), digest(subject));
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

    /// Failed sign-ins of `subject`: `op` is `check`, `fail` or `clear`. Answers the
    /// count and the milliseconds since the last failure.
    async fn failures(&self, op: &'static str, subject: &str) -> (u32, u64) {
        let key = format!("{}:sign-in-failures:{}", self.prefix, digest(subject));
        if let Some(redis) = self.redis.as_ref().filter(|redis| redis.is_connected()) {
            let answer: Result<Vec<i64>, _> = crate::server::redis::timed(
                "sign_in_failures",
                self.failures_script.evalsha_with_reload(
                    redis.next(),
                    vec![key.clone()],
                    vec![op.to_owned(), FAILURE_WINDOW.as_millis().to_string()],
                ),
            )
            .await;
            if let Ok(values) = answer
                && let [count, since] = values[..]
            {
                return (count.max(0) as u32, since.max(0) as u64);
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_millis() as u64)
            .unwrap_or_default();
        match op {
            "clear" => {
                self.failures.invalidate(&key);
                (0, 0)
            }
            "fail" => {
                // Read and written as one step: failures at the same moment all count.
                let counted = self.failures.entry(key).and_upsert_with(|entry| {
                    (entry.map_or(0, |entry| entry.into_value().0) + 1, now)
                });
                (counted.into_value().0, 0)
            }
            _ => self
                .failures
                .get(&key)
                .map_or((0, 0), |(count, last)| (count, now.saturating_sub(last))),
        }
    }

    /// How long an attempt to sign in to `account` from `client` must still wait
    /// (zero: it may go ahead).
    pub async fn sign_in_wait(&self, account: &str, client: &str) -> Duration {
        let (count, since_ms) = self.failures("check", &pair(account, client)).await;
        sign_in_wait(count, self.free_failures).saturating_sub(Duration::from_millis(since_ms))
    }

    /// Counts a failed sign-in; answers the account's failures from every client
    /// within the window.
    pub async fn sign_in_failed(&self, account: &str, client: &str) -> u32 {
        self.failures("fail", &pair(account, client)).await;
        self.failures("fail", &format!("account\n{account}"))
            .await
            .0
    }

    /// A successful sign-in forgets the failures from its client.
    pub async fn sign_in_succeeded(&self, account: &str, client: &str) {
        self.failures("clear", &pair(account, client)).await;
    }

    /// Whether `failures` failed sign-ins of one account within the window are an
    /// attack worth reporting.
    pub fn is_attack(&self, failures: u32) -> bool {
        failures >= self.free_failures
    }

    /// Notes an admin account whose sign-ins are failing often, for the dashboard.
    pub async fn note_attacked_admin(&self, email: &str) {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if let Some(redis) = self.redis.as_ref().filter(|redis| redis.is_connected()) {
            let key = format!("{}:attacked-admins", self.prefix);
            let added: Result<(), _> = redis
                .zadd(&key, None, None, false, false, (now as f64, email))
                .await;
            let _: Result<(), _> = redis
                .expire(&key, FAILURE_WINDOW.as_secs() as i64, None)
                .await;
            if added.is_ok() {
                return;
            }
        }
        self.attacked_admins.insert(email.to_owned(), now);
    }

    /// Admin accounts whose sign-ins failed often within the window: email and when
    /// last (unix seconds), latest first.
    pub async fn attacked_admins(&self) -> Vec<(String, i64)> {
        let since = OffsetDateTime::now_utc().unix_timestamp() - FAILURE_WINDOW.as_secs() as i64;
        let mut found: Vec<(String, i64)> = self
            .attacked_admins
            .iter()
            .map(|(email, at)| ((*email).clone(), at))
            .collect();
        if let Some(redis) = self.redis.as_ref().filter(|redis| redis.is_connected()) {
            let key = format!("{}:attacked-admins", self.prefix);
            let listed: Result<Vec<(String, f64)>, _> = redis
                .zrangebyscore(&key, since as f64, f64::INFINITY, true, None)
                .await;
            if let Ok(listed) = listed {
                found.extend(listed.into_iter().map(|(email, at)| (email, at as i64)));
            }
        }
        found.retain(|(_, at)| *at >= since);
        found.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
        found.dedup_by(|a, b| a.0 == b.0);
        found
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

    #[test]
    fn clients_are_counted_by_ipv4_address_or_ipv6_slash_64() {
        let group = |text: &str| client_group(Some(text.parse().unwrap()));
        assert_eq!(group("192.0.2.7"), "192.0.2.7");
        assert_eq!(group("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            group("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(group("2001:db8:1:3::1"), group("2001:db8:1:2::1"));
        assert_eq!(client_group(None), "unknown");
    }

    #[test]
    fn keys_hold_a_fixed_size_digest() {
        let long = "a".repeat(1 << 20);
        assert_eq!(digest(&long).len(), 32);
        assert_eq!(digest("x@example.com").len(), 32);
        assert_ne!(digest("x@example.com"), digest("y@example.com"));
    }

    #[test]
    fn failed_sign_ins_slow_down_progressively() {
        assert_eq!(sign_in_wait(0, 5), Duration::ZERO);
        assert_eq!(sign_in_wait(4, 5), Duration::ZERO);
        assert_eq!(sign_in_wait(5, 5), Duration::from_secs(1));
        assert_eq!(sign_in_wait(6, 5), Duration::from_secs(2));
        assert_eq!(sign_in_wait(8, 5), Duration::from_secs(8));
        assert_eq!(sign_in_wait(40, 5), MAX_SIGN_IN_WAIT);
    }

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
