//! The example subscriber (`examples/subscriber`) against a live server, on both backends: its
//! members-per-bucket table equals the server's own read model after catching up on an old
//! log, while following, across a restart, under redelivery, and when the stream's retention
//! dropped the events it needed. Its counters (events applied from the history and from the
//! stream) add up to the log's length: no event skipped, none applied twice.
use std::time::Duration;

use annals_subscriber::{Checkpoint, Config, Member, Store};
use clap::Parser;
use reqwest::StatusCode;
use rstest_reuse::apply;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::buckets::{Account, account, create_bucket, expect, id_of};
use crate::helpers::{Backend, PASSWORD, TestApp, backends, spawn_app, unique_email};
use crate::history::account_with_role;
use crate::spine::redeliver_the_stream;

/// The subscriber, run in this process as its binary would run it.
struct Subscriber {
    cancel: CancellationToken,
    task: JoinHandle<Result<(), annals_subscriber::Error>>,
}

impl Subscriber {
    fn start(config: &Config) -> Self {
        let cancel = CancellationToken::new();
        let task = tokio::spawn(annals_subscriber::run(config.clone(), cancel.clone()));
        Subscriber { cancel, task }
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.task
            .await
            .unwrap()
            .expect("the subscriber stops cleanly");
    }
}

/// The subscriber's flags for `app`: its own SQLite file in `dir`, the app's NATS stream
/// (none for the embedded app: it polls the history), and `credentials`.
fn config(app: &TestApp, dir: &tempfile::TempDir, credentials: &[&str]) -> Config {
    let database = format!("sqlite://{}", dir.path().join("members.db").display());
    let server = &app.infra.config;
    let mut args = vec![
        "annals-subscriber",
        "--annals-url",
        &app.address,
        "--database-url",
        &database,
        "--stream",
        &server.nats_stream,
        "--subject-prefix",
        &server.nats_subject_prefix,
        "--durable",
        "members",
        "--poll-ms",
        "50",
        // Only a gap sends a NATS subscriber to the history during these tests.
        "--silence-check-ms",
        "600000",
    ];
    args.extend(credentials);
    let mut config = Config::try_parse_from(args).expect("valid flags");
    // Set here rather than by flag: `NATS_URL` in the environment must not reach the
    // embedded case.
    config.nats_url = server.nats_url.clone();
    config
}

/// The subscriber's database, opened by the test to read it (before the subscriber starts, so
/// that the file exists).
async fn reader(config: &Config) -> Store {
    Store::open(&config.database_url).await.unwrap()
}

