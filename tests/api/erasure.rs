//! Erasure of a person's personal data, end to end on both backends: the log holds no
//! plaintext of it, and after erasure every reader (read models, `/api/history`, `annals
//! replay`, NATS, a rebuild) shows the erased forms while the rest of the history stays.
use std::process::Output;
use std::sync::Arc;

use annals::config::Storage;
use annals::services::identity::admin::{Account as Admin, ensure_user};
use annals::wiring::Backend as Storage_;
use annals_domain::personal::erased_email;
use annals_projections::Projection;
use annals_projections::identity::{PROFILES, UserProfiles};
use annals_projections::workspaces::{BUCKETS, BucketViews, INVITATIONS, MEMBERS};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::buckets::{Account, account, create_bucket, expect, id_of};
use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};

/// An admin's access token.
async fn admin(app: &TestApp) -> String {
    let email = unique_email();
    ensure_user(
        &app.state.identity,
        Admin {
            email: email.clone(),
            password: PASSWORD.into(),
            role: "admin".into(),
            first_name: "Root".into(),
            last_name: String::new(),
        },
    )
    .await
    .expect("admin created");
    let body: Value = app.login(&email, PASSWORD).await.json().await.unwrap();
    body["access"].as_str().expect("access token").to_string()
}

/// How many stored event rows contain `text` anywhere (payload or metadata), read with SQL.
pub(crate) async fn rows_containing(app: &TestApp, text: &str) -> i64 {
    let pattern = format!("%{text}%");
    match &app.infra.backend {
        Storage_::Postgres(pool) => sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE payload::text ILIKE $1 OR metadata::text ILIKE $1",
        )
        .bind(pattern)
        .fetch_one(pool)
        .await
        .unwrap(),
        Storage_::Sqlite(pool, _) => sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE payload LIKE ?1 OR metadata LIKE ?1",
        )
        .bind(pattern)
        .fetch_one(pool)
        .await
        .unwrap(),
    }
}

