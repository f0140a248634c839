//! Tamper evidence, from outside: the log is changed behind annals' back with SQL, and both
//! `GET /api/history/verify` and `annals verify` detect it and name the broken link.
use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use annals::config::Storage;
use annals::wiring::Backend as Store;
use annals_contracts::{Position, StoredEvent};
use cqrs_es::persist::SerializedEvent;
use futures::StreamExt;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, TestApp, backends, spawn_app, spawn_app_with};
use crate::history::{account, activity, annals, get};

/// Runs one SQL statement against the app's log, whichever the backend.
async fn sql(app: &TestApp, statement: &str) {
    match &app.infra.backend {
        Store::Postgres(pool) => {
            sqlx::query(statement).execute(pool).await.unwrap();
        }
        Store::Sqlite(pool, _) => {
            sqlx::query(statement).execute(pool).await.unwrap();
        }
    }
}

/// Waits until the relay sealed everything the log holds; returns the log.
async fn sealed(app: &TestApp) -> Vec<StoredEvent> {
    let log = app.visible_events().await;
    sealed_upto(app, log.last().map_or(Position::ZERO, |e| e.position)).await;
    log
}

async fn sealed_upto(app: &TestApp, head: Position) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let last = app.infra.integrity.last_seal().await.unwrap();
        if last.as_ref().is_some_and(|s| s.last >= head) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay did not seal up to {head} (last seal {last:?})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn verify_route(app: &TestApp, token: &str) -> Value {
    let response = get(app, "/api/history/verify", Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn verify_cli(app: &TestApp, args: &[&str]) -> Output {
    let url = match &app.infra.config.storage {
        Storage::Postgres { url } | Storage::Sqlite { url } => url.clone(),
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let mut full = vec!["verify"];
    full.extend_from_slice(args);
    annals(&full, &[("DATABASE_URL", &url)], elsewhere.path()).await
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A stream of the log with at least three events, and its events in order.
fn long_stream(log: &[StoredEvent]) -> (String, String, Vec<&StoredEvent>) {
    let mut streams: BTreeMap<(String, String), Vec<&StoredEvent>> = BTreeMap::new();
    for event in log {
        streams
            .entry((event.aggregate_type.clone(), event.aggregate_id.clone()))
            .or_default()
            .push(event);
    }
    let ((t, i), events) = streams
        .into_iter()
        .find(|(_, events)| events.len() >= 3)
        .expect("a stream of three events");
    (t, i, events)
}

/// Asserts that the route and the CLI both find the log broken, the route naming `expected`
/// among the broken links (`kind`, and `stream` + `sequence` or `seal`), the CLI naming the
/// route's first broken link.
async fn assert_detected(app: &TestApp, token: &str, expected: Value) {
    // Verification, like the relay, stops before rows of transactions still running anywhere
    // on the server (other tests'): wait until a row added by hand is visible.
    app.visible_events().await;
    let body = verify_route(app, token).await;
    let report = &body["report"];
    assert_eq!(report["intact"], json!(false), "{body}");
    assert!(report["problems"].as_u64().unwrap() >= 1, "{body}");
    let named = report["broken"].as_array().unwrap().iter().any(|b| {
        expected
            .as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| &b[k] == v)
    });
    assert!(named, "{expected} not among the broken links: {body}");
    let first = &report["first_broken"];
    assert_eq!(first, &report["broken"][0]);

    let out = verify_cli(app, &[]).await;
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the log is not intact"), "{stderr}");
    let where_ = match first["kind"].as_str().unwrap() {
        "event" => format!(
            "stream {}, sequence {}",
            first["stream"].as_str().unwrap(),
            first["sequence"]
        ),
        _ => format!(
            "seal {} (up to position {})",
            first["seal"],
            first["position"].as_str().unwrap()
        ),
    };
    assert!(stderr.contains(&where_), "{where_} not in {stderr}");
    assert!(
        text(&out.stdout).contains("NOT INTACT"),
        "{}",
        text(&out.stdout)
    );
}

#[apply(backends)]
async fn an_untouched_log_verifies_and_its_runs_are_remembered(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    let (user, _) = app.signed_up(&crate::helpers::unique_email()).await;
    activity(&app, 3).await;
    // An import's events are written by `COPY`, a chunk at a time: they chain like the rest.
    let (access, key) = crate::datacube::user_with_key(&app).await;
    let database = crate::datacube::seed_database(&app, &access, "imported").await;
    let docs: Vec<Value> = (0..1_500)
        .map(|i| json!({"n": i, "s": "a\\b\tc"}))
        .collect();
    let form = reqwest::multipart::Form::new()
        .text("database_id", database)
        .part(
            "json_file",
            reqwest::multipart::Part::bytes(serde_json::to_vec(&docs).unwrap())
                .file_name("rows.json"),
        );
    let imported = app
        .datacube_key(&key)
        .multipart("/api/import_data", form)
        .await;
    assert_eq!(imported.status(), StatusCode::CREATED);
    let log = sealed(&app).await;
    let streams = log
        .iter()
        .map(|e| (&e.aggregate_type, &e.aggregate_id))
        .collect::<std::collections::HashSet<_>>()
        .len();

    assert_eq!(
        get(&app, "/api/history/verify", Some(&user)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, "/api/history/verify", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let first = verify_route(&app, &auditor).await;
    let report = &first["report"];
    assert_eq!(report["intact"], json!(true), "{first}");
    assert!(
        report["events"].as_u64().unwrap() >= log.len() as u64,
        "{first}"
    );
    assert!(
        report["streams"].as_u64().unwrap() >= streams as u64,
        "{first}"
    );
    assert!(report["seals"].as_u64().unwrap() >= 1, "{first}");
    assert_eq!(report["problems"], json!(0));
    assert_eq!(report["first_broken"], Value::Null);
    assert_eq!(first["previous"], Value::Null, "the first run");

    let out = verify_cli(&app, &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("intact: every stream chain and every seal checks out"),
        "{stdout}"
    );
    assert!(
        out.stderr.is_empty(),
        "no progress bar without a terminal: {}",
        text(&out.stderr)
    );

    // The route remembers the CLI's run.
    let again = verify_route(&app, &auditor).await;
    assert_eq!(again["previous"]["source"], json!("cli"), "{again}");
    assert_eq!(again["previous"]["intact"], json!(true));
    assert!(again["previous"]["report"]["events"].as_u64().unwrap() >= log.len() as u64);

    // The read models are what a rebuild from the log gives…
    for projection in annals_projections::all() {
        app.settle(projection.name()).await;
    }
    let out = verify_cli(&app, &["--read-models"]).await;
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("read models: identical"),
        "{}",
        text(&out.stdout)
    );
    // …until one is changed behind the projections' back.
    // One document: an account's id names its documents in several collections.
    sql(
        &app,
        "UPDATE views SET doc = '{\"forged\": true}' \
         WHERE id = (SELECT min(id) FROM views) \
         AND collection = (SELECT min(collection) FROM views WHERE id = (SELECT min(id) FROM views))",
    )
    .await;
    let out = verify_cli(&app, &["--read-models"]).await;
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("1 document(s) differ"), "{stdout}");
    assert!(stdout.contains("\"forged\":true"), "{stdout}");
    assert!(
        text(&out.stderr).contains("read models differ"),
        "{}",
        text(&out.stderr)
    );
}

#[apply(backends)]
async fn an_edited_payload_is_named(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 2).await;
    let log = sealed(&app).await;
    let (t, i, events) = long_stream(&log);
    sql(
        &app,
        &format!(
            "UPDATE events SET payload = '{{\"{}\": {{\"forged\": 1}}}}'
              WHERE aggregate_type = '{t}' AND aggregate_id = '{i}' AND sequence = 2",
            events[1].event_type
        ),
    )
    .await;
    assert_detected(
        &app,
        &auditor,
        json!({"kind": "event", "stream": format!("{t}/{i}"), "sequence": 2}),
    )
    .await;
}

#[apply(backends)]
async fn a_deleted_middle_event_is_named(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 2).await;
    let log = sealed(&app).await;
    let (t, i, _) = long_stream(&log);
    sql(
        &app,
        &format!(
            "DELETE FROM events WHERE aggregate_type = '{t}' AND aggregate_id = '{i}' AND sequence = 2"
        ),
    )
    .await;
    assert_detected(
        &app,
        &auditor,
        json!({"kind": "event", "stream": format!("{t}/{i}"), "sequence": 3}),
    )
    .await;
}

#[apply(backends)]
async fn a_forged_event_is_named(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 2).await;
    let log = sealed(&app).await;
    let (t, i, events) = long_stream(&log);
    let next = events.len() + 1;
    sql(
        &app,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('{t}', '{i}', {next}, 'RoleChanged', '1.0', '{{\"RoleChanged\": {{\"role\": \"admin\"}}}}', '{{}}')"
        ),
    )
    .await;
    assert_detected(
        &app,
        &auditor,
        json!({"kind": "event", "stream": format!("{t}/{i}"), "sequence": next}),
    )
    .await;
}

