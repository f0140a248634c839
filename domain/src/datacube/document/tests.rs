//! Given/when/then for documents.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::{Map, Value, json};

use super::*;
use crate::datacube::{Collection, Field, FieldType};

type DocTest = TestFramework<Document>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

fn users() -> Collection {
    Collection {
        collection_id: "c1".into(),
        name: "users".into(),
        fields: vec![
            Field {
                name: "email".into(),
                field_type: FieldType::String,
            },
            Field {
                name: "age".into(),
                field_type: FieldType::Integer,
            },
        ],
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn insert(body: Value) -> DocumentCommand {
    DocumentCommand::Insert {
        database_id: "d1".into(),
        collection: users(),
        document_id: "x1".into(),
        body: object(body),
        at: t0(),
    }
}

fn inserted() -> DocumentEvent {
    DocumentEvent::DocumentInserted {
        database_id: "d1".into(),
        collection_id: "c1".into(),
        collection: "users".into(),
        document_id: "x1".into(),
        body: object(json!({"email": "a@example.com", "age": 30, "tags": ["a"]})),
        at: t0(),
    }
}

fn update(data: Value) -> DocumentCommand {
    DocumentCommand::Update {
        update: Update::parse(&data).expect("a valid update"),
        collection: users(),
        at: t0(),
    }
}

#[test]
fn a_document_is_inserted_once_with_declared_fields_typed() {
    DocTest::with(())
        .given_no_previous_events()
        .when(insert(
            json!({"email": "a@example.com", "age": 30, "tags": ["a"]}),
        ))
        .then_expect_events(vec![inserted()]);
    DocTest::with(())
        .given(vec![inserted()])
        .when(insert(json!({})))
        .then_expect_error(DocumentError::AlreadyExists);
    DocTest::with(())
        .given_no_previous_events()
        .when(insert(json!({"age": "thirty"})))
        .then_expect_error(DocumentError::WrongType {
            field: "age".into(),
            expected: "integer",
        });
}

#[test]
fn operator_keys_reserved_fields_and_deep_nesting_are_refused() {
    DocTest::with(())
        .given_no_previous_events()
        .when(insert(json!({"a": {"$gt": 1}})))
        .then_expect_error(DocumentError::DollarKey("a.$gt".into()));
    DocTest::with(())
        .given_no_previous_events()
        .when(insert(json!({"_version": 3})))
        .then_expect_error(DocumentError::ReservedField("_version".into()));
    let mut deep = json!(1);
    for _ in 0..MAX_DEPTH {
        deep = json!([deep]);
    }
    DocTest::with(())
        .given_no_previous_events()
        .when(insert(json!({ "deep": deep })))
        .then_expect_error(DocumentError::TooDeep(format!(
            "deep{}",
            "[0]".repeat(MAX_DEPTH)
        )));
}

#[test]
fn a_plain_update_sets_fields_and_records_only_what_changed() {
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({"newsletter_subscribed": true, "age": 30})))
        .then_expect_events(vec![DocumentEvent::DocumentUpdated {
            set: object(json!({"newsletter_subscribed": true})),
            unset: vec![],
            at: t0(),
        }]);
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({"age": 30})))
        .then_expect_events(vec![]);
}

#[test]
fn operators_set_unset_inc_and_push() {
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({
            "$set": {"profile.city": "Oslo"},
            "$unset": {"email": ""},
            "$inc": {"age": 2, "visits": 1},
            "$push": {"tags": "b", "log": {"$each": [1, 2]}}
        })))
        .then_expect_events(vec![DocumentEvent::DocumentUpdated {
            set: object(json!({
                "age": 32, "tags": ["a", "b"], "visits": 1,
                "profile": {"city": "Oslo"}, "log": [1, 2]
            })),
            unset: vec!["email".into()],
            at: t0(),
        }]);
}

#[test]
fn updates_keep_types_and_refuse_what_cannot_apply() {
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({"$set": {"age": 1.5}})))
        .then_expect_error(DocumentError::WrongType {
            field: "age".into(),
            expected: "integer",
        });
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({"$inc": {"email": 1}})))
        .then_expect_error(DocumentError::NotANumber("email".into()));
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({"$push": {"age": 1}})))
        .then_expect_error(DocumentError::NotAnArray("age".into()));
    DocTest::with(())
        .given(vec![inserted()])
        .when(update(json!({"$set": {"email.x": 1}})))
        .then_expect_error(DocumentError::BadPath("email.x".into()));
}

#[test]
fn malformed_updates_name_the_operator() {
    let parse = |v: Value| Update::parse(&v).unwrap_err();
    assert_eq!(
        parse(json!({"$rename": {"a": "b"}})),
        DocumentError::UnknownOperator("$rename".into())
    );
    assert_eq!(
        parse(json!({"$set": {"a": 1}, "b": 2})),
        DocumentError::BadUpdate("cannot mix operators and field names")
    );
    assert_eq!(
        parse(json!({"$set": {"a": 1}, "$unset": {"a.b": 1}})),
        DocumentError::ConflictingPaths("a".into(), "a.b".into())
    );
    assert_eq!(
        parse(json!({"_id": "x"})),
        DocumentError::ReservedField("_id".into())
    );
    assert_eq!(
        parse(json!({})),
        DocumentError::BadUpdate("must not be empty")
    );
}

#[test]
fn a_deleted_document_cannot_change_again() {
    let deleted = DocumentEvent::DocumentDeleted { at: t0() };
    DocTest::with(())
        .given(vec![inserted()])
        .when(DocumentCommand::Delete { at: t0() })
        .then_expect_events(vec![deleted.clone()]);
    DocTest::with(())
        .given(vec![inserted(), deleted.clone()])
        .when(update(json!({"a": 1})))
        .then_expect_error(DocumentError::NotFound);
    DocTest::with(())
        .given(vec![inserted(), deleted])
        .when(insert(json!({})))
        .then_expect_error(DocumentError::AlreadyExists);
}
