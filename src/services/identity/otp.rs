//! One-time passwords: TOTP (RFC 6238) for authenticator apps, HOTP (RFC 4226) for mailed
//! codes, and random codes and digests for reset tokens and recovery codes.
use rand::RngExt;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

/// A fresh base32 secret (160 bits, as RFC 4226 recommends).
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::from(bytes.to_vec()).to_base32()
}

fn generator(secret: &str, step: u64, skew: u16, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_step_duration(step)
        .with_skew(skew)
        .with_account_name(account)
        .with_issuer(Some("annals"))
        .build()
        .ok()
}

/// The `otpauth://` URI an authenticator app scans.
pub fn provisioning_uri(secret: &str, account: &str) -> Option<String> {
    generator(secret, 30, 1, account)?.to_url().ok()
}

/// Checks a 6-digit TOTP code, one 30 s step of clock drift either way.
pub fn verify_totp(secret: &str, code: &str, unix_time: u64) -> bool {
    generator(secret, 30, 1, "annals").is_some_and(|t| t.check(code.trim(), unix_time).is_some())
}

pub fn totp_now(secret: &str, unix_time: u64) -> Option<String> {
    Some(
        generator(secret, 30, 1, "annals")?
            .generate(unix_time)
            .to_string(),
    )
}

/// HOTP: a TOTP whose "time" is the counter and whose step is one.
pub fn hotp(secret: &str, counter: u64) -> Option<String> {
    Some(
        generator(secret, 1, 0, "annals")?
            .generate(counter)
            .to_string(),
    )
}

/// Constant-time equality of two codes.
pub fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A random code of upper-case letters and digits (reset tokens, recovery codes).
pub fn random_code(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// SHA-256 hex digest, salted with a context. Enough for high-entropy random secrets
/// (reset tokens, recovery codes, API keys); passwords use argon2id instead.
pub fn digest(context: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(context.as_bytes());
    hasher.update(b":");
    hasher.update(secret.trim().to_uppercase().as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_codes_verify_within_one_step() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = totp_now(&secret, now).unwrap();
        assert_eq!(code.len(), 6);
        assert!(verify_totp(&secret, &code, now));
        assert!(verify_totp(&secret, &code, now + 30));
        assert!(!verify_totp(&secret, &code, now + 90));
        assert!(
            provisioning_uri(&secret, "ada@example.com")
                .unwrap()
                .starts_with("otpauth://totp/")
        );
    }

    #[test]
    fn hotp_matches_rfc_4226_test_vectors() {
        // RFC 4226 appendix D: secret "12345678901234567890".
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let expected = ["755224", "287082", "359152", "969429", "338314"];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(&secret, counter as u64).unwrap(), *code);
        }
    }

    #[test]
    fn digests_ignore_case_and_depend_on_context() {
        assert_eq!(digest("u1", "abc"), digest("u1", "ABC"));
        assert_ne!(digest("u1", "ABC"), digest("u2", "ABC"));
        assert!(same_code("123456", "123456"));
        assert!(!same_code("123456", "123457"));
    }
}
