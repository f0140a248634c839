//! The history for auditors: `GET /api/history/...` and `annals replay`, the log's events as
//! the envelopes published on NATS, on both backends.
use std::process::Output;

use annals::config::Storage;
use annals::services::identity::admin::{Account, ensure_user};
use annals_contracts::{Envelope, Position, StoredEvent};
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, assert_error, backends, spawn_app, unique_email};

/// An account with `role` (admin, auditor, ...), as `annals admin create-user` makes it; its
/// email (the password is [`PASSWORD`]).
pub async fn account_with_role(app: &TestApp, role: &str) -> String {
    let email = unique_email();
    ensure_user(
        &app.state.identity,
        Account {
            email: email.clone(),
            password: PASSWORD.into(),
            role: role.into(),
            first_name: "Audrey".into(),
            last_name: "Tor".into(),
        },
    )
    .await
    .expect("account created");
    email
}

/// A logged-in account with `role` (admin, auditor, ...); its access token.
pub(crate) async fn account(app: &TestApp, role: &str) -> String {
    let email = account_with_role(app, role).await;
    let body: Value = app.login(&email, PASSWORD).await.json().await.unwrap();
    body["access"].as_str().expect("access token").to_string()
}

pub(crate) async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let request = app.client.get(app.url(path));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

async fn page(app: &TestApp, token: &str, path: &str) -> Value {
    let response = get(app, path, Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Every page of `path` (which has a query already) with `limit`, in order.
pub(crate) async fn all_pages(app: &TestApp, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let mut after = Position::ZERO.to_string();
    let mut events = Vec::new();
    loop {
        let body = page(app, token, &format!("{path}&limit={limit}&after={after}")).await;
        let got = body["events"].as_array().unwrap().clone();
        let next = body["next"].as_str().unwrap().to_string();
        let done = got.len() < limit;
        events.extend(got);
        if done {
            // The end stays the end: the next page is empty and points at the same place.
            let again = page(app, token, &format!("{path}&limit={limit}&after={next}")).await;
            assert_eq!(again["events"], json!([]), "{again}");
            assert_eq!(again["next"], json!(next));
            return events;
        }
        assert_ne!(next, after, "a full page moves on");
        after = next;
    }
}

/// Users registering, logging in and changing their profiles.
pub(crate) async fn activity(app: &TestApp, users: usize) -> Vec<String> {
    let mut emails = Vec::new();
    for i in 0..users {
        let email = unique_email();
        let (access, _) = app.signed_up(&email).await;
        let patched = app
            .update_me(&access, &json!({"firstName": format!("Ada{i}")}))
            .await;
        assert_eq!(patched.status(), StatusCode::OK);
        emails.push(email);
    }
    emails
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

fn log_ids(log: &[StoredEvent]) -> Vec<String> {
    log.iter()
        .map(|e| format!("{}/{}/{}", e.aggregate_type, e.aggregate_id, e.sequence))
        .collect()
}

#[apply(backends)]
async fn auditors_page_through_the_whole_history(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    let admin = account(&app, "admin").await;
    let (user, _) = app.signed_up(&unique_email()).await;
    activity(&app, 3).await;
    let log = app.visible_events().await;

    assert_error(
        get(&app, "/api/history/events", None).await,
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    for path in ["/api/history/events", "/api/history/streams/user/x"] {
        let refused = assert_error(
            get(&app, path, Some(&user)).await,
            StatusCode::FORBIDDEN,
            None,
        )
        .await;
        assert_eq!(refused["error"]["code"], json!("forbidden"));
    }

    let events = all_pages(&app, &auditor, "/api/history/events?", 4).await;
    assert_eq!(
        ids(&events),
        log_ids(&log),
        "the log's global order, all of it"
    );
    let log_id = app.infra.log.log_id().await.unwrap();
    let envelopes: Vec<Envelope> = events
        .iter()
        .map(|e| serde_json::from_value(e.clone()).unwrap())
        .collect();
    assert_eq!(envelopes[0].prevposition, Position::ZERO);
    for pair in envelopes.windows(2) {
        assert_eq!(pair[1].prevposition, pair[0].position, "chained");
    }
    for (envelope, stored) in envelopes.iter().zip(&log) {
        assert_eq!(envelope.position, stored.position);
        assert_eq!(envelope.logid.as_deref(), Some(log_id.as_str()));
        assert_eq!(envelope.specversion, "1.0");
    }
    let text = serde_json::to_string(&events).unwrap();
    assert!(text.contains("UserRegistered"));
    assert!(
        !text.contains("password_hash") && !text.contains("$argon2"),
        "secrets redacted"
    );

    // Admins read it too; one page of 10,000 holds everything here.
    let whole = page(&app, &admin, "/api/history/events?limit=10000").await;
    assert_eq!(whole["events"], json!(events));
    assert_eq!(
        whole["next"],
        json!(log.last().unwrap().position.to_string())
    );
    // Starting anywhere gives the same envelopes: after an event, or at a position between
    // two (Postgres: the next event's transaction, just below its id), the first envelope
    // names its real predecessor.
    let half = log.len() / 2;
    let middle = log[half].position;
    let rest = page(
        &app,
        &auditor,
        &format!("/api/history/events?after={middle}"),
    )
    .await;
    assert_eq!(rest["events"], json!(events[half + 1..]));
    let next = log[half + 1].position;
    let between = Position::new(next.tx, next.gid - 1);
    let rest = page(
        &app,
        &auditor,
        &format!("/api/history/events?after={between}"),
    )
    .await;
    assert_eq!(rest["events"], json!(events[half + 1..]));

    // Exactly what NATS carries.
    if backend == Backend::Postgres {
        let published = crate::spine::stream_envelopes(&app, log.len() as u64).await;
        assert_eq!(&published[..log.len()], &envelopes[..]);
    }
}

#[apply(backends)]
async fn filters_select_by_type_time_and_stream(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 3).await;
    let log = app.visible_events().await;
    let all = all_pages(&app, &auditor, "/api/history/events?", 10_000).await;

    let of_type = |name: &str| -> Vec<Value> {
        all.iter()
            .filter(|e| e["eventname"] == json!(name))
            .cloned()
            .collect()
    };
    let registered = of_type("UserRegistered");
    assert_eq!(registered.len(), 4);
    for query in ["type=UserRegistered", "type=annals.user.UserRegistered"] {
        let got = all_pages(&app, &auditor, &format!("/api/history/events?{query}"), 2).await;
        assert_eq!(got, registered, "{query}");
    }
    let second = all[1]["eventname"].as_str().unwrap().to_string();
    let both: Vec<Value> = all
        .iter()
        .filter(|e| e["eventname"] == json!("UserRegistered") || e["eventname"] == json!(second))
        .cloned()
        .collect();
    let got = all_pages(
        &app,
        &auditor,
        &format!("/api/history/events?type=UserRegistered&type={second}"),
        3,
    )
    .await;
    assert_eq!(got, both);
    assert_eq!(
        all_pages(&app, &auditor, "/api/history/events?type=NoSuchEvent", 5).await,
        Vec::<Value>::new()
    );

    // since is inclusive, until exclusive, on the envelope's time.
    let pivot = &all[all.len() / 2]["time"];
    let pivot_time: chrono::DateTime<chrono::Utc> = serde_json::from_value(pivot.clone()).unwrap();
    let encoded = url::form_urlencoded::byte_serialize(pivot.as_str().unwrap().as_bytes())
        .collect::<String>();
    let time_of = |e: &Value| {
        serde_json::from_value::<chrono::DateTime<chrono::Utc>>(e["time"].clone()).unwrap()
    };
    let since = all_pages(
        &app,
        &auditor,
        &format!("/api/history/events?since={encoded}"),
        3,
    )
    .await;
    let expected: Vec<Value> = all
        .iter()
        .filter(|e| time_of(e) >= pivot_time)
        .cloned()
        .collect();
    assert_eq!(since, expected);
    let until = all_pages(
        &app,
        &auditor,
        &format!("/api/history/events?until={encoded}"),
        3,
    )
    .await;
    let expected: Vec<Value> = all
        .iter()
        .filter(|e| time_of(e) < pivot_time)
        .cloned()
        .collect();
    assert_eq!(until, expected);

    // One stream: its events in order, the same envelopes as in the global order.
    let subject = registered[2]["subject"].as_str().unwrap().to_string();
    let stream: Vec<Value> = all
        .iter()
        .filter(|e| e["subject"] == json!(subject))
        .cloned()
        .collect();
    assert!(stream.len() >= 3, "{stream:?}");
    let sequences: Vec<i64> = stream
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=stream.len() as i64).collect::<Vec<_>>());
    let paged = all_pages(
        &app,
        &auditor,
        &format!("/api/history/streams/{subject}?"),
        1,
    )
    .await;
    assert_eq!(paged, stream);
    let filtered = all_pages(
        &app,
        &auditor,
        &format!("/api/history/events?stream={subject}"),
        2,
    )
    .await;
    assert_eq!(filtered, stream);
    let typed = all_pages(
        &app,
        &auditor,
        &format!("/api/history/streams/{subject}?type=UserRegistered"),
        2,
    )
    .await;
    assert_eq!(typed, stream[..1]);
    assert_eq!(log.len(), all.len());

    // An unknown stream, and malformed parameters, named.
    assert_error(
        get(&app, "/api/history/streams/user/nobody", Some(&auditor)).await,
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    for (query, field) in [
        ("after=nope", "after"),
        ("since=yesterday", "since"),
        ("until=2026-01-01", "until"),
        ("stream=user", "stream"),
        ("limit=10001", "limit"),
        ("limit=0", "limit"),
    ] {
        assert_error(
            get(
                &app,
                &format!("/api/history/events?{query}"),
                Some(&auditor),
            )
            .await,
            StatusCode::BAD_REQUEST,
            Some(field),
        )
        .await;
    }
}

/// Runs `annals` with only `env` (no configuration from the test's environment).
pub(crate) async fn annals(
    args: &[&str],
    env: &[(&str, &str)],
    data_dir: &std::path::Path,
) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_annals"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .env("ANNALS_DATA_DIR", data_dir)
        .env("RUST_LOG", "error");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().await.expect("annals runs")
}

pub(crate) fn lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON envelope"))
        .collect()
}

