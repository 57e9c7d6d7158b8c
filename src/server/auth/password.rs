//! Password hashing: Argon2id with the argon2 crate's defaults (19 MiB, 2 passes, one
//! lane: the OWASP recommendation), in the PHC string format so the parameters travel
//! with each hash. Hashing is deliberately slow, so it runs on the blocking pool,
//! never on the async workers, and only on half the cores at once: a burst of
//! sign-ins queues for them instead of taking every core from the searches and pages
//! of the people already signed in (the load test's peak: Argon2 was a third of the
//! server's CPU and everything else waited seconds behind it). The queue is bounded:
//! past a few seconds' worth of checks, a sign-in is refused at once as "temporarily
//! unavailable" (503 with `Retry-After`) rather than left waiting without end.
//!
//! A check reuses a 19 MiB work area kept for it (one per hashing permit) instead of
//! allocating a fresh, zeroed one each time: the zeroing alone cost a tenth of the
//! server's CPU at the load test's peak.

use std::sync::{
    Arc, LazyLock, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version,
    password_hash::{Output, SaltString, errors::Error as HashError},
};
use rand::RngCore as _;

use crate::{error::AppError, server::error::Result};

/// Checks waiting per hashing permit before new ones are refused: two to three seconds
/// of work at some 55 checks a second per core (docs/PERFORMANCE.md, Sign-in).
const WAITING_PER_PERMIT: usize = 128;

/// At most `permits` hash computations at once, at most `max_waiting` waiting.
struct Gate {
    permits: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl Gate {
    fn new(permits: usize, max_waiting: usize) -> Self {
        Gate {
            permits: Arc::new(tokio::sync::Semaphore::new(permits)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Runs `work` on the blocking pool once a permit is free; refuses at once with
    /// [`AppError::Unavailable`] when the queue is full.
    ///
    /// Cancellation-safe: a request dropped while it waits (its client gone, its time
    /// limit reached) leaves the queue, and a permit stays taken until the work it was
    /// given ends, even if nobody waits for the result any more.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _queued = Queued::join(&self.waiting, self.max_waiting).ok_or_else(|| {
                    metrics::counter!("password_checks_refused_total").increment(1);
                    tracing::warn!("password check refused: too many waiting");
                    AppError::Unavailable
                })?;
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(anyhow::Error::from)?
            }
        };
        let done = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await;
        Ok(done.map_err(anyhow::Error::from)?)
    }
}

/// A place in the gate's queue, given up when dropped.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    /// Takes a place if fewer than `most` are waiting.
    fn join(waiting: &'a AtomicUsize, most: usize) -> Option<Self> {
        let ahead = waiting.fetch_add(1, Ordering::SeqCst);
        let place = Queued(waiting);
        (ahead < most).then_some(place)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The server's gate: half the cores, at least one.
static HASHING: LazyLock<Gate> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let permits = (cores / 2).max(1);
    Gate::new(permits, permits * WAITING_PER_PERMIT)
});

/// Work areas for checks, kept between them (as many as checks ever ran at once).
static WORK_AREAS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// A hash checked when the email matches no account, so a wrong email takes as long
/// as a wrong password and the two cannot be told apart.
static UNKNOWN_USER_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("not a password anyone has").expect("hashing a constant works"));