#[apply(backends)]
async fn two_events_swapped_in_the_global_order_break_a_seal(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 2).await;
    let log = sealed(&app).await;
    // Two neighbours of different streams (and, on Postgres, of different transactions).
    let pair = log
        .windows(2)
        .find(|w| {
            w[0].aggregate_id != w[1].aggregate_id
                && (backend == Backend::Embedded || w[0].position.tx != w[1].position.tx)
        })
        .expect("two neighbours of different streams");
    let (a, b) = (pair[0].position, pair[1].position);
    match backend {
        // The transaction id orders the Postgres log (global_id is an identity column).
        Backend::Postgres => {
            sql(
                &app,
                &format!(
                    "UPDATE events SET tx_id = CASE WHEN global_id = {} THEN '{}'::xid8 ELSE '{}'::xid8 END
                      WHERE global_id IN ({}, {})",
                    a.gid, b.tx, a.tx, a.gid, b.gid
                ),
            )
            .await
        }
        Backend::Embedded => {
            sql(&app, &format!("UPDATE events SET global_id = -1 WHERE global_id = {}", a.gid)).await;
            sql(&app, &format!("UPDATE events SET global_id = {} WHERE global_id = {}", a.gid, b.gid)).await;
            sql(&app, &format!("UPDATE events SET global_id = {} WHERE global_id = -1", b.gid)).await;
        }
    }
    assert_detected(&app, &auditor, json!({"kind": "seal"})).await;
}

