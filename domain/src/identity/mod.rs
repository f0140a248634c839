//! One identity store for the three API surfaces.
pub mod api_key;
pub mod email_claim;
pub mod session;
pub mod user;

pub use api_key::{ApiKey, ApiKeyCommand, ApiKeyError, ApiKeyEvent, KeyScope};
pub use email_claim::{EmailClaim, EmailClaimCommand, EmailClaimError, EmailClaimEvent};
pub use session::{Session, SessionCommand, SessionError, SessionEvent};
pub use user::{RegisteredVia, User, UserCommand, UserError, UserEvent};

/// Normalises an email address for uniqueness: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
