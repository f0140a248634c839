//! `api_keys`: the keys a user may list (never their secrets); revoked keys disappear.
use annals_domain::identity::{ApiKey, ApiKeyEvent};
use cqrs_es::Aggregate;
use serde_json::json;

use crate::{Projection, ProjectionError};
use annals_contracts::{Envelope, ViewOp};

pub const API_KEYS: &str = "api_keys";

pub struct ApiKeys;

impl Projection for ApiKeys {
    fn name(&self) -> &'static str {
        "api_keys"
    }

    fn collections(&self) -> &'static [&'static str] {
        &[API_KEYS]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != ApiKey::TYPE {
            return Ok(vec![]);
        }
        let decoded: ApiKeyEvent = event
            .decode()
            .map_err(|e| ProjectionError::unreadable("api_keys", event, e))?;
        let id = event.aggregateid.clone();
        Ok(match decoded {
            ApiKeyEvent::ApiKeyCreated {
                key_id,
                owner,
                name,
                scope,
                at,
                ..
            } => {
                let mut doc = json!({
                    "id": key_id,
                    "owner": owner,
                    "name": name,
                    "prefix": format!("dc_{key_id}"),
                    "created_at": at,
                    "last_used_at": null,
                });
                // Only a limited key says so: an unlimited one reads as keys always did.
                if let Some(scope) = scope {
                    doc["database_id"] = json!(scope.database_id);
                    doc["access"] = json!(if scope.read_only {
                        "read"
                    } else {
                        "read_write"
                    });
                }
                vec![ViewOp::Upsert {
                    collection: API_KEYS.into(),
                    id,
                    owner: Some(owner.clone()),
                    ord: None,
                    doc,
                }]
            }
            ApiKeyEvent::ApiKeyUsed { at } => vec![ViewOp::Merge {
                collection: API_KEYS.into(),
                id,
                patch: json!({"last_used_at": at}),
            }],
            ApiKeyEvent::ApiKeyRevoked { .. } => vec![ViewOp::Delete {
                collection: API_KEYS.into(),
                id,
            }],
        })
    }
}