fn hash_now(password: &str) -> Result<String, HashError> {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash` (any Argon2 variant, version and
/// parameters it names), computed in a kept work area.
fn verify_now(password: &str, hash: &str) -> bool {
    let mut area = WORK_AREAS
        .lock()
        .ok()
        .and_then(|mut areas| areas.pop())
        .unwrap_or_default();
    let verified = verify_in(&mut area, password, hash);
    if let Ok(mut areas) = WORK_AREAS.lock() {
        areas.push(area);
    }
    verified
}

/// [`verify_now`] in `area` (grown as the hash's parameters need). The comparison is
/// in constant time ([`Output`]'s equality).
fn verify_in(area: &mut Vec<Block>, password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if area.len() < blocks {
        area.resize(blocks, Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut computed,
            &mut area[..blocks],
        )
        .is_ok()
        && Output::new(&computed).is_ok_and(|computed| computed == expected)
}

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String> {
    let hashed = HASHING.run(move || hash_now(&password)).await?;
    Ok(hashed.map_err(|error| anyhow::anyhow!("hashing a password: {error}"))?)
}

/// Whether `password` matches `hash`; with no hash (no such account), checks a dummy
/// one and answers false, taking the same time.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool> {
    HASHING
        .run(move || match hash {
            Some(hash) => verify_now(&password, &hash),
            None => {
                let _ = verify_now(&password, &UNKNOWN_USER_HASH);
                false
            }
        })
        .await
}

/// Builds the dummy hash ahead of the first sign-in, so that one is not slower.
pub fn warm_up() {
    LazyLock::force(&UNKNOWN_USER_HASH);
}

/// A random password for a generated account: 20 characters from an alphabet without
/// look-alikes (about 115 bits).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashed = hash("correct horse battery".to_owned()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
        assert!(
            verify("correct horse battery".to_owned(), Some(hashed.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".to_owned(), Some(hashed))
                .await
                .unwrap()
        );
        assert!(!verify("anything".to_owned(), None).await.unwrap());
        assert!(
            !verify("x".to_owned(), Some("not a hash".to_owned()))
                .await
                .unwrap()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_run_on_at_most_the_gates_permits_at_once() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let gate = Arc::new(Gate::new(2, 100));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            all.spawn(async move {
                gate.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Stands in for the hash's work, long enough for the others to pile up.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            });
        }
        while let Some(done) = all.join_next().await {
            done.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(HASHING.max_waiting, (cores / 2).max(1) * WAITING_PER_PERMIT);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_the_waiting_still_run() {
        use std::sync::Arc;
        let gate = Arc::new(Gate::new(1, 2));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..3 {
            let (gate, held) = (gate.clone(), held.clone());
            all.spawn(async move {
                gate.run(move || {
                    // Each waits for its release: one runs, two wait behind it.
                    held.lock().unwrap().recv().unwrap();
                })
                .await
            });
        }
        while gate.waiting.load(Ordering::SeqCst) < 2 || gate.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = gate.run(|| ()).await;
        assert!(
            matches!(
                refused,
                Err(crate::server::error::Error::App(AppError::Unavailable))
            ),
            "{refused:?}"
        );
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        while let Some(done) = all.join_next().await {
            done.unwrap().unwrap();
        }
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
        gate.run(|| ()).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_while_waiting_leaves_the_queue() {
        let gate = Arc::new(Gate::new(1, 1));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let running = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(move || held.recv().unwrap()).await }
        });
        while gate.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(|| ()).await }
        });
        while gate.waiting.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        // The client goes away while its sign-in waits.
        waiter.abort();
        let _ = waiter.await;
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
        // Its place is free again: the next one queues instead of being refused.
        let next = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(|| ()).await }
        });
        while gate.waiting.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        running.await.unwrap().unwrap();
        next.await.unwrap().unwrap();
    }

    #[test]
    fn a_kept_work_area_checks_any_argon2_hash_as_the_crate_does() {
        use argon2::PasswordVerifier as _;
        let salt = SaltString::encode_b64(b"sixteen byte sal").unwrap();
        let small = Params::new(4096, 3, 1, Some(24)).unwrap();
        let hashes = [
            hash_now("open sesame").unwrap(),
            Argon2::new(Algorithm::Argon2i, Version::V0x13, small.clone())
                .hash_password(b"open sesame", &salt)
                .unwrap()
                .to_string(),
            Argon2::new(Algorithm::Argon2d, Version::V0x10, small)
                .hash_password(b"open sesame", &salt)
                .unwrap()
                .to_string(),
        ];
        // One area for all, larger hashes first and after: what is left in it from
        // one check must not matter to the next.
        let mut area = Vec::new();
        for hash in hashes.iter().chain(hashes.iter().rev()) {
            let parsed = PasswordHash::new(hash).unwrap();
            for password in ["open sesame", "open sesame ", ""] {
                assert_eq!(
                    verify_in(&mut area, password, hash),
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                    "{hash} {password:?}"
                );
            }
            assert!(verify_in(&mut area, "open sesame", hash));
        }
        assert_eq!(area.len(), Params::default().block_count());
        for broken in [
            "",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
            "$scrypt$ln=1,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        ] {
            assert!(!verify_in(&mut area, "open sesame", broken), "{broken}");
        }
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_now("same").unwrap(), hash_now("same").unwrap());
        let password = random_password();
        assert_eq!(password.len(), 20);
        assert_ne!(password, random_password());
    }
}

/// The shipped list of common passwords (see the file's header).
const COMMON: &str = include_str!("common-passwords.txt");

/// Why a new password is refused, or `None`: the shared length rules, then
/// [`is_common`], then a password that is the account's own email or its name part.
pub fn policy_problem(password: &str, email: Option<&str>) -> Option<String> {
    if let Some(problem) = crate::domain::account::password_problem(password) {
        return Some(problem);
    }
    if is_common(password) {
        return Some(
            "That password is among the most common ones, which are tried first. \
             Choose a longer phrase of your own."
                .to_owned(),
        );
    }
    let root = decoration_removed(&password.trim().to_lowercase()).to_owned();
    if let Some(email) = email.map(|email| email.trim().to_lowercase()) {
        let local = email.split('@').next().unwrap_or_default();
        if root == email || root == local {
            return Some("The password must not be the account's email.".to_owned());
        }
    }
    None
}

/// `text` without the digits and punctuation at its end ("Password2024!" → "password").
fn decoration_removed(text: &str) -> &str {
    text.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation())
}

/// Whether `password` is a common one: on the shipped list, or a listed one followed
/// only by digits and punctuation, or one character repeated.
pub fn is_common(password: &str) -> bool {
    let lowered = password.trim().to_lowercase();
    let root = decoration_removed(&lowered);
    let mut chars = lowered.chars();
    let first = chars.next();
    if first.is_some() && chars.all(|c| Some(c) == first) {
        return true;
    }
    COMMON
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .any(|common| common == lowered || common == root)
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn common_passwords_and_their_decorated_forms_are_refused() {
        for common in [
            "password1234",
            "Password2024!",
            "123456789012",
            "qwertyuiop123",
            "iloveyou1234",
            "aaaaaaaaaaaaaaaa",
            "CorrectHorseBatteryStaple",
        ] {
            assert!(is_common(common), "{common}");
            assert!(policy_problem(common, None).is_some(), "{common}");
        }
        for fine in [
            "a long enough password",
            "tangerine orbit 42 ladder",
            "Zq8!vL2#rT9@",
        ] {
            assert!(!is_common(fine), "{fine}");
        }
    }

    #[test]
    fn the_policy_refuses_short_ones_and_the_email_without_echoing() {
        let secret = "short";
        let problem = policy_problem(secret, None).unwrap();
        assert!(problem.contains("at least 12"));
        assert!(!problem.contains(secret));
        let email = policy_problem("ada.lovelace@example.com", Some("Ada.Lovelace@example.com"));
        assert!(email.is_some());
        assert!(policy_problem("ada.lovelace2024!", Some("ada.lovelace@example.com")).is_some());
        assert!(policy_problem("admin password for tests", Some("admin@x.example")).is_none());
        assert!(policy_problem("tangerine orbit 42 ladder", Some("ada@example.com")).is_none());
    }
}
