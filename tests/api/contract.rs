//! The subscriber contract matches reality: every envelope a subscriber receives (from the
//! history, and on Postgres from the JetStream stream itself) validates against the committed
//! schemas in docs/events/, on both backends.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::buckets::{account, create_bucket, expect, id_of};
use crate::helpers::{Backend, TestApp, backends, spawn_app, unique_email};
use crate::history::all_pages;

/// The committed schemas, compiled: the envelope's and one per event type (`annals.<a>.<e>`).
struct Contract {
    envelope: jsonschema::Validator,
    events: BTreeMap<String, jsonschema::Validator>,
}

fn compile(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("a valid JSON Schema")
}

fn contract() -> Contract {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(annals::docs::SCHEMAS_DIR);
    let read = |path: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let envelope = compile(&read(&dir.join(annals::docs::ENVELOPE_SCHEMA)));
    let mut events = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let schema = read(&path);
        if let Some(title) = schema["title"]
            .as_str()
            .filter(|t| t.starts_with("annals."))
        {
            events.insert(title.to_string(), compile(&schema));
        }
    }
    Contract { envelope, events }
}

impl Contract {
    /// The schema violations of one envelope, as messages naming it.
    fn violations(&self, envelope: &Value) -> Vec<String> {
        let id = envelope["id"].as_str().unwrap_or("?");
        let mut found: Vec<String> = self
            .envelope
            .iter_errors(envelope)
            .map(|e| format!("{id}: envelope: {e} at {}", e.instance_path()))
            .collect();
        let kind = envelope["type"].as_str().unwrap_or_default();
        match self.events.get(kind) {
            Some(schema) => found.extend(
                schema
                    .iter_errors(&envelope["data"])
                    .map(|e| format!("{id}: {kind} data: {e} at {}", e.instance_path())),
            ),
            None => found.push(format!("{id}: no schema for {kind}")),
        }
        found
    }
}

/// Activity that leaves many kinds of events: accounts, logins good and bad, a profile
/// change, an API key, buckets with invitations, members, roles, options and a deletion.
async fn varied_history(app: &TestApp) {
    let (alice, bob) = (account(app).await, account(app).await);
    assert_eq!(
        app.login(&alice.email, "not-the-password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let patched = app
        .update_me(&alice.access, &json!({"lastName": "King"}))
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    assert!(
        app.create_api_key(&alice.access, "ci")
            .await
            .status()
            .is_success()
    );
    let id = id_of(&create_bucket(app, &alice, "prod").await);
    let gone = id_of(&create_bucket(app, &alice, "old").await);
    let path = |route: &str| format!("/api/bucket/{id}/{route}");
    for email in [bob.email.clone(), unique_email()] {
        let invite = json!({ "email": email });
        let invited = app
            .workspaces(Some(&alice.access))
            .post(&path("add_user"), invite)
            .await;
        expect(invited, StatusCode::OK).await;
    }
    let role = json!({"email": bob.email, "role": "admin"});
    let promoted = app
        .workspaces(Some(&alice.access))
        .post(&path("promote_user"), role)
        .await;
    expect(promoted, StatusCode::OK).await;
    let options = json!({"options": {"theme": "dark"}});
    let optioned = app
        .workspaces(Some(&bob.access))
        .put(&path("user_options"), options)
        .await;
    expect(optioned, StatusCode::OK).await;
    let renamed = app
        .workspaces(Some(&bob.access))
        .put(&format!("/api/bucket/{id}"), json!({"name": "prod-eu"}))
        .await;
    expect(renamed, StatusCode::OK).await;
    let deleted = app
        .workspaces(Some(&alice.access))
        .delete(&format!("/api/bucket/{gone}"))
        .await;
    expect(deleted, StatusCode::OK).await;
}

#[apply(backends)]
async fn every_envelope_subscribers_receive_validates_against_the_committed_schemas(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let auditor = crate::history::account(&app, "auditor").await;
    varied_history(&app).await;
    app.visible_events().await;
    let contract = contract();

    let envelopes = all_pages(&app, &auditor, "/api/history/events?", 1000).await;
    let types: BTreeSet<&str> = envelopes
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    for expected in [
        "annals.user.UserRegistered",
        "annals.user.LoginFailed",
        "annals.user.ProfileUpdated",
        "annals.api_key.ApiKeyCreated",
        "annals.bucket.BucketCreated",
        "annals.bucket.MemberAdded",
        "annals.bucket.MemberInvited",
        "annals.bucket.RoleChanged",
        "annals.bucket.UserOptionsChanged",
        "annals.bucket.BucketDeleted",
    ] {
        assert!(
            types.contains(expected),
            "{expected} missing from {types:?}"
        );
    }
    let violations: Vec<String> = envelopes
        .iter()
        .flat_map(|e| contract.violations(e))
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");

    // What the relay really published, as a subscriber reads it from JetStream.
    if backend == Backend::Postgres {
        let published = crate::spine::stream_envelopes(&app, envelopes.len() as u64).await;
        assert_eq!(published.len(), envelopes.len());
        let violations: Vec<String> = published
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .flat_map(|e| contract.violations(&e))
            .collect();
        assert!(violations.is_empty(), "{violations:#?}");
    }

    // The schemas are closed: a secret that slipped through, or a field the type lacks, fails.
    let mut leaked = envelopes
        .iter()
        .find(|e| e["type"] == "annals.user.UserRegistered")
        .unwrap()
        .clone();
    leaked["data"]["password_hash"] = json!("$argon2id$...");
    assert_eq!(
        contract.violations(&leaked).len(),
        1,
        "a leaked secret is caught"
    );
    let mut renamed = leaked.clone();
    renamed["type"] = json!("annals.user.NoSuchEvent");
    assert!(!contract.violations(&renamed).is_empty());
}
