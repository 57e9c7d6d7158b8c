//! Password hashing: Argon2id with the argon2 crate's defaults (19 MiB, 2 passes, one
//! lane: the OWASP recommendation), in the PHC string format so the parameters travel
//! with each hash. Hashing is deliberately slow, so it runs on the blocking pool,
//! never on the async workers.

use std::sync::LazyLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, errors::Error as HashError},
};
use rand::RngCore as _;

use crate::server::error::Result;

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
    let hashed = tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(anyhow::Error::from)?;
    Ok(hashed.map_err(|error| anyhow::anyhow!("hashing a password: {error}"))?)
}

/// Whether `password` matches `hash`; with no hash (no such account), checks a dummy
/// one and answers false, taking the same time.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool> {
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_now(&password, &hash),
        None => {
            let _ = verify_now(&password, &UNKNOWN_USER_HASH);
            false
        }
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(verified)
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

    #[test]
    fn salts_differ() {
        assert_ne!(hash_now("same").unwrap(), hash_now("same").unwrap());
        let password = random_password();
        assert_eq!(password.len(), 20);
        assert_ne!(password, random_password());
    }
}
