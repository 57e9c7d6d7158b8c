//! Where sessions live: Redis through tower-sessions-redis-store (shared by every
//! instance), or this process's memory when no Redis is configured.
//!
//! The store is wrapped to keep an index of each user's sessions, so that disabling a
//! user or changing their role can end all of them at once and admins can list and
//! revoke them. The index is updated whenever a signed-in session is saved, and is
//! tidied as it is read: an entry whose session has expired or gone is dropped.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use fred::prelude::{KeysInterface, SortedSetsInterface};
use time::OffsetDateTime;
use tower_sessions::{
    MemoryStore, SessionStore,
    session::{Id, Record},
    session_store,
};
use tower_sessions_redis_store::RedisStore;
use uuid::Uuid;

use super::SignedIn;
use crate::{domain::account::SessionSummary, server::redis::Redis};

/// The key under which a session holds its [`SignedIn`].
pub const SIGNED_IN_KEY: &str = "auth";

#[derive(Clone, Debug)]
pub struct Sessions {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Redis {
        store: RedisStore<Redis>,
        redis: Redis,
        prefix: Arc<str>,
    },
    Memory {
        store: MemoryStore,
        /// user → (session → expiry, unix seconds)
        index: Arc<Mutex<HashMap<Uuid, HashMap<Id, i64>>>>,
    },
}

