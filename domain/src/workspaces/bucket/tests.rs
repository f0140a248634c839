//! Given/when/then for the bucket aggregate.
use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;
use serde_json::json;

use super::*;

type BucketTest = TestFramework<Bucket>;

const OWNER: &str = "u-owner";
const ADMIN: &str = "u-admin";
const DEV: &str = "u-dev";
const USER: &str = "u-user";
const STRANGER: &str = "u-stranger";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn later(days: i64) -> DateTime<Utc> {
    t0() + Duration::days(days)
}

fn email(user: &str) -> String {
    format!("{user}@example.com")
}

fn person(user: &str) -> Person {
    Person {
        user_id: user.into(),
        email: email(user),
    }
}

fn plan(name: &str, max_members: u32, max_servers: u32, price: u64) -> Plan {
    Plan {
        name: name.into(),
        limits: PlanLimits {
            max_members,
            max_servers,
        },
        price,
        currency: "eur".into(),
    }
}

fn free() -> Plan {
    plan("free", 5, 2, 0)
}

fn pro() -> Plan {
    plan("pro_8", 10, 8, 3900)
}

fn created_with(plan: Plan) -> BucketEvent {
    BucketEvent::BucketCreated {
        bucket_id: "5d0c1763ef9ce356bb8c0a32".into(),
        name: "prod".into(),
        comment: "EU cluster".into(),
        app_url: "https://x".into(),
        configuration: json!({}),
        public_id: "96a1ph8ymmrycwr".into(),
        secret_id: "c138m2m71boc57m".into(),
        owner: person(OWNER),
        plan,
        at: t0(),
    }
}

fn created() -> BucketEvent {
    created_with(free())
}

fn added(user: &str) -> BucketEvent {
    BucketEvent::MemberAdded {
        user_id: user.into(),
        email: email(user),
        role: Role::User,
        added_by: OWNER.into(),
        at: t0(),
    }
}

fn role_of(user: &str, role: Role) -> BucketEvent {
    BucketEvent::RoleChanged {
        user_id: user.into(),
        email: email(user),
        role,
        by: OWNER.into(),
        at: t0(),
    }
}

fn invited(address: &str) -> BucketEvent {
    BucketEvent::MemberInvited {
        email: address.into(),
        invited_by: OWNER.into(),
        at: t0(),
    }
}

/// Owner, admin, developer and user.
fn team() -> Vec<BucketEvent> {
    vec![
        created(),
        added(ADMIN),
        role_of(ADMIN, Role::Admin),
        added(DEV),
        role_of(DEV, Role::Developer),
        added(USER),
    ]
}

fn with(
    mut events: Vec<BucketEvent>,
    more: impl IntoIterator<Item = BucketEvent>,
) -> Vec<BucketEvent> {
    events.extend(more);
    events
}

fn card(id: &str) -> PaymentMethod {
    PaymentMethod {
        id: id.into(),
        provider: "local".into(),
        brand: "visa".into(),
        last4: "4242".into(),
    }
}

fn charge(id: &str) -> Charge {
    Charge {
        id: id.into(),
        provider: "local".into(),
        amount: 3900,
        currency: "eur".into(),
        payment_method: "pm_1".into(),
        description: "pro_8".into(),
    }
}

fn attached(user: &str, id: &str) -> BucketEvent {
    BucketEvent::PaymentMethodAttached {
        user_id: user.into(),
        method: card(id),
        at: t0(),
    }
}

fn upgraded() -> Vec<BucketEvent> {
    vec![
        attached(OWNER, "pm_owner"),
        BucketEvent::PlanChanged {
            plan: pro(),
            by: OWNER.into(),
            at: t0(),
        },
    ]
}

fn invite(actor: &str, address: &str, existing: Option<Person>) -> BucketCommand {
    BucketCommand::Invite {
        actor: actor.into(),
        email: address.into(),
        existing,
        at: t0(),
    }
}

// ---- creation and update ----

