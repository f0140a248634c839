use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UserError {
    #[error("user is already registered")]
    AlreadyRegistered,
    #[error("user does not exist")]
    NotRegistered,
    #[error("account is locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("wrong credentials")]
    WrongCredentials,
    #[error("the account is inactive")]
    Inactive,
    #[error("wrong or expired token")]
    BadResetToken,
    #[error("no second factor setup was started")]
    NoSetupStarted,
    #[error("this second factor is already enabled")]
    AlreadyEnabled,
    #[error("this second factor is not enabled")]
    NotEnabled,
    #[error("no valid one-time code was sent")]
    NoCodeSent,
    #[error("unknown or already used recovery code")]
    BadRecoveryCode,
    /// A key a person's create gives that is no attribute of Zou's person.
    #[error("'{0}' is an invalid keyword argument for Person")]
    UnknownField(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}
