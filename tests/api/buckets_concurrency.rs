//! Buckets under concurrent writers, and their events on NATS.
use std::collections::HashSet;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;
use futures::future::join_all;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use annals_contracts::Envelope;

use crate::buckets::{Account, account, create_bucket, expect, id_of};
use crate::helpers::{Backend, TestApp, backends, spawn_app, unique_email};

/// Sends all invitations at once; returns the statuses.
async fn invite_all(
    app: &TestApp,
    owner: &Account,
    id: &str,
    emails: &[String],
) -> Vec<StatusCode> {
    let path = format!("/api/bucket/{id}/add_user");
    join_all(emails.iter().map(|email| {
        app.workspaces(Some(&owner.access))
            .post(&path, json!({"email": email}))
    }))
    .await
    .into_iter()
    .map(|r| r.status())
    .collect()
}

#[apply(backends)]
async fn fifty_concurrent_invitations_all_land(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let id = id_of(&create_bucket(&app, &alice, "big").await);
    let upgraded = app
        .workspaces(Some(&alice.access))
        .post(
            &format!("/api/bucket/{id}/upgrade"),
            json!({"plan": "pro_64", "stripe_token": "tok_visa"}),
        )
        .await;
    expect(upgraded, StatusCode::OK).await;
    // Five existing accounts (added directly) and 45 unknown addresses (invited).
    let mut existing = Vec::new();
    for _ in 0..5 {
        existing.push(account(&app).await.email);
    }
    let unknown: Vec<String> = (0..45).map(|_| unique_email()).collect();
    let all: Vec<String> = existing.iter().chain(&unknown).cloned().collect();

    let statuses = invite_all(&app, &alice, &id, &all).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );

    let bucket = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let invited: HashSet<&str> = bucket["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    let members: HashSet<&str> = bucket["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(invited, unknown.iter().map(String::as_str).collect());
    assert_eq!(members.len(), 6, "{bucket}");
    assert!(existing.iter().all(|e| members.contains(e.as_str())));
    let users = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}/users_authorized"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(users.as_array().unwrap().len(), 6);
}