#[test]
fn creating_a_bucket_makes_the_creator_its_owner() {
    BucketTest::with(())
        .given_no_previous_events()
        .when(BucketCommand::Create {
            bucket_id: "5d0c1763ef9ce356bb8c0a32".into(),
            name: " prod ".into(),
            comment: "EU cluster".into(),
            app_url: "https://x".into(),
            configuration: json!({}),
            public_id: "96a1ph8ymmrycwr".into(),
            secret_id: "c138m2m71boc57m".into(),
            owner: person(OWNER),
            plan: free(),
            at: t0(),
        })
        .then_expect_events(vec![created()]);
}

#[test]
fn a_bucket_needs_a_name_and_is_created_once() {
    let create = |name: &str| BucketCommand::Create {
        bucket_id: "b".into(),
        name: name.into(),
        comment: String::new(),
        app_url: String::new(),
        configuration: json!({}),
        public_id: "p".into(),
        secret_id: "s".into(),
        owner: person(OWNER),
        plan: free(),
        at: t0(),
    };
    BucketTest::with(())
        .given_no_previous_events()
        .when(create("  "))
        .then_expect_error_message("name: is required");
    BucketTest::with(())
        .given_no_previous_events()
        .when(create(&"x".repeat(101)))
        .then_expect_error_message("name: is too long");
    BucketTest::with(())
        .given(vec![created()])
        .when(create("again"))
        .then_expect_error(BucketError::AlreadyExists);
}

#[test]
fn an_update_keeps_the_fields_it_does_not_name() {
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::Update {
            actor: ADMIN.into(),
            name: Some("prod-eu".into()),
            comment: None,
            app_url: None,
            configuration: Some(json!({"theme": "dark"})),
            at: later(1),
        })
        .then_expect_events(vec![BucketEvent::BucketUpdated {
            name: "prod-eu".into(),
            comment: "EU cluster".into(),
            app_url: "https://x".into(),
            configuration: json!({"theme": "dark"}),
            by: ADMIN.into(),
            at: later(1),
        }]);
}

#[test]
fn developers_and_users_cannot_update() {
    for actor in [DEV, USER] {
        BucketTest::with(())
            .given(team())
            .when(BucketCommand::Update {
                actor: actor.into(),
                name: Some("mine".into()),
                comment: None,
                app_url: None,
                configuration: None,
                at: t0(),
            })
            .then_expect_error(BucketError::Forbidden(
                "only an admin or the owner can update the bucket",
            ));
    }
}

#[test]
fn outsiders_are_told_the_bucket_does_not_exist() {
    let commands = [
        BucketCommand::Update {
            actor: STRANGER.into(),
            name: None,
            comment: None,
            app_url: None,
            configuration: None,
            at: t0(),
        },
        invite(STRANGER, "a@b.c", None),
        BucketCommand::SendFeedback {
            actor: STRANGER.into(),
            feedback: "hi".into(),
            at: t0(),
        },
        BucketCommand::SetUserOptions {
            actor: STRANGER.into(),
            options: json!({}),
            at: t0(),
        },
        BucketCommand::RemoveMember {
            actor: STRANGER.into(),
            email: email(USER),
            at: t0(),
        },
        BucketCommand::Delete {
            actor: STRANGER.into(),
            at: t0(),
        },
    ];
    for command in commands {
        BucketTest::with(())
            .given(team())
            .when(command)
            .then_expect_error(BucketError::NotFound);
    }
    // A deleted bucket is gone for its members too.
    BucketTest::with(())
        .given(with(
            team(),
            [BucketEvent::BucketDeleted {
                by: OWNER.into(),
                member_ids: vec![],
                invitations: vec![],
                servers: vec![],
                payment_methods: vec![],
                charges: vec![],
                at: t0(),
            }],
        ))
        .when(BucketCommand::SendFeedback {
            actor: OWNER.into(),
            feedback: "hi".into(),
            at: t0(),
        })
        .then_expect_error(BucketError::NotFound);
}

// ---- invitations ----

#[test]
fn an_existing_account_is_added_directly_as_a_user() {
    BucketTest::with(())
        .given(vec![created()])
        .when(invite(OWNER, &email(USER), Some(person(USER))))
        .then_expect_events(vec![added(USER)]);
}

