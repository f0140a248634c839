use chrono::{DateTime, Utc};

use super::RegisteredVia;

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
        registered_via: RegisteredVia,
        at: DateTime<Utc>,
    },
    /// A person made by a studio manager through the tracker (Zou's `POST /data/persons`):
    /// `input` is the create's body without the password (names, email, role, active and the
    /// details), `password_hash` empty for a person without a password yet.
    RegisterPerson {
        user_id: String,
        input: serde_json::Map<String, serde_json::Value>,
        password_hash: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// A change of a person through the tracker (Zou's `PUT /data/persons/<id>`): names,
    /// role, active and details in one decision. Keys that are not the person's, or that
    /// `as_admin` is needed for, are ignored, as Zou ignores them.
    UpdatePerson {
        input: serde_json::Map<String, serde_json::Value>,
        as_admin: bool,
        by: String,
        at: DateTime<Utc>,
    },
    /// Records a login attempt whose password check already happened.
    RecordLoginAttempt {
        password_ok: bool,
        at: DateTime<Utc>,
        /// The client's address: failures and locks count per (account, client), so a third
        /// party guessing passwords cannot lock the owner out.
        client: Option<String>,
    },
    VerifyEmail {
        at: DateTime<Utc>,
    },
    /// Erases the person's personal data (see [`crate::personal`]); asking twice is harmless.
    Erase {
        at: DateTime<Utc>,
    },
    UpdateProfile {
        first_name: Option<String>,
        last_name: Option<String>,
        at: DateTime<Utc>,
    },
    ChangePassword {
        password_hash: String,
        at: DateTime<Utc>,
    },
    /// A reset token was mailed; only its hash is kept.
    RequestPasswordReset {
        token_hash: String,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    CompletePasswordReset {
        token_hash: String,
        password_hash: String,
        at: DateTime<Utc>,
    },
    ChangeRole {
        role: String,
        at: DateTime<Utc>,
    },
    SetActive {
        active: bool,
        at: DateTime<Utc>,
    },
    /// Second factors. Codes are checked outside the domain (they need the clock and crypto);
    /// the domain keeps the state and the rules of what may follow what.
    StartSecondFactorSetup {
        method: SecondFactor,
        secret: String,
        at: DateTime<Utc>,
    },
    EnableSecondFactor {
        method: SecondFactor,
        at: DateTime<Utc>,
    },
    DisableSecondFactor {
        method: SecondFactor,
        at: DateTime<Utc>,
    },
    /// An email one-time code (HOTP with this counter) was mailed.
    SendEmailOtp {
        counter: u64,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The mailed code was used: it cannot be used again.
    ConsumeEmailOtp {
        at: DateTime<Utc>,
    },
    GenerateRecoveryCodes {
        code_hashes: Vec<String>,
        at: DateTime<Utc>,
    },
    UseRecoveryCode {
        code_hash: String,
        at: DateTime<Utc>,
    },
}

/// The second factors a user can enable.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    Totp,
    EmailOtp,
}
