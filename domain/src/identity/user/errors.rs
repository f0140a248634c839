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
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}