#[test]
fn an_unknown_address_gets_a_pending_invitation() {
    BucketTest::with(())
        .given(vec![created()])
        .when(invite(OWNER, "carol@example.com", None))
        .then_expect_events(vec![invited("carol@example.com")]);
}

#[test]
fn inviting_twice_changes_nothing() {
    BucketTest::with(())
        .given(vec![created(), invited("carol@example.com")])
        .when(invite(OWNER, "carol@example.com", None))
        .then_expect_events(vec![]);
    BucketTest::with(())
        .given(vec![created(), added(USER)])
        .when(invite(OWNER, &email(USER), Some(person(USER))))
        .then_expect_events(vec![]);
}

#[test]
fn only_admins_and_the_owner_invite() {
    for actor in [DEV, USER] {
        BucketTest::with(())
            .given(team())
            .when(invite(actor, "carol@example.com", None))
            .then_expect_error(BucketError::Forbidden(
                "only an admin or the owner can invite users",
            ));
    }
    BucketTest::with(())
        .given(team())
        .when(invite(ADMIN, "carol@example.com", None))
        .then_expect_events(vec![BucketEvent::MemberInvited {
            email: "carol@example.com".into(),
            invited_by: ADMIN.into(),
            at: t0(),
        }]);
}

#[test]
fn the_member_cap_counts_members_and_pending_invitations() {
    // free: 5 seats. Owner, admin, developer, user and one invitation fill it.
    let full = with(team(), [invited("carol@example.com")]);
    BucketTest::with(())
        .given(full.clone())
        .when(invite(OWNER, "dave@example.com", None))
        .then_expect_error(BucketError::MemberLimitReached);
    BucketTest::with(())
        .given(full.clone())
        .when(invite(OWNER, "u-new@example.com", Some(person("u-new"))))
        .then_expect_error(BucketError::MemberLimitReached);
    // Cancelling the invitation frees its seat.
    BucketTest::with(())
        .given(with(
            full,
            [BucketEvent::InvitationRemoved {
                email: "carol@example.com".into(),
                by: OWNER.into(),
                at: t0(),
            }],
        ))
        .when(invite(OWNER, "dave@example.com", None))
        .then_expect_events(vec![invited("dave@example.com")]);
}

#[test]
fn a_paid_plan_raises_the_member_cap() {
    let full = with(team(), [invited("carol@example.com")]);
    BucketTest::with(())
        .given(with(full, upgraded()))
        .when(invite(OWNER, "dave@example.com", None))
        .then_expect_events(vec![invited("dave@example.com")]);
}

#[test]
fn a_registered_invitee_becomes_a_member() {
    let carol = Person {
        user_id: "u-carol".into(),
        email: "carol@example.com".into(),
    };
    let accepted = BucketEvent::InvitationAccepted {
        email: "carol@example.com".into(),
        user_id: "u-carol".into(),
        role: Role::User,
        at: later(1),
    };
    BucketTest::with(())
        .given(vec![created(), invited("carol@example.com")])
        .when(BucketCommand::AcceptInvitation {
            person: carol.clone(),
            at: later(1),
        })
        .then_expect_events(vec![accepted.clone()]);
    // Asking again (a redelivered event) changes nothing.
    BucketTest::with(())
        .given(vec![
            created(),
            invited("carol@example.com"),
            accepted.clone(),
        ])
        .when(BucketCommand::AcceptInvitation {
            person: carol.clone(),
            at: later(2),
        })
        .then_expect_events(vec![]);
    // No invitation (cancelled before the registration): nothing.
    BucketTest::with(())
        .given(vec![created()])
        .when(BucketCommand::AcceptInvitation {
            person: carol.clone(),
            at: later(1),
        })
        .then_expect_events(vec![]);
    // Invited again after registering, before the invitation was accepted: accepted then, and
    // without a second seat even on a full bucket.
    let full = with(team(), [invited("carol@example.com")]);
    BucketTest::with(())
        .given(full)
        .when(BucketCommand::Invite {
            actor: OWNER.into(),
            email: "carol@example.com".into(),
            existing: Some(carol),
            at: later(1),
        })
        .then_expect_events(vec![accepted]);
}