/// Waits until the subscriber applied the log's newest event; its checkpoint then.
async fn caught_up(app: &TestApp, reader: &Store, subscriber: &mut Subscriber) -> Checkpoint {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let head: annals_subscriber::Position = app.head().await.to_string().parse().unwrap();
        let checkpoint = reader.checkpoint().await.unwrap();
        if checkpoint.position == head {
            return checkpoint;
        }
        if subscriber.task.is_finished() {
            let outcome = (&mut subscriber.task).await.unwrap();
            panic!(
                "the subscriber stopped at {}: {outcome:?}",
                checkpoint.position
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the subscriber is stuck at {}, head {head}",
            checkpoint.position
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Events applied, from both sources.
fn applied(checkpoint: &Checkpoint) -> usize {
    (checkpoint.from_history + checkpoint.from_stream) as usize
}

async fn log_length(app: &TestApp) -> usize {
    app.visible_events().await.len()
}

/// Buckets, each with the token of someone allowed to read it.
struct World {
    buckets: Vec<(String, String)>,
    /// The owner of the first bucket, and a member whose role the tests change.
    owner: Account,
    member: String,
}

async fn call(app: &TestApp, who: &Account, bucket: &str, route: &str, body: Value) {
    expect(
        app.workspaces(Some(&who.access))
            .post(&format!("/api/bucket/{bucket}/{route}"), body)
            .await,
        StatusCode::OK,
    )
    .await;
}

/// A history of the workspaces surface, through the API as a client makes it: buckets
/// created, members added directly and by invitation, removed, promoted, ownership
/// transferred, a bucket deleted.
async fn workspaces_history(app: &TestApp) -> World {
    let alice = account(app).await;
    let bob = account(app).await;
    let carol = account(app).await;
    let dave = account(app).await;
    let erin = unique_email();
    let prod = id_of(&create_bucket(app, &alice, "prod").await);
    for (route, body) in [
        ("add_user", json!({"email": bob.email})),
        ("add_user", json!({"email": carol.email})),
        ("add_user", json!({"email": erin})),
        ("promote_user", json!({"email": bob.email, "role": "admin"})),
        ("remove_user", json!({"email": carol.email})),
        ("transfer_ownership", json!({"new_owner": bob.email})),
    ] {
        call(app, &alice, &prod, route, body).await;
    }
    let staging = id_of(&create_bucket(app, &bob, "staging").await);
    for (route, body) in [
        ("add_user", json!({"email": dave.email})),
        (
            "promote_user",
            json!({"email": dave.email, "role": "developer"}),
        ),
    ] {
        call(app, &bob, &staging, route, body).await;
    }
    let scratch = id_of(&create_bucket(app, &carol, "scratch").await);
    call(
        app,
        &carol,
        &scratch,
        "add_user",
        json!({"email": dave.email}),
    )
    .await;
    expect(
        app.workspaces(Some(&carol.access))
            .delete(&format!("/api/bucket/{scratch}"))
            .await,
        StatusCode::OK,
    )
    .await;
    // Erin registers, and the server accepts her invitation (her first read sees it).
    let (erin_access, _) = app.signed_up(&erin).await;
    let hers = expect(
        app.workspaces(Some(&erin_access)).get("/api/bucket").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(hers.as_array().unwrap().len(), 1, "{hers}");
    World {
        buckets: vec![
            (prod.clone(), bob.access.clone()),
            (staging, bob.access.clone()),
            (scratch, carol.access.clone()),
        ],
        owner: bob,
        member: erin,
    }
}

/// Two role changes in the first bucket: the member becomes an admin, then a user again.
async fn churn(app: &TestApp, world: &World) {
    let prod = &world.buckets[0].0;
    for role in ["admin", "user"] {
        call(
            app,
            &world.owner,
            prod,
            "promote_user",
            json!({"email": world.member, "role": role}),
        )
        .await;
    }
}

/// The members of every bucket as the server shows them (`GET /api/bucket/:id`); a deleted
/// bucket has none.
async fn read_model(app: &TestApp, world: &World) -> Vec<Member> {
    let mut members = Vec::new();
    for (bucket, token) in &world.buckets {
        let response = app
            .workspaces(Some(token))
            .get(&format!("/api/bucket/{bucket}"))
            .await;
        if response.status() == StatusCode::NOT_FOUND {
            continue;
        }
        let shown = expect(response, StatusCode::OK).await;
        members.extend(shown["members"].as_array().unwrap().iter().map(|m| Member {
            bucket_id: bucket.clone(),
            user_id: m["_id"].as_str().unwrap().to_string(),
            email: m["email"].as_str().map(str::to_string),
            role: m["role"].as_str().unwrap().to_string(),
        }));
    }
    members.sort();
    members
}

/// Waits until the subscriber caught up, then holds it against the server: its table is the
/// read model, and it applied every event of the log once (its counters add up to the log's
/// length; a skipped event would leave a gap it cannot cross, a repeated one would count twice).
async fn agrees(
    app: &TestApp,
    reader: &Store,
    subscriber: &mut Subscriber,
    world: &World,
) -> Checkpoint {
    let checkpoint = caught_up(app, reader, subscriber).await;
    assert_eq!(
        reader.members().await.unwrap(),
        read_model(app, world).await
    );
    assert_eq!(
        applied(&checkpoint),
        log_length(app).await,
        "{checkpoint:?}"
    );
    checkpoint
}

#[apply(backends)]
async fn the_subscribers_table_is_the_servers_read_model(#[case] backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = account_with_role(&app, "auditor").await;
    let world = workspaces_history(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&app, &dir, &["--email", &auditor, "--password", PASSWORD]);

    // A first start against a log that already holds all of this: caught up from the history.
    let reader = reader(&config).await;
    let mut subscriber = Subscriber::start(&config);
    let first = agrees(&app, &reader, &mut subscriber, &world).await;
    assert_eq!(
        reader.members().await.unwrap().len(),
        5,
        "prod: bob, alice, erin; staging: bob, dave"
    );
    assert!(first.from_history > 0, "{first:?}");

    // Following: new events arrive from the stream (with NATS) or the polled history.
    churn(&app, &world).await;
    let live = agrees(&app, &reader, &mut subscriber, &world).await;
    let new = applied(&live) - applied(&first);
    assert!(new >= 2, "{live:?}");
    match backend {
        Backend::Postgres => {
            assert_eq!(live.from_history, first.from_history, "{live:?}");
            assert_eq!(live.from_stream, first.from_stream + new as i64);
        }
        Backend::Embedded => assert_eq!(live.from_stream, 0, "{live:?}"),
    }

    // A restart resumes from its checkpoint: what happened meanwhile, and nothing twice.
    subscriber.stop().await;
    churn(&app, &world).await;
    let mut subscriber = Subscriber::start(&config);
    let resumed = agrees(&app, &reader, &mut subscriber, &world).await;
    if backend == Backend::Postgres {
        // The durable consumer still held the missed events: the history was not needed.
        assert_eq!(resumed.from_history, live.from_history, "{resumed:?}");
        redeliveries_change_nothing(&app, &reader, &config.durable).await;
    }
    subscriber.stop().await;
}

/// Every message of the stream published again, and consumed by the subscriber: its
/// checkpoint and table stay as they were.
async fn redeliveries_change_nothing(app: &TestApp, reader: &Store, durable: &str) {
    let before = (
        reader.checkpoint().await.unwrap(),
        reader.members().await.unwrap(),
    );
    redeliver_the_stream(app, durable).await;
    let after = (
        reader.checkpoint().await.unwrap(),
        reader.members().await.unwrap(),
    );
    assert_eq!(after, before);
}

/// Keeps only the newest `max` messages in the app's stream, as an operator's retention would.
async fn retain(app: &TestApp, max: i64) {
    let events = app.infra.stream.clone().unwrap();
    let mut stream = events.js.get_stream(&events.name).await.unwrap();
    let mut limited = stream.info().await.unwrap().config.clone();
    limited.max_messages = max;
    events.js.update_stream(limited).await.unwrap();
}

/// The stream's first and last sequence, once the relay published the log's newest event.
async fn published(app: &TestApp) -> (u64, u64) {
    let events = app.infra.stream.clone().unwrap();
    let head = app.head().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = events.js.get_stream(&events.name).await.unwrap();
        let state = stream.info().await.unwrap().state.clone();
        let newest = stream.get_raw_message(state.last_sequence).await.unwrap();
        let envelope: Value = serde_json::from_slice(&newest.payload).unwrap();
        if envelope["position"] == json!(head.to_string()) {
            return (state.first_sequence, state.last_sequence);
        }
        assert!(tokio::time::Instant::now() < deadline, "relay stuck");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_behind_the_streams_retention_catches_up_through_the_history() {
    const KEPT: i64 = 5;
    let app = spawn_app(Backend::Postgres).await;
    let auditor = account_with_role(&app, "auditor").await;
    let login: Value = app.login(&auditor, PASSWORD).await.json().await.unwrap();
    let key = expect(
        app.create_api_key(login["access"].as_str().unwrap(), "members subscriber")
            .await,
        StatusCode::CREATED,
    )
    .await["api_key"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    retain(&app, KEPT).await;
    let world = workspaces_history(&app).await;
    let (first_kept, _) = published(&app).await;
    assert!(first_kept > 1, "the stream dropped the early events");
    let dir = tempfile::tempdir().unwrap();
    let config = config(&app, &dir, &["--api-key", &key]);

    // First start: the stream cannot give the beginning; the history can.
    let reader = reader(&config).await;
    let mut subscriber = Subscriber::start(&config);
    let first = agrees(&app, &reader, &mut subscriber, &world).await;
    assert!(
        first.from_history as usize >= applied(&first) - KEPT as usize,
        "{first:?}"
    );

    // Down while more than the stream keeps happens: its consumer's next message is gone, so
    // the first message it gets after the restart does not follow the checkpoint.
    subscriber.stop().await;
    for _ in 0..4 {
        churn(&app, &world).await;
    }
    published(&app).await;
    let mut subscriber = Subscriber::start(&config);
    let resumed = agrees(&app, &reader, &mut subscriber, &world).await;
    let missed = applied(&resumed) - applied(&first);
    assert!(missed >= 8, "{resumed:?}");
    assert!(
        (resumed.from_history - first.from_history) as usize >= missed - KEPT as usize,
        "the events the stream dropped came from the history: {resumed:?}"
    );
    // Back on the stream: new events come from it, with nothing missing or repeated.
    churn(&app, &world).await;
    let live = agrees(&app, &reader, &mut subscriber, &world).await;
    assert_eq!(live.from_history, resumed.from_history, "{live:?}");
    assert_eq!(
        live.from_stream as usize,
        resumed.from_stream as usize + applied(&live) - applied(&resumed)
    );
    subscriber.stop().await;
}