#[apply(backends)]
async fn the_member_cap_holds_under_concurrent_invitations(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    // The free plan: 5 seats (members plus pending invitations), the owner holds one.
    let plans: Value = app
        .client
        .get(app.url("/api/misc/plans"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seats = plans["free"]["max_members"].as_u64().unwrap() as usize;
    let id = id_of(&create_bucket(&app, &alice, "small").await);
    let bob = account(&app).await;
    let emails: Vec<String> = std::iter::once(bob.email.clone())
        .chain((0..29).map(|_| unique_email()))
        .collect();
    let statuses = invite_all(&app, &alice, &id, &emails).await;
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!(accepted, seats - 1, "{statuses:?}");
    assert_eq!(accepted + refused, emails.len(), "{statuses:?}");
    let bucket = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let taken = bucket["members"].as_array().unwrap().len()
        + bucket["invitations"].as_array().unwrap().len();
    assert_eq!(taken, seats, "{bucket}");

    // A second wave, racing cancellations: the cap still holds at every step.
    let pending: Vec<String> = bucket["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_string())
        .collect();
    let cancel_path = |email: &str| {
        format!(
            "/api/bucket/{id}/invitation?email={}",
            email.replace('@', "%40")
        )
    };
    let (app_ref, access) = (&app, alice.access.as_str());
    let cancels = join_all(pending.iter().take(2).map(|e| {
        let path = cancel_path(e);
        async move {
            app_ref
                .workspaces(Some(access))
                .delete(&path)
                .await
                .status()
        }
    }));
    let wave: Vec<String> = (0..20).map(|_| unique_email()).collect();
    let (cancelled, statuses) = tokio::join!(cancels, invite_all(&app, &alice, &id, &wave));
    assert!(
        cancelled.iter().all(|s| *s == StatusCode::OK),
        "{cancelled:?}"
    );
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(accepted <= 2, "{statuses:?}");
    let bucket = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let taken = bucket["members"].as_array().unwrap().len()
        + bucket["invitations"].as_array().unwrap().len();
    assert!(taken <= seats, "{bucket}");
    assert_eq!(taken, seats - 2 + accepted, "{bucket}");
}

#[apply(backends)]
async fn concurrent_creations_respect_the_owned_bucket_cap(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = account(&app).await;
    let statuses: Vec<StatusCode> = join_all((0..10).map(|i| {
        app.workspaces(Some(&alice.access)).post(
            "/api/bucket/create_classic",
            json!({"name": format!("b{i}")}),
        )
    }))
    .await
    .into_iter()
    .map(|r| r.status())
    .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::FORBIDDEN)
            .count(),
        8,
        "{statuses:?}"
    );
    let list = expect(
        app.workspaces(Some(&alice.access)).get("/api/bucket").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

/// The bucket's messages on the JetStream stream, once `expected` of them arrived.
async fn bucket_events(app: &TestApp, id: &str, expected: usize) -> Vec<Envelope> {
    let events = app.infra.stream.clone().expect("NATS configured");
    let stream = events.js.get_stream(&events.name).await.unwrap();
    let subject = format!("{}.bucket.{id}", events.prefix);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                deliver_policy: DeliverPolicy::All,
                filter_subject: subject.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut envelopes = Vec::new();
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(500), messages.next()).await
        {
            envelopes.push(serde_json::from_slice::<Envelope>(&message.payload).unwrap());
        }
        if envelopes.len() >= expected {
            return envelopes;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} bucket events on NATS: {:?}",
            envelopes.len(),
            envelopes
                .iter()
                .map(|e| e.eventname.as_str())
                .collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bucket_change_is_an_event_on_nats() {
    let app = spawn_app(Backend::Postgres).await;
    let alice = account(&app).await;
    let bob = account(&app).await;
    let bucket = create_bucket(&app, &alice, "prod").await;
    let id = id_of(&bucket);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    let carol = unique_email();
    let dave = unique_email();
    for email in [&bob.email, &carol, &dave] {
        expect(
            app.workspaces(Some(&alice.access))
                .post(&path("add_user"), json!({"email": email}))
                .await,
            StatusCode::OK,
        )
        .await;
    }
    expect(
        app.workspaces(Some(&alice.access))
            .delete(&format!(
                "{}?email={}",
                path("invitation"),
                carol.replace('@', "%40")
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    app.signed_up(&dave).await;
    expect(
        app.workspaces(Some(&alice.access))
            .get(&path("users_authorized"))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &path("promote_user"),
                json!({"email": bob.email, "role": "developer"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &path("manage_notif"),
                json!({"email": bob.email, "state": "none"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .put(&path("user_options"), json!({"options": {"a": 1}}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .put(&path("feedback"), json!({"feedback": "hi"}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .put(&format!("/api/bucket/{id}"), json!({"name": "prod-eu"}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .call(reqwest::Method::PUT, &path("start_trial"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &path("upgrade"),
                json!({"plan": "pro_8", "stripe_token": "tok_visa"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let verify = json!({"public_id": bucket["public_id"], "private_id": bucket["secret_id"], "data": {"MACHINE_NAME": "web-1"}});
    let linked = app
        .client
        .post(app.url("/api/node/verifyPM2"))
        .json(&verify)
        .send()
        .await
        .unwrap();
    expect(linked, StatusCode::OK).await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("data/deleteServer"), json!({"server_name": "web-1"}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&bob.access))
            .post(&path("payment/cards"), json!({"token": "tok_visa"}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("remove_user"), json!({"email": dave}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .post(&path("transfer_ownership"), json!({"new_owner": bob.email}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&bob.access))
            .delete(&format!("/api/bucket/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;

    let expected = [
        "BucketCreated",
        "MemberAdded",
        "MemberInvited",
        "InvitationRemoved",
        "InvitationAccepted",
        "RoleChanged",
        "NotificationStateChanged",
        "UserOptionsChanged",
        "FeedbackSent",
        "BucketUpdated",
        "TrialStarted",
        "PaymentMethodAttached",
        "PlanChanged",
        "ChargeRecorded",
        "ServerConnected",
        "ServerRemoved",
        "MemberRemoved",
        "OwnershipTransferred",
        "BucketDeleted",
    ];
    let envelopes = bucket_events(&app, &id, 21).await;
    let names: HashSet<&str> = envelopes.iter().map(|e| e.eventname.as_str()).collect();
    for name in expected {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let created = envelopes
        .iter()
        .find(|e| e.eventname == "BucketCreated")
        .unwrap();
    assert_eq!(created.event_type, "annals.bucket.BucketCreated");
    assert_eq!(created.actor.as_deref(), Some(alice.user_id.as_str()));
    assert_eq!(created.data["owner"]["user_id"], json!(alice.user_id));
    let accepted = envelopes
        .iter()
        .find(|e| e.eventname == "InvitationAccepted")
        .unwrap();
    assert_eq!(accepted.data["email"], json!(dave));
}
