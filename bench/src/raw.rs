//! The reference: what Postgres alone does on this box, appending rows shaped like the
//! server's events to a copy of its `events` table, one event per transaction.
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};
use tokio::sync::Barrier;

use crate::cpu::{self, Usage};
use crate::http::Error;
use crate::stats::Latencies;

/// The `events` table of migrations/postgres/0001_event_log.sql, renamed.
const SCHEMA: &str = "
DROP TABLE IF EXISTS bench_events;
CREATE TABLE bench_events (
    aggregate_type text NOT NULL, aggregate_id text NOT NULL,
    sequence bigint NOT NULL CHECK (sequence >= 0),
    event_type text NOT NULL, event_version text NOT NULL,
    payload jsonb NOT NULL, metadata jsonb NOT NULL,
    global_id bigint GENERATED ALWAYS AS IDENTITY,
    tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence));
CREATE UNIQUE INDEX bench_events_global_order ON bench_events (tx_id, global_id);";

const INSERT: &str = "INSERT INTO bench_events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The row appended over and over.
#[derive(Clone)]
pub struct Template {
    pub aggregate_type: String,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// Whether it was copied from a real `ProfileUpdated` row of the server.
    pub copied: bool,
}

impl Template {
    pub fn payload_bytes(&self) -> usize {
        self.payload.to_string().len()
    }
    pub fn metadata_bytes(&self) -> usize {
        self.metadata.to_string().len()
    }

    /// The newest `ProfileUpdated` the server wrote, or a made-up one of the same shape.
    async fn load(conn: &mut PgConnection) -> Self {
        let row = sqlx::query(
            "SELECT aggregate_type, event_type, event_version, payload, metadata FROM events
             WHERE event_type = 'ProfileUpdated' ORDER BY global_id DESC LIMIT 1",
        )
        .fetch_optional(&mut *conn)
        .await;
        match row {
            Ok(Some(row)) => Self {
                aggregate_type: row.get(0),
                event_type: row.get(1),
                event_version: row.get(2),
                payload: row.get(3),
                metadata: row.get(4),
                copied: true,
            },
            _ => Self {
                aggregate_type: "User".into(),
                event_type: "ProfileUpdated".into(),
                event_version: "1.0".into(),
                payload: json!({"ProfileUpdated": {"first_name": "Bench123", "last_name": "Runner45",
                    "at": "2026-11-23T12:00:00.123456789Z"}}),
                metadata: json!({"actor": "0190f3a2-7c1e-7d2b-9c4e-5a6b7c8d9e0f",
                    "request_id": "0190f3a2-7c1e-7d2b-9c4e-5a6b7c8d9e0f", "origin": "127.0.0.1"}),
                copied: false,
            },
        }
    }
}

pub struct RawResult {
    pub connections: usize,
    pub events: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    pub template: Template,
    /// Cores busy while appending.
    pub cpu: Usage,
}

impl RawResult {
    pub fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// `connections` connections, each appending one event per transaction to its own stream for
/// `duration`.
pub async fn run(url: &str, connections: usize, duration: Duration) -> Result<RawResult, Error> {
    let mut admin = PgConnection::connect(url).await?;
    sqlx::raw_sql(SCHEMA).execute(&mut admin).await?;
    let template = Template::load(&mut admin).await;
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(PgConnection::connect(url).await?);
    }
    let before = cpu::snapshot();
    let start = std::sync::Arc::new(Barrier::new(connections));
    let mut tasks = Vec::with_capacity(connections);
    for (i, mut conn) in conns.into_iter().enumerate() {
        let (t, start) = (template.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let stream = format!("raw-{i}");
            let (mut latencies, mut errors) = (Latencies::default(), 0u64);
            start.wait().await;
            let began = Instant::now();
            let mut sequence = 1i64;
            while began.elapsed() < duration {
                let sent = Instant::now();
                let done = sqlx::query(INSERT)
                    .bind(&t.aggregate_type)
                    .bind(&stream)
                    .bind(sequence)
                    .bind(&t.event_type)
                    .bind(&t.event_version)
                    .bind(&t.payload)
                    .bind(&t.metadata)
                    .execute(&mut conn)
                    .await;
                match done {
                    Ok(_) => {
                        latencies.record(sent.elapsed());
                        sequence += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors, began.elapsed(), conn)
        }));
    }
    let (mut latencies, mut errors, mut elapsed) = (Latencies::default(), 0, Duration::ZERO);
    let mut conns = Vec::with_capacity(connections);
    for task in tasks {
        let (l, e, d, conn) = task.await?;
        latencies.add(&l);
        errors += e;
        elapsed = elapsed.max(d);
        conns.push(conn);
    }
    // Before the connections close: their server processes end with them.
    let cpu = before.until(&cpu::snapshot());
    drop(conns);
    Ok(RawResult {
        connections,
        events: latencies.len(),
        errors,
        elapsed,
        latencies,
        template,
        cpu,
    })
}

/// Events in the server's log and the longest stream (commands load whole streams).
pub async fn stream_lengths(url: &str) -> Result<(i64, i64), Error> {
    let mut conn = PgConnection::connect(url).await?;
    let row = sqlx::query("SELECT count(*), coalesce(max(sequence), 0) FROM events")
        .fetch_one(&mut conn)
        .await?;
    Ok((row.get(0), row.get(1)))
}
