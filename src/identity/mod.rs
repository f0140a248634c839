//! Identity for all surfaces: registration, login, tokens, email verification.
mod passwords;
mod service;
mod tokens;

pub use passwords::{PasswordError, Passwords};
pub use service::{Identity, Registration, TokenPair};
pub use tokens::{Claims, TokenKind, Tokens};

use rand::RngExt;

/// A random URL-safe token of `len` characters.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
