//! `users`: one profile document per user, served by `GET /core/me` and friends.
use annals_domain::identity::user::SecondFactor;
use annals_domain::identity::{User, UserEvent};
use annals_domain::personal::ERASED_TEXT;
use cqrs_es::Aggregate;
use serde_json::json;

use crate::{Projection, ProjectionError};
use annals_contracts::{Envelope, ViewOp};

pub const PROFILES: &str = "users";
/// The projection's name (its checkpoint's key).
pub const PROFILES_PROJECTION: &str = "user_profiles";

pub struct UserProfiles;

fn factor_field(method: SecondFactor) -> &'static str {
    match method {
        SecondFactor::Totp => "totpEnabled",
        SecondFactor::EmailOtp => "emailOtpEnabled",
    }
}

impl Projection for UserProfiles {
    fn name(&self) -> &'static str {
        PROFILES_PROJECTION
    }

    fn collections(&self) -> &'static [&'static str] {
        &[PROFILES]
    }

    /// Read by user id only; rewritten by every profile change.
    fn unindexed(&self) -> &'static [&'static str] {
        &[PROFILES]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != User::TYPE {
            return Ok(vec![]);
        }
        let decoded: UserEvent = event
            .decode()
            .map_err(|e| ProjectionError::unreadable(PROFILES_PROJECTION, event, e))?;
        let id = event.aggregateid.clone();
        let merge = |patch| ViewOp::Merge {
            collection: PROFILES.into(),
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
                registered_via,
                at,
                ..
            } => vec![ViewOp::Upsert {
                collection: PROFILES.into(),
                id: id.clone(),
                owner: Some(user_id.clone()),
                ord: None,
                doc: json!({
                    "id": user_id,
                    "email": email,
                    "firstName": first_name,
                    "lastName": last_name,
                    "role": role,
                    "registeredVia": registered_via,
                    "verified": false,
                    "active": true,
                    "totpEnabled": false,
                    "emailOtpEnabled": false,
                    "loginCount": 0,
                    "lastLoginAt": null,
                    "createdAt": at,
                    "updatedAt": at,
                }),
            }],
            UserEvent::UserLoggedIn { at, .. } => vec![
                merge(json!({"lastLoginAt": at})),
                // Not idempotent on its own: the checkpoint is what keeps redelivery harmless.
                ViewOp::Increment {
                    collection: PROFILES.into(),
                    id: id.clone(),
                    field: "loginCount".into(),
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
            UserEvent::RoleChanged { role, at } => {
                vec![merge(json!({"role": role, "updatedAt": at}))]
            }
            UserEvent::UserDeactivated { at } => {
                vec![merge(json!({"active": false, "updatedAt": at}))]
            }
            UserEvent::UserReactivated { at } => {
                vec![merge(json!({"active": true, "updatedAt": at}))]
            }
            UserEvent::SecondFactorEnabled { method, at } => {
                vec![merge(json!({factor_field(method): true, "updatedAt": at}))]
            }
            UserEvent::SecondFactorDisabled { method, at } => {
                vec![merge(json!({factor_field(method): false, "updatedAt": at}))]
            }
            // Credentials, one-time codes and the tracker's details are not part of the
            // profile.
            UserEvent::PersonDetailsChanged { .. }
            | UserEvent::PasswordChanged { .. }
            | UserEvent::PasswordResetRequested { .. }
            | UserEvent::PasswordReset { .. }
            | UserEvent::SecondFactorSetupStarted { .. }
            | UserEvent::EmailOtpSent { .. }
            | UserEvent::EmailOtpConsumed { .. }
            | UserEvent::RecoveryCodesGenerated { .. }
            | UserEvent::RecoveryCodeUsed { .. } => vec![],
            // The same values a rebuild reads from the sealed fields once the keys are gone.
            UserEvent::UserErased { email, at } => vec![merge(json!({
                "email": email,
                "firstName": ERASED_TEXT,
                "lastName": ERASED_TEXT,
                "active": false,
                "erased": true,
                "updatedAt": at,
            }))],
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
