//! Given/when/then for the user aggregate.
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;

use super::*;

type UserTest = TestFramework<User>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn registered() -> UserEvent {
    UserEvent::UserRegistered {
        user_id: "u1".into(),
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        password_hash: "$argon2id$hash".into(),
        role: "user".into(),
        registered_via: RegisteredVia::Signup,
        at: t0(),
    }
}

fn register_command() -> UserCommand {
    UserCommand::Register {
        user_id: "u1".into(),
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        password_hash: "$argon2id$hash".into(),
        role: "user".into(),
        registered_via: RegisteredVia::Signup,
        at: t0(),
    }
}

fn failed(at: DateTime<Utc>, recent_failures: u32) -> UserEvent {
    UserEvent::LoginFailed {
        at,
        recent_failures,
        client: None,
    }
}

fn failed_from(client: &str, at: DateTime<Utc>, recent_failures: u32) -> UserEvent {
    UserEvent::LoginFailed {
        at,
        recent_failures,
        client: Some(client.into()),
    }
}

fn attempt(password_ok: bool, client: &str, at: DateTime<Utc>) -> UserCommand {
    UserCommand::RecordLoginAttempt {
        password_ok,
        at,
        client: Some(client.into()),
    }
}

#[test]
fn failures_count_per_client_address() {
    let at = t0() + Duration::seconds(30);
    UserTest::with(())
        .given(vec![
            registered(),
            failed_from("10.0.0.66", t0(), 1),
            failed_from("10.0.0.66", t0() + Duration::seconds(10), 2),
            failed_from("10.0.0.66", t0() + Duration::seconds(20), 3),
        ])
        .when(attempt(false, "192.0.2.7", at))
        .then_expect_events(vec![failed_from("192.0.2.7", at, 1)]);
}

#[test]
fn a_lock_holds_for_the_offending_client_only() {
    let until = t0() + Duration::seconds(LOCKOUT_DURATION_SECS);
    let locked = UserEvent::AccountLocked {
        at: t0(),
        until,
        client: Some("10.0.0.66".into()),
    };
    UserTest::with(())
        .given(vec![registered(), locked.clone()])
        .when(attempt(true, "10.0.0.66", t0() + Duration::seconds(5)))
        .then_expect_error(UserError::Locked { until });
    // The owner, elsewhere, still gets in.
    let at = t0() + Duration::seconds(5);
    UserTest::with(())
        .given(vec![registered(), locked])
        .when(attempt(true, "192.0.2.7", at))
        .then_expect_events(vec![UserEvent::UserLoggedIn {
            at,
            client: Some("192.0.2.7".into()),
        }]);
}

#[test]
fn the_fifth_failure_from_one_client_locks_that_client_out() {
    let at = t0() + Duration::seconds(40);
    UserTest::with(())
        .given(vec![
            registered(),
            failed_from("10.0.0.66", t0(), 1),
            failed_from("10.0.0.66", t0() + Duration::seconds(10), 2),
            failed_from("192.0.2.7", t0() + Duration::seconds(15), 1),
            failed_from("10.0.0.66", t0() + Duration::seconds(20), 3),
            failed_from("10.0.0.66", t0() + Duration::seconds(30), 4),
        ])
        .when(attempt(false, "10.0.0.66", at))
        .then_expect_events(vec![
            failed_from("10.0.0.66", at, 5),
            UserEvent::AccountLocked {
                at,
                until: at + Duration::seconds(LOCKOUT_DURATION_SECS),
                client: Some("10.0.0.66".into()),
            },
        ]);
}

#[test]
fn registering_a_new_user_records_it() {
    UserTest::with(())
        .given_no_previous_events()
        .when(register_command())
        .then_expect_events(vec![registered()]);
}

#[test]
fn registering_twice_is_refused() {
    UserTest::with(())
        .given(vec![registered()])
        .when(register_command())
        .then_expect_error(UserError::AlreadyRegistered);
}

#[test]
fn an_overlong_name_is_refused_naming_the_field() {
    let UserCommand::Register {
        user_id,
        email,
        last_name,
        password_hash,
        role,
        at,
        ..
    } = register_command()
    else {
        unreachable!()
    };
    UserTest::with(())
        .given_no_previous_events()
        .when(UserCommand::Register {
            user_id,
            email,
            first_name: "x".repeat(101),
            last_name,
            password_hash,
            role,
            registered_via: RegisteredVia::Signup,
            at,
        })
        .then_expect_error_message("firstName: must be at most 100 characters");
}

#[test]
fn a_good_password_logs_in() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: true,
            at: t0(),
            client: None,
        })
        .then_expect_events(vec![UserEvent::UserLoggedIn {
            at: t0(),
            client: None,
        }]);
}

#[test]
fn a_login_for_an_unregistered_user_is_refused() {
    UserTest::with(())
        .given_no_previous_events()
        .when(UserCommand::RecordLoginAttempt {
            password_ok: true,
            at: t0(),
            client: None,
        })
        .then_expect_error(UserError::NotRegistered);
}

