//! API keys for the document service: `Authorization: Api-Key dc_<id>_<secret>`.
use chrono::Utc;

use annals_contracts::Position;
use annals_domain::identity::{ApiKeyCommand, ApiKeyError, KeyScope};

use super::{Identity, otp, random_token};
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;

const PREFIX: &str = "dc";

/// A key as shown once at creation.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key_id: String,
    pub prefix: String,
    pub key: String,
}

impl From<CommandError<ApiKeyError>> for AppError {
    fn from(e: CommandError<ApiKeyError>) -> Self {
        match e {
            CommandError::Domain(ApiKeyError::BadName) => {
                AppError::invalid("name", "must be 1 to 100 characters")
            }
            CommandError::Domain(ApiKeyError::NotFound) => {
                AppError::NotFound("no such API key".into())
            }
            CommandError::Domain(ApiKeyError::Revoked) => {
                AppError::Unauthorized("API key revoked".into())
            }
            CommandError::Domain(ApiKeyError::AlreadyExists) | CommandError::Conflict => {
                AppError::Conflict
            }
            CommandError::Unavailable(detail) => AppError::Unavailable(detail),
        }
    }
}

fn split(key: &str) -> Option<(&str, &str)> {
    let rest = key.trim().strip_prefix(PREFIX)?.strip_prefix('_')?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// The public id of a key as presented (`dc_<id>_<secret>`), if it has that shape.
pub fn key_id(key: &str) -> Option<&str> {
    split(key).map(|(id, _)| id)
}

impl Identity {
    /// A new key of `owner`'s, limited to `scope` if given (the caller checked that the
    /// database is the owner's).
    pub async fn create_api_key(
        &self,
        owner: &str,
        name: &str,
        scope: Option<KeyScope>,
        metadata: &Metadata,
    ) -> Result<(NewApiKey, Position), AppError> {
        let key_id = otp::random_code(12).to_lowercase();
        let secret = random_token(40).replace(['-', '_'], "x");
        let create = ApiKeyCommand::Create {
            key_id: key_id.clone(),
            owner: owner.to_string(),
            name: name.to_string(),
            secret_hash: otp::digest(&key_id, &secret),
            scope,
            at: Utc::now(),
        };
        let position = self.api_keys.execute(&key_id, create, metadata).await?;
        let prefix = format!("{PREFIX}_{key_id}");
        Ok((
            NewApiKey {
                key: format!("{prefix}_{secret}"),
                key_id,
                prefix,
            },
            position,
        ))
    }

    pub async fn revoke_api_key(
        &self,
        owner: &str,
        key_id: &str,
        metadata: &Metadata,
    ) -> Result<Position, AppError> {
        let revoke = ApiKeyCommand::Revoke {
            by: owner.to_string(),
            at: Utc::now(),
        };
        Ok(self.api_keys.execute(key_id, revoke, metadata).await?)
    }

    /// The owner of a valid, unrevoked key, and the database it is limited to if it is. Reads
    /// the key's stream, so a revocation counts at once. "Last used" is recorded in the
    /// background.
    pub async fn authenticate_api_key(
        &self,
        key: &str,
    ) -> Result<(String, Option<KeyScope>), AppError> {
        let invalid = || AppError::Unauthorized("invalid API key".into());
        let (key_id, secret) = split(key).ok_or_else(invalid)?;
        let stored = self.api_keys.load(key_id).await?;
        if stored.usable().is_err()
            || !otp::same_code(&stored.secret_hash, &otp::digest(key_id, secret))
        {
            return Err(invalid());
        }
        let owner = stored.owner.clone().ok_or_else(invalid)?;
        let due = stored.last_used_at.is_none_or(|last| {
            (Utc::now() - last).num_seconds()
                >= annals_domain::identity::api_key::USE_RECORD_INTERVAL_SECS
        });
        if due {
            let keys = self.api_keys.clone();
            let key_id = key_id.to_string();
            let metadata = Metadata::default().acting_as(&owner);
            tokio::spawn(async move {
                let record = ApiKeyCommand::RecordUse { at: Utc::now() };
                if let Err(e) = keys.execute(&key_id, record, &metadata).await {
                    tracing::debug!(error = %e, "API key use not recorded");
                }
            });
        }
        Ok((owner, stored.scope.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn keys_split_into_id_and_secret() {
        assert_eq!(split("dc_abc_s3cret"), Some(("abc", "s3cret")));
        assert_eq!(split("dc__s3cret"), None);
        assert_eq!(split("xx_abc_s3cret"), None);
        assert_eq!(split("dc_abc"), None);
    }
}
