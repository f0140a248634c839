//! The reference: what the database alone does on this box, appending rows shaped like the
//! server's events to a copy of its `events` table, one event per transaction. Postgres: a
//! `bench_events` table in the server's database. SQLite: the same table, index and numbering
//! trigger in a scratch file opened like the server's event log (WAL, `synchronous = FULL`).
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, SqliteConnection};
use tokio::sync::Barrier;

use crate::cpu::{self, Usage};
use crate::http::Error;
use crate::stats::Latencies;
use crate::store::{self, Store, Template};

/// The `events` table of migrations/postgres/0001_event_log.sql, renamed.
pub(crate) const PG_SCHEMA: &str = "
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

const PG_INSERT: &str = "INSERT INTO bench_events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The `events` table and trigger of migrations/sqlite/0001_event_log.sql, renamed.
const SQLITE_SCHEMA: &str = "
DROP TABLE IF EXISTS bench_events;
CREATE TABLE bench_events (
    aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL,
    sequence INTEGER NOT NULL CHECK (sequence >= 0),
    event_type TEXT NOT NULL, event_version TEXT NOT NULL,
    payload TEXT NOT NULL, metadata TEXT NOT NULL,
    global_id INTEGER,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence));
CREATE UNIQUE INDEX bench_events_global_order ON bench_events (global_id);
CREATE TRIGGER bench_events_number AFTER INSERT ON bench_events
BEGIN
    UPDATE bench_events
       SET global_id = (SELECT coalesce(max(global_id), 0) + 1 FROM bench_events)
     WHERE rowid = NEW.rowid;
END;";

const SQLITE_INSERT: &str = "INSERT INTO bench_events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES (?, ?, ?, ?, ?, ?, ?)";

pub struct RawResult {
    pub connections: usize,
    pub events: u64,
    pub errors: u64,
    pub first_error: Option<String>,
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

/// One connection appending one event per transaction (autocommit, one prepared `INSERT`).
trait Appender: Send + 'static {
    fn append(
        &mut self,
        stream: &str,
        sequence: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

struct PgAppender {
    conn: PgConnection,
    row: Arc<Template>,
}

impl Appender for PgAppender {
    async fn append(&mut self, stream: &str, sequence: i64) -> Result<(), sqlx::Error> {
        let t = &*self.row;
        sqlx::query(PG_INSERT)
            .bind(&t.aggregate_type)
            .bind(stream)
            .bind(sequence)
            .bind(&t.event_type)
            .bind(&t.event_version)
            .bind(&t.payload)
            .bind(&t.metadata)
            .execute(&mut self.conn)
            .await
            .map(drop)
    }
}

/// The SQLite log stores JSON as text.
struct SqliteRow {
    t: Template,
    payload: String,
    metadata: String,
}

struct SqliteAppender {
    conn: SqliteConnection,
    row: Arc<SqliteRow>,
}

impl Appender for SqliteAppender {
    async fn append(&mut self, stream: &str, sequence: i64) -> Result<(), sqlx::Error> {
        let r = &*self.row;
        sqlx::query(SQLITE_INSERT)
            .bind(&r.t.aggregate_type)
            .bind(stream)
            .bind(sequence)
            .bind(&r.t.event_type)
            .bind(&r.t.event_version)
            .bind(&r.payload)
            .bind(&r.metadata)
            .execute(&mut self.conn)
            .await
            .map(drop)
    }
}

/// `connections` connections, each appending one event per transaction to its own stream for
/// `duration`, into a freshly created `bench_events`.
pub async fn run(
    store: &Store,
    connections: usize,
    duration: Duration,
) -> Result<RawResult, Error> {
    let template = store.template().await;
    match store {
        Store::Postgres { url } => {
            let mut admin = PgConnection::connect(url).await?;
            sqlx::raw_sql(PG_SCHEMA).execute(&mut admin).await?;
            let row = Arc::new(template.clone());
            let mut appenders = Vec::with_capacity(connections);
            for _ in 0..connections {
                let conn = PgConnection::connect(url).await?;
                appenders.push(PgAppender {
                    conn,
                    row: row.clone(),
                });
            }
            Ok(drive(appenders, duration, template).await)
        }
        Store::Sqlite { scratch, .. } => {
            let mut admin = store::open_log_sqlite(scratch).await?;
            sqlx::raw_sql(SQLITE_SCHEMA).execute(&mut admin).await?;
            admin.close().await?;
            let row = Arc::new(SqliteRow {
                t: template.clone(),
                payload: template.payload.to_string(),
                metadata: template.metadata.to_string(),
            });
            let mut appenders = Vec::with_capacity(connections);
            for _ in 0..connections {
                let conn = store::open_log_sqlite(scratch).await?;
                appenders.push(SqliteAppender {
                    conn,
                    row: row.clone(),
                });
            }
            Ok(drive(appenders, duration, template).await)
        }
    }
}

/// Runs all appenders at once for `duration`, each on its own stream.
async fn drive<A: Appender>(
    appenders: Vec<A>,
    duration: Duration,
    template: Template,
) -> RawResult {
    let connections = appenders.len();
    let before = cpu::snapshot();
    let start = Arc::new(Barrier::new(connections));
    let mut tasks = Vec::with_capacity(connections);
    for (i, mut appender) in appenders.into_iter().enumerate() {
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let stream = format!("raw-{connections}-{i}");
            let (mut latencies, mut errors, mut first_error) = (Latencies::default(), 0u64, None);
            start.wait().await;
            let began = Instant::now();
            let mut sequence = 1i64;
            while began.elapsed() < duration {
                let sent = Instant::now();
                match appender.append(&stream, sequence).await {
                    Ok(()) => {
                        latencies.record(sent.elapsed());
                        sequence += 1;
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (latencies, errors, first_error, began.elapsed(), appender)
        }));
    }
    let mut result = RawResult {
        connections,
        events: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latencies: Latencies::default(),
        template,
        cpu: Usage::default(),
    };
    let mut appenders = Vec::with_capacity(connections);
    for task in tasks {
        let (l, e, first, d, appender) = task.await.expect("append task");
        result.latencies.add(&l);
        result.errors += e;
        result.first_error = result.first_error.take().or(first);
        result.elapsed = result.elapsed.max(d);
        appenders.push(appender);
    }
    // Before the connections close: Postgres's server processes end with them.
    result.cpu = before.until(&cpu::snapshot());
    drop(appenders);
    result.events = result.latencies.len();
    result
}
