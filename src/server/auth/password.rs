//! Password hashing: Argon2id with the argon2 crate's defaults (19 MiB, 2 passes, one
//! lane: the OWASP recommendation), in the PHC string format so the parameters travel
//! with each hash. Hashing is deliberately slow, so it runs on the blocking pool,
//! never on the async workers, and only on half the cores at once: a burst of
//! sign-ins queues for them instead of taking every core from the searches and pages
//! of the people already signed in (the load test's peak: Argon2 was a third of the
//! server's CPU and everything else waited seconds behind it).

use std::sync::LazyLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, errors::Error as HashError},
};
use rand::RngCore as _;

use crate::server::error::Result;

/// Hashes computed at once: half the cores, at least one.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new((cores / 2).max(1))
});

/// Runs a hash computation on the blocking pool once a hashing permit is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = HASHING.acquire().await.map_err(anyhow::Error::from)?;
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(anyhow::Error::from)?)
}

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

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String> {
    let hashed = hashing(move || hash_now(&password)).await?;
    Ok(hashed.map_err(|error| anyhow::anyhow!("hashing a password: {error}"))?)
}

/// Whether `password` matches `hash`; with no hash (no such account), checks a dummy
/// one and answers false, taking the same time.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool> {
    hashing(move || match hash {
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
    async fn hashes_run_on_at_most_half_the_cores_at_once() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (running, most) = (running.clone(), most.clone());
            all.spawn(hashing(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Stands in for the hash's work, long enough for the others to pile up.
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        while let Some(done) = all.join_next().await {
            done.unwrap().unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert!(most.load(Ordering::SeqCst) >= 1);
        assert!(most.load(Ordering::SeqCst) <= (cores / 2).max(1));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_now("same").unwrap(), hash_now("same").unwrap());
        let password = random_password();
        assert_eq!(password.len(), 20);
        assert_ne!(password, random_password());
    }
}
