//! The log's batched appends and the projections' quiet checkpoints, against each backend.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use annals::adapters::LogRepository;
use annals::adapters::append::BatchWriter;
use annals::adapters::postgres::{PgBatchWriter, Sticky};
use annals::adapters::sqlite::SqliteBatchWriter;
use annals_contracts::{Position, chain};
use annals_domain::identity::User;
use annals_projections::identity::ApiKeys;
use cqrs_es::Aggregate;
use cqrs_es::persist::SerializedEvent;
use serde_json::json;

use crate::helpers::{Backend, Options, TestApp, backends, spawn_app_with};
use rstest_reuse::apply;

fn probe(id: &str, sequence: usize) -> SerializedEvent {
    event_of("probe", id, sequence)
}

fn event_of(aggregate_type: &str, id: &str, sequence: usize) -> SerializedEvent {
    SerializedEvent {
        aggregate_id: id.into(),
        sequence,
        aggregate_type: aggregate_type.into(),
        event_type: "Probed".into(),
        event_version: "1.0".into(),
        payload: json!({ "Probed": { "n": sequence } }),
        metadata: json!({}),
    }
}

fn writer(app: &TestApp) -> Arc<dyn BatchWriter> {
    match &app.infra.backend {
        annals::wiring::Backend::Postgres(pool) => Arc::new(PgBatchWriter::new(pool.clone())),
        annals::wiring::Backend::Sqlite(pool, _) => {
            Arc::new(SqliteBatchWriter::new(pool.clone(), Default::default()))
        }
    }
}

async fn quiet_app(backend: Backend) -> TestApp {
    spawn_app_with(Options {
        relay: false,
        workers: false,
        ..Options::of(backend)
    })
    .await
}

fn repository(app: &TestApp) -> LogRepository {
    match &app.infra.backend {
        annals::wiring::Backend::Postgres(pool) => {
            LogRepository::postgres(pool.clone(), Sticky::new(pool.clone()))
        }
        annals::wiring::Backend::Sqlite(pool, _) => LogRepository::sqlite(pool.clone()),
    }
}

/// The probe streams in the log: id → sequences, in global order.
async fn probe_streams(app: &TestApp) -> BTreeMap<String, Vec<i64>> {
    let events = app.visible_events().await;
    let mut streams: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in events.into_iter().filter(|e| e.aggregate_type == "probe") {
        streams.entry(e.aggregate_id).or_default().push(e.sequence);
    }
    streams
}

#[apply(backends)]
async fn a_batch_keeps_each_command_whole_or_not_at_all(#[case] backend: Backend) {
    let app = quiet_app(backend).await;
    let log = writer(&app);
    let before = log
        .write(&[vec![probe("b", 1)], vec![probe("c", 1), probe("c", 2)]])
        .await
        .unwrap();
    assert!(before.iter().all(Option::is_some));

    let outcomes = log
        .write(&[
            vec![probe("a", 1), probe("a", 2)], // a new stream
            vec![probe("b", 1)],                // its sequence is taken
            vec![probe("c", 2), probe("c", 3)], // 2 is taken, 3 is free: all or nothing
            vec![probe("d", 1)],                // a new stream
        ])
        .await
        .unwrap();
    assert!(
        outcomes[0].is_some() && outcomes[3].is_some(),
        "{outcomes:?}"
    );
    assert_eq!((outcomes[1], outcomes[2]), (None, None));
    assert!(outcomes[0] < outcomes[3], "batch order is global order");
    assert!(outcomes[0] > before[1], "later batches come later");

    let streams = probe_streams(&app).await;
    assert_eq!(streams["a"], vec![1, 2]);
    assert_eq!(streams["b"], vec![1]);
    assert_eq!(
        streams["c"],
        vec![1, 2],
        "no part of the refused command is kept"
    );
    assert_eq!(streams["d"], vec![1]);
}

