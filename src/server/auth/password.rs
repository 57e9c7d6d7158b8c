//! Password hashing: Argon2id with the argon2 crate's defaults (19 MiB, 2 passes, one
//! lane: the OWASP recommendation), in the PHC string format so the parameters travel
//! with each hash.
//!
//! Hashing is deliberately slow (about 25 ms of a core), so it never runs on the async
//! workers: it has threads of its own, one per core, at the lowest scheduling priority
//! (nice 19). They use every core the searches and pages leave idle, and give way to
//! them at once. At the load test's peak, on the shared blocking pool, Argon2 was a
//! third of the server's CPU and every search and page waited seconds behind it.

use std::sync::{LazyLock, Mutex, mpsc};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, errors::Error as HashError},
};
use rand::RngCore as _;

use crate::server::error::Result;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue, started on first use.
static HASHERS: LazyLock<Mutex<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (send, receive) = mpsc::channel::<Job>();
    let receive = std::sync::Arc::new(Mutex::new(receive));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for n in 0..cores {
        let receive = receive.clone();
        let started = std::thread::Builder::new()
            .name(format!("password-hash-{n}"))
            .spawn(move || {
                lower_priority();
                loop {
                    let job = receive.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(error) = started {
            tracing::error!(%error, "could not start a password hashing thread");
        }
    }
    Mutex::new(send)
});

/// Gives the calling thread the lowest scheduling priority (Linux: per thread).
fn lower_priority() {
    // SAFETY: setpriority only reads its arguments; 0 means the calling thread on Linux.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    if result != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "could not lower the password hashing threads' priority");
    }
}

/// Runs a hash computation on the hashing threads and waits for its answer.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    HASHERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .map_err(|_| anyhow::anyhow!("the password hashing threads have stopped"))?;
    Ok(answered
        .await
        .map_err(|_| anyhow::anyhow!("a password hashing thread stopped mid-way"))?)
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

    #[tokio::test]
    async fn hashes_run_at_the_lowest_priority_on_threads_of_their_own() {
        // SAFETY (here and below): getpriority only reads its arguments.
        let before = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let (thread, priority) = hashing(|| {
            let priority = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
            (std::thread::current().name().map(str::to_owned), priority)
        })
        .await
        .unwrap();
        assert!(thread.unwrap_or_default().starts_with("password-hash-"));
        assert_eq!(priority, 19);
        // The thread that asked keeps its priority.
        assert_eq!(unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }, before);
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_now("same").unwrap(), hash_now("same").unwrap());
        let password = random_password();
        assert_eq!(password.len(), 20);
        assert_ne!(password, random_password());
    }
}