/// A large log verifies, chains and seals, on both backends. 20,000 events here (100,000 took
/// 80 s in a debug build, most of it publishing); `bench/verify.sh` verifies 100,000 with a
/// release build and measures the speed.
#[apply(backends)]
async fn a_large_log_verifies(#[case] backend: Backend) {
    const EVENTS: usize = 20_000;
    const PER_COMMAND: usize = 50;
    let app = spawn_app_with(Options {
        workers: false,
        ..Options::of(backend)
    })
    .await;
    let auditor = account(&app, "auditor").await;
    let appender = app.infra.appender.clone();
    let commands = futures::stream::iter(0..EVENTS / PER_COMMAND)
        .map(|c| {
            let appender = appender.clone();
            async move {
                let events = (1..=PER_COMMAND)
                    .map(|sequence| SerializedEvent {
                        aggregate_id: format!("p{c}"),
                        sequence,
                        aggregate_type: "probe".into(),
                        event_type: "Probed".into(),
                        event_version: "1.0".into(),
                        payload: json!({"Probed": {"n": sequence, "ratio": 0.25, "note": "ünïcode \"quoted\""}}),
                        metadata: json!({"actor": format!("a{c}"), "request_id": "r"}),
                    })
                    .collect();
                appender.append(events).await.unwrap().expect("no conflict");
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>();
    commands.await;
    sealed_upto(&app, app.head().await).await;
    let body = verify_route(&app, &auditor).await;
    let report = &body["report"];
    assert_eq!(report["intact"], json!(true), "{body}");
    assert!(report["events"].as_u64().unwrap() > EVENTS as u64, "{body}");
    assert!(report["streams"].as_u64().unwrap() > (EVENTS / PER_COMMAND) as u64);
    assert_eq!(report["unsealed_events"], json!(0), "{body}");
}

/// A log written before tamper evidence (no digests, no hashes) is hashed once, at the next
/// start, and then verifies; a row added by hand afterwards stays unhashed and is named.
#[apply(backends)]
async fn events_written_before_tamper_evidence_are_hashed_at_the_next_start(
    #[case] backend: Backend,
) {
    let app = spawn_app(backend).await;
    let auditor = account(&app, "auditor").await;
    activity(&app, 2).await;
    let log = sealed(&app).await;
    // What the migration finds in an older log.
    sql(&app, "UPDATE events SET digest = NULL, hash = NULL").await;
    sql(
        &app,
        "UPDATE chain_backfill SET upto = (SELECT max(global_id) FROM events), done = false",
    )
    .await;
    let before = verify_route(&app, &auditor).await;
    assert_eq!(before["report"]["intact"], json!(false), "{before}");
    assert!(before["report"]["problems"].as_u64().unwrap() >= log.len() as u64);

    // A process starts (migrates, then hashes what is unhashed).
    let started = annals::wiring::Infra::connect(app.infra.config.clone())
        .await
        .expect("a second process starts");
    let after = verify_route(&app, &auditor).await;
    assert_eq!(after["report"]["intact"], json!(true), "{after}");
    assert!(
        after["report"]["seals"].as_u64().unwrap() >= 1,
        "the seals still match: {after}"
    );

    // Only once: a row written by hand later is not legitimised by the next start.
    let (t, i, events) = long_stream(&log);
    let next = events.len() + 1;
    sql(
        &app,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('{t}', '{i}', {next}, 'RoleChanged', '1.0', '{{\"RoleChanged\": {{\"role\": \"admin\"}}}}', '{{}}')"
        ),
    )
    .await;
    drop(started);
    let _again = annals::wiring::Infra::connect(app.infra.config.clone())
        .await
        .expect("a third process starts");
    assert_detected(
        &app,
        &auditor,
        json!({"kind": "event", "stream": format!("{t}/{i}"), "sequence": next, "reason": "it has no digest (written outside annals)"}),
    )
    .await;
}
