//! Signing in and out, and managing accounts (for the admin page and the command line).

use std::net::IpAddr;

use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{SIGNED_IN_KEY, Sessions, SignedIn, password};
use crate::{
    domain::{
        CurrentUser, Role,
        account::{UserSummary, UsersPage},
    },
    error::AppError,
    server::{
        db::users::{self, AccountState, UserRecord},
        error::{Error, Result},
        limits::{self, Decision, Kind},
        state::AppState,
    },
};

/// The one answer to a wrong email or a wrong password, so neither can be told apart.
pub const WRONG_CREDENTIALS: &str = "The email or password is not right.";

/// The admin page lists at most this many accounts.
const LIST_LIMIT: i64 = 500;

pub struct Attempt {
    pub email: String,
    pub password: String,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

fn too_many(decision: &Decision) -> Error {
    Error::App(AppError::TooManyRequests {
        retry_after_secs: decision.retry_after_secs(),
    })
}

/// Signs in: checks the limit per client, the wait that this client's earlier
/// failures for this account impose, the password (in the same time whether or not
/// the account exists), then starts a new session under a new id. Refusals are
/// [`AppError`]s for the form to show.
pub async fn sign_in(state: &AppState, session: &Session, attempt: Attempt) -> Result<CurrentUser> {
    // Refused before anything is counted or stored: no address is longer (RFC 5321).
    if attempt.email.len() > crate::domain::account::MAX_EMAIL_BYTES {
        return Err(AppError::BadRequest(
            "That is not an email address: it is too long.".to_owned(),
        )
        .into());
    }
    if attempt.password.len() > crate::domain::account::MAX_PASSWORD_BYTES {
        return Err(AppError::BadRequest(WRONG_CREDENTIALS.to_owned()).into());
    }
    let client = limits::client_group(attempt.ip);
    let by_client = state.limiter.take(Kind::SignIn, &client).await;
    if !by_client.allowed {
        return Err(too_many(&by_client));
    }
    let account = attempt.email.trim().to_lowercase();
    if account.is_empty() || attempt.password.is_empty() {
        return Err(AppError::BadRequest("Enter your email and password.".to_owned()).into());
    }
    let wait = state.limiter.sign_in_wait(&account, &client).await;
    if !wait.is_zero() {
        return Err(Error::App(AppError::TooManyRequests {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }));
    }

    let user = users::by_email(&state.db, &account).await?;
    let verified = password::verify(
        attempt.password,
        user.as_ref().map(|user| user.password_hash.clone()),
    )
    .await?;
    let user = match user {
        Some(user) if verified => user,
        user => {
            let failures = state.limiter.sign_in_failed(&account, &client).await;
            tracing::info!(
                client,
                security_event = "sign_in_failed",
                "sign-in refused: wrong email or password"
            );
            if let Some(user) = user.filter(|user| user.role == Role::Admin)
                && state.limiter.is_attack(failures)
            {
                tracing::warn!(
                    user = %user.id,
                    failures,
                    client,
                    security_event = "admin_sign_in_throttled",
                    "an admin account's sign-ins keep failing: attempts from those clients are being slowed down"
                );
                state.limiter.note_attacked_admin(&user.email).await;
            }
            return Err(AppError::BadRequest(WRONG_CREDENTIALS.to_owned()).into());
        }
    };
    state.limiter.sign_in_succeeded(&account, &client).await;
    if user.disabled {
        return Err(AppError::BadRequest(
            "This account is disabled. Ask an administrator to enable it.".to_owned(),
        )
        .into());
    }

    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signed = SignedIn {
        user_id: user.id,
        email: user.email.clone(),
        role: user.role,
        signed_in_at: now,
        last_seen_at: now,
        ip: attempt.ip.map(|ip| ip.to_string()),
        user_agent: attempt
            .user_agent
            .map(|agent| agent.chars().take(200).collect()),
        directory_id: state.sessions.directory(),
        generation: user.session_generation,
    };
    // A new id for the signed-in session: one planted before sign-in is worthless.
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SIGNED_IN_KEY, &signed)
        .await
        .map_err(session_error)?;
    // Saved now, so a store failure is this request's answer (not a lost sign-in).
    session.save().await.map_err(session_error)?;
    tracing::info!(user = %user.id, client, security_event = "signed_in", "signed in");
    Ok(CurrentUser {
        id: user.id,
        email: user.email,
        role: user.role,
    })
}

