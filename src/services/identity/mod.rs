//! Identity for all surfaces: registration, login, tokens, email verification.
pub mod admin;
pub mod api_keys;
mod credentials;
mod login;
pub mod otp;
mod passwords;
mod person_actions;
pub mod persons;
mod second_factor;
mod service;
mod sessions;
mod tokens;

pub use api_keys::NewApiKey;
pub use login::{LoginFailure, LoginRequest, LoginSuccess, Proof};
pub use passwords::{PasswordError, Passwords};
pub use second_factor::TotpSetup;
pub use service::{Identity, Registration, TokenPair, claim_id, validate_email};
pub use sessions::Authenticated;
pub use tokens::{Claims, TokenError, TokenKind, Tokens};

use rand::RngExt;

/// A random URL-safe token of `len` characters.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
