//! Secrets: random tokens, their hashes, and password hashing.
//!
//! Tokens and session secrets are 160 random bits; only their SHA-256 is
//! stored, which is enough for secrets of that strength (no need for a slow
//! hash). Passwords are people's, so they get argon2.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// A fresh secret with a readable prefix, e.g. `tfy_3f9a…` (44 characters).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes[..]);
    format!("{prefix}{}", hex::encode(bytes))
}

/// SHA-256 of a secret, hex: what is stored and looked up.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compare two secrets in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// argon2id PHC string of a password.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// Password hashing runs on one dedicated thread, one hash at a time.
///
/// argon2 takes 19 MiB a hash. Run on the blocking pool, each of its threads
/// got its own malloc arena that kept those megabytes: 2.5 GB of resident
/// memory after 200 logins in the benchmark. One thread keeps it at one
/// arena; the queue also spaces out password guessing.
type Job = Box<dyn FnOnce() + Send>;

static HASHER: std::sync::LazyLock<std::sync::mpsc::Sender<Job>> = std::sync::LazyLock::new(|| {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("password-hasher".into())
        .spawn(move || {
            for job in rx {
                job();
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the password hasher thread");
    }
    tx
});

async fn on_hasher<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    HASHER
        .send(Box::new(move || {
            let _ = tx.send(f());
        }))
        .map_err(|_| anyhow::anyhow!("the password hasher has stopped"))?;
    rx.await
        .map_err(|_| anyhow::anyhow!("the password hasher has stopped"))
}

/// [`hash_password`] on the hasher thread.
pub async fn hash_password_off(password: String) -> anyhow::Result<String> {
    on_hasher(move || hash_password(&password)).await?
}

/// [`verify_password`] on the hasher thread.
pub async fn verify_password_off(password: String, phc: String) -> anyhow::Result<bool> {
    on_hasher(move || verify_password(&password, &phc)).await
}

/// A hash of a random password nobody knows, checked against when the user
/// does not exist so the answer takes as long as for a real user.
pub static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&new_secret("")).unwrap_or_default());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").expect("hashes");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horse ", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert!(!verify_password("x", &DUMMY_HASH));
    }

    #[test]
    fn secrets_are_random_and_compared_exactly() {
        let a = new_secret("tfy_");
        assert_eq!(a.len(), 44);
        assert_ne!(a, new_secret("tfy_"));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &new_secret("tfy_")));
        assert!(!same("abc", "abcd"));
        assert_eq!(hash("x").len(), 64);
    }
}