#[apply(backends)]
async fn replay_writes_the_history_as_ndjson_while_the_server_runs(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 3).await;
    app.visible_events().await;
    let all = all_pages(&app, &auditor, "/api/history/events?", 10_000).await;
    let url = match &app.infra.config.storage {
        Storage::Postgres { url } | Storage::Sqlite { url } => url.clone(),
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let replay = |args: &'static [&'static str]| {
        let url = url.clone();
        let dir = elsewhere.path().to_path_buf();
        async move {
            let mut full = vec!["replay"];
            full.extend_from_slice(args);
            annals(&full, &[("DATABASE_URL", &url)], &dir).await
        }
    };

    let out = replay(&[]).await;
    assert_eq!(lines(&out), all, "the same envelopes as the REST pages");
    assert!(out.stderr.is_empty(), "no progress bar without a terminal");
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "the data directory is left alone"
    );

    assert_eq!(lines(&replay(&["--limit", "2"]).await), all[..2]);
    let from = all[1]["position"].as_str().unwrap().to_string();
    let out = annals(
        &["replay", "--from", &from],
        &[("DATABASE_URL", &url)],
        elsewhere.path(),
    )
    .await;
    assert_eq!(lines(&out), all[2..]);
    let registered: Vec<Value> = all
        .iter()
        .filter(|e| e["eventname"] == json!("UserRegistered"))
        .cloned()
        .collect();
    assert_eq!(
        lines(&replay(&["--type", "UserRegistered"]).await),
        registered
    );
    assert_eq!(
        lines(&replay(&["--type", "annals.user.UserRegistered", "--type", "Nothing"]).await),
        registered
    );
    let subject = registered[1]["subject"].as_str().unwrap().to_string();
    let stream: Vec<Value> = all
        .iter()
        .filter(|e| e["subject"] == json!(subject))
        .cloned()
        .collect();
    let out = annals(
        &["replay", "--stream", &subject],
        &[("DATABASE_URL", &url)],
        elsewhere.path(),
    )
    .await;
    assert_eq!(lines(&out), stream);
    let since = all[3]["time"].as_str().unwrap().to_string();
    let out = annals(
        &[
            "replay",
            "--since",
            &since,
            "--until",
            "2999-01-01T00:00:00Z",
        ],
        &[("DATABASE_URL", &url)],
        elsewhere.path(),
    )
    .await;
    let pivot: chrono::DateTime<chrono::Utc> = since.parse().unwrap();
    let expected: Vec<Value> = all
        .iter()
        .filter(|e| {
            serde_json::from_value::<chrono::DateTime<chrono::Utc>>(e["time"].clone()).unwrap()
                >= pivot
        })
        .cloned()
        .collect();
    assert_eq!(lines(&out), expected);

    let bad = replay(&["--from", "yesterday"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--from"));

    // The server kept serving throughout.
    assert_eq!(
        get(&app, "/api/history/events?limit=1", Some(&auditor))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_auditor_account_from_the_command_line_and_a_replay_of_a_fresh_install() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing to replay yet: refused, and no database created.
    let missing = annals(&["replay"], &[], dir.path()).await;
    assert!(!missing.status.success());
    assert!(!dir.path().join("annals.db").exists());

    let created = annals(
        &[
            "admin",
            "create-user",
            "--email",
            "audit@example.com",
            "--password",
            PASSWORD,
            "--role",
            "auditor",
        ],
        &[],
        dir.path(),
    )
    .await;
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("(auditor)"));

    let events = lines(&annals(&["replay"], &[], dir.path()).await);
    let registered = events
        .iter()
        .find(|e| e["type"] == json!("annals.user.UserRegistered"))
        .expect("the registration is in the history");
    assert_eq!(registered["data"]["role"], json!("auditor"));
    assert_eq!(registered["data"]["email"], json!("audit@example.com"));
    assert!(!registered.to_string().contains("password_hash"));
    assert!(registered["logid"].is_string());
}
