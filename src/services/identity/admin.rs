//! Bootstrapping accounts: `annals admin create-user`, or ANNALS_ADMIN_EMAIL and
//! ANNALS_ADMIN_PASSWORD on a first start, so that a fresh install can be used.
use std::fmt;

use chrono::Utc;

use annals_domain::identity::user::ROLES;
use annals_domain::identity::{RegisteredVia, UserCommand};

use super::{Identity, Registration};
use crate::es::commands::Metadata;
use crate::services::error::AppError;

pub struct Account {
    pub email: String,
    pub password: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
}

pub enum Outcome {
    Created { user_id: String, role: String },
    RoleSet { user_id: String, role: String },
    Unchanged { user_id: String },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Created { user_id, role } => write!(f, "created user {user_id} ({role})"),
            Outcome::RoleSet { user_id, role } => write!(f, "user {user_id} now has role {role}"),
            Outcome::Unchanged { user_id } => {
                write!(f, "user {user_id} already exists with that role")
            }
        }
    }
}

/// The bootstrap admin from the environment, if both variables are set.
pub fn from_env() -> Option<Account> {
    let email = std::env::var("ANNALS_ADMIN_EMAIL")
        .ok()
        .filter(|s| !s.is_empty())?;
    let password = std::env::var("ANNALS_ADMIN_PASSWORD")
        .ok()
        .filter(|s| !s.is_empty())?;
    Some(Account {
        email,
        password,
        role: "admin".into(),
        first_name: "Admin".into(),
        last_name: String::new(),
    })
}

/// Creates the account, or gives an existing one the role (its password is left alone).
pub async fn ensure_user(identity: &Identity, account: Account) -> Result<Outcome, AppError> {
    if !ROLES.contains(&account.role.as_str()) {
        return Err(AppError::invalid(
            "role",
            format!("must be one of {}", ROLES.join(", ")),
        ));
    }
    let metadata = Metadata {
        actor: Some("admin-cli".into()),
        ..Metadata::default()
    };
    if let Some(user) = identity.user_by_email(&account.email).await? {
        if user.role == account.role {
            return Ok(Outcome::Unchanged {
                user_id: user.user_id,
            });
        }
        let change = UserCommand::ChangeRole {
            role: account.role.clone(),
            at: Utc::now(),
        };
        identity
            .users
            .execute(&user.user_id, change, &metadata)
            .await?;
        return Ok(Outcome::RoleSet {
            user_id: user.user_id,
            role: account.role,
        });
    }
    let registration = Registration {
        email: account.email,
        password: account.password,
        first_name: account.first_name,
        last_name: account.last_name,
        role: account.role.clone(),
        via: RegisteredVia::Operator,
    };
    let (user_id, _) = identity.register(registration, &metadata).await?;
    Ok(Outcome::Created {
        user_id,
        role: account.role,
    })
}