#[test]
fn cancelling_an_invitation_needs_one() {
    BucketTest::with(())
        .given(vec![created(), invited("carol@example.com")])
        .when(BucketCommand::RemoveInvitation {
            actor: OWNER.into(),
            email: "carol@example.com".into(),
            at: t0(),
        })
        .then_expect_events(vec![BucketEvent::InvitationRemoved {
            email: "carol@example.com".into(),
            by: OWNER.into(),
            at: t0(),
        }]);
    BucketTest::with(())
        .given(vec![created()])
        .when(BucketCommand::RemoveInvitation {
            actor: OWNER.into(),
            email: "carol@example.com".into(),
            at: t0(),
        })
        .then_expect_error(BucketError::InvitationNotFound);
    BucketTest::with(())
        .given(with(team(), [invited("carol@example.com")]))
        .when(BucketCommand::RemoveInvitation {
            actor: DEV.into(),
            email: "carol@example.com".into(),
            at: t0(),
        })
        .then_expect_error(BucketError::Forbidden(
            "only an admin or the owner can cancel invitations",
        ));
}

// ---- members and roles ----

fn remove(actor: &str, target: &str) -> BucketCommand {
    BucketCommand::RemoveMember {
        actor: actor.into(),
        email: email(target),
        at: t0(),
    }
}

fn removed(target: &str, by: &str) -> BucketEvent {
    BucketEvent::MemberRemoved {
        user_id: target.into(),
        email: email(target),
        by: by.into(),
        at: t0(),
    }
}

#[test]
fn the_owner_cannot_be_removed() {
    for actor in [OWNER, ADMIN] {
        BucketTest::with(())
            .given(team())
            .when(remove(actor, OWNER))
            .then_expect_error(BucketError::Forbidden(
                "impossible to remove the owner from the bucket",
            ));
    }
}

#[test]
fn who_may_remove_whom() {
    BucketTest::with(())
        .given(team())
        .when(remove(OWNER, ADMIN))
        .then_expect_events(vec![removed(ADMIN, OWNER)]);
    BucketTest::with(())
        .given(team())
        .when(remove(ADMIN, DEV))
        .then_expect_events(vec![removed(DEV, ADMIN)]);
    // Anyone may leave.
    BucketTest::with(())
        .given(team())
        .when(remove(USER, USER))
        .then_expect_events(vec![removed(USER, USER)]);
    let refused = BucketError::Forbidden("you are not allowed to remove this user");
    BucketTest::with(())
        .given(team())
        .when(remove(DEV, USER))
        .then_expect_error(refused.clone());
    BucketTest::with(())
        .given(with(
            team(),
            [added("u-admin2"), role_of("u-admin2", Role::Admin)],
        ))
        .when(remove(ADMIN, "u-admin2"))
        .then_expect_error(refused);
    BucketTest::with(())
        .given(team())
        .when(remove(OWNER, STRANGER))
        .then_expect_error(BucketError::UserNotFound);
}

fn set_role(actor: &str, target: &str, role: Role) -> BucketCommand {
    BucketCommand::SetRole {
        actor: actor.into(),
        email: email(target),
        role,
        at: t0(),
    }
}

#[test]
fn only_the_owner_changes_roles_and_never_its_own() {
    BucketTest::with(())
        .given(team())
        .when(set_role(OWNER, USER, Role::Admin))
        .then_expect_events(vec![role_of(USER, Role::Admin)]);
    BucketTest::with(())
        .given(team())
        .when(set_role(ADMIN, USER, Role::Developer))
        .then_expect_error(BucketError::Forbidden(
            "only the owner can change a user's role",
        ));
    BucketTest::with(())
        .given(team())
        .when(set_role(OWNER, OWNER, Role::Admin))
        .then_expect_error(BucketError::Forbidden(
            "impossible to set the role of the owner",
        ));
    BucketTest::with(())
        .given(team())
        .when(set_role(OWNER, USER, Role::Owner))
        .then_expect_error_message("role: use transfer_ownership to change the owner");
    BucketTest::with(())
        .given(team())
        .when(set_role(OWNER, STRANGER, Role::Admin))
        .then_expect_error(BucketError::UserNotFound);
    BucketTest::with(())
        .given(team())
        .when(set_role(OWNER, DEV, Role::Developer))
        .then_expect_events(vec![]);
}

