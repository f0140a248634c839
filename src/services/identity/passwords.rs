//! Password hashing with argon2id (OWASP parameters: m = 19 MiB, t = 2, p = 1), always off the
//! async runtime, and a strength check.
use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password: {0}")]
    Weak(String),
    #[error("hashing failed: {0}")]
    Internal(String),
}

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 1024;

#[derive(Clone)]
pub struct Passwords {
    /// Hash of a random password, verified against when the account does not exist, so that
    /// unknown emails cost the same time as wrong passwords.
    decoy: Arc<String>,
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Passwords {
    pub fn new() -> Self {
        let decoy = hash_blocking(&super::random_token(32)).expect("decoy hash");
        Self {
            decoy: Arc::new(decoy),
        }
    }

    /// Refuses passwords that are too short, too long or easy to guess (zxcvbn score < 2),
    /// taking the person's own details into account.
    pub fn check_strength(
        &self,
        password: &str,
        user_inputs: &[&str],
    ) -> Result<(), PasswordError> {
        let chars = password.chars().count();
        if chars < MIN_LENGTH {
            return Err(PasswordError::Weak(format!(
                "must be at least {MIN_LENGTH} characters"
            )));
        }
        if password.len() > MAX_LENGTH {
            return Err(PasswordError::Weak(format!(
                "must be at most {MAX_LENGTH} bytes"
            )));
        }
        let entropy = zxcvbn::zxcvbn(password, user_inputs);
        if entropy.score() < zxcvbn::Score::Two {
            let hint = entropy
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "add more words or characters".into());
            return Err(PasswordError::Weak(format!(
                "is too easy to guess ({hint})"
            )));
        }
        Ok(())
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|e| PasswordError::Internal(e.to_string()))?
    }

    /// `None` as the stored hash means "no such account": the decoy is checked instead and the
    /// answer is always false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let (hash, real) = match stored {
            Some(h) if !h.is_empty() => (h, true),
            _ => (self.decoy.as_str().to_string(), false),
        };
        let ok = tokio::task::spawn_blocking(move || {
            hasher()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        ok && real
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new();
        let hash = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
        );
        assert!(
            !passwords
                .verify("wrong horse battery".into(), Some(hash))
                .await
        );
        assert!(!passwords.verify("correct horse battery".into(), None).await);
    }

    #[test]
    fn weak_passwords_are_refused() {
        let passwords = Passwords::new();
        assert!(passwords.check_strength("short", &[]).is_err());
        assert!(passwords.check_strength("password123", &[]).is_err());
        assert!(passwords.check_strength("qwertyuiop", &[]).is_err());
        assert!(
            passwords
                .check_strength("a-strong-and-secure-password", &[])
                .is_ok()
        );
    }
}