#[test]
fn a_wrong_password_counts_a_failure() {
    UserTest::with(())
        .given(vec![registered(), failed(t0(), 1)])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: false,
            at: t0() + Duration::seconds(1),
            client: None,
        })
        .then_expect_events(vec![failed(t0() + Duration::seconds(1), 2)]);
}

#[test]
fn the_fifth_failure_within_a_minute_locks_the_account() {
    let at = t0() + Duration::seconds(40);
    UserTest::with(())
        .given(vec![
            registered(),
            failed(t0(), 1),
            failed(t0() + Duration::seconds(10), 2),
            failed(t0() + Duration::seconds(20), 3),
            failed(t0() + Duration::seconds(30), 4),
        ])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: false,
            at,
            client: None,
        })
        .then_expect_events(vec![
            failed(at, 5),
            UserEvent::AccountLocked {
                at,
                until: at + Duration::seconds(LOCKOUT_DURATION_SECS),
                client: None,
            },
        ]);
}

#[test]
fn failures_older_than_the_window_do_not_count() {
    let at = t0() + Duration::seconds(LOCKOUT_WINDOW_SECS + 30);
    UserTest::with(())
        .given(vec![
            registered(),
            failed(t0(), 1),
            failed(t0() + Duration::seconds(10), 2),
            failed(t0() + Duration::seconds(20), 3),
            failed(t0() + Duration::seconds(40), 4),
        ])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: false,
            at,
            client: None,
        })
        // only the failure at +40 s is still inside the window
        .then_expect_events(vec![failed(at, 2)]);
}

#[test]
fn a_locked_account_refuses_even_the_right_password() {
    let until = t0() + Duration::seconds(LOCKOUT_DURATION_SECS);
    UserTest::with(())
        .given(vec![
            registered(),
            UserEvent::AccountLocked {
                at: t0(),
                until,
                client: None,
            },
        ])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: true,
            at: t0() + Duration::seconds(5),
            client: None,
        })
        .then_expect_error(UserError::Locked { until });
}

#[test]
fn the_lock_expires() {
    let until = t0() + Duration::seconds(LOCKOUT_DURATION_SECS);
    UserTest::with(())
        .given(vec![
            registered(),
            UserEvent::AccountLocked {
                at: t0(),
                until,
                client: None,
            },
        ])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: true,
            at: until,
            client: None,
        })
        .then_expect_events(vec![UserEvent::UserLoggedIn {
            at: until,
            client: None,
        }]);
}

#[test]
fn a_success_resets_the_failure_count() {
    let at = t0() + Duration::seconds(5);
    UserTest::with(())
        .given(vec![
            registered(),
            failed(t0(), 1),
            failed(t0(), 2),
            failed(t0(), 3),
            UserEvent::UserLoggedIn {
                at: t0(),
                client: None,
            },
        ])
        .when(UserCommand::RecordLoginAttempt {
            password_ok: false,
            at,
            client: None,
        })
        .then_expect_events(vec![failed(at, 1)]);
}

#[test]
fn verifying_the_email_records_it_once() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::VerifyEmail { at: t0() })
        .then_expect_events(vec![UserEvent::EmailVerified { at: t0() }]);
    UserTest::with(())
        .given(vec![registered(), UserEvent::EmailVerified { at: t0() }])
        .when(UserCommand::VerifyEmail { at: t0() })
        .then_expect_events(vec![]);
}

#[test]
fn updating_the_profile_keeps_omitted_names() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::UpdateProfile {
            first_name: None,
            last_name: Some("Byron".into()),
            at: t0(),
        })
        .then_expect_events(vec![UserEvent::ProfileUpdated {
            first_name: "Ada".into(),
            last_name: "Byron".into(),
            at: t0(),
        }]);
}

// ---- credentials and second factors ----

fn later(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

#[test]
fn a_reset_token_works_once_and_only_before_it_expires() {
    let requested = UserEvent::PasswordResetRequested {
        token_hash: "t".into(),
        expires_at: later(7200),
        at: t0(),
    };
    let complete = |token: &str, at| UserCommand::CompletePasswordReset {
        token_hash: token.into(),
        password_hash: "new".into(),
        at,
    };
    UserTest::with(())
        .given(vec![registered(), requested.clone()])
        .when(complete("t", later(60)))
        .then_expect_events(vec![UserEvent::PasswordReset {
            password_hash: "new".into(),
            at: later(60),
        }]);
    UserTest::with(())
        .given(vec![registered(), requested.clone()])
        .when(complete("x", later(60)))
        .then_expect_error(UserError::BadResetToken);
    UserTest::with(())
        .given(vec![registered(), requested.clone()])
        .when(complete("t", later(7200)))
        .then_expect_error(UserError::BadResetToken);
    UserTest::with(())
        .given(vec![
            registered(),
            requested,
            UserEvent::PasswordReset {
                password_hash: "new".into(),
                at: later(60),
            },
        ])
        .when(complete("t", later(120)))
        .then_expect_error(UserError::BadResetToken);
}

#[test]
fn a_second_factor_is_enabled_only_after_its_setup() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::EnableSecondFactor {
            method: SecondFactor::Totp,
            at: t0(),
        })
        .then_expect_error(UserError::NoSetupStarted);
    let started = UserEvent::SecondFactorSetupStarted {
        method: SecondFactor::Totp,
        otp_secret: "S".into(),
        at: t0(),
    };
    UserTest::with(())
        .given(vec![registered(), started.clone()])
        .when(UserCommand::EnableSecondFactor {
            method: SecondFactor::Totp,
            at: t0(),
        })
        .then_expect_events(vec![UserEvent::SecondFactorEnabled {
            method: SecondFactor::Totp,
            at: t0(),
        }]);
    let enabled = UserEvent::SecondFactorEnabled {
        method: SecondFactor::Totp,
        at: t0(),
    };
    UserTest::with(())
        .given(vec![registered(), started, enabled])
        .when(UserCommand::StartSecondFactorSetup {
            method: SecondFactor::Totp,
            secret: "T".into(),
            at: t0(),
        })
        .then_expect_error(UserError::AlreadyEnabled);
}