async fn post(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn history(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let body: Value = response.json().await.unwrap();
    body["events"].as_array().unwrap().clone()
}

/// Runs `annals` against the app's database (no other configuration from the environment).
async fn annals(app: &TestApp, args: &[&str]) -> Output {
    let url = match &app.infra.config.storage {
        Storage::Postgres { url } | Storage::Sqlite { url } => url.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_annals"))
        .args(args)
        .env_remove("NATS_URL")
        .env("DATABASE_URL", url)
        .env("ANNALS_DATA_DIR", dir.path())
        .env("RUST_LOG", "error")
        .output()
        .await
        .expect("annals runs")
}

fn ndjson(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The read models holding personal data, collection by collection.
async fn read_models(app: &TestApp) -> Vec<Vec<(String, Value)>> {
    let mut all = vec![];
    for collection in [PROFILES, BUCKETS, MEMBERS, INVITATIONS] {
        all.push(app.infra.views.dump(collection).await.unwrap());
    }
    all
}

/// The person to erase: invited before they registered (so their invitation became their
/// membership), with names of their own.
struct Person {
    account: Account,
    first_name: String,
    last_name: String,
}

async fn invited_then_registered(app: &TestApp, owner: &Account, bucket: &str) -> Person {
    let email = unique_email();
    expect(
        app.workspaces(Some(&owner.access))
            .post(
                &format!("/api/bucket/{bucket}/add_user"),
                json!({"email": email}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let (access, refresh) = app.signed_up(&email).await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (first_name, last_name) = (format!("Eve{tag}"), format!("Hidden{tag}"));
    let patched = app
        .update_me(
            &access,
            &json!({"firstName": first_name, "lastName": last_name}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let me: Value = app.me(&access).await.json().await.unwrap();
    Person {
        account: Account {
            user_id: me["id"].as_str().unwrap().to_string(),
            email,
            access,
            refresh,
        },
        first_name,
        last_name,
    }
}

#[apply(backends)]
async fn an_erased_person_reads_as_erased_everywhere_and_the_rest_of_the_history_stays(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let root = admin(&app).await;
    let (alice, bob) = (account(&app).await, account(&app).await);
    let bucket = id_of(&create_bucket(&app, &alice, "prod").await);
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &format!("/api/bucket/{bucket}/add_user"),
                json!({"email": bob.email}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let eve = invited_then_registered(&app, &alice, &bucket).await;
    let id = eve.account.user_id.clone();
    let local_part = eve.account.email.split('@').next().unwrap().to_string();
    let members = |doc: &Value| doc["members"].as_array().unwrap().clone();
    let before = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{bucket}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(members(&before).len(), 3, "{before}");

    // The log holds none of the person's data in plaintext, nor anyone else's.
    for secret in [&local_part, &eve.first_name, &eve.last_name] {
        assert_eq!(
            rows_containing(&app, secret).await,
            0,
            "{secret} stored in plaintext"
        );
    }
    let bob_local = bob.email.split('@').next().unwrap();
    assert_eq!(rows_containing(&app, bob_local).await, 0);
    assert!(rows_containing(&app, "$pii").await > 0);

    // Only admins erase.
    let refused = post(&app, &format!("/api/admin/users/{id}/erase"), &bob.access).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let stored_before: i64 = rows_containing(&app, "").await;
    let erased = post(&app, &format!("/api/admin/users/{id}/erase"), &root).await;
    assert_eq!(erased.status(), StatusCode::OK);
    assert!(erased.headers().contains_key("x-annals-position"));
    let erased: Value = erased.json().await.unwrap();
    assert_eq!(erased["keys_deleted"], json!(2), "{erased}");
    assert_eq!(erased["buckets"], json!([bucket]));
    assert!(
        rows_containing(&app, "").await > stored_before,
        "erasure appends events and rewrites none"
    );
    let marker = erased_email(&eve.account.email);

    // The person can no longer log in; their address is free for a new account.
    assert_ne!(
        app.login(&eve.account.email, PASSWORD).await.status(),
        StatusCode::OK
    );

    // Read models: the profile and the bucket show the erased forms, the others are untouched,
    // and commands on the bucket still work (on the erased member too, by the erased address).
    let after = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{bucket}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let text = after.to_string();
    assert!(text.contains(&marker), "{after}");
    assert!(!text.contains(&local_part), "{after}");
    assert!(
        text.contains(&bob.email) && text.contains(&alice.email),
        "{after}"
    );
    assert_eq!(members(&after).len(), 3);
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &format!("/api/bucket/{bucket}/promote_user"),
                json!({"email": marker, "role": "developer"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.workspaces(Some(&alice.access))
            .put(&format!("/api/bucket/{bucket}"), json!({"name": "prod-eu"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let profile = app
        .infra
        .views
        .get(PROFILES, &id)
        .await
        .unwrap()
        .expect("profile");
    assert_eq!(profile["email"], json!(marker));
    assert_eq!(
        (&profile["firstName"], &profile["lastName"]),
        (&json!("erased"), &json!("erased"))
    );
    let alice_profile = app
        .infra
        .views
        .get(PROFILES, &alice.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice_profile["email"], json!(alice.email));

    // History over HTTP and `annals replay`: the person's stream reads as erased, every event
    // still there.
    let stream = history(
        &app,
        &root,
        &format!("/api/history/streams/user/{id}?limit=100"),
    )
    .await;
    let registered = stream
        .iter()
        .find(|e| e["eventname"] == json!("UserRegistered"))
        .unwrap();
    assert_eq!(registered["data"]["email"], json!(marker));
    assert_eq!(registered["data"]["first_name"], json!("erased"));
    let renamed = stream
        .iter()
        .find(|e| e["eventname"] == json!("ProfileUpdated"))
        .unwrap();
    assert_eq!(renamed["data"]["last_name"], json!("erased"));
    assert_eq!(stream.last().unwrap()["eventname"], json!("UserErased"));
    let everything = history(&app, &root, "/api/history/events?limit=10000").await;
    let all_text = Value::Array(everything.clone()).to_string();
    for secret in [&local_part, &eve.first_name, &eve.last_name] {
        assert!(
            !all_text.contains(secret.as_str()),
            "{secret} readable after erasure"
        );
    }
    assert!(all_text.contains(&bob.email), "other people's data stays");
    assert!(
        !all_text.contains("$pii"),
        "readers never see sealed values"
    );
    let replayed = ndjson(&annals(&app, &["replay", "--stream", &format!("user/{id}")]).await);
    assert_eq!(Value::Array(replayed), Value::Array(stream.clone()));

    // NATS: what the relay publishes from now on reads as erased.
    if backend == Backend::Postgres {
        app.visible_events().await;
        let count = everything.len() as u64;
        let envelopes = crate::spine::stream_envelopes(&app, count).await;
        let after_erasure: Vec<_> = envelopes
            .iter()
            .filter(|e| ["UserErased", "MemberErased"].contains(&e.eventname.as_str()))
            .collect();
        assert_eq!(after_erasure.len(), 2, "{after_erasure:?}");
        for envelope in after_erasure {
            assert_eq!(envelope.data["email"], json!(marker));
        }
    }

    // A rebuild from the log gives the live read models.
    app.settle(BucketViews.name()).await;
    app.settle(UserProfiles.name()).await;
    let live = read_models(&app).await;
    for projection in [
        Arc::new(UserProfiles) as Arc<dyn Projection>,
        Arc::new(BucketViews),
    ] {
        annals_projections::rebuild(
            projection,
            app.infra.views.clone(),
            app.infra.reader(),
            app.progress(),
        )
        .await
        .unwrap();
    }
    assert_eq!(read_models(&app).await, live);

    // The address registers again as a new person, with nothing of the old one.
    assert_eq!(
        app.register(&eve.account.email).await.status(),
        StatusCode::CREATED
    );
    let again = post(&app, &format!("/api/admin/users/{id}/erase"), &root).await;
    assert_eq!(again.status(), StatusCode::OK, "erasing again is harmless");
}

#[apply(backends)]
async fn admin_erase_user_erases_by_email_from_the_command_line(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let root = admin(&app).await;
    let (alice, eve) = (account(&app).await, account(&app).await);
    let bucket = id_of(&create_bucket(&app, &alice, "prod").await);
    expect(
        app.workspaces(Some(&alice.access))
            .post(
                &format!("/api/bucket/{bucket}/add_user"),
                json!({"email": eve.email}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let out = annals(&app, &["admin", "erase-user", "--email", &eve.email]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&eve.user_id));
    let marker = erased_email(&eve.email);
    let bucket_doc = expect(
        app.workspaces(Some(&alice.access))
            .get(&format!("/api/bucket/{bucket}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(bucket_doc.to_string().contains(&marker), "{bucket_doc}");
    app.settle(UserProfiles.name()).await;
    let profile = app
        .infra
        .views
        .get(PROFILES, &eve.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile["email"], json!(marker));
    let stream = history(
        &app,
        &root,
        &format!("/api/history/streams/user/{}?limit=100", eve.user_id),
    )
    .await;
    assert_eq!(stream[0]["data"]["email"], json!(marker));
    let unknown = annals(
        &app,
        &["admin", "erase-user", "--email", "nobody@example.com"],
    )
    .await;
    assert!(!unknown.status.success());
}

/// Many first uses of one person's key at once (concurrent registrations of one address) all
/// get the one key that was made: none may miss the row another made meanwhile.
#[tokio::test]
async fn concurrent_first_uses_of_a_key_agree_on_it() {
    use annals::adapters::person_keys::KeyStore;
    let app = spawn_app(Backend::Postgres).await;
    let store = KeyStore::Postgres(app.pg());
    for round in 0..20 {
        let subject = format!("race-{round}-{}", unique_email());
        let keys = futures::future::join_all((0..32).map(|_| {
            let store = store.clone();
            let subject = subject.clone();
            async move { store.get_or_create(&subject).await.expect("a key").id }
        }))
        .await;
        assert!(keys.iter().all(|id| *id == keys[0]), "{keys:?}");
    }
}
