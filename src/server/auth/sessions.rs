//! Where sessions live: Redis (shared by every instance), or this process's memory
//! when no Redis is configured.
//!
//! Every key is under the deployment's prefix (`ROSTER_REDIS_PREFIX`), so deployments
//! sharing one Redis never see each other's sessions. A session is only as good as
//! its account: each load reads, in the same round trip as the session (one Lua
//! script), the account's state that Redis holds beside it (generation, role,
//! enabled), and refuses a session whose generation is not the account's, whose
//! account is disabled or gone, or that was signed in on another directory. Changes
//! that end sessions move the generation on in Postgres and then publish the new
//! state here ([`Sessions::publish`]); a state missing from Redis is read from
//! Postgres and put back, never assumed. Without Redis, the state is read from
//! Postgres on each request.
//!
//! The store also keeps an index of each user's sessions, so admins can list and end
//! them one by one. The index is updated whenever a signed-in session is saved, and is
//! tidied as it is read: an entry whose session has expired or gone is dropped.
//!
//! tower-sessions-redis-store is not used: it names keys by the bare session id (no
//! prefix) and cannot read the account's state in the same round trip.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use fred::{
    prelude::{KeysInterface, SortedSetsInterface},
    types::{Expiration, SetOptions, scripts::Script},
};
use time::OffsetDateTime;
use tower_sessions::{
    MemoryStore, SessionStore,
    session::{Id, Record},
    session_store,
};
use uuid::Uuid;

use super::SignedIn;
use crate::{
    domain::{Role, account::SessionSummary},
    server::{db::users::AccountState, redis::Redis},
};

/// The key under which a session holds its [`SignedIn`].
pub const SIGNED_IN_KEY: &str = "auth";

/// How long Redis keeps an account's state after it was last written; it is read from
/// Postgres again after that. This bounds how long a change whose publication failed
/// (Redis unreachable for a moment, and the change made all the same in Postgres) can
/// go unseen: fail closed within five minutes, at the cost of one primary-key read per
/// active account every five minutes.
const ACCOUNT_STATE_TTL_SECS: i64 = 5 * 60;

/// Loads a session and, if it is signed in, its account's state, in one round trip.
/// A stored session is `{user id}\n{record as JSON}` (nothing before the line break
/// when nobody signed in), so the script needs no JSON parser.
const LOAD_SCRIPT: &str = r"
local stored = redis.call('GET', KEYS[1])
if not stored then return false end
local user = string.match(stored, '^([^\n]*)\n')
if user and user ~= '' then
  return {stored, redis.call('GET', ARGV[1] .. user) or ''}
end
return {stored, ''}
";

/// Writes an account's state unless Redis already holds a later generation (a reader
/// that fetched an older state from Postgres never overwrites a newer one).
const PUBLISH_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if current then
  local generation = tonumber(string.match(current, '^(-?%d+)'))
  if generation and generation > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
";

/// What a session is checked against besides its account: the deployment.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub db: sqlx::PgPool,
    /// This database's directory id (`directory.id`): a session signed in on another
    /// directory is refused.
    pub directory: Uuid,
}

#[derive(Clone, Debug)]
pub struct Sessions {
    backend: Backend,
    deployment: Deployment,
}

#[derive(Clone, Debug)]
enum Backend {
    Redis {
        redis: Redis,
        prefix: Arc<str>,
        load: Script,
        publish: Script,
    },
    Memory {
        store: MemoryStore,
        /// user → (session → expiry, unix seconds)
        index: Arc<Mutex<HashMap<Uuid, HashMap<Id, i64>>>>,
    },
}

/// An account's state as Redis holds it: `generation role disabled`.
fn encode_state(state: &AccountState) -> String {
    format!(
        "{} {} {}",
        state.generation,
        state.role.as_str(),
        u8::from(state.disabled)
    )
}

