//! The tracker's persons (Zou's `/data/persons`): accounts a studio manager makes, and that
//! managers or the persons themselves change. What a person is lives in the domain
//! (`annals_domain::identity::user::person`); this is the part that needs the log, the
//! password hasher and the address claims.
use chrono::Utc;
use serde_json::{Map, Value};

use annals_contracts::Position;
use annals_domain::identity::UserCommand;
use annals_domain::identity::user::person::SENSITIVE;

use super::{Identity, validate_email};
use crate::es::commands::Metadata;
use crate::services::error::AppError;

/// Zou's refusal of an address another person has.
pub const EMAIL_IN_USE: &str = "Email already in use.";

impl Identity {
    /// Makes the person a create describes (Zou's body: names, email, role, active, password,
    /// details). The address is claimed as at any registration, bots' too: one account per
    /// address. Without a password the person cannot log in until one is set (a reset).
    pub async fn register_person(
        &self,
        mut input: Map<String, Value>,
        by: &str,
        metadata: &Metadata,
    ) -> Result<(String, Position), AppError> {
        let password = match input.remove("password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p),
            Some(_) => return Err(AppError::invalid("password", "must be a string")),
        };
        for key in SENSITIVE {
            input.remove(*key);
        }
        let email = match input.get("email") {
            Some(Value::String(email)) => validate_email(email)?,
            _ => return Err(AppError::invalid("email", "A required field is missing.")),
        };
        input.insert("email".into(), Value::String(email.clone()));
        if let Some(password) = &password {
            let text = |key: &str| input.get(key).and_then(Value::as_str).unwrap_or_default();
            self.passwords.check_strength(
                password,
                &[email.as_str(), text("first_name"), text("last_name")],
            )?;
        }
        let user_id = uuid::Uuid::now_v7().to_string();
        let at = Utc::now();
        let record = async {
            let password_hash = match password {
                Some(password) => self.passwords.hash(password).await?,
                None => String::new(),
            };
            let command = UserCommand::RegisterPerson {
                user_id: user_id.clone(),
                input,
                password_hash,
                by: by.to_string(),
                at,
            };
            Ok::<_, AppError>(self.users.execute(&user_id, command, metadata).await?)
        };
        let position = self
            .under_claim(&email, &user_id, at, metadata, record)
            .await
            .map_err(|e| match e {
                AppError::Duplicate { field, .. } if field == "email" => AppError::Duplicate {
                    field,
                    message: EMAIL_IN_USE.into(),
                },
                other => other,
            })?;
        Ok((user_id, position))
    }

    /// Changes a person as an update asks (names, role, active, details, in one decision);
    /// `as_admin` says whether the fields only studio managers change may be.
    pub async fn update_person(
        &self,
        user_id: &str,
        input: Map<String, Value>,
        as_admin: bool,
        by: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let command = UserCommand::UpdatePerson {
            input,
            as_admin,
            by: by.to_string(),
            at: Utc::now(),
        };
        Ok(self.users.execute(user_id, command, metadata).await?)
    }
}
