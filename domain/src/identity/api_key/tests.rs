//! Given/when/then for API keys.
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;

use super::*;

type KeyTest = TestFramework<ApiKey>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn created() -> ApiKeyEvent {
    ApiKeyEvent::ApiKeyCreated {
        key_id: "k1".into(),
        owner: "u1".into(),
        name: "ci".into(),
        secret_hash: "h".into(),
        scope: None,
        at: t0(),
    }
}

#[test]
fn a_key_is_created_with_a_name() {
    KeyTest::with(())
        .given_no_previous_events()
        .when(ApiKeyCommand::Create {
            key_id: "k1".into(),
            owner: "u1".into(),
            name: " ci ".into(),
            secret_hash: "h".into(),
            scope: None,
            at: t0(),
        })
        .then_expect_events(vec![created()]);
    KeyTest::with(())
        .given_no_previous_events()
        .when(ApiKeyCommand::Create {
            key_id: "k1".into(),
            owner: "u1".into(),
            name: "  ".into(),
            secret_hash: "h".into(),
            scope: None,
            at: t0(),
        })
        .then_expect_error(ApiKeyError::BadName);
}

#[test]
fn a_key_may_be_limited_to_one_database() {
    let scope = KeyScope {
        database_id: "db1".into(),
        read_only: true,
    };
    let scoped = ApiKeyEvent::ApiKeyCreated {
        key_id: "k1".into(),
        owner: "u1".into(),
        name: "ci".into(),
        secret_hash: "h".into(),
        scope: Some(scope.clone()),
        at: t0(),
    };
    KeyTest::with(())
        .given_no_previous_events()
        .when(ApiKeyCommand::Create {
            key_id: "k1".into(),
            owner: "u1".into(),
            name: "ci".into(),
            secret_hash: "h".into(),
            scope: Some(scope.clone()),
            at: t0(),
        })
        .then_expect_events(vec![scoped.clone()]);
    let mut key = ApiKey::default();
    key.apply(scoped);
    assert_eq!(key.scope, Some(scope));
    // Keys created before scopes existed read as unlimited.
    let old: ApiKeyEvent = serde_json::from_value(serde_json::json!({"ApiKeyCreated": {
        "key_id": "k0", "owner": "u1", "name": "ci", "secret_hash": "h",
        "at": "2026-11-23T12:00:00Z"}}))
    .unwrap();
    assert!(matches!(
        old,
        ApiKeyEvent::ApiKeyCreated { scope: None, .. }
    ));
}

#[test]
fn use_is_recorded_at_most_once_a_minute() {
    let used = ApiKeyEvent::ApiKeyUsed { at: t0() };
    KeyTest::with(())
        .given(vec![created(), used.clone()])
        .when(ApiKeyCommand::RecordUse {
            at: t0() + Duration::seconds(30),
        })
        .then_expect_events(vec![]);
    let later = t0() + Duration::seconds(USE_RECORD_INTERVAL_SECS);
    KeyTest::with(())
        .given(vec![created(), used])
        .when(ApiKeyCommand::RecordUse { at: later })
        .then_expect_events(vec![ApiKeyEvent::ApiKeyUsed { at: later }]);
}

#[test]
fn only_the_owner_revokes_and_a_revoked_key_is_unusable() {
    KeyTest::with(())
        .given(vec![created()])
        .when(ApiKeyCommand::Revoke {
            by: "u2".into(),
            at: t0(),
        })
        .then_expect_error(ApiKeyError::NotFound);
    KeyTest::with(())
        .given(vec![created()])
        .when(ApiKeyCommand::Revoke {
            by: "u1".into(),
            at: t0(),
        })
        .then_expect_events(vec![ApiKeyEvent::ApiKeyRevoked { at: t0() }]);
    KeyTest::with(())
        .given(vec![created(), ApiKeyEvent::ApiKeyRevoked { at: t0() }])
        .when(ApiKeyCommand::RecordUse { at: t0() })
        .then_expect_error(ApiKeyError::Revoked);
}
