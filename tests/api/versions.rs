//! Event versioning: an event stored in an older shape is read in the current one by every
//! path (aggregate loads and the commands on them, projections and their rebuild, the
//! envelopes of `/api/history`, `annals replay` and NATS), on both backends.
use std::sync::Arc;

use annals::config::Storage;
use annals::services::identity::claim_id;
use annals_domain::identity::RegisteredVia;
use annals_projections::Projection;
use annals_projections::identity::{PROFILES, UserProfiles};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};
use crate::history::{account, annals, lines};

/// Appends a row to the log with SQL, as an older annals wrote it.
async fn insert_row(
    app: &TestApp,
    (aggregate_type, aggregate_id): (&str, &str),
    event_type: &str,
    version: &str,
    fields: Value,
) {
    let payload = json!({ event_type: fields }).to_string();
    if let Some(pool) = app.infra.pg_pool() {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ($1, $2, 1, $3, $4, $5::jsonb, '{}'::jsonb)",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(event_type)
        .bind(version)
        .bind(payload)
        .execute(pool)
        .await
        .expect("old row inserted");
    } else {
        let pool = app.infra.sqlite_pool().expect("a SQLite-backed app");
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES (?, ?, 1, ?, ?, ?, '{}')",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(event_type)
        .bind(version)
        .bind(payload)
        .execute(pool)
        .await
        .expect("old row inserted");
    }
}

/// The version a stream's first event has in the log itself.
async fn stored_version(app: &TestApp, aggregate_type: &str, aggregate_id: &str) -> String {
    let query = "SELECT event_version FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1";
    match app.infra.pg_pool() {
        Some(pool) => sqlx::query_scalar(query)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_one(pool)
            .await
            .unwrap(),
        None => sqlx::query_scalar(query)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_one(app.infra.sqlite_pool().unwrap())
            .await
            .unwrap(),
    }
}

/// A password hash the app made (from a registration through the API), to give the old row.
async fn a_real_password_hash(app: &TestApp) -> String {
    let email = unique_email();
    assert_eq!(app.register(&email).await.status(), StatusCode::CREATED);
    let events = app.visible_events().await;
    let registered = events
        .iter()
        .find(|e| e.event_type == "UserRegistered" && e.payload["UserRegistered"]["email"] == email)
        .expect("the registration is in the log");
    registered.payload["UserRegistered"]["password_hash"]
        .as_str()
        .unwrap()
        .to_string()
}

#[apply(backends)]
async fn a_registration_stored_at_1_0_is_read_as_2_0_by_every_path(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;

    // Given a registration stored by an annals from before UserRegistered 2.0 (no
    // `registered_via`), with the email claim that came with it
    let (user_id, email) = (uuid::Uuid::now_v7().to_string(), unique_email());
    let password_hash = a_real_password_hash(&app).await;
    insert_row(
        &app,
        ("email_claim", &claim_id(&email)),
        "EmailClaimed",
        "1.0",
        json!({"email": email, "user_id": user_id, "at": "2026-01-02T03:04:05Z"}),
    )
    .await;
    insert_row(
        &app,
        ("user", &user_id),
        "UserRegistered",
        "1.0",
        json!({
            "user_id": user_id, "email": email, "first_name": "Old", "last_name": "Timer",
            "password_hash": password_hash, "role": "user", "at": "2026-01-02T03:04:05Z",
        }),
    )
    .await;

    // When its owner logs in: the aggregate is loaded from the log and a command runs on it
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(
        login.status(),
        StatusCode::OK,
        "the old account still logs in"
    );
    let access = login.json::<Value>().await.unwrap()["access"]
        .as_str()
        .unwrap()
        .to_string();
    let user = app.state.identity.user(&user_id).await.unwrap();
    assert_eq!(user.registered_via, RegisteredVia::Unrecorded);

    // Then the profile read model (fed through the relay's envelopes) has the new field
    let me: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(me["registeredVia"], "unrecorded", "{me}");
    assert_eq!(me["loginCount"], 1);

    // And the history shows the event at 2.0 in its new shape, followed by the login
    let response = app
        .client
        .get(app.url(&format!("/api/history/streams/user/{user_id}")))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let history: Value = response.json().await.unwrap();
    let events = history["events"].as_array().unwrap();
    assert_eq!(events[0]["eventname"], "UserRegistered");
    assert_eq!(events[0]["eventversion"], "2.0");
    assert_eq!(events[0]["data"]["registered_via"], "unrecorded");
    assert_eq!(events[0]["data"]["first_name"], "Old");
    assert!(events[0]["data"].get("password_hash").is_none());
    assert_eq!(events[1]["eventname"], "UserLoggedIn");

    // And so does `annals replay`, in a process of its own
    let url = match &app.infra.config.storage {
        Storage::Postgres { url } | Storage::Sqlite { url } => url.clone(),
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let stream = format!("user/{user_id}");
    let replayed = annals(
        &["replay", "--stream", &stream],
        &[("DATABASE_URL", &url)],
        elsewhere.path(),
    )
    .await;
    assert_eq!(
        &lines(&replayed),
        events,
        "replay gives the history's envelopes"
    );

    // And a rebuild of the profiles gives the same document
    app.settle(UserProfiles.name()).await;
    annals_projections::rebuild(
        Arc::new(UserProfiles),
        app.infra.views.clone(),
        app.infra.reader(),
        app.progress(),
    )
    .await
    .unwrap();
    let rebuilt = app
        .infra
        .views
        .get(PROFILES, &user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rebuilt["registeredVia"], "unrecorded");
    assert_eq!(rebuilt, me);

    // While the log itself still holds the row as it was written
    assert_eq!(stored_version(&app, "user", &user_id).await, "1.0");
}

#[apply(backends)]
async fn new_registrations_record_how_the_account_came_to_exist(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let (access, _) = app.signed_up(&unique_email()).await;
    let me: Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(me["registeredVia"], "signup");

    let auditor = account(&app, "auditor").await;
    let me: Value = app.me(&auditor).await.json().await.unwrap();
    assert_eq!(me["registeredVia"], "operator");
    let user_id = me["id"].as_str().unwrap();
    assert_eq!(stored_version(&app, "user", user_id).await, "2.0");
}