#[test]
fn notification_states_for_oneself_or_by_an_admin() {
    let set = |actor: &str, target: &str| BucketCommand::SetNotification {
        actor: actor.into(),
        email: email(target),
        state: NotificationState::None,
        at: t0(),
    };
    let changed = |target: &str, by: &str| BucketEvent::NotificationStateChanged {
        user_id: target.into(),
        email: email(target),
        state: NotificationState::None,
        by: by.into(),
        at: t0(),
    };
    BucketTest::with(())
        .given(team())
        .when(set(USER, USER))
        .then_expect_events(vec![changed(USER, USER)]);
    BucketTest::with(())
        .given(team())
        .when(set(ADMIN, DEV))
        .then_expect_events(vec![changed(DEV, ADMIN)]);
    BucketTest::with(())
        .given(team())
        .when(set(USER, DEV))
        .then_expect_error(BucketError::Forbidden(
            "only an admin or the owner can change another member's notifications",
        ));
    BucketTest::with(())
        .given(team())
        .when(set(OWNER, STRANGER))
        .then_expect_error(BucketError::UserNotFound);
}

#[test]
fn user_options_are_an_object_and_feedback_is_text() {
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::SetUserOptions {
            actor: USER.into(),
            options: json!({"theme": "dark"}),
            at: t0(),
        })
        .then_expect_events(vec![BucketEvent::UserOptionsChanged {
            user_id: USER.into(),
            options: json!({"theme": "dark"}),
            at: t0(),
        }]);
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::SetUserOptions {
            actor: USER.into(),
            options: json!("dark"),
            at: t0(),
        })
        .then_expect_error_message("options: must be an object");
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::SendFeedback {
            actor: USER.into(),
            feedback: " ".into(),
            at: t0(),
        })
        .then_expect_error_message("feedback: is required");
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::SendFeedback {
            actor: USER.into(),
            feedback: "great".into(),
            at: t0(),
        })
        .then_expect_events(vec![BucketEvent::FeedbackSent {
            user_id: USER.into(),
            feedback: "great".into(),
            at: t0(),
        }]);
}

// ---- ownership transfer ----

fn transfer(actor: &str, target: &str) -> BucketCommand {
    BucketCommand::TransferOwnership {
        actor: actor.into(),
        new_owner_email: email(target),
        at: t0(),
    }
}

fn transferred(to: &str) -> BucketEvent {
    BucketEvent::OwnershipTransferred {
        from: person(OWNER),
        to: person(to),
        at: t0(),
    }
}

#[test]
fn a_free_bucket_transfers_to_a_member_without_a_card() {
    BucketTest::with(())
        .given(team())
        .when(transfer(OWNER, USER))
        .then_expect_events(vec![transferred(USER)]);
}

#[test]
fn after_a_transfer_the_old_owner_is_an_admin() {
    // The former owner can no longer delete; the new owner can remove them.
    BucketTest::with(())
        .given(with(team(), [transferred(USER)]))
        .when(BucketCommand::Delete {
            actor: OWNER.into(),
            at: t0(),
        })
        .then_expect_error(BucketError::Forbidden(
            "only the owner can delete the bucket",
        ));
    BucketTest::with(())
        .given(with(team(), [transferred(USER)]))
        .when(remove(USER, OWNER))
        .then_expect_events(vec![removed(OWNER, USER)]);
}

#[test]
fn a_paid_bucket_transfers_only_to_a_member_with_a_card() {
    BucketTest::with(())
        .given(with(team(), upgraded()))
        .when(transfer(OWNER, USER))
        .then_expect_error(BucketError::PaymentRequired(
            "the new owner need to have a active credit card",
        ));
    BucketTest::with(())
        .given(with(with(team(), upgraded()), [attached(USER, "pm_user")]))
        .when(transfer(OWNER, USER))
        .then_expect_events(vec![transferred(USER)]);
}

