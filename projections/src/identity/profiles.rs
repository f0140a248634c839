//! `users`: one profile document per user, served by `GET /core/me` and friends.
use annals_domain::identity::{User, UserEvent};
use cqrs_es::Aggregate;
use serde_json::json;

use crate::{Envelope, Projection, ProjectionError, ViewOp};

pub const PROFILES: &str = "users";

pub struct UserProfiles;

impl Projection for UserProfiles {
    fn name(&self) -> &'static str {
        "user_profiles"
    }

    fn collections(&self) -> &'static [&'static str] {
        &[PROFILES]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != User::TYPE {
            return Ok(vec![]);
        }
        let decoded: UserEvent = event.decode().map_err(|e| ProjectionError {
            projection: "user_profiles",
            event: event.id.clone(),
            reason: e.to_string(),
        })?;
        let id = event.aggregateid.clone();
        let merge = |patch| ViewOp::Merge {
            collection: PROFILES,
            id: id.clone(),
            patch,
        };
        Ok(match decoded {
            UserEvent::UserRegistered {
                user_id,
                email,
                first_name,
                last_name,
                role,
                at,
                ..
            } => vec![ViewOp::Upsert {
                collection: PROFILES,
                id: id.clone(),
                owner: Some(user_id.clone()),
                doc: json!({
                    "id": user_id,
                    "email": email,
                    "firstName": first_name,
                    "lastName": last_name,
                    "role": role,
                    "verified": false,
                    "loginCount": 0,
                    "lastLoginAt": null,
                    "createdAt": at,
                    "updatedAt": at,
                }),
            }],
            UserEvent::UserLoggedIn { at } => vec![
                merge(json!({"lastLoginAt": at})),
                // Not idempotent on its own: the checkpoint is what keeps redelivery harmless.
                ViewOp::Increment {
                    collection: PROFILES,
                    id: id.clone(),
                    field: "loginCount",
                    by: 1,
                },
            ],
            UserEvent::LoginFailed { .. } => vec![],
            UserEvent::AccountLocked { until, .. } => vec![merge(json!({"lockedUntil": until}))],
            UserEvent::EmailVerified { at } => {
                vec![merge(
                    json!({"verified": true, "verifiedAt": at, "updatedAt": at}),
                )]
            }
            UserEvent::ProfileUpdated {
                first_name,
                last_name,
                at,
            } => vec![merge(json!({
                "firstName": first_name,
                "lastName": last_name,
                "updatedAt": at,
            }))],
        })
    }
}