/// The command path's batched stream reads (session checks, stale states): each stream's events
/// after the sequence already known, one or several streams at a time, on kept connections.
#[apply(backends)]
async fn batched_reads_return_each_streams_events_after_the_known_sequence(
    #[case] backend: Backend,
) {
    let app = quiet_app(backend).await;
    let user = |id: &str, sequence| event_of(User::TYPE, id, sequence);
    writer(&app)
        .write(&[
            vec![user("r1", 1), user("r1", 2), user("r1", 3)],
            vec![user("r2", 1)],
            vec![event_of("probe", "r2", 1)],
        ])
        .await
        .unwrap();
    let repository = repository(&app);
    let sequences = |streams: Vec<Vec<SerializedEvent>>| -> Vec<Vec<(String, usize)>> {
        streams
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|e| (e.aggregate_id, e.sequence))
                    .collect()
            })
            .collect()
    };
    // Several reads at once, and the same reads again (the kept connection is reused).
    for _ in 0..2 {
        let reads = [("r1".into(), 1), ("r2".into(), 0), ("none".into(), 0)];
        let read = repository
            .get_last_events_of_many::<User>(&reads)
            .await
            .unwrap();
        assert_eq!(
            sequences(read),
            vec![
                vec![("r1".into(), 2), ("r1".into(), 3)],
                vec![("r2".into(), 1)],
                vec![],
            ]
        );
    }
    let single = repository
        .get_last_events_of_many::<User>(&[("r1".into(), 0)])
        .await
        .unwrap();
    assert_eq!(single[0].len(), 3);
    assert_eq!(single[0][2].aggregate_type, User::TYPE);
}

#[apply(backends)]
async fn change_less_events_move_the_stored_checkpoint_only_when_flushed(#[case] backend: Backend) {
    let app = quiet_app(backend).await;
    let log = writer(&app);
    log.write(&[vec![probe("p", 1), probe("p", 2)]])
        .await
        .unwrap();
    let events = app.visible_events().await;
    let last = events.last().unwrap().position;
    // Probe events change nothing in the API keys projection.
    let mut worker = app
        .infra
        .worker(Arc::new(ApiKeys))
        .with_quiet_flush(Duration::from_secs(3600));
    worker.load_checkpoint().await.unwrap();
    worker
        .apply_delivered(&chain(&events, Position::ZERO))
        .await
        .unwrap();
    let stored = || app.infra.views.checkpoint("api_keys");
    assert_eq!(
        worker.checkpoint(),
        last,
        "applied, as readers here are told"
    );
    assert_eq!(stored().await.unwrap(), Position::ZERO, "not yet stored");

    worker.flush().await.unwrap();
    assert_eq!(stored().await.unwrap(), last);
    assert_eq!(worker.stored_checkpoint(), last);
}

/// A command the log refuses (Postgres refuses NUL in jsonb; SQLite keeps it) fails alone:
/// the commands that shared its batch are appended.
#[apply(backends)]
async fn a_refused_command_does_not_fail_its_batch_mates(#[case] backend: Backend) {
    let app = quiet_app(backend).await;
    let appender = Arc::new(annals::adapters::GroupAppender::start(writer(&app), 1));
    let poisoned = |n: usize| {
        let mut event = probe(&format!("poison-{n}"), 1);
        event.payload = json!({ "Probed": { "n": "nul \u{0} inside" } });
        event
    };
    let tasks: Vec<_> = (0..60)
        .map(|n| {
            let appender = appender.clone();
            let events = if n % 10 == 3 {
                vec![poisoned(n)]
            } else {
                vec![probe(&format!("honest-{n}"), 1)]
            };
            tokio::spawn(async move { (n, appender.append(events).await) })
        })
        .collect();
    let mut honest_failures = Vec::new();
    for task in tasks {
        let (n, outcome) = task.await.unwrap();
        match (n % 10 == 3, outcome) {
            (false, Ok(Some(_))) => {}
            (false, other) => honest_failures.push((n, format!("{other:?}"))),
            (true, outcome) => {
                if backend == Backend::Postgres {
                    assert!(outcome.is_err(), "Postgres refuses NUL: {outcome:?}");
                }
            }
        }
    }
    assert!(honest_failures.is_empty(), "{honest_failures:?}");
    let streams = probe_streams(&app).await;
    assert_eq!(
        streams.keys().filter(|k| k.starts_with("honest-")).count(),
        54
    );
}
