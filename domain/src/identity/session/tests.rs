//! Given/when/then for sessions.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;

use super::*;

type SessionTest = TestFramework<Session>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn started() -> SessionEvent {
    SessionEvent::SessionStarted {
        user_id: "u1".into(),
        surface: "kitsu".into(),
        at: t0(),
    }
}

fn revoke() -> SessionCommand {
    SessionCommand::Revoke {
        reason: "logout".into(),
        at: t0(),
    }
}

#[test]
fn a_session_starts_once() {
    let start = SessionCommand::Start {
        user_id: "u1".into(),
        surface: "kitsu".into(),
        at: t0(),
    };
    SessionTest::with(())
        .given_no_previous_events()
        .when(start.clone())
        .then_expect_events(vec![started()]);
    SessionTest::with(())
        .given(vec![started()])
        .when(start)
        .then_expect_error(SessionError::AlreadyStarted);
}

#[test]
fn revoking_records_it_once() {
    let revoked = SessionEvent::SessionRevoked {
        user_id: "u1".into(),
        reason: "logout".into(),
        at: t0(),
    };
    SessionTest::with(())
        .given(vec![started()])
        .when(revoke())
        .then_expect_events(vec![revoked.clone()]);
    SessionTest::with(())
        .given(vec![started(), revoked])
        .when(revoke())
        .then_expect_events(vec![]);
}

#[test]
fn an_unknown_session_cannot_be_revoked() {
    SessionTest::with(())
        .given_no_previous_events()
        .when(revoke())
        .then_expect_error(SessionError::Unknown);
}

#[test]
fn only_its_user_may_use_an_active_session() {
    let mut session = Session::default();
    session.apply(started());
    assert!(session.is_active_for("u1"));
    assert!(!session.is_active_for("u2"));
    session.apply(SessionEvent::SessionRevoked {
        user_id: "u1".into(),
        reason: "logout".into(),
        at: t0(),
    });
    assert!(!session.is_active_for("u1"));
}
