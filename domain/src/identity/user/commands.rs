use chrono::{DateTime, Utc};

/// What can be asked of a user. Hashing and verifying passwords happens outside the domain
/// (it is slow and needs randomness); the domain only sees the outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    Register {
        user_id: String,
        email: String,
        first_name: String,
        last_name: String,
        password_hash: String,
        role: String,
        at: DateTime<Utc>,
    },
    /// Records a login attempt whose password check already happened.
    RecordLoginAttempt {
        password_ok: bool,
        at: DateTime<Utc>,
    },
    VerifyEmail {
        at: DateTime<Utc>,
    },
    UpdateProfile {
        first_name: Option<String>,
        last_name: Option<String>,
        at: DateTime<Utc>,
    },
}