/// A session store failure: the store is down (Redis unreachable), retrying may work.
pub fn session_error(error: tower_sessions::session::Error) -> Error {
    tracing::warn!(%error, "session store");
    Error::App(AppError::Unavailable)
}

/// A failure of the session store itself (the per-user index, revocation).
fn store_error(error: tower_sessions::session_store::Error) -> Error {
    session_error(tower_sessions::session::Error::Store(error))
}

/// Ends the session (removed from the store; the cookie is cleared).
pub async fn sign_out(session: &Session) -> Result<()> {
    session.flush().await.map_err(session_error)?;
    tracing::info!(security_event = "signed_out", "signed out");
    Ok(())
}

/// Creates an account from the command line or at first start.
pub async fn create(
    state_db: &sqlx::PgPool,
    email: &str,
    password: &str,
    role: Role,
) -> Result<Uuid> {
    let email = email.trim();
    if crate::domain::Email::parse(email).is_err() {
        return Err(AppError::BadRequest(format!("{email:?} is not an email address.")).into());
    }
    if let Some(problem) = password::policy_problem(password, Some(email)) {
        return Err(AppError::BadRequest(problem).into());
    }
    let hash = password::hash(password.to_owned()).await?;
    users::create(state_db, email, &hash, role)
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(format!("An account with {email} exists already.")).into()
        })
}

/// The account to change, which must exist and not be the admin making the change
/// (an admin cannot lock themselves out).
async fn other_account(state: &AppState, me: &CurrentUser, id: Uuid) -> Result<UserRecord> {
    if id == me.id {
        return Err(AppError::BadRequest(
            "You cannot change your own account here; ask another admin.".to_owned(),
        )
        .into());
    }
    users::by_id(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound.into())
}

/// Changes a role and ends the user's sessions (they sign in again with the new role).
pub async fn set_role(state: &AppState, me: &CurrentUser, id: Uuid, role: Role) -> Result<()> {
    let user = other_account(state, me, id).await?;
    if user.role != role {
        in_request(id, change_role(&state.db, &state.sessions, id, role).await?)?;
        tracing::info!(user = %id, by = %me.id, role = %role, security_event = "role_changed", "role changed");
    }
    Ok(())
}

/// Disables (ending every session) or enables an account.
pub async fn set_disabled(
    state: &AppState,
    me: &CurrentUser,
    id: Uuid,
    disabled: bool,
) -> Result<()> {
    other_account(state, me, id).await?;
    in_request(
        id,
        change_disabled(&state.db, &state.sessions, id, disabled).await?,
    )?;
    tracing::info!(user = %id, by = %me.id, disabled, security_event = "account_disabled_or_enabled", "account disabled or enabled");
    Ok(())
}

/// What a change that ends sessions came to.
pub type Ended = std::result::Result<usize, SessionsNotEnded>;

/// The change is saved in Postgres, but the session store could not be told: sessions
/// kept in Redis may still be open.
#[derive(Debug)]
pub struct SessionsNotEnded(pub String);

/// Publishes the account's new state to the session store; the change itself is saved.
async fn publish(sessions: &Sessions, id: Uuid, state: Option<AccountState>) -> Result<Ended> {
    let state = state.ok_or(AppError::NotFound)?;
    Ok(sessions
        .publish(id, &state)
        .await
        .map_err(|error| SessionsNotEnded(error.to_string())))
}

/// Sets the role and ends the user's sessions (for the admin page and the command line).
pub async fn change_role(
    db: &sqlx::PgPool,
    sessions: &Sessions,
    id: Uuid,
    role: Role,
) -> Result<Ended> {
    publish(sessions, id, users::set_role(db, id, role).await?).await
}

/// Disables or enables an account, ending the user's sessions.
pub async fn change_disabled(
    db: &sqlx::PgPool,
    sessions: &Sessions,
    id: Uuid,
    disabled: bool,
) -> Result<Ended> {
    publish(sessions, id, users::set_disabled(db, id, disabled).await?).await
}