#[test]
fn only_the_owner_transfers_and_only_to_a_member() {
    BucketTest::with(())
        .given(team())
        .when(transfer(ADMIN, USER))
        .then_expect_error(BucketError::Forbidden(
            "only the owner can transfer the bucket",
        ));
    BucketTest::with(())
        .given(team())
        .when(transfer(OWNER, STRANGER))
        .then_expect_error(BucketError::UserNotFound);
    BucketTest::with(())
        .given(team())
        .when(transfer(OWNER, OWNER))
        .then_expect_error_message("new_owner: is already the owner");
}

// ---- plans, payment methods, trials ----

fn change_plan(
    actor: &str,
    plan: Plan,
    new_method: Option<PaymentMethod>,
    with_charge: bool,
) -> BucketCommand {
    BucketCommand::ChangePlan {
        actor: actor.into(),
        plan,
        new_method,
        charge: with_charge.then(|| charge("ch_1")),
        at: t0(),
    }
}

#[test]
fn upgrading_records_the_card_the_plan_and_the_charge() {
    BucketTest::with(())
        .given(vec![created()])
        .when(change_plan(OWNER, pro(), Some(card("pm_1")), true))
        .then_expect_events(vec![
            attached(OWNER, "pm_1"),
            BucketEvent::PlanChanged {
                plan: pro(),
                by: OWNER.into(),
                at: t0(),
            },
            BucketEvent::ChargeRecorded {
                charge: charge("ch_1"),
                plan: "pro_8".into(),
                by: OWNER.into(),
                at: t0(),
            },
        ]);
}

#[test]
fn a_paid_plan_needs_a_card_and_a_charge() {
    BucketTest::with(())
        .given(vec![created()])
        .when(change_plan(OWNER, pro(), None, true))
        .then_expect_error(BucketError::PaymentRequired(
            "need a credit card to subscribe to this plan",
        ));
    BucketTest::with(())
        .given(vec![created(), attached(OWNER, "pm_1")])
        .when(change_plan(OWNER, pro(), None, false))
        .then_expect_error(BucketError::PaymentRequired(
            "the subscription needs an accepted charge",
        ));
    // A card on file is enough.
    BucketTest::with(())
        .given(vec![created(), attached(OWNER, "pm_1")])
        .when(change_plan(OWNER, pro(), None, true))
        .then_expect_events(vec![
            BucketEvent::PlanChanged {
                plan: pro(),
                by: OWNER.into(),
                at: t0(),
            },
            BucketEvent::ChargeRecorded {
                charge: charge("ch_1"),
                plan: "pro_8".into(),
                by: OWNER.into(),
                at: t0(),
            },
        ]);
    // Another member's card is not the owner's.
    BucketTest::with(())
        .given(with(team(), [attached(ADMIN, "pm_admin")]))
        .when(change_plan(OWNER, pro(), None, true))
        .then_expect_error(BucketError::PaymentRequired(
            "need a credit card to subscribe to this plan",
        ));
}

#[test]
fn only_the_owner_changes_the_plan_and_the_bucket_must_fit() {
    BucketTest::with(())
        .given(team())
        .when(change_plan(ADMIN, pro(), Some(card("pm_1")), true))
        .then_expect_error(BucketError::Forbidden("only the owner can change the plan"));
    BucketTest::with(())
        .given(with(team(), upgraded()))
        .when(change_plan(OWNER, plan("tiny", 2, 2, 0), None, false))
        .then_expect_error(BucketError::PlanNotAllowed(
            "not allowed to subscribe to the plan: the bucket has more members than it allows",
        ));
    BucketTest::with(())
        .given(vec![created()])
        .when(change_plan(OWNER, free(), None, false))
        .then_expect_error_message("plan: is already the bucket's plan");
}

