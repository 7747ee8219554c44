//! Password hashing (argon2id) and the password policy.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::DomainError;

/// Minimum length of a password chosen by a user.
pub const MIN_LENGTH: usize = 10;
/// Maximum length; bounds the hashing work an attacker can ask for.
pub const MAX_LENGTH: usize = 128;

/// Checks the policy: 10–128 characters with at least one letter and one digit,
/// and not one character repeated.
pub fn check_policy(field: &str, password: &str) -> Result<(), DomainError> {
    let length = password.chars().count();
    let problem = if length < MIN_LENGTH {
        Some(format!("must have at least {MIN_LENGTH} characters"))
    } else if length > MAX_LENGTH {
        Some(format!("must have at most {MAX_LENGTH} characters"))
    } else if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        Some("must contain letters and digits".to_owned())
    } else if password.chars().all(|c| password.starts_with(c)) {
        Some("must not repeat a single character".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(DomainError::validation(field, message)),
        None => Ok(()),
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Whether `password` matches the stored PHC hash. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// How many hashes (or verifications) run at once in this process; set once at
/// startup with [`limit_concurrency`]. Process-wide on purpose: the resource it
/// shares out is this process's CPU, whatever context a caller has.
static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
/// Longest wait for a hashing slot before the caller is told to come back.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Caps concurrent argon2 work at `slots` (the first call wins; the default is
/// the number of CPUs).
pub fn limit_concurrency(slots: usize) {
    let _ = SLOTS.set(tokio::sync::Semaphore::new(slots.max(1)));
}

/// Runs `work` (argon2) on the blocking pool once a slot is free. A flood of
/// logins queues here for at most a few seconds and is then refused with
/// [`DomainError::RateLimited`], instead of tying up every blocking thread.
pub(crate) async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
    let slots = SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));
    let _slot = match tokio::time::timeout(SLOT_WAIT, slots.acquire()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) | Err(_) => return Err(DomainError::RateLimited { retry_after_secs: 1 }),
    };
    tokio::task::spawn_blocking(work).await.map_err(|e| DomainError::Unexpected(anyhow::anyhow!("password hashing panicked: {e}")))
}

/// A hash of a random password, verified against when the account does not exist
/// so that a login for an unknown e-mail costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::tokens::random_token(24)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() -> anyhow::Result<()> {
        let phc = hash("correct horse 42")?;
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse 42", &phc));
        assert!(!verify("correct horse 43", &phc));
        assert!(!verify("x", "not a hash"));
        Ok(())
    }

    #[test]
    fn the_policy_rejects_short_letterless_digitless_and_repeated_passwords() {
        assert!(check_policy("p", "abc123").is_err());
        assert!(check_policy("p", "abcdefghijkl").is_err());
        assert!(check_policy("p", "123456789012").is_err());
        assert!(check_policy("p", &"a1".repeat(65)).is_err());
        assert!(check_policy("p", "sturdy-pass-2026").is_ok());
    }
}
