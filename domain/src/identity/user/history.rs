//! A person's history as the tracker shows it (`GET /data/persons/<id>/history`): what each
//! event of the user stream changed in Zou's person, read as the difference between the
//! person before and after the event, so that every event that touches a person column says
//! so without a mapping per event type.
//!
//! Secrets (the password hash, second-factor secrets, recovery codes) are named as changed,
//! never with a value. Events that change nothing of the person (sign-ins, failed attempts,
//! mailed codes, a verified address) are no change of it.
use std::collections::BTreeMap;

use cqrs_es::Aggregate;
use serde::Serialize;
use serde_json::Value;

use super::person::PersonView;
use super::{User, UserEvent};

/// One field an event changed. A secret has neither value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonChange {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// The field is a secret: it changed, its values are not shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

impl PersonChange {
    fn value(field: &str, old: Value, new: Value) -> Self {
        PersonChange {
            field: field.to_string(),
            old: Some(old),
            new: Some(new),
            secret: false,
        }
    }

    fn secret(field: &str) -> Self {
        PersonChange {
            field: field.to_string(),
            old: None,
            new: None,
            secret: true,
        }
    }
}

/// The secrets of a person, by Zou's column names (its sensitive columns), as the account
/// holds them.
fn secrets(user: &User) -> [(&'static str, Value); 4] {
    let text = |s: &Option<String>| s.clone().map(Value::String).unwrap_or(Value::Null);
    [
        ("password", Value::String(user.password_hash.clone())),
        ("totp_secret", text(&user.totp.secret)),
        ("email_otp_secret", text(&user.email_otp.secret)),
        (
            "otp_recovery_codes",
            Value::from(user.recovery_code_hashes.clone()),
        ),
    ]
}

/// The person's fields, none for an account not (yet) registered.
fn fields(user: &User) -> BTreeMap<String, Value> {
    if user.registered {
        user.person_fields()
    } else {
        BTreeMap::new()
    }
}

/// What `event` changes of the person `before` is: each field whose value differs, a
/// registration setting them from nothing, an erasure taking them to nothing (as a record's
/// create and delete do); each secret that differs by name only.
pub fn person_changes(before: &User, event: UserEvent) -> (User, Vec<PersonChange>) {
    let erasing = matches!(event, UserEvent::UserErased { .. });
    let mut after = before.clone();
    after.apply(event.clone());
    let (old, new) = (fields(before), fields(&after));
    let mut changes = Vec::new();
    if erasing {
        for (field, value) in old.into_iter().filter(|(_, v)| !v.is_null()) {
            changes.push(PersonChange::value(&field, value, Value::Null));
        }
        return (after, changes);
    }
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let (was, is) = (
            old.get(key).unwrap_or(&Value::Null),
            new.get(key).unwrap_or(&Value::Null),
        );
        if was != is {
            changes.push(PersonChange::value(key, was.clone(), is.clone()));
        }
    }
    if changes.is_empty() {
        changes = erased_changes(&old, &new, event);
    }
    for ((field, was), (_, is)) in secrets(before).into_iter().zip(secrets(&after)) {
        let set = |v: &Value| !(v.is_null() || v == "" || v == &Value::Array(vec![]));
        if was != is && (set(&was) || set(&is)) {
            changes.push(PersonChange::secret(field));
        }
    }
    (after, changes)
}

/// What a change of personal data changed once the person is erased: every value reads as
/// erased, so no value differs, but the change was made; its fields are named with what
/// they read as.
fn erased_changes(
    old: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
    event: UserEvent,
) -> Vec<PersonChange> {
    let named = |field: &str| {
        let read = |fields: &BTreeMap<String, Value>| fields.get(field).cloned();
        PersonChange::value(
            field,
            read(old).unwrap_or(Value::Null),
            read(new).unwrap_or(Value::Null),
        )
    };
    match event {
        UserEvent::ProfileUpdated { .. } => vec![named("first_name"), named("last_name")],
        UserEvent::PersonDetailsChanged { changes, .. } => changes
            .into_iter()
            .map(|c| PersonChange::value(&c.field, c.old, c.new))
            .collect(),
        _ => Vec::new(),
    }
}

