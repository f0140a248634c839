//! Given/when/then for email claims.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

type ClaimTest = TestFramework<EmailClaim>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn claimed_by(user_id: &str) -> EmailClaimEvent {
    EmailClaimEvent::EmailClaimed {
        email: "ada@example.com".into(),
        user_id: user_id.into(),
        at: t0(),
    }
}

fn claim(user_id: &str) -> EmailClaimCommand {
    EmailClaimCommand::Claim {
        email: "ada@example.com".into(),
        user_id: user_id.into(),
        at: t0(),
    }
}

#[test]
fn a_free_address_can_be_claimed() {
    ClaimTest::with(())
        .given_no_previous_events()
        .when(claim("u1"))
        .then_expect_events(vec![claimed_by("u1")]);
}

#[test]
fn a_held_address_is_taken_for_anyone_else() {
    ClaimTest::with(())
        .given(vec![claimed_by("u1")])
        .when(claim("u2"))
        .then_expect_error(EmailClaimError::Taken);
}

#[test]
fn claiming_again_as_the_holder_changes_nothing() {
    ClaimTest::with(())
        .given(vec![claimed_by("u1")])
        .when(claim("u1"))
        .then_expect_events(vec![]);
}

#[test]
fn a_released_address_can_be_claimed_again() {
    ClaimTest::with(())
        .given(vec![
            claimed_by("u1"),
            EmailClaimEvent::EmailReleased {
                user_id: "u1".into(),
                at: t0(),
            },
        ])
        .when(claim("u2"))
        .then_expect_events(vec![claimed_by("u2")]);
}

#[test]
fn only_the_holder_can_release() {
    ClaimTest::with(())
        .given(vec![claimed_by("u1")])
        .when(EmailClaimCommand::Release {
            user_id: "u2".into(),
            at: t0(),
        })
        .then_expect_error(EmailClaimError::NotHolder);
}