fn decode_state(text: &str) -> Option<AccountState> {
    let mut parts = text.split(' ');
    let generation = parts.next()?.parse().ok()?;
    let role = Role::parse(parts.next()?)?;
    let disabled = match parts.next()? {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    Some(AccountState {
        generation,
        role,
        disabled,
    })
}

/// Whether a signed-in session still stands: same directory, account enabled, same
/// generation. Its role is then the account's current one.
fn still_good(signed: &SignedIn, state: Option<&AccountState>, directory: Uuid) -> Option<Role> {
    let state = state?;
    (signed.directory_id == directory && !state.disabled && state.generation == signed.generation)
        .then_some(state.role)
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
    pub fn redis(redis: Redis, prefix: &str, deployment: Deployment) -> Self {
        Sessions {
            backend: Backend::Redis {
                redis,
                prefix: Arc::from(prefix),
                load: Script::from_lua(LOAD_SCRIPT),
                publish: Script::from_lua(PUBLISH_SCRIPT),
            },
            deployment,
        }
    }

    pub fn memory(deployment: Deployment) -> Self {
        Sessions {
            backend: Backend::Memory {
                store: MemoryStore::default(),
                index: Arc::default(),
            },
            deployment,
        }
    }

    /// This deployment's directory id, recorded in each session at sign-in.
    pub fn directory(&self) -> Uuid {
        self.deployment.directory
    }

    /// Whether sessions are shared through Redis (else they live in this process).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Redis { .. })
    }

    /// Waits until the store can be used (at once for memory).
    pub async fn ready(&self) {
        if let Backend::Redis { redis, .. } = &self.backend {
            let _ = fred::interfaces::ClientLike::wait_for_connect(redis).await;
        }
    }

    fn session_key(prefix: &str, id: &Id) -> String {
        format!("{prefix}:session:{id}")
    }

    fn state_key_prefix(prefix: &str) -> String {
        format!("{prefix}:account:")
    }

    /// Makes `state` (just written to Postgres) the one every instance checks `user`'s
    /// sessions against, and removes the sessions it ends from the index. Returns how
    /// many sessions were open. An error means the sessions may still be open.
    pub async fn publish(&self, user: Uuid, state: &AccountState) -> session_store::Result<usize> {
        // (Without Redis, every load reads the state from Postgres: nothing to publish.)
        self.store_state(user, state).await?;
        self.revoke_all(user).await
    }

    /// Writes `user`'s state to Redis, unless it holds a later generation already
    /// (nothing to do without Redis).
    async fn store_state(&self, user: Uuid, state: &AccountState) -> session_store::Result<()> {
        let Backend::Redis {
            redis,
            prefix,
            publish,
            ..
        } = &self.backend
        else {
            return Ok(());
        };
        let key = format!("{}{user}", Self::state_key_prefix(prefix));
        let args = vec![
            encode_state(state),
            state.generation.to_string(),
            ACCOUNT_STATE_TTL_SECS.to_string(),
        ];
        let _: i64 = crate::server::redis::timed(
            "account_state_publish",
            publish.evalsha_with_reload(redis.next(), vec![key], args),
        )
        .await
        .map_err(backend_error)?;
        Ok(())
    }

    /// The account's state from Postgres (put back in Redis for the next requests).
    async fn fetch_state(&self, user: Uuid) -> session_store::Result<Option<AccountState>> {
        let state = crate::server::db::users::state(&self.deployment.db, user)
            .await
            .map_err(backend_error)?;
        if let Some(state) = &state {
            self.store_state(user, state).await?;
        }
        Ok(state)
    }

    /// Writes a session to Redis (`NX`: only if new; else only if it still exists, so
    /// a session ended meanwhile stays ended).
    async fn write(
        redis: &Redis,
        prefix: &str,
        record: &Record,
        new: bool,
    ) -> session_store::Result<bool> {
        let user = signed_in(record).map(|signed| signed.user_id.to_string());
        let json = serde_json::to_string(record)
            .map_err(|error| session_store::Error::Encode(error.to_string()))?;
        let stored = format!("{}\n{json}", user.unwrap_or_default());
        let written: Option<String> = redis
            .set(
                Self::session_key(prefix, &record.id),
                stored,
                Some(Expiration::EXAT(record.expiry_date.unix_timestamp())),
                Some(if new { SetOptions::NX } else { SetOptions::XX }),
                false,
            )
            .await
            .map_err(backend_error)?;
        Ok(written.is_some())
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
            Backend::Redis { redis, prefix, .. } => {
                crate::server::redis::timed("session_create", async {
                    while !Self::write(redis, prefix, record, true).await? {
                        record.id = Id::default();
                    }
                    Ok::<_, session_store::Error>(())
                })
                .await?
            }
            Backend::Memory { store, .. } => store.create(record).await?,
        }
        self.index_record(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                crate::server::redis::timed(
                    "session_save",
                    Self::write(redis, prefix, record, false),
                )
                .await?;
            }
            Backend::Memory { store, .. } => store.save(record).await?,
        }
        self.index_record(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let (record, state) = match &self.backend {
            // While the connection is down (fred reconnects in the background), say so
            // at once instead of queueing the command for its timeout: every page
            // answers its 503 immediately during an outage.
            Backend::Redis { redis, .. } if !crate::server::redis::is_up(redis) => {
                metrics::counter!("redis_errors_total", "operation" => "session_load").increment(1);
                return Err(backend_error("Redis is not connected"));
            }
            Backend::Redis {
                redis,
                prefix,
                load,
                ..
            } => {
                let answer: Option<Vec<String>> = crate::server::redis::timed(
                    "session_load",
                    load.evalsha_with_reload(
                        redis.next(),
                        vec![Self::session_key(prefix, id)],
                        vec![Self::state_key_prefix(prefix)],
                    ),
                )
                .await
                .map_err(backend_error)?;
                let Some([stored, state]) =
                    answer.and_then(|values| <[String; 2]>::try_from(values).ok())
                else {
                    return Ok(None);
                };
                let json = stored.split_once('\n').map_or("", |(_, json)| json);
                let record: Record = serde_json::from_str(json)
                    .map_err(|error| session_store::Error::Decode(error.to_string()))?;
                (record, decode_state(&state))
            }
            Backend::Memory { store, .. } => match store.load(id).await? {
                Some(record) => (record, None),
                None => return Ok(None),
            },
        };
        self.checked(record, state).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.backend {
            Backend::Redis { redis, prefix, .. } => {
                let _: () = crate::server::redis::timed(
                    "session_delete",
                    redis.del(Self::session_key(prefix, id)),
                )
                .await
                .map_err(backend_error)?;
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

impl Sessions {
    /// A loaded session as it may be used: unchanged if nobody signed in; with the
    /// account's current role if its sign-in still stands; else ended (deleted, and
    /// answered as no session at all).
    async fn checked(
        &self,
        mut record: Record,
        state: Option<AccountState>,
    ) -> session_store::Result<Option<Record>> {
        let Some(mut signed) = signed_in(&record) else {
            return Ok(Some(record));
        };
        let state = match state {
            Some(state) => Some(state),
            None => self.fetch_state(signed.user_id).await?,
        };
        match still_good(&signed, state.as_ref(), self.deployment.directory) {
            Some(role) => {
                if signed.role != role {
                    signed.role = role;
                    if let Ok(value) = serde_json::to_value(&signed) {
                        record.data.insert(SIGNED_IN_KEY.to_owned(), value);
                    }
                }
                Ok(Some(record))
            }
            None => {
                tracing::info!(
                    user = %signed.user_id,
                    security_event = "session_refused",
                    "a session was refused: its account changed, was disabled or removed, or it belongs to another directory"
                );
                self.delete(&record.id).await?;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(generation: i64, directory: Uuid) -> SignedIn {
        SignedIn {
            user_id: Uuid::nil(),
            email: "a@example.com".to_owned(),
            role: Role::Admin,
            signed_in_at: 0,
            last_seen_at: 0,
            ip: None,
            user_agent: None,
            directory_id: directory,
            generation,
        }
    }

    #[test]
    fn account_states_round_trip_through_their_text() {
        for state in [
            AccountState {
                generation: 0,
                role: Role::Viewer,
                disabled: false,
            },
            AccountState {
                generation: 41,
                role: Role::Admin,
                disabled: true,
            },
        ] {
            assert_eq!(decode_state(&encode_state(&state)), Some(state));
        }
        assert_eq!(decode_state(""), None);
        assert_eq!(decode_state("1 root 0"), None);
    }

    #[test]
    fn a_session_stands_only_with_its_generation_directory_and_an_enabled_account() {
        let directory = Uuid::new_v4();
        let state = AccountState {
            generation: 3,
            role: Role::Viewer,
            disabled: false,
        };
        // The account's current role, not the one at sign-in.
        assert_eq!(
            still_good(&signed(3, directory), Some(&state), directory),
            Some(Role::Viewer)
        );
        assert_eq!(
            still_good(&signed(2, directory), Some(&state), directory),
            None
        );
        assert_eq!(
            still_good(&signed(3, Uuid::new_v4()), Some(&state), directory),
            None
        );
        assert_eq!(still_good(&signed(3, directory), None, directory), None);
        let disabled = AccountState {
            disabled: true,
            ..state
        };
        assert_eq!(
            still_good(&signed(3, directory), Some(&disabled), directory),
            None
        );
    }
}