#[test]
fn payment_methods_belong_to_their_member() {
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::AttachPaymentMethod {
            actor: USER.into(),
            method: card("pm_user"),
            at: t0(),
        })
        .then_expect_events(vec![attached(USER, "pm_user")]);
    BucketTest::with(())
        .given(with(team(), [attached(USER, "pm_user")]))
        .when(BucketCommand::DetachPaymentMethod {
            actor: ADMIN.into(),
            method_id: "pm_user".into(),
            at: t0(),
        })
        .then_expect_error(BucketError::PaymentMethodNotFound);
    BucketTest::with(())
        .given(with(team(), upgraded()))
        .when(BucketCommand::DetachPaymentMethod {
            actor: OWNER.into(),
            method_id: "pm_owner".into(),
            at: t0(),
        })
        .then_expect_error(BucketError::Forbidden(
            "the owner of a paid bucket must keep a payment method",
        ));
    BucketTest::with(())
        .given(with(team(), [attached(USER, "pm_user")]))
        .when(BucketCommand::DetachPaymentMethod {
            actor: USER.into(),
            method_id: "pm_user".into(),
            at: t0(),
        })
        .then_expect_events(vec![BucketEvent::PaymentMethodDetached {
            user_id: USER.into(),
            method_id: "pm_user".into(),
            at: t0(),
        }]);
}

fn trial(ends_at: DateTime<Utc>) -> BucketEvent {
    BucketEvent::TrialStarted {
        plan: pro(),
        ends_at,
        by: OWNER.into(),
        at: t0(),
    }
}

#[test]
fn a_trial_runs_once_per_bucket_and_only_on_a_free_one() {
    let start = BucketCommand::StartTrial {
        actor: OWNER.into(),
        plan: pro(),
        ends_at: later(14),
        at: t0(),
    };
    BucketTest::with(())
        .given(vec![created()])
        .when(start.clone())
        .then_expect_events(vec![trial(later(14))]);
    BucketTest::with(())
        .given(vec![created(), trial(later(14))])
        .when(start.clone())
        .then_expect_error(BucketError::TrialNotAllowed);
    BucketTest::with(())
        .given(with(vec![created()], upgraded()))
        .when(start.clone())
        .then_expect_error(BucketError::TrialNotAllowed);
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::StartTrial {
            actor: ADMIN.into(),
            plan: pro(),
            ends_at: later(14),
            at: t0(),
        })
        .then_expect_error(BucketError::Forbidden("only the owner can start a trial"));
}

#[test]
fn the_trial_plan_limits_hold_until_it_ends() {
    let full = with(team(), [invited("carol@example.com"), trial(later(14))]);
    BucketTest::with(())
        .given(full.clone())
        .when(BucketCommand::Invite {
            actor: OWNER.into(),
            email: "dave@example.com".into(),
            existing: None,
            at: later(1),
        })
        .then_expect_events(vec![BucketEvent::MemberInvited {
            email: "dave@example.com".into(),
            invited_by: OWNER.into(),
            at: later(1),
        }]);
    BucketTest::with(())
        .given(full)
        .when(BucketCommand::Invite {
            actor: OWNER.into(),
            email: "dave@example.com".into(),
            existing: None,
            at: later(15),
        })
        .then_expect_error(BucketError::MemberLimitReached);
}

// ---- servers ----

fn connect(secret: &str, name: &str) -> BucketCommand {
    BucketCommand::ConnectServer {
        secret_id: secret.into(),
        server_name: name.into(),
        hostname: "host".into(),
        pm2_version: "5.4.0".into(),
        at: t0(),
    }
}

fn connected(name: &str) -> BucketEvent {
    BucketEvent::ServerConnected {
        server_name: name.into(),
        hostname: "host".into(),
        pm2_version: "5.4.0".into(),
        at: t0(),
    }
}

#[test]
fn servers_connect_with_the_secret_within_the_plan() {
    BucketTest::with(())
        .given(vec![created()])
        .when(connect("c138m2m71boc57m", "web-1"))
        .then_expect_events(vec![connected("web-1")]);
    BucketTest::with(())
        .given(vec![created(), connected("web-1")])
        .when(connect("c138m2m71boc57m", "web-1"))
        .then_expect_events(vec![]);
    BucketTest::with(())
        .given(vec![created()])
        .when(connect("wrong", "web-1"))
        .then_expect_error(BucketError::BadSecret);
    // free: 2 servers.
    BucketTest::with(())
        .given(vec![created(), connected("web-1"), connected("web-2")])
        .when(connect("c138m2m71boc57m", "web-3"))
        .then_expect_error(BucketError::ServerLimitReached);
}

