//! `kitsu_persons`: one document per live account, shaped as Zou serializes a person (see
//! `annals_domain::identity::user::person`), so `/data/persons` filters and pages them as it
//! does any tracker record. An erased account leaves, as a deleted Zou person does.
use annals_contracts::{Envelope, ViewOp};
use annals_domain::identity::user::SecondFactor;
use annals_domain::identity::user::person::{COLLECTION, full_name, person_document, registered};
use annals_domain::identity::{User, UserEvent};
use annals_domain::kitsu::zou_datetime;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde_json::{Map, Value, json};

use crate::{Projection, ProjectionError};

/// The projection's name (its checkpoint), which reads wait for.
pub const PERSONS: &str = "kitsu_persons";

pub struct KitsuPersons;

/// A patch of the person's fields, with the time it changed.
fn patch(id: &str, at: DateTime<Utc>, fields: impl IntoIterator<Item = (String, Value)>) -> ViewOp {
    let mut patch: Map<String, Value> = fields.into_iter().collect();
    patch.insert("updated_at".into(), json!(zou_datetime(at)));
    ViewOp::merge(COLLECTION, id.to_string(), Value::Object(patch))
}

fn field(name: &str, value: Value) -> (String, Value) {
    (name.to_string(), value)
}

impl Projection for KitsuPersons {
    fn name(&self) -> &'static str {
        PERSONS
    }

    fn collections(&self) -> &'static [&'static str] {
        &[COLLECTION]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != User::TYPE {
            return Ok(vec![]);
        }
        let decoded: UserEvent = event
            .decode()
            .map_err(|e| ProjectionError::unreadable(PERSONS, event, e))?;
        let id = event.aggregateid.as_str();
        Ok(match decoded {
            UserEvent::UserRegistered {
                email,
                first_name,
                last_name,
                role,
                at,
                ..
            } => {
                let fields = registered(&email, &first_name, &last_name, &role);
                vec![ViewOp::upsert(
                    COLLECTION,
                    id.to_string(),
                    person_document(id, &fields, at, at),
                )]
            }
            UserEvent::ProfileUpdated {
                first_name,
                last_name,
                at,
            } => vec![patch(
                id,
                at,
                [
                    field("full_name", json!(full_name(&first_name, &last_name))),
                    field("first_name", json!(first_name)),
                    field("last_name", json!(last_name)),
                ],
            )],
            UserEvent::RoleChanged { role, at } => {
                vec![patch(id, at, [field("role", json!(role))])]
            }
            UserEvent::UserDeactivated { at } => {
                vec![patch(id, at, [field("active", json!(false))])]
            }
            UserEvent::UserReactivated { at } => {
                vec![patch(id, at, [field("active", json!(true))])]
            }
            UserEvent::SecondFactorEnabled { method, at } => {
                vec![patch(id, at, [field(factor(method), json!(true))])]
            }
            UserEvent::SecondFactorDisabled { method, at } => {
                vec![patch(id, at, [field(factor(method), json!(false))])]
            }
            UserEvent::PersonDetailsChanged { changes, at, .. } => {
                vec![patch(id, at, changes.into_iter().map(|c| (c.field, c.new)))]
            }
            UserEvent::UserErased { .. } => vec![ViewOp::delete(COLLECTION, id.to_string())],
            // Logins, credentials, codes and the address check are not part of the person.
            UserEvent::UserLoggedIn { .. }
            | UserEvent::LoginFailed { .. }
            | UserEvent::AccountLocked { .. }
            | UserEvent::EmailVerified { .. }
            | UserEvent::PasswordChanged { .. }
            | UserEvent::PasswordResetRequested { .. }
            | UserEvent::PasswordReset { .. }
            | UserEvent::SecondFactorSetupStarted { .. }
            | UserEvent::EmailOtpSent { .. }
            | UserEvent::EmailOtpConsumed { .. }
            | UserEvent::RecoveryCodesGenerated { .. }
            | UserEvent::RecoveryCodeUsed { .. } => vec![],
        })
    }
}

fn factor(method: SecondFactor) -> &'static str {
    match method {
        SecondFactor::Totp => "totp_enabled",
        SecondFactor::EmailOtp => "email_otp_enabled",
    }
}

#[cfg(test)]
mod tests {
    use annals_contracts::{Position, StoredEvent};
    use annals_domain::identity::RegisteredVia;
    use annals_domain::kitsu::FieldChange;
    use chrono::TimeZone;
    use cqrs_es::DomainEvent;

    use super::*;

    fn envelope(event: UserEvent) -> Envelope {
        let stored = StoredEvent {
            position: Position::new(1, 1),
            aggregate_type: User::TYPE.into(),
            aggregate_id: "u1".into(),
            sequence: 1,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_value(&event).unwrap(),
            metadata: Default::default(),
            recorded_at: Utc::now(),
        };
        Envelope::from_stored(&stored, Position::ZERO)
    }

    /// The read model's document after `events`, from the ops the projection gives.
    fn replayed(events: Vec<UserEvent>) -> Option<Value> {
        let mut doc: Option<Value> = None;
        for event in events {
            for op in KitsuPersons.project(&envelope(event)).unwrap() {
                match op {
                    ViewOp::Upsert { doc: new, .. } => doc = Some(new),
                    ViewOp::Merge { patch, .. } => {
                        let (Some(Value::Object(d)), Value::Object(p)) = (&mut doc, patch) else {
                            panic!("merge before upsert");
                        };
                        d.extend(p);
                    }
                    ViewOp::Delete { .. } => doc = None,
                    other => panic!("{other:?}"),
                }
            }
        }
        doc
    }

    #[test]
    fn the_read_model_holds_the_document_the_account_gives() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2026, 11, 28, 13, 0, 0).unwrap();
        let events = vec![
            UserEvent::UserRegistered {
                user_id: "u1".into(),
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                password_hash: String::new(),
                role: "user".into(),
                registered_via: RegisteredVia::Operator,
                at,
            },
            UserEvent::PersonDetailsChanged {
                changes: vec![FieldChange {
                    field: "phone".into(),
                    old: json!(""),
                    new: json!("555"),
                }],
                by: "admin".into(),
                at,
            },
            UserEvent::RoleChanged {
                role: "manager".into(),
                at: later,
            },
            UserEvent::SecondFactorEnabled {
                method: SecondFactor::EmailOtp,
                at: later,
            },
            UserEvent::ProfileUpdated {
                first_name: "Augusta".into(),
                last_name: "King".into(),
                at: later,
            },
        ];
        let mut user = User::default();
        for event in events.clone() {
            user.apply(event);
        }
        let mut doc = replayed(events.clone()).unwrap();
        // The second factor the read model cannot know alone is derived when it is read.
        annals_domain::identity::user::person::complete(&mut doc);
        assert_eq!(doc, user.person_document());
        assert_eq!(doc["full_name"], "Augusta King");
        assert_eq!(doc["phone"], "555");
        assert_eq!(doc["updated_at"], "2026-11-28T13:00:00");

        let mut erased = events;
        erased.push(UserEvent::UserErased {
            email: "erased@erased.invalid".into(),
            at: later,
        });
        assert_eq!(replayed(erased), None);
    }
}