#[test]
fn recovery_codes_need_a_second_factor_and_each_works_once() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::GenerateRecoveryCodes {
            code_hashes: vec!["a".into()],
            at: t0(),
        })
        .then_expect_error(UserError::NotEnabled);
    let with_codes = vec![
        registered(),
        UserEvent::SecondFactorSetupStarted {
            method: SecondFactor::EmailOtp,
            otp_secret: "S".into(),
            at: t0(),
        },
        UserEvent::SecondFactorEnabled {
            method: SecondFactor::EmailOtp,
            at: t0(),
        },
        UserEvent::RecoveryCodesGenerated {
            code_hashes: vec!["a".into(), "b".into()],
            at: t0(),
        },
    ];
    let used = UserEvent::RecoveryCodeUsed {
        code_hash: "a".into(),
        at: t0(),
    };
    UserTest::with(())
        .given(with_codes.clone())
        .when(UserCommand::UseRecoveryCode {
            code_hash: "a".into(),
            at: t0(),
        })
        .then_expect_events(vec![used.clone()]);
    let mut after_use = with_codes;
    after_use.push(used);
    UserTest::with(())
        .given(after_use)
        .when(UserCommand::UseRecoveryCode {
            code_hash: "a".into(),
            at: t0(),
        })
        .then_expect_error(UserError::BadRecoveryCode);
}

#[test]
fn a_mailed_code_is_consumed_once_and_expires() {
    let setup = vec![
        registered(),
        UserEvent::SecondFactorSetupStarted {
            method: SecondFactor::EmailOtp,
            otp_secret: "S".into(),
            at: t0(),
        },
        UserEvent::EmailOtpSent {
            counter: 1,
            expires_at: later(300),
            at: t0(),
        },
    ];
    UserTest::with(())
        .given(setup.clone())
        .when(UserCommand::ConsumeEmailOtp { at: later(10) })
        .then_expect_events(vec![UserEvent::EmailOtpConsumed { at: later(10) }]);
    UserTest::with(())
        .given(setup.clone())
        .when(UserCommand::ConsumeEmailOtp { at: later(300) })
        .then_expect_error(UserError::NoCodeSent);
    let mut consumed = setup;
    consumed.push(UserEvent::EmailOtpConsumed { at: later(10) });
    UserTest::with(())
        .given(consumed)
        .when(UserCommand::ConsumeEmailOtp { at: later(20) })
        .then_expect_error(UserError::NoCodeSent);
}

#[test]
fn roles_are_kitsus_and_deactivation_is_recorded() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::ChangeRole {
            role: "admin".into(),
            at: t0(),
        })
        .then_expect_events(vec![UserEvent::RoleChanged {
            role: "admin".into(),
            at: t0(),
        }]);
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::ChangeRole {
            role: "emperor".into(),
            at: t0(),
        })
        .then_expect_error_message(
            "role: must be one of admin, manager, supervisor, user, client, vendor, auditor",
        );
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::SetActive {
            active: false,
            at: t0(),
        })
        .then_expect_events(vec![UserEvent::UserDeactivated { at: t0() }]);
}

fn erased() -> UserEvent {
    UserEvent::UserErased {
        email: crate::personal::erased_email("ada@example.com"),
        at: t0(),
    }
}

#[test]
fn erasing_a_user_records_the_erased_form_of_their_address() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::Erase { at: t0() })
        .then_expect_events(vec![erased()]);
}

#[test]
fn an_erased_user_is_gone_for_every_command_but_erasure() {
    UserTest::with(())
        .given(vec![registered(), erased()])
        .when(attempt(true, "1.2.3.4", t0()))
        .then_expect_error(UserError::NotRegistered);
    UserTest::with(())
        .given(vec![registered(), erased()])
        .when(UserCommand::Erase { at: t0() })
        .then_expect_events(vec![]);
}

#[test]
fn an_erased_users_state_holds_no_personal_data() {
    let mut user = User::default();
    user.apply(registered());
    user.apply(erased());
    assert_eq!(user.email, crate::personal::erased_email("ada@example.com"));
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("erased", "erased")
    );
    assert!(user.erased && !user.active);
}