/// The changes of a history entry that a caller reading the person as `view` may see: the
/// fields of that view; secrets for those who read the whole person.
pub fn visible_changes(view: PersonView, changes: &[PersonChange]) -> Vec<PersonChange> {
    changes
        .iter()
        .filter(|c| {
            if c.secret {
                view == PersonView::Full
            } else {
                view.shows(&c.field)
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::identity::user::RegisteredVia;
    use crate::kitsu::FieldChange;

    fn registered() -> (User, Vec<PersonChange>) {
        person_changes(
            &User::default(),
            UserEvent::UserRegistered {
                user_id: "0193a1b2-0000-7000-8000-000000000001".into(),
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                password_hash: "$argon2id$secret".into(),
                role: "user".into(),
                registered_via: RegisteredVia::Operator,
                at: Utc::now(),
            },
        )
    }

    fn change<'c>(changes: &'c [PersonChange], field: &str) -> Option<&'c PersonChange> {
        changes.iter().find(|c| c.field == field)
    }

    #[test]
    fn given_no_account_when_it_registers_then_its_fields_are_set_and_the_password_named() {
        let (user, changes) = registered();
        assert!(user.registered);
        assert_eq!(
            change(&changes, "email"),
            Some(&PersonChange::value(
                "email",
                Value::Null,
                json!("ada@example.com")
            ))
        );
        assert_eq!(change(&changes, "role").unwrap().new, Some(json!("user")));
        assert_eq!(
            change(&changes, "password"),
            Some(&PersonChange::secret("password"))
        );
        assert!(!serde_json::to_string(&changes).unwrap().contains("argon2"));
    }

    #[test]
    fn given_a_person_when_details_role_and_password_change_then_each_event_says_what() {
        let (user, _) = registered();
        let (user, changes) = person_changes(
            &user,
            UserEvent::PersonDetailsChanged {
                changes: vec![FieldChange {
                    field: "phone".into(),
                    old: Value::Null,
                    new: json!("+33 1"),
                }],
                by: "boss".into(),
                at: Utc::now(),
            },
        );
        assert_eq!(
            changes,
            [PersonChange::value("phone", json!(""), json!("+33 1"))]
        );
        let (user, changes) = person_changes(
            &user,
            UserEvent::RoleChanged {
                role: "supervisor".into(),
                at: Utc::now(),
            },
        );
        assert_eq!(
            changes,
            [PersonChange::value(
                "role",
                json!("user"),
                json!("supervisor")
            )]
        );
        let (user, changes) = person_changes(
            &user,
            UserEvent::PasswordChanged {
                password_hash: "$argon2id$other".into(),
                at: Utc::now(),
            },
        );
        assert_eq!(changes, [PersonChange::secret("password")]);
        let (_, changes) = person_changes(
            &user,
            UserEvent::UserLoggedIn {
                at: Utc::now(),
                client: None,
            },
        );
        assert!(changes.is_empty());
    }

    #[test]
    fn given_an_erasure_then_every_field_goes_to_nothing() {
        let (user, _) = registered();
        let (user, changes) = person_changes(
            &user,
            UserEvent::UserErased {
                email: "x@erased.invalid".into(),
                at: Utc::now(),
            },
        );
        assert!(user.erased);
        assert_eq!(
            change(&changes, "first_name"),
            Some(&PersonChange::value(
                "first_name",
                json!("Ada"),
                Value::Null
            ))
        );
    }

    #[test]
    fn given_names_read_as_erased_when_they_changed_then_the_change_is_still_named() {
        let (user, _) = person_changes(
            &User::default(),
            UserEvent::UserRegistered {
                user_id: "0193a1b2-0000-7000-8000-000000000001".into(),
                email: "x@erased.invalid".into(),
                first_name: "erased".into(),
                last_name: "erased".into(),
                password_hash: String::new(),
                role: "user".into(),
                registered_via: RegisteredVia::Operator,
                at: Utc::now(),
            },
        );
        let (_, changes) = person_changes(
            &user,
            UserEvent::ProfileUpdated {
                first_name: "erased".into(),
                last_name: "erased".into(),
                at: Utc::now(),
            },
        );
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["first_name", "last_name"]);
        assert_eq!(changes[0].new, Some(json!("erased")));
    }

    #[test]
    fn given_a_view_then_only_its_fields_are_seen_and_secrets_by_the_full_view_only() {
        let changes = [
            PersonChange::value("phone", json!(""), json!("+33 1")),
            PersonChange::value("role", json!("user"), json!("supervisor")),
            PersonChange::value("desktop_login", json!(""), json!("ada")),
            PersonChange::secret("password"),
        ];
        assert_eq!(visible_changes(PersonView::Full, &changes), changes);
        let fields = |view| -> Vec<String> {
            visible_changes(view, &changes)
                .into_iter()
                .map(|c| c.field)
                .collect()
        };
        assert_eq!(fields(PersonView::Minimal), ["role", "desktop_login"]);
        assert_eq!(fields(PersonView::Client), ["role"]);
    }
}
