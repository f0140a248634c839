//! Given/when/then for the tracker's commands on a person (Zou's person routes).
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::{Map, Value, json};

use super::*;
use crate::kitsu::FieldChange;

type UserTest = TestFramework<User>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn input(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("an object"),
    }
}

/// What gazu's `new_person` sends (the password taken out by the service).
fn gazu_body() -> Value {
    json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
           "phone": "555", "role": "supervisor", "desktop_login": "ada", "departments": [],
           "active": true, "contract_type": "freelance"})
}

fn register(body: Value) -> UserCommand {
    UserCommand::RegisterPerson {
        user_id: "u1".into(),
        input: input(body),
        password_hash: String::new(),
        by: "admin".into(),
        at: t0(),
    }
}

fn registered() -> UserEvent {
    UserEvent::UserRegistered {
        user_id: "u1".into(),
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        password_hash: String::new(),
        role: "supervisor".into(),
        registered_via: RegisteredVia::Operator,
        at: t0(),
    }
}

fn change(field: &str, old: Value, new: Value) -> FieldChange {
    FieldChange {
        field: field.into(),
        old,
        new,
    }
}

fn update(body: Value, as_admin: bool) -> UserCommand {
    UserCommand::UpdatePerson {
        input: input(body),
        as_admin,
        by: "someone".into(),
        at: t0(),
    }
}

#[test]
fn a_manager_makes_a_person_with_their_details_in_one_decision() {
    UserTest::with(())
        .given_no_previous_events()
        .when(register(gazu_body()))
        .then_expect_events(vec![
            registered(),
            UserEvent::PersonDetailsChanged {
                changes: vec![
                    change("phone", json!(""), json!("555")),
                    change("contract_type", json!("open-ended"), json!("freelance")),
                    change("desktop_login", json!(""), json!("ada")),
                ],
                by: "admin".into(),
                at: t0(),
            },
        ]);
}

#[test]
fn a_person_made_inactive_is_deactivated_at_once() {
    let mut body = gazu_body();
    body["active"] = json!(false);
    body["phone"] = json!("");
    body["desktop_login"] = json!("");
    body["contract_type"] = json!("open-ended");
    UserTest::with(())
        .given_no_previous_events()
        .when(register(body))
        .then_expect_events(vec![registered(), UserEvent::UserDeactivated { at: t0() }]);
}

#[test]
fn a_create_is_refused_as_zou_refuses_it() {
    for (patch, error) in [
        (
            json!({"role": "emperor"}),
            UserError::Invalid {
                field: "role",
                message: "Invalid role",
            },
        ),
        (
            json!({"contract_type": "forever"}),
            UserError::Invalid {
                field: "contract_type",
                message: "Invalid contract_type",
            },
        ),
        (json!({"foo": 1}), UserError::UnknownField("foo".into())),
        (
            json!({"first_name": null}),
            UserError::Invalid {
                field: "first_name",
                message: "A required field is missing.",
            },
        ),
    ] {
        let mut body = gazu_body();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        UserTest::with(())
            .given_no_previous_events()
            .when(register(body))
            .then_expect_error(error);
    }
    UserTest::with(())
        .given(vec![registered()])
        .when(register(gazu_body()))
        .then_expect_error(UserError::AlreadyRegistered);
}

#[test]
fn an_update_records_each_kind_of_change_once() {
    UserTest::with(())
        .given(vec![registered()])
        .when(update(
            json!({"id": "u1", "type": "Person", "full_name": "x", "email": "ADA@example.com",
                   "first_name": "Augusta", "role": "manager", "active": false,
                   "seniority": "senior", "password": "ignored", "totp_enabled": true}),
            true,
        ))
        .then_expect_events(vec![
            UserEvent::ProfileUpdated {
                first_name: "Augusta".into(),
                last_name: "Lovelace".into(),
                at: t0(),
            },
            UserEvent::RoleChanged {
                role: "manager".into(),
                at: t0(),
            },
            UserEvent::UserDeactivated { at: t0() },
            UserEvent::PersonDetailsChanged {
                changes: vec![change("seniority", json!("mid"), json!("senior"))],
                by: "someone".into(),
                at: t0(),
            },
        ]);
}

#[test]
fn a_person_changing_themselves_keeps_what_managers_decide() {
    UserTest::with(())
        .given(vec![registered()])
        .when(update(
            json!({"role": "admin", "active": false, "archived": true, "phone": "1"}),
            false,
        ))
        .then_expect_events(vec![UserEvent::PersonDetailsChanged {
            changes: vec![change("phone", json!(""), json!("1"))],
            by: "someone".into(),
            at: t0(),
        }]);
    // The same values again change nothing.
    UserTest::with(())
        .given(vec![registered()])
        .when(update(
            json!({"first_name": "Ada", "role": "supervisor", "phone": ""}),
            true,
        ))
        .then_expect_events(vec![]);
}

#[test]
fn an_address_is_not_changed_through_the_tracker() {
    UserTest::with(())
        .given(vec![registered()])
        .when(update(json!({"email": "other@example.com"}), true))
        .then_expect_error(UserError::Invalid {
            field: "email",
            message: "Changing a person's email is not supported.",
        });
}

#[test]
fn the_person_document_follows_every_change() {
    use cqrs_es::Aggregate;
    let later = t0() + chrono::Duration::hours(1);
    let mut user = User::default();
    for event in [
        registered(),
        UserEvent::PersonDetailsChanged {
            changes: vec![change("departments", json!([]), json!(["d1"]))],
            by: "admin".into(),
            at: later,
        },
    ] {
        user.apply(event);
    }
    let doc = user.person_document();
    assert_eq!(doc["departments"], json!(["d1"]));
    assert_eq!(doc["role"], "supervisor");
    assert_eq!(doc["created_at"], "2026-11-28T12:00:00");
    assert_eq!(doc["updated_at"], "2026-11-28T13:00:00");
    assert_eq!(doc["full_name"], "Ada Lovelace");
}