/// Sets the password hash, ending the user's sessions.
pub async fn change_password(
    db: &sqlx::PgPool,
    sessions: &Sessions,
    id: Uuid,
    hash: &str,
) -> Result<Ended> {
    publish(sessions, id, users::set_password(db, id, hash).await?).await
}

/// Ends every session of the user, changing nothing else.
pub async fn end_sessions(db: &sqlx::PgPool, sessions: &Sessions, id: Uuid) -> Result<Ended> {
    publish(sessions, id, users::end_sessions(db, id).await?).await
}

/// For a request: sessions that could not be ended make it fail (503, try again).
fn in_request(id: Uuid, ended: Ended) -> Result<usize> {
    ended.map_err(|SessionsNotEnded(error)| {
        tracing::warn!(%error, user = %id, "sessions could not be ended");
        Error::App(AppError::Unavailable)
    })
}

/// Ends every session of the user (the admin page): a store that cannot be told is
/// this request's error.
pub async fn revoke_all(state: &AppState, id: Uuid) -> Result<usize> {
    let ended = in_request(id, end_sessions(&state.db, &state.sessions, id).await?)?;
    tracing::info!(user = %id, security_event = "sessions_revoked", "every session of a user ended");
    Ok(ended)
}

/// Ends one session of the user, by the handle the admin page shows.
pub async fn revoke(state: &AppState, id: Uuid, handle: &str) -> Result<()> {
    let found = state
        .sessions
        .revoke(id, handle)
        .await
        .map_err(store_error)?;
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound.into())
    }
}

/// Every account (up to a limit) with its open sessions.
pub async fn list(state: &AppState, me: &CurrentUser) -> Result<UsersPage> {
    let (records, total) = users::list(&state.db, LIST_LIMIT).await?;
    let with_sessions = state
        .sessions
        .users_with_sessions()
        .await
        .map_err(store_error)?;
    let mut summaries = Vec::with_capacity(records.len());
    for user in records {
        let sessions = if with_sessions.contains(&user.id) {
            state
                .sessions
                .summaries(user.id)
                .await
                .map_err(store_error)?
        } else {
            Vec::new()
        };
        summaries.push(UserSummary {
            id: user.id,
            email: user.email,
            role: user.role,
            disabled: user.disabled,
            created_at_micros: (user.created_at.unix_timestamp_nanos() / 1_000) as i64,
            sessions,
        });
    }
    Ok(UsersPage {
        users: summaries,
        total,
        me: me.id,
    })
}

/// At first start (no account at all), creates the admin account: with the password
/// from the settings if one is given (it must pass the password policy, and is never
/// repeated in an error), else a random one, written to `admin-password` in the data
/// folder (readable by its owner only) and never printed or logged: the message names
/// the file. Several instances starting at once create it once.
pub async fn ensure_admin(
    db: &sqlx::PgPool,
    email: &str,
    password: Option<&str>,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    if users::any(db).await? {
        return Ok(());
    }
    if let Some(problem) = password.and_then(|given| password::policy_problem(given, Some(email))) {
        anyhow::bail!("ROSTER_ADMIN_PASSWORD is refused: {problem}");
    }
    let generated = password.is_none();
    let password = password.map_or_else(password::random_password, str::to_owned);
    let hash = password::hash(password.clone()).await?;
    let mut tx = db.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7626103)")
        .execute(&mut *tx)
        .await?;
    if users::any(&mut *tx).await? {
        return Ok(());
    }
    users::create(&mut *tx, email, &hash, Role::Admin).await?;
    if generated {
        // Written before the account is committed: an account whose password nobody
        // can read would lock everyone out.
        let file = data_dir.join("admin-password");
        write_private(&file, &format!("{email}\n{password}\n"))?;
        tx.commit().await?;
        tracing::warn!(
            email,
            file = %file.display(),
            "created the first admin account; its password is in the file named here, \
             readable by this user only (change it with `roster user set-password`)"
        );
    } else {
        tx.commit().await?;
        tracing::info!(email, "created the first admin account");
    }
    Ok(())
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // (A file that was there before keeps its mode through `open`.)
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(contents.as_bytes())
}