#[test]
fn admins_remove_servers() {
    let remove = |actor: &str, name: &str| BucketCommand::RemoveServer {
        actor: actor.into(),
        server_name: name.into(),
        at: t0(),
    };
    BucketTest::with(())
        .given(with(team(), [connected("web-1")]))
        .when(remove(ADMIN, "web-1"))
        .then_expect_events(vec![BucketEvent::ServerRemoved {
            server_name: "web-1".into(),
            by: ADMIN.into(),
            at: t0(),
        }]);
    BucketTest::with(())
        .given(with(team(), [connected("web-1")]))
        .when(remove(DEV, "web-1"))
        .then_expect_error(BucketError::Forbidden(
            "only an admin or the owner can delete servers",
        ));
    BucketTest::with(())
        .given(team())
        .when(remove(ADMIN, "web-9"))
        .then_expect_error(BucketError::ServerNotFound);
}

// ---- deletion ----

#[test]
fn only_the_owner_deletes_and_the_event_lists_what_went_away() {
    BucketTest::with(())
        .given(team())
        .when(BucketCommand::Delete {
            actor: ADMIN.into(),
            at: t0(),
        })
        .then_expect_error(BucketError::Forbidden(
            "only the owner can delete the bucket",
        ));
    BucketTest::with(())
        .given(vec![
            created(),
            added(USER),
            invited("carol@example.com"),
            connected("web-1"),
        ])
        .when(BucketCommand::Delete {
            actor: OWNER.into(),
            at: later(1),
        })
        .then_expect_events(vec![BucketEvent::BucketDeleted {
            by: OWNER.into(),
            member_ids: vec![OWNER.into(), USER.into()],
            invitations: vec!["carol@example.com".into()],
            servers: vec!["web-1".into()],
            payment_methods: vec![],
            charges: vec![],
            at: later(1),
        }]);
}

fn erase(user: &str, address: &str) -> BucketCommand {
    BucketCommand::ErasePerson {
        actor: "admin-1".into(),
        user_id: user.into(),
        email: address.into(),
        at: later(1),
    }
}

#[test]
fn erasing_a_member_erases_their_entry_and_keeps_the_membership() {
    BucketTest::with(())
        .given(team())
        .when(erase(USER, &email(USER)))
        .then_expect_events(vec![BucketEvent::MemberErased {
            user_id: USER.into(),
            email: crate::personal::erased_email(&email(USER)),
            owner: false,
            at: later(1),
        }]);
}

#[test]
fn erasing_an_invited_address_withdraws_the_invitation() {
    BucketTest::with(())
        .given(with(team(), [invited("guest@example.com")]))
        .when(erase("u-guest", "Guest@Example.com"))
        .then_expect_events(vec![BucketEvent::InvitationRemoved {
            email: "guest@example.com".into(),
            by: "admin-1".into(),
            at: later(1),
        }]);
}

#[test]
fn erasing_the_owner_keeps_them_owner_and_erasing_a_stranger_changes_nothing() {
    BucketTest::with(())
        .given(team())
        .when(erase(OWNER, &email(OWNER)))
        .then_expect_events(vec![BucketEvent::MemberErased {
            user_id: OWNER.into(),
            email: crate::personal::erased_email(&email(OWNER)),
            owner: true,
            at: later(1),
        }]);
    BucketTest::with(())
        .given(team())
        .when(erase("stranger", "stranger@example.com"))
        .then_expect_events(vec![]);
}

#[test]
fn an_erased_member_reads_as_erased_and_erasing_again_changes_nothing() {
    let erased = BucketEvent::MemberErased {
        user_id: USER.into(),
        email: crate::personal::erased_email(&email(USER)),
        owner: false,
        at: later(1),
    };
    let mut bucket = Bucket::default();
    for event in with(team(), [erased.clone()]) {
        bucket.apply(event);
    }
    assert_eq!(
        bucket.member(USER).map(|m| m.email.clone()),
        Some(crate::personal::erased_email(&email(USER)))
    );
    BucketTest::with(())
        .given(with(team(), [erased]))
        .when(erase(USER, &email(USER)))
        .then_expect_events(vec![]);
}
