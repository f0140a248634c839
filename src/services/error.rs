//! The application layer's one error type, and every domain error's mapping to it (one
//! place). Each HTTP surface maps it to its own body shape in one place: `http::errors`
//! (document service), `http::kitsu::errors`, `http::workspaces::errors`.
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input, naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Unauthorized(String),
    /// A bearer token problem; surfaces differ in how they answer each kind.
    #[error("{0}")]
    Token(crate::services::identity::TokenError),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A uniqueness rule, naming the field (e.g. an email already registered).
    #[error("{field}: {message}")]
    Duplicate { field: String, message: String },
    /// Input over a size limit, naming the field (413).
    #[error("{field}: {message}")]
    TooLarge { field: String, message: String },
    #[error("account locked until {until}")]
    Locked { until: DateTime<Utc> },
    /// Optimistic-concurrency retries ran out.
    #[error("too many concurrent changes; try again")]
    Conflict,
    /// Storage or bus trouble. The detail is logged, never sent to clients.
    #[error("service unavailable")]
    Unavailable(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl<E: std::error::Error> From<crate::es::commands::CommandError<E>> for AppError
where
    AppError: From<E>,
{
    fn from(e: crate::es::commands::CommandError<E>) -> Self {
        match e {
            crate::es::commands::CommandError::Domain(e) => e.into(),
            crate::es::commands::CommandError::Conflict => AppError::Conflict,
            crate::es::commands::CommandError::Unavailable(detail) => AppError::Unavailable(detail),
        }
    }
}

impl From<annals_domain::identity::UserError> for AppError {
    fn from(e: annals_domain::identity::UserError) -> Self {
        use annals_domain::identity::UserError;
        match e {
            UserError::AlreadyRegistered => AppError::Duplicate {
                field: "email".into(),
                message: "is already registered".into(),
            },
            UserError::NotRegistered => AppError::NotFound("user not found".into()),
            UserError::Locked { until } => AppError::Locked { until },
            UserError::WrongCredentials => AppError::Unauthorized("invalid credentials".into()),
            UserError::Invalid { field, message } => AppError::invalid(field, message),
            UserError::UnknownField(ref field) => AppError::invalid(field.clone(), e.to_string()),
            UserError::Inactive => AppError::Forbidden("the account is inactive".into()),
            UserError::BadResetToken => AppError::invalid("token", "Wrong or expired token."),
            UserError::NoSetupStarted => AppError::invalid("otp", "start the setup first"),
            UserError::AlreadyEnabled => AppError::invalid("otp", "is already enabled"),
            UserError::NotEnabled => {
                AppError::invalid("otp", "No two factor authentication enabled.")
            }
            UserError::NoCodeSent => AppError::invalid("email_otp", "no valid code was sent"),
            UserError::BadRecoveryCode => {
                AppError::invalid("recovery_code", "unknown or already used")
            }
        }
    }
}

impl From<annals_domain::identity::EmailClaimError> for AppError {
    fn from(e: annals_domain::identity::EmailClaimError) -> Self {
        use annals_domain::identity::EmailClaimError;
        match e {
            EmailClaimError::Taken => AppError::Duplicate {
                field: "email".into(),
                message: "is already registered".into(),
            },
            EmailClaimError::NotHolder => AppError::Conflict,
        }
    }
}

impl From<annals_domain::workspaces::BucketError> for AppError {
    fn from(e: annals_domain::workspaces::BucketError) -> Self {
        match e {
            annals_domain::workspaces::BucketError::NotFound => {
                AppError::NotFound("bucket not found".into())
            }
            annals_domain::workspaces::BucketError::AlreadyExists => AppError::Conflict,
            annals_domain::workspaces::BucketError::UserNotFound
            | annals_domain::workspaces::BucketError::InvitationNotFound
            | annals_domain::workspaces::BucketError::ServerNotFound
            | annals_domain::workspaces::BucketError::PaymentMethodNotFound => {
                AppError::NotFound(e.to_string())
            }
            annals_domain::workspaces::BucketError::Forbidden(m)
            | annals_domain::workspaces::BucketError::PaymentRequired(m)
            | annals_domain::workspaces::BucketError::PlanNotAllowed(m) => {
                AppError::Forbidden(m.into())
            }
            annals_domain::workspaces::BucketError::MemberLimitReached
            | annals_domain::workspaces::BucketError::ServerLimitReached
            | annals_domain::workspaces::BucketError::BadSecret => {
                AppError::Forbidden(e.to_string())
            }
            annals_domain::workspaces::BucketError::TrialNotAllowed => {
                AppError::invalid("trial", "can't claim trial")
            }
            annals_domain::workspaces::BucketError::Invalid { field, message } => {
                AppError::invalid(field, message)
            }
        }
    }
}

impl From<annals_domain::workspaces::AccountError> for AppError {
    fn from(e: annals_domain::workspaces::AccountError) -> Self {
        match e {
            annals_domain::workspaces::AccountError::BucketLimitReached => {
                AppError::Forbidden(e.to_string())
            }
            annals_domain::workspaces::AccountError::TrialAlreadyUsed => {
                AppError::invalid("trial", "can't claim trial: only one trial per account")
            }
        }
    }
}

impl From<annals_domain::kitsu::RecordError> for AppError {
    fn from(e: annals_domain::kitsu::RecordError) -> Self {
        use annals_domain::kitsu::RecordError;
        // The messages are Zou's sanitized database-error texts (reference 2.2).
        match e {
            RecordError::UnknownModel(route) => AppError::NotFound(format!("no model {route}")),
            RecordError::UnknownField { ref field, .. } => AppError::invalid(field, e.to_string()),
            RecordError::Missing { field } => {
                AppError::invalid(field, "A required field is missing.")
            }
            RecordError::Invalid { field, .. } => {
                AppError::invalid(field, "One of the provided values has an invalid format.")
            }
            RecordError::Refused { field, message } => AppError::invalid(field, message),
            RecordError::AlreadyExists => AppError::Conflict,
            RecordError::NotFound => AppError::NotFound("no such record".into()),
        }
    }
}

impl From<annals_domain::kitsu::CalendarError> for AppError {
    fn from(e: annals_domain::kitsu::CalendarError) -> Self {
        use annals_domain::kitsu::CalendarError;
        match e {
            // The service names the model's own message (see `Records::hold_days`).
            CalendarError::Overlaps => AppError::Duplicate {
                field: "date".into(),
                message: e.to_string(),
            },
            CalendarError::Reversed => {
                AppError::invalid("end_date", annals_domain::kitsu::INTEGRITY)
            }
        }
    }
}

impl From<annals_domain::kitsu::UniqueClaimError> for AppError {
    fn from(e: annals_domain::kitsu::UniqueClaimError) -> Self {
        use annals_domain::kitsu::UniqueClaimError;
        match e {
            UniqueClaimError::Taken => AppError::Duplicate {
                field: "value".into(),
                message: "A record with the same unique values already exists.".into(),
            },
            UniqueClaimError::NotHolder => AppError::Conflict,
        }
    }
}

impl From<annals_contracts::LogError> for AppError {
    fn from(e: annals_contracts::LogError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl From<annals_contracts::StoreError> for AppError {
    fn from(e: annals_contracts::StoreError) -> Self {
        match e {
            annals_contracts::StoreError::InvalidQuery(m) => AppError::invalid("filters", m),
            annals_contracts::StoreError::Unavailable(m) => AppError::Unavailable(m),
        }
    }
}

impl From<annals_domain::datacube::DatabaseError> for AppError {
    fn from(e: annals_domain::datacube::DatabaseError) -> Self {
        use annals_domain::datacube::DatabaseError;
        match e {
            DatabaseError::NotFound => AppError::NotFound("database not found".into()),
            DatabaseError::AlreadyExists => AppError::Conflict,
            DatabaseError::NameTaken => AppError::Duplicate {
                field: "db_name".into(),
                message: "a database with this name already exists".into(),
            },
            DatabaseError::BadName { ref field } => AppError::invalid(
                field.clone(),
                "must be 1 to 100 letters, digits, '_' or '-'",
            ),
            DatabaseError::Reserved(_) => AppError::invalid("db_name", "is a reserved name"),
            DatabaseError::Duplicate { field, name } => {
                AppError::invalid(field, format!("\"{name}\" appears twice"))
            }
            DatabaseError::UnknownCollections(names) => AppError::invalid(
                "collection_names",
                format!("unknown collections: {}", names.join(", ")),
            ),
            DatabaseError::ConfirmationMismatch => {
                AppError::invalid("confirmation", "does not match the database name")
            }
        }
    }
}

impl From<annals_domain::datacube::DocumentError> for AppError {
    fn from(e: annals_domain::datacube::DocumentError) -> Self {
        use annals_domain::datacube::DocumentError;
        match e {
            DocumentError::AlreadyExists => AppError::Duplicate {
                field: "_id".into(),
                message: "a document with this id already exists".into(),
            },
            DocumentError::NotFound => AppError::NotFound("document not found".into()),
            e => {
                // The message without the field it starts with: the body names it apart.
                let message = e.to_string();
                let field = e.field();
                let message = message
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(&message)
                    .to_string();
                AppError::invalid(field, message)
            }
        }
    }
}
