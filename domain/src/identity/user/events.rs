use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Events of the user stream. Variant names are persisted: renaming one needs an upcaster.
///
/// Fields ending in `_hash` are secrets: the relay strips them from what it publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
        at: DateTime<Utc>,
    },
    UserLoggedIn {
        at: DateTime<Utc>,
    },
    LoginFailed {
        at: DateTime<Utc>,
        /// Failures inside the current window, this one included.
        recent_failures: u32,
    },
    AccountLocked {
        at: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    EmailVerified {
        at: DateTime<Utc>,
    },
    ProfileUpdated {
        first_name: String,
        last_name: String,
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
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
