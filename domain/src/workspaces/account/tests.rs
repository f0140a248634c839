//! Given/when/then for workspace accounts.
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

type AccountTest = TestFramework<WorkspaceAccount>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn reserved(bucket_id: &str) -> AccountEvent {
    AccountEvent::BucketSlotReserved {
        bucket_id: bucket_id.into(),
        at: t0(),
    }
}

fn reserve(bucket_id: &str, max: u32) -> AccountCommand {
    AccountCommand::ReserveBucket {
        bucket_id: bucket_id.into(),
        max,
        at: t0(),
    }
}

#[test]
fn a_slot_is_reserved_below_the_cap() {
    AccountTest::with(())
        .given(vec![reserved("b1")])
        .when(reserve("b2", 2))
        .then_expect_events(vec![reserved("b2")]);
}

#[test]
fn the_cap_on_owned_buckets_refuses_one_more() {
    AccountTest::with(())
        .given(vec![reserved("b1"), reserved("b2")])
        .when(reserve("b3", 2))
        .then_expect_error(AccountError::BucketLimitReached);
}

#[test]
fn reserving_the_same_bucket_again_changes_nothing() {
    AccountTest::with(())
        .given(vec![reserved("b1"), reserved("b2")])
        .when(reserve("b2", 2))
        .then_expect_events(vec![]);
}

#[test]
fn a_released_slot_can_be_used_again() {
    AccountTest::with(())
        .given(vec![
            reserved("b1"),
            reserved("b2"),
            AccountEvent::BucketSlotReleased {
                bucket_id: "b1".into(),
                at: t0(),
            },
        ])
        .when(reserve("b3", 2))
        .then_expect_events(vec![reserved("b3")]);
}

#[test]
fn releasing_an_unknown_slot_changes_nothing() {
    AccountTest::with(())
        .given_no_previous_events()
        .when(AccountCommand::ReleaseBucket {
            bucket_id: "b1".into(),
            at: t0(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_transferred_bucket_is_adopted_past_the_cap() {
    AccountTest::with(())
        .given(vec![reserved("b1"), reserved("b2")])
        .when(AccountCommand::AdoptBucket {
            bucket_id: "b3".into(),
            at: t0(),
        })
        .then_expect_events(vec![AccountEvent::BucketSlotAdopted {
            bucket_id: "b3".into(),
            at: t0(),
        }]);
}

#[test]
fn one_trial_per_account() {
    let claim = |b: &str| AccountCommand::ClaimTrial {
        bucket_id: b.into(),
        at: t0(),
    };
    let claimed = AccountEvent::TrialClaimed {
        bucket_id: "b1".into(),
        at: t0(),
    };
    AccountTest::with(())
        .given_no_previous_events()
        .when(claim("b1"))
        .then_expect_events(vec![claimed.clone()]);
    AccountTest::with(())
        .given(vec![claimed.clone()])
        .when(claim("b2"))
        .then_expect_error(AccountError::TrialAlreadyUsed);
    AccountTest::with(())
        .given(vec![claimed])
        .when(claim("b1"))
        .then_expect_events(vec![]);
}
