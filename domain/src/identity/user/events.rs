use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::upcasters::UPCASTERS;
use super::{SecondFactor, User};
use crate::kitsu::FieldChange;

/// How an account came to exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisteredVia {
    /// The person signed up themselves (`POST /core/register`).
    Signup,
    /// An operator created it: `annals admin create-user`, or the bootstrap admin of a first
    /// start (`ANNALS_ADMIN_EMAIL`).
    Operator,
    /// Registered before `UserRegistered` 2.0 recorded the way in.
    #[default]
    Unrecorded,
}

/// Events of the user stream. Variant names are persisted: renaming one needs an upcaster.
///
/// Fields ending in `_hash`, `_hashes` or `_secret` are secrets: the relay strips them from
/// what it publishes (so they carry `#[serde(default)]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum UserEvent {
    UserRegistered {
        user_id: String,
        email: String,
        first_name: String,
        last_name: String,
        /// Absent in published envelopes (redacted), present in the event log.
        #[serde(default)]
        password_hash: String,
        role: String,
        /// How the account came to exist (since 2.0).
        registered_via: RegisteredVia,
        at: DateTime<Utc>,
    },
    UserLoggedIn {
        at: DateTime<Utc>,
        /// The client address the login came from (absent in events before throttling was
        /// per address).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
    },
    LoginFailed {
        at: DateTime<Utc>,
        /// Failures from this client inside the current window, this one included.
        recent_failures: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
    },
    /// Logins from `client` are refused until `until` (the owner elsewhere still gets in).
    AccountLocked {
        at: DateTime<Utc>,
        until: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client: Option<String>,
    },
    EmailVerified {
        at: DateTime<Utc>,
    },
    ProfileUpdated {
        first_name: String,
        last_name: String,
        at: DateTime<Utc>,
    },

    /// Details of the person as the tracker knows them (phone, desktop login, contract,
    /// departments, ...: what is not the account's own) changed; each change holds the field,
    /// its value before and after. `by` is the person who made the change.
    PersonDetailsChanged {
        changes: Vec<FieldChange>,
        by: String,
        at: DateTime<Utc>,
    },

    PasswordChanged {
        #[serde(default)]
        password_hash: String,
        at: DateTime<Utc>,
    },
    PasswordResetRequested {
        #[serde(default)]
        token_hash: String,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    PasswordReset {
        #[serde(default)]
        password_hash: String,
        at: DateTime<Utc>,
    },
    RoleChanged {
        role: String,
        at: DateTime<Utc>,
    },
    UserDeactivated {
        at: DateTime<Utc>,
    },
    UserReactivated {
        at: DateTime<Utc>,
    },
    SecondFactorSetupStarted {
        method: SecondFactor,
        #[serde(default)]
        otp_secret: String,
        at: DateTime<Utc>,
    },
    SecondFactorEnabled {
        method: SecondFactor,
        at: DateTime<Utc>,
    },
    SecondFactorDisabled {
        method: SecondFactor,
        at: DateTime<Utc>,
    },
    EmailOtpSent {
        counter: u64,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    EmailOtpConsumed {
        at: DateTime<Utc>,
    },
    RecoveryCodesGenerated {
        #[serde(default)]
        code_hashes: Vec<String>,
        at: DateTime<Utc>,
    },
    RecoveryCodeUsed {
        #[serde(default)]
        code_hash: String,
        at: DateTime<Utc>,
    },
    /// The person's personal data was erased (their keys deleted): from now on their email and
    /// names read as erased everywhere. `email` is the erased form of the address (see
    /// [`crate::personal`]), so read models can show it without reading older events.
    UserErased {
        email: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::UserLoggedIn { .. } => "UserLoggedIn",
            UserEvent::LoginFailed { .. } => "LoginFailed",
            UserEvent::AccountLocked { .. } => "AccountLocked",
            UserEvent::EmailVerified { .. } => "EmailVerified",
            UserEvent::ProfileUpdated { .. } => "ProfileUpdated",
            UserEvent::PersonDetailsChanged { .. } => "PersonDetailsChanged",
            UserEvent::PasswordChanged { .. } => "PasswordChanged",
            UserEvent::PasswordResetRequested { .. } => "PasswordResetRequested",
            UserEvent::PasswordReset { .. } => "PasswordReset",
            UserEvent::RoleChanged { .. } => "RoleChanged",
            UserEvent::UserDeactivated { .. } => "UserDeactivated",
            UserEvent::UserReactivated { .. } => "UserReactivated",
            UserEvent::SecondFactorSetupStarted { .. } => "SecondFactorSetupStarted",
            UserEvent::SecondFactorEnabled { .. } => "SecondFactorEnabled",
            UserEvent::SecondFactorDisabled { .. } => "SecondFactorDisabled",
            UserEvent::EmailOtpSent { .. } => "EmailOtpSent",
            UserEvent::EmailOtpConsumed { .. } => "EmailOtpConsumed",
            UserEvent::RecoveryCodesGenerated { .. } => "RecoveryCodesGenerated",
            UserEvent::RecoveryCodeUsed { .. } => "RecoveryCodeUsed",
            UserEvent::UserErased { .. } => "UserErased",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        UPCASTERS
            .current_version(User::TYPE, &self.event_type())
            .to_string()
    }
}
