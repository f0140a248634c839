//! Faults of the bus and of processes: the bus is a wake-up and a fan-out, never the only
//! path; one process applies the projections at a time and another takes over; a stream
//! belongs to one log.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use annals::wiring::Infra;
use annals_contracts::{BusError, Envelope, EventBus, Subscription};
use annals_projections::{GROUP_CONSUMER, WorkerGroup};

use crate::helpers::{Backend, Options, TestApp, spawn_app_with, unique_email};
use crate::spine::stream_envelopes;

/// A bus that is down: every subscription fails, and the attempts are counted.
#[derive(Default)]
struct DownBus {
    attempts: AtomicUsize,
}

#[async_trait]
impl EventBus for DownBus {
    async fn subscribe(&self, _consumer: &str) -> Result<Box<dyn Subscription>, BusError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        Err(BusError("connection refused".into()))
    }
}

fn workers_of(infra: &Infra) -> WorkerGroup {
    let workers = annals_projections::all()
        .into_iter()
        .map(|p| infra.worker(p))
        .collect();
    WorkerGroup::new(GROUP_CONSUMER, workers)
}

/// Registers, logs in, renames the person and reads the profile back without any header:
/// the read must be fresh and show the new name.
async fn write_then_read(app: &TestApp) {
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    let renamed = app
        .update_me(&access, &json!({"firstName": "Renamed"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let me = app.me(&access).await;
    assert!(
        me.headers().get("x-annals-consistency").is_none(),
        "a stale read"
    );
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["firstName"], "Renamed", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_follow_the_log_while_the_bus_is_down() {
    let app = spawn_app_with(Options {
        workers: false,
        ..Options::of(Backend::Postgres)
    })
    .await;
    let bus = Arc::new(DownBus::default());
    let cancel = CancellationToken::new();
    let group = tokio::spawn(workers_of(&app.infra).run(bus.clone(), cancel.clone(), None));
    let started = tokio::time::Instant::now();
    for _ in 0..5 {
        write_then_read(&app).await;
    }
    // No restart storm: the group retries the bus about once a second.
    let attempts = bus.attempts.load(Ordering::SeqCst);
    let allowed = 2 + started.elapsed().as_secs() as usize;
    assert!(
        attempts <= allowed,
        "{attempts} attempts in {:?}",
        started.elapsed()
    );
    cancel.cancel();
    group.await.unwrap().unwrap();
}

/// A bus that is down for its first subscriptions, then the real one.
struct ReturningBus {
    real: Arc<dyn EventBus>,
    failures_left: AtomicUsize,
    subscribed: AtomicUsize,
}

#[async_trait]
impl EventBus for ReturningBus {
    async fn subscribe(&self, consumer: &str) -> Result<Box<dyn Subscription>, BusError> {
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(BusError("connection refused".into()));
        }
        self.subscribed.fetch_add(1, Ordering::SeqCst);
        self.real.subscribe(consumer).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_rejoin_the_bus_when_it_returns() {
    let app = spawn_app_with(Options {
        workers: false,
        ..Options::of(Backend::Postgres)
    })
    .await;
    let bus = Arc::new(ReturningBus {
        real: app.infra.bus(),
        failures_left: AtomicUsize::new(2),
        subscribed: AtomicUsize::new(0),
    });
    let cancel = CancellationToken::new();
    let group = tokio::spawn(workers_of(&app.infra).run(bus.clone(), cancel.clone(), None));
    write_then_read(&app).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        bus.subscribed.load(Ordering::SeqCst),
        1,
        "one subscription once back"
    );
    for _ in 0..3 {
        write_then_read(&app).await;
    }
    assert_eq!(bus.subscribed.load(Ordering::SeqCst), 1, "and no more");
    cancel.cancel();
    group.await.unwrap().unwrap();
}

/// Two processes on one database: one applies the projections, the other stands by and takes
/// over within seconds when the first ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_leads_the_projections_and_another_takes_over() {
    let app = spawn_app_with(Options {
        workers: false,
        ..Options::of(Backend::Postgres)
    })
    .await;
    let first = Infra::connect(app.infra.config.clone()).await.unwrap();
    let second = Infra::connect(app.infra.config.clone()).await.unwrap();
    let (stop_first, stop_second) = (CancellationToken::new(), CancellationToken::new());
    let first_tasks = first.spawn_workers(stop_first.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _second_tasks = second.spawn_workers(stop_second.clone());

    for _ in 0..3 {
        write_then_read(&app).await;
    }
    assert!(!first.progress.snapshot().is_empty(), "the first leads");
    assert!(
        second.progress.snapshot().is_empty(),
        "the second stands by: {:?}",
        second.progress.snapshot()
    );

    stop_first.cancel();
    for task in first_tasks {
        task.await.unwrap();
    }
    drop(first);
    let took_over = tokio::time::Instant::now();
    let head = app.head().await;
    loop {
        // Change-less events may move the in-memory checkpoint only: compare in memory.
        let caught_up = second
            .progress
            .snapshot()
            .iter()
            .any(|(name, at)| name == "user_profiles" && *at >= head);
        if caught_up {
            break;
        }
        assert!(
            took_over.elapsed() < Duration::from_secs(5),
            "no take-over: {:?}",
            second.progress.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    write_then_read(&app).await;
    stop_second.cancel();
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

async fn log_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM log_identity")
        .fetch_one(&app.pg())
        .await
        .unwrap()
}

/// The stream's messages, once it holds every event of the app's log.
async fn published(app: &TestApp) -> Vec<Envelope> {
    let logged = app.visible_events().await.len() as u64;
    stream_envelopes(app, logged).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_refuses_the_stream_of_another_log() {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let shared = Some((
        leak(format!("TEST_SHARED_{suffix}")),
        leak(format!("ts{suffix}.events")),
    ));
    let first = spawn_app_with(Options {
        stream: shared,
        ..Options::of(Backend::Postgres)
    })
    .await;
    write_then_read(&first).await;
    let before = published(&first).await;
    let first_log = log_id(&first).await;
    assert!(
        before
            .iter()
            .all(|e| e.logid.as_deref() == Some(&first_log)),
        "every envelope names its log"
    );

    let second = spawn_app_with(Options {
        stream: shared,
        ..Options::of(Backend::Postgres)
    })
    .await;
    assert_ne!(log_id(&second).await, first_log);
    // The second log's writes are acknowledged and read back (its workers follow its log)...
    write_then_read(&second).await;
    write_then_read(&first).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // ...but nothing of it reaches the first log's stream, and the first still works.
    let after = published(&first).await;
    assert!(after.len() > before.len());
    assert!(
        after.iter().all(|e| e.logid.as_deref() == Some(&first_log)),
        "another log published into this stream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_does_not_skip_a_log_restored_behind_its_stream() {
    let app = spawn_app_with(Options {
        relay: false,
        ..Options::of(Backend::Postgres)
    })
    .await;
    let stop_relay = CancellationToken::new();
    let relay = app.infra.spawn_relay(stop_relay.clone());
    for _ in 0..3 {
        write_then_read(&app).await;
    }
    let before = published(&app).await;
    stop_relay.cancel();
    relay.await.unwrap();

    // A restore from an older backup: the newest events are gone from the log, not from the
    // stream.
    let newest: i64 = sqlx::query_scalar("SELECT max(global_id) FROM events")
        .fetch_one(&app.pg())
        .await
        .unwrap();
    sqlx::query("DELETE FROM events WHERE global_id > $1")
        .bind(newest - 4)
        .execute(&app.pg())
        .await
        .unwrap();
    let relay = app.infra.spawn_relay(CancellationToken::new());
    // New writes after the restore go to the log but must not be published past the hole.
    let email = unique_email();
    assert_eq!(app.register(&email).await.status(), StatusCode::CREATED);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = stream_envelopes(&app, before.len() as u64).await;
    assert_eq!(
        after.len(),
        before.len(),
        "the relay published into a stream its log is behind"
    );
    relay.abort();
}

/// A process starts while NATS is down: it serves, its reads are fresh (the projections follow
/// the log), and `/readyz` keeps it in rotation while it reports NATS unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_starts_and_serves_while_nats_is_down() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(Options {
        nats_port: Some(port),
        ..Options::of(Backend::Postgres)
    })
    .await;
    write_then_read(&app).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        (&body["nats"], &body["status"]),
        (&json!("unreachable"), &json!("degraded")),
        "{body}"
    );
}