fn backend_error(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

/// The members of a sorted set scored by expiry that expire after `now` (the others
/// are removed on the way).
async fn live_members<T: std::str::FromStr>(
    redis: &Redis,
    key: &str,
    now: i64,
) -> session_store::Result<Vec<T>> {
    let _: () = redis
        .zremrangebyscore(key, f64::NEG_INFINITY, now as f64)
        .await
        .map_err(backend_error)?;
    let members: Vec<String> = redis
        .zrange(key, 0, -1, None, false, None, false)
        .await
        .map_err(backend_error)?;
    Ok(members
        .iter()
        .filter_map(|member| member.parse().ok())
        .collect())
}

/// The signed-in user a record belongs to, if any.
fn signed_in(record: &Record) -> Option<SignedIn> {
    record
        .data
        .get(SIGNED_IN_KEY)
        .and_then(|value| serde_json::from_value(value.clone()).ok())
}

/// What an admin may see of a session: a handle derived from its id (the id itself is
/// a credential and never leaves the server).
pub fn handle(id: &Id) -> String {
    format!(
        "{:016x}",
        xxhash_rust::xxh3::xxh3_64(id.to_string().as_bytes())
    )
}

impl Sessions {
    pub fn redis(redis: Redis, prefix: &str) -> Self {
        Sessions {
            backend: Backend::Redis {
                store: RedisStore::new(redis.clone()),
                redis,
                prefix: Arc::from(prefix),
            },
        }
    }

    pub fn memory() -> Self {
        Sessions {
            backend: Backend::Memory {
                store: MemoryStore::default(),
                index: Arc::default(),
            },
        }
    }

    /// Waits until the store can be used (at once for memory).
    pub async fn ready(&self) {
        if let Backend::Redis { redis, .. } = &self.backend {
            let _ = fred::interfaces::ClientLike::wait_for_connect(redis).await;
        }
    }

    fn user_key(prefix: &str, user: Uuid) -> String {
        format!("{prefix}:sessions:user:{user}")
    }

    fn users_key(prefix: &str) -> String {
        format!("{prefix}:sessions:users")
    }

    /// Every signed-in session (id → expiry), for counting them.
    fn all_key(prefix: &str) -> String {
        format!("{prefix}:sessions:all")
    }

    /// How many signed-in sessions are open now, across every instance.
    pub async fn count_active(&self) -> session_store::Result<u64> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                let key = Self::all_key(prefix);
                let pipeline = redis.next().pipeline();
                let _: () = pipeline
                    .zremrangebyscore(&key, f64::NEG_INFINITY, now as f64)
                    .await
                    .map_err(backend_error)?;
                let _: () = pipeline.zcard(&key).await.map_err(backend_error)?;
                let (_, count): (i64, u64) =
                    crate::server::redis::timed("session_count", pipeline.all())
                        .await
                        .map_err(backend_error)?;
                Ok(count)
            }
            Backend::Memory { index, .. } => Ok(index
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .values()
                .map(|sessions| sessions.values().filter(|expiry| **expiry > now).count() as u64)
                .sum()),
        }
    }

    async fn index(&self, user: Uuid, id: Id, expiry: i64) -> session_store::Result<()> {
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                let user_key = Self::user_key(prefix, user);
                let pipeline = redis.next().pipeline();
                // The session in its user's index and among all open sessions.
                for key in [user_key.clone(), Self::all_key(prefix)] {
                    let _: () = pipeline
                        .zadd(
                            key,
                            None,
                            None,
                            false,
                            false,
                            (expiry as f64, id.to_string()),
                        )
                        .await
                        .map_err(backend_error)?;
                }
                // The index lasts as long as the longest session in it.
                let _: () = pipeline
                    .expire_at(&user_key, expiry, Some(fred::types::ExpireOptions::GT))
                    .await
                    .map_err(backend_error)?;
                let _: () = pipeline
                    .zadd(
                        Self::users_key(prefix),
                        None,
                        Some(fred::types::sorted_sets::Ordering::GreaterThan),
                        false,
                        false,
                        (expiry as f64, user.to_string()),
                    )
                    .await
                    .map_err(backend_error)?;
                let _: Vec<fred::types::Value> =
                    crate::server::redis::timed("session_index", pipeline.all())
                        .await
                        .map_err(backend_error)?;
            }
            Backend::Memory { index, .. } => {
                index
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .entry(user)
                    .or_default()
                    .insert(id, expiry);
            }
        }
        Ok(())
    }

    async fn unindex(&self, user: Uuid, ids: &[Id]) -> session_store::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                let members: Vec<String> = ids.iter().map(Id::to_string).collect();
                let _: () = redis
                    .zrem(Self::user_key(prefix, user), members.clone())
                    .await
                    .map_err(backend_error)?;
                let _: () = redis
                    .zrem(Self::all_key(prefix), members)
                    .await
                    .map_err(backend_error)?;
            }
            Backend::Memory { index, .. } => {
                let mut index = index
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some(sessions) = index.get_mut(&user) {
                    for id in ids {
                        sessions.remove(id);
                    }
                    if sessions.is_empty() {
                        index.remove(&user);
                    }
                }
            }
        }
        Ok(())
    }

    /// The ids indexed for `user` whose expiry is still ahead.
    async fn indexed(&self, user: Uuid) -> session_store::Result<Vec<Id>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                live_members(redis, &Self::user_key(prefix, user), now).await
            }
            Backend::Memory { index, .. } => {
                let mut index = index
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let Some(sessions) = index.get_mut(&user) else {
                    return Ok(Vec::new());
                };
                sessions.retain(|_, expiry| *expiry > now);
                Ok(sessions.keys().copied().collect())
            }
        }
    }

    /// The users who may have a session open now.
    pub async fn users_with_sessions(&self) -> session_store::Result<Vec<Uuid>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                live_members(redis, &Self::users_key(prefix), now).await
            }
            Backend::Memory { index, .. } => Ok(index
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .keys()
                .copied()
                .collect()),
        }
    }

    /// The sessions of `user` that are open now, oldest sign-in first.
    pub async fn of_user(&self, user: Uuid) -> session_store::Result<Vec<(Id, SignedIn)>> {
        let ids = self.indexed(user).await?;
        let mut open = Vec::with_capacity(ids.len());
        let mut gone = Vec::new();
        for id in ids {
            match self.load(&id).await?.as_ref().and_then(signed_in) {
                Some(signed) if signed.user_id == user => open.push((id, signed)),
                _ => gone.push(id),
            }
        }
        self.unindex(user, &gone).await?;
        open.sort_by_key(|(_, signed)| signed.signed_in_at);
        Ok(open)
    }

    /// Ends every session of `user`; returns how many there were.
    pub async fn revoke_all(&self, user: Uuid) -> session_store::Result<usize> {
        let ids = self.indexed(user).await?;
        for id in &ids {
            self.delete(id).await?;
        }
        self.unindex(user, &ids).await?;
        Ok(ids.len())
    }

    /// Ends the session of `user` with this handle; false if there is none.
    pub async fn revoke(&self, user: Uuid, handle_text: &str) -> session_store::Result<bool> {
        let ids = self.indexed(user).await?;
        let Some(id) = ids.into_iter().find(|id| handle(id) == handle_text) else {
            return Ok(false);
        };
        self.delete(&id).await?;
        self.unindex(user, &[id]).await?;
        Ok(true)
    }

    /// Summaries of `user`'s open sessions, for the admin page.
    pub async fn summaries(&self, user: Uuid) -> session_store::Result<Vec<SessionSummary>> {
        Ok(self
            .of_user(user)
            .await?
            .into_iter()
            .map(|(id, signed)| SessionSummary {
                handle: handle(&id),
                signed_in_at_micros: signed.signed_in_at * 1_000_000,
                last_seen_at_micros: signed.last_seen_at * 1_000_000,
                ip: signed.ip,
                user_agent: signed.user_agent,
            })
            .collect())
    }

    async fn index_record(&self, record: &Record) -> session_store::Result<()> {
        if let Some(signed) = signed_in(record) {
            self.index(
                signed.user_id,
                record.id,
                record.expiry_date.unix_timestamp(),
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Redis { store, .. } => {
                crate::server::redis::timed("session_create", store.create(record)).await?
            }
            Backend::Memory { store, .. } => store.create(record).await?,
        }
        self.index_record(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Redis { store, .. } => {
                crate::server::redis::timed("session_save", store.save(record)).await?
            }
            Backend::Memory { store, .. } => store.save(record).await?,
        }
        self.index_record(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &self.backend {
            // While the connection is down (fred reconnects in the background), say so
            // at once instead of queueing the command for its timeout: every page
            // answers its 503 immediately during an outage.
            Backend::Redis { redis, .. } if !crate::server::redis::is_up(redis) => {
                metrics::counter!("redis_errors_total", "operation" => "session_load").increment(1);
                Err(backend_error("Redis is not connected"))
            }
            Backend::Redis { store, .. } => {
                crate::server::redis::timed("session_load", store.load(id)).await
            }
            Backend::Memory { store, .. } => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.backend {
            Backend::Redis {
                store,
                redis,
                prefix,
            } => {
                crate::server::redis::timed("session_delete", store.delete(id)).await?;
                // Signed out: no longer counted among the open sessions.
                let _: () = redis
                    .zrem(Self::all_key(prefix), id.to_string())
                    .await
                    .map_err(backend_error)?;
                Ok(())
            }
            Backend::Memory { store, .. } => store.delete(id).await,
        }
    }
}
