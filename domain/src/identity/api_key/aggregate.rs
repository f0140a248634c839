use chrono::{DateTime, Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::decide::Decide;

/// "Last used" is recorded at most this often, so that busy keys do not flood the log.
pub const USE_RECORD_INTERVAL_SECS: i64 = 60;

/// What a key limited to one database may do there (it may do nothing elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyScope {
    pub database_id: String,
    /// Reads only: no insert, update, delete, import or drop.
    #[serde(default)]
    pub read_only: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: String,
    pub owner: Option<String>,
    pub name: String,
    pub secret_hash: String,
    pub revoked: bool,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `None`: every database of the owner, read and write.
    #[serde(default)]
    pub scope: Option<KeyScope>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApiKeyCommand {
    Create {
        key_id: String,
        owner: String,
        name: String,
        secret_hash: String,
        scope: Option<KeyScope>,
        at: DateTime<Utc>,
    },
    RecordUse {
        at: DateTime<Utc>,
    },
    Revoke {
        by: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum ApiKeyEvent {
    ApiKeyCreated {
        key_id: String,
        owner: String,
        name: String,
        #[serde(default)]
        secret_hash: String,
        /// A key limited to one database (absent: all of the owner's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<KeyScope>,
        at: DateTime<Utc>,
    },
    ApiKeyUsed {
        at: DateTime<Utc>,
    },
    ApiKeyRevoked {
        at: DateTime<Utc>,
    },
}

impl DomainEvent for ApiKeyEvent {
    fn event_type(&self) -> String {
        match self {
            ApiKeyEvent::ApiKeyCreated { .. } => "ApiKeyCreated",
            ApiKeyEvent::ApiKeyUsed { .. } => "ApiKeyUsed",
            ApiKeyEvent::ApiKeyRevoked { .. } => "ApiKeyRevoked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("API key already exists")]
    AlreadyExists,
    #[error("API key not found")]
    NotFound,
    #[error("API key is revoked")]
    Revoked,
    #[error("name: must be 1 to 100 characters")]
    BadName,
}

impl Decide for ApiKey {
    fn decide(&self, command: ApiKeyCommand) -> Result<Vec<ApiKeyEvent>, ApiKeyError> {
        Ok(match command {
            ApiKeyCommand::Create {
                key_id,
                owner,
                name,
                secret_hash,
                scope,
                at,
            } => {
                if self.owner.is_some() {
                    return Err(ApiKeyError::AlreadyExists);
                }
                let name = name.trim().to_string();
                if name.is_empty() || name.chars().count() > 100 {
                    return Err(ApiKeyError::BadName);
                }
                vec![ApiKeyEvent::ApiKeyCreated {
                    key_id,
                    owner,
                    name,
                    secret_hash,
                    scope,
                    at,
                }]
            }
            ApiKeyCommand::RecordUse { at } => {
                self.usable()?;
                let due = self
                    .last_used_at
                    .is_none_or(|last| at - last >= Duration::seconds(USE_RECORD_INTERVAL_SECS));
                if due {
                    vec![ApiKeyEvent::ApiKeyUsed { at }]
                } else {
                    vec![]
                }
            }
            ApiKeyCommand::Revoke { by, at } => {
                // Someone else's key looks like no key at all.
                if self.owner.as_deref() != Some(by.as_str()) {
                    return Err(ApiKeyError::NotFound);
                }
                if self.revoked {
                    vec![]
                } else {
                    vec![ApiKeyEvent::ApiKeyRevoked { at }]
                }
            }
        })
    }
}

impl Aggregate for ApiKey {
    const TYPE: &'static str = "api_key";
    type Command = ApiKeyCommand;
    type Event = ApiKeyEvent;
    type Error = ApiKeyError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ApiKeyCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ApiKeyError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: ApiKeyEvent) {
        match event {
            ApiKeyEvent::ApiKeyCreated {
                key_id,
                owner,
                name,
                secret_hash,
                scope,
                ..
            } => {
                self.key_id = key_id;
                self.owner = Some(owner);
                self.name = name;
                self.secret_hash = secret_hash;
                self.scope = scope;
            }
            ApiKeyEvent::ApiKeyUsed { at } => self.last_used_at = Some(at),
            ApiKeyEvent::ApiKeyRevoked { .. } => self.revoked = true,
        }
    }
}

impl ApiKey {
    /// A key authenticates only if it exists and is not revoked.
    pub fn usable(&self) -> Result<(), ApiKeyError> {
        match (&self.owner, self.revoked) {
            (None, _) => Err(ApiKeyError::NotFound),
            (Some(_), true) => Err(ApiKeyError::Revoked),
            (Some(_), false) => Ok(()),
        }
    }
}
