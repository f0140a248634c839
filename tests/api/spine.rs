//! The event-sourced spine: gap-safe relay, relay crashes, projection crashes, redelivery.
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use annals::es::commands::Metadata;
use annals_contracts::{Envelope, EventBus, Position, chain};
use annals_domain::identity::{RegisteredVia, UserCommand};
use annals_projections::Projection;
use annals_projections::identity::{PROFILES, UserProfiles};
use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    Backend, Options, TestApp, backends, spawn_app, spawn_app_with, unique_email,
};
use rstest_reuse::apply;

async fn append_probe(pool: &PgPool, stream: &str, sequence: i64) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('probe', $1, $2, 'Probed', '1.0', jsonb_build_object('Probed', jsonb_build_object('n', $2)), '{}')",
    )
    .bind(stream)
    .bind(sequence)
    .execute(pool)
    .await
    .expect("append");
}

/// Message ids in the log's canonical order.
async fn log_order(pool: &PgPool) -> Vec<String> {
    sqlx::query(
        "SELECT aggregate_type || '/' || aggregate_id || '/' || sequence AS id FROM events ORDER BY tx_id, global_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("id"))
    .collect()
}

/// Waits until the stream holds `expected` messages and stays there, then reads them all.
pub(crate) async fn stream_envelopes(app: &TestApp, expected: u64) -> Vec<Envelope> {
    let events = app.infra.stream.clone().expect("NATS configured");
    let mut stream = events.js.get_stream(&events.name).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let count = stream.info().await.unwrap().state.messages;
        if count >= expected {
            // Give a late duplicate the chance to show up before judging.
            tokio::time::sleep(Duration::from_millis(500)).await;
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stream stuck at {count} of {expected} messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = stream.info().await.unwrap().state.messages;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut envelopes = Vec::new();
    while (envelopes.len() as u64) < total {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("stream readable")
            .unwrap()
            .unwrap();
        envelopes.push(serde_json::from_slice::<Envelope>(&message.payload).unwrap());
    }
    envelopes
}

fn assert_exactly_once_in_order(envelopes: &[Envelope], log: &[String]) {
    let ids: Vec<String> = envelopes.iter().map(|e| e.id.clone()).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicates on the stream");
    assert_eq!(ids.len(), log.len(), "events missing from the stream");
    assert_eq!(ids, log, "stream order differs from the log's global order");
    for pair in envelopes.windows(2) {
        assert!(pair[0].position < pair[1].position);
        assert_eq!(pair[1].prevposition, pair[0].position, "broken chain");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_transaction_holding_a_lower_id_is_not_skipped() {
    let app = spawn_app_with(Options {
        relay: true,
        workers: false,
        ..Options::of(Backend::Postgres)
    })
    .await;
    let pool = app.pg();
    // The slow writer takes a low global_id first and commits last.
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let slow = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                 VALUES ('probe', 'slow', 1, 'Probed', '1.0', '{\"Probed\":{\"n\":1}}', '{}')",
            )
            .execute(&mut *tx)
            .await
            .unwrap();
            started_tx.send(()).unwrap();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tx.commit().await.unwrap();
        }
    });
    started.await.unwrap();
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for seq in 1..=125 {
                    append_probe(&pool, &format!("w{w}"), seq).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    slow.await.unwrap();

    let slow_gid: i64 =
        sqlx::query_scalar("SELECT global_id FROM events WHERE aggregate_id = 'slow'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let max_gid: i64 = sqlx::query_scalar("SELECT max(global_id) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        slow_gid < max_gid,
        "the slow transaction must hold a lower id than later commits"
    );

    let envelopes = stream_envelopes(&app, 2001).await;
    assert_exactly_once_in_order(&envelopes, &log_order(&pool).await);
    assert!(envelopes.iter().any(|e| e.aggregateid == "slow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relays_crashing_mid_stream_lose_nothing_and_duplicate_nothing() {
    let app = spawn_app_with(Options {
        relay: false,
        workers: false,
        ..Options::of(Backend::Postgres)
    })
    .await;
    let pool = app.pg();
    let writer = tokio::spawn({
        let pool = pool.clone();
        async move {
            for batch in 0..300 {
                let mut tx = pool.begin().await.unwrap();
                for i in 0..10 {
                    sqlx::query(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                         VALUES ('probe', $1, $2, 'Probed', '1.0', '{\"Probed\":{}}', '{}')",
                    )
                    .bind(format!("s{}", batch % 7))
                    .bind((batch / 7) * 10 + i)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                }
                tx.commit().await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    // Crash a relay (abort: no cleanup at all) every few hundred milliseconds.
    for round in 0..6u64 {
        let handle = app.infra.spawn_relay(CancellationToken::new());
        tokio::time::sleep(Duration::from_millis(150 + 60 * round)).await;
        handle.abort();
        let _ = handle.await;
    }
    writer.await.unwrap();
    // Finally two relays at once: only the leader publishes.
    let cancel = CancellationToken::new();
    let a = app.infra.spawn_relay(cancel.clone());
    let b = app.infra.spawn_relay(cancel.clone());
    let envelopes = stream_envelopes(&app, 3000).await;
    assert_exactly_once_in_order(&envelopes, &log_order(&pool).await);
    cancel.cancel();
    let _ = (a.await, b.await);
}

/// Appends user events through the real command path (with a stand-in password hash: the
/// projection does not look at it).
async fn user_activity(app: &TestApp, users: usize, rounds: usize) {
    let meta = Metadata::default();
    let identity = app.state.identity.clone();
    let tasks: Vec<_> = (0..users)
        .map(|_| {
            let identity = identity.clone();
            let meta = meta.clone();
            tokio::spawn(async move {
                let id = uuid::Uuid::now_v7().to_string();
                let register = UserCommand::Register {
                    user_id: id.clone(),
                    email: unique_email(),
                    first_name: "Ada".into(),
                    last_name: "Lovelace".into(),
                    password_hash: "$argon2id$stand-in".into(),
                    role: "user".into(),
                    registered_via: RegisteredVia::Signup,
                    at: chrono::Utc::now(),
                };
                identity.users.execute(&id, register, &meta).await.unwrap();
                for round in 0..rounds {
                    let at = chrono::Utc::now();
                    let login = UserCommand::RecordLoginAttempt {
                        password_ok: true,
                        at,
                        client: None,
                    };
                    identity.users.execute(&id, login, &meta).await.unwrap();
                    let update = UserCommand::UpdateProfile {
                        first_name: Some(format!("Ada{round}")),
                        last_name: None,
                        at,
                    };
                    identity.users.execute(&id, update, &meta).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[apply(backends)]
async fn a_projection_killed_mid_stream_ends_equal_to_a_rebuild(#[case] backend: Backend) {
    let app = Arc::new(
        spawn_app_with(Options {
            relay: true,
            workers: false,
            ..Options::of(backend)
        })
        .await,
    );
    let bus: Arc<dyn EventBus> = app.infra.bus();
    let activity = tokio::spawn({
        let app = app.clone();
        async move { user_activity(&app, 60, 5).await }
    });
    for round in 0..5u64 {
        let worker = app.infra.worker(Arc::new(UserProfiles));
        let handle = tokio::spawn(worker.run(bus.clone(), CancellationToken::new()));
        tokio::time::sleep(Duration::from_millis(100 + 70 * round)).await;
        handle.abort();
        let _ = handle.await;
    }
    activity.await.unwrap();
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(
        app.infra
            .worker(Arc::new(UserProfiles))
            .run(bus.clone(), cancel.clone()),
    );
    app.settle(UserProfiles.name()).await;
    cancel.cancel();
    worker.await.unwrap().unwrap();

    let live = app.infra.views.dump(PROFILES).await.unwrap();
    assert_eq!(live.len(), 60);
    assert!(
        live.iter()
            .all(|(_, doc)| doc["loginCount"] == 5 && doc["firstName"] == "Ada4")
    );

    let replayed = annals_projections::rebuild(
        Arc::new(UserProfiles),
        app.infra.views.clone(),
        app.infra.reader(),
        app.progress(),
    )
    .await
    .unwrap();
    assert_eq!(replayed, 60 * 11);
    let rebuilt = app.infra.views.dump(PROFILES).await.unwrap();
    assert_eq!(live, rebuilt);
}

/// Publishes every message of the app's stream again under new message ids, as a relay
/// restarted after the duplicate window would, and waits until the durable consumer `consumer`
/// has seen and acknowledged all of them.
pub async fn redeliver_the_stream(app: &TestApp, consumer: &str) {
    let events = app.infra.stream.clone().unwrap();
    let mut stream = events.js.get_stream(&events.name).await.unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    for seq in 1..=last {
        let message = stream.get_raw_message(seq).await.unwrap();
        events
            .js
            .publish(message.subject.clone(), message.payload.clone())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer(consumer).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let info = consumer.info().await.unwrap();
        if info.ack_floor.stream_sequence >= 2 * last && info.num_ack_pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "redeliveries not consumed: {info:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_delivered_twice_changes_nothing_the_second_time() {
    let app = spawn_app(Backend::Postgres).await;
    let email = unique_email();
    let (access, _) = app.signed_up(&email).await;
    app.login(&email, crate::helpers::PASSWORD).await;
    app.settle(UserProfiles.name()).await;
    let before: serde_json::Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(before["loginCount"], 2);
    let checkpoint = app
        .infra
        .views
        .checkpoint(UserProfiles.name())
        .await
        .unwrap();

    redeliver_the_stream(&app, annals_projections::GROUP_CONSUMER).await;
    let after: serde_json::Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(after, before);
    assert_eq!(
        app.infra
            .views
            .checkpoint(UserProfiles.name())
            .await
            .unwrap(),
        checkpoint
    );

    // The same holds one level down, for a worker handed one batch twice.
    let events = app.visible_events().await;
    let envelopes = chain(&events, Position::ZERO);
    let mut worker = app.infra.worker(Arc::new(UserProfiles));
    worker.load_checkpoint().await.unwrap();
    worker.apply_delivered(&envelopes).await.unwrap();
    worker.apply_delivered(&envelopes).await.unwrap();
    let again: serde_json::Value = app.me(&access).await.json().await.unwrap();
    assert_eq!(again, before);
}
