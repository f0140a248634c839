//! Batched appends to the Postgres log: one `INSERT … ON CONFLICT DO NOTHING RETURNING` for
//! the whole batch, whose returned rows tell which commands got all their sequences.
//!
//! Each row carries its recorded time and content digest, computed here
//! (`annals_contracts::integrity`); the table's `events_link` trigger chains it to the previous
//! event of its stream in the same statement (migrations/postgres/0006_tamper_evidence.sql).
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, PgPool, Row};

use annals_contracts::integrity::recorded_now;
use annals_contracts::{LogError, Position};

use super::Sticky;
use super::event_log::parse_xid8;
use crate::adapters::append::{Appendix, BatchWriter, EventChunks, EventKey, key, settle};
use crate::adapters::log_error;

pub struct PgBatchWriter {
    connections: Sticky,
}

impl PgBatchWriter {
    pub fn new(pool: PgPool) -> Self {
        Self {
            connections: Sticky::new(pool),
        }
    }
}

/// Column arrays for `unnest`, in batch order (which is also `global_id` order).
#[derive(Default)]
struct Columns {
    aggregate_type: Vec<String>,
    aggregate_id: Vec<String>,
    sequence: Vec<i64>,
    event_type: Vec<String>,
    event_version: Vec<String>,
    payload: Vec<Value>,
    metadata: Vec<Value>,
    recorded_at: Vec<DateTime<Utc>>,
    digest: Vec<Vec<u8>>,
}

const INSERT: &str = "
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                        payload, metadata, recorded_at, digest)
    SELECT t, i, s, e, v, p, m, r, d
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[],
                  $7::jsonb[], $8::timestamptz[], $9::bytea[])
           WITH ORDINALITY AS u(t, i, s, e, v, p, m, r, d, n)
     ORDER BY n
    ON CONFLICT (aggregate_type, aggregate_id, sequence) DO NOTHING
    RETURNING aggregate_type, aggregate_id, sequence, tx_id::text AS tx, global_id";

const UNDO: &str = "
    DELETE FROM events e
     USING unnest($1::text[], $2::text[], $3::bigint[]) AS u(t, i, s)
     WHERE (e.aggregate_type, e.aggregate_id, e.sequence) = (u.t, u.i, u.s)";

const COPY: &str = "COPY events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                         payload, metadata, recorded_at, digest) FROM STDIN (FORMAT binary)";

/// The binary format's signature, flags (none) and header extension length (none).
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Columns of [`COPY`].
const COPY_COLUMNS: i16 = 9;
/// Microseconds from the Unix epoch to Postgres's (2000-01-01 UTC).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// One field of a binary `COPY` row: its length, then its bytes.
fn binary_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A `jsonb` field: format version 1, then the JSON text, written in place.
fn binary_jsonb(out: &mut Vec<u8>, value: &Value) -> Result<(), LogError> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.push(1);
    serde_json::to_writer(&mut *out, value).map_err(|e| LogError(e.to_string()))?;
    let length = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    Ok(())
}

/// `events` as one binary `COPY` stream for [`COPY`], recorded at `recorded_at`. Binary
/// rather than text: nothing to escape here nor to unescape and parse (times, digests,
/// numbers) in the database.
fn copy_binary(
    events: &[cqrs_es::persist::SerializedEvent],
    recorded_at: DateTime<Utc>,
) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::with_capacity(BINARY_HEADER.len() + events.len() * 1400 + 2);
    out.extend_from_slice(BINARY_HEADER);
    let mut scratch = Vec::new();
    let recorded = (recorded_at.timestamp_micros() - PG_EPOCH_MICROS).to_be_bytes();
    for event in events {
        let digest = crate::adapters::append::digest(event, recorded_at, &mut scratch);
        out.extend_from_slice(&COPY_COLUMNS.to_be_bytes());
        binary_field(&mut out, event.aggregate_type.as_bytes());
        binary_field(&mut out, event.aggregate_id.as_bytes());
        binary_field(&mut out, &(event.sequence as i64).to_be_bytes());
        binary_field(&mut out, event.event_type.as_bytes());
        binary_field(&mut out, event.event_version.as_bytes());
        binary_jsonb(&mut out, &event.payload)?;
        binary_jsonb(&mut out, &event.metadata)?;
        binary_field(&mut out, &recorded);
        binary_field(&mut out, &digest);
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

/// What the producer of an import hands its writer.
enum ToCopy {
    /// Rows for one `COPY` (a whole binary stream).
    Rows(Vec<u8>),
    /// Everything is sent: commit, and answer the position of this event.
    Commit(EventKey),
}

/// Copies each chunk the producer sends, in one transaction, and commits at [`ToCopy::Commit`];
/// rolls back if the producer stops without it. `None` at the first taken sequence (a
/// unique violation).
async fn copy_all(
    conn: &mut PgConnection,
    chunks: &mut tokio::sync::mpsc::Receiver<ToCopy>,
) -> Result<Option<Position>, LogError> {
    let mut tx = conn.begin().await.map_err(log_error)?;
    let last = loop {
        match chunks.recv().await {
            Some(ToCopy::Rows(rows)) => {
                let copied = async {
                    let mut copy = tx.copy_in_raw(COPY).await?;
                    copy.send(rows).await?;
                    copy.finish().await
                };
                match copied.await {
                    Ok(_) => {}
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
                    Err(e) => return Err(log_error(e)),
                }
            }
            Some(ToCopy::Commit(key)) => break key,
            // The producer failed: the transaction rolls back as it is dropped.
            None => return Err(LogError("the append was abandoned".into())),
        }
    };
    let (aggregate_type, aggregate_id, sequence) = last;
    let row = sqlx::query(
        "SELECT tx_id::text AS tx, global_id FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence as i64)
    .fetch_one(&mut *tx)
    .await
    .map_err(log_error)?;
    let tx_id: String = row.try_get("tx").map_err(log_error)?;
    let position = Position::new(
        parse_xid8(&tx_id)?,
        row.try_get("global_id").map_err(log_error)?,
    );
    tx.commit().await.map_err(log_error)?;
    Ok(Some(position))
}

/// The events the statement inserted, by key, with their positions.
fn taken(rows: Vec<PgRow>) -> Result<HashMap<EventKey, Position>, LogError> {
    let mut taken = HashMap::with_capacity(rows.len());
    for row in rows {
        let tx_id: String = row.try_get("tx").map_err(log_error)?;
        let sequence: i64 = row.try_get("sequence").map_err(log_error)?;
        taken.insert(
            (
                row.try_get("aggregate_type").map_err(log_error)?,
                row.try_get("aggregate_id").map_err(log_error)?,
                sequence as usize,
            ),
            Position::new(
                parse_xid8(&tx_id)?,
                row.try_get("global_id").map_err(log_error)?,
            ),
        );
    }
    Ok(taken)
}

impl Columns {
    /// The rows of `events`, recorded at `recorded_at`.
    fn of<'a>(
        events: impl Iterator<Item = &'a cqrs_es::persist::SerializedEvent>,
        recorded_at: DateTime<Utc>,
    ) -> Columns {
        let mut c = Columns::default();
        let mut scratch = Vec::new();
        for event in events {
            c.digest
                .push(crate::adapters::append::digest(event, recorded_at, &mut scratch).to_vec());
            c.recorded_at.push(recorded_at);
            c.aggregate_type.push(event.aggregate_type.clone());
            c.aggregate_id.push(event.aggregate_id.clone());
            c.sequence.push(event.sequence as i64);
            c.event_type.push(event.event_type.clone());
            c.event_version.push(event.event_version.clone());
            c.payload.push(event.payload.clone());
            c.metadata.push(event.metadata.clone());
        }
        c
    }

    fn insert(self) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let c = self;
        sqlx::query(INSERT)
            .bind(c.aggregate_type)
            .bind(c.aggregate_id)
            .bind(c.sequence)
            .bind(c.event_type)
            .bind(c.event_version)
            .bind(c.payload)
            .bind(c.metadata)
            .bind(c.recorded_at)
            .bind(c.digest)
    }
}

#[async_trait]
impl BatchWriter for PgBatchWriter {
    async fn write(&self, batch: &[Appendix]) -> Result<Vec<Option<Position>>, LogError> {
        let insert = Columns::of(batch.iter().flatten(), recorded_now()).insert();
        // With one event per command, a command is kept whole or not at all by the statement
        // alone; otherwise a transaction lets a command kept in part be taken back.
        let single_events = batch.iter().all(|events| events.len() == 1);
        let mut conn = self.connections.get().await.map_err(log_error)?;
        let outcomes = if single_events {
            let rows = insert.fetch_all(&mut *conn).await.map_err(log_error)?;
            settle(batch, &taken(rows)?).0
        } else {
            let mut tx = conn.begin().await.map_err(log_error)?;
            let rows = insert.fetch_all(&mut *tx).await.map_err(log_error)?;
            let (outcomes, undo) = settle(batch, &taken(rows)?);
            if !undo.is_empty() {
                let (mut types, mut ids, mut sequences) = (Vec::new(), Vec::new(), Vec::new());
                for (t, i, s) in undo {
                    types.push(t);
                    ids.push(i);
                    sequences.push(s as i64);
                }
                sqlx::query(UNDO)
                    .bind(types)
                    .bind(ids)
                    .bind(sequences)
                    .execute(&mut *tx)
                    .await
                    .map_err(log_error)?;
            }
            tx.commit().await.map_err(log_error)?;
            outcomes
        };
        self.connections.put_back(conn);
        Ok(outcomes)
    }

    /// One binary `COPY` per chunk in one transaction, rolled back at the first taken sequence
    /// (a unique violation) or failing chunk. `COPY` rather than the batch `INSERT`: no
    /// parameter arrays to build and unpack, no speculative insertion, and the row trigger still
    /// chains every event. The chunks are prepared and encoded here while a task of their own
    /// copies the previous one, so the server's work and the database's overlap on two cores.
    async fn write_chunked(
        &self,
        source: &mut dyn EventChunks,
    ) -> Result<Option<Position>, LogError> {
        let mut conn = self.connections.get().await.map_err(log_error)?;
        // One chunk waits while another is copied: memory holds about three at most.
        let (sender, mut chunks) = tokio::sync::mpsc::channel(1);
        let writer = tokio::spawn(async move {
            let outcome = copy_all(&mut conn, &mut chunks).await;
            (conn, outcome)
        });
        let recorded_at = recorded_now();
        let produced = async {
            let mut last_key = None;
            while let Some(chunk) = source.next_chunk().await? {
                if let Some(k) = chunk.last().map(key) {
                    last_key = Some(k);
                }
                let rows = copy_binary(&chunk, recorded_at)?;
                drop(chunk);
                if sender.send(ToCopy::Rows(rows)).await.is_err() {
                    // The writer stopped (a taken sequence, or an error): it says which.
                    break;
                }
            }
            Ok::<_, LogError>(last_key)
        }
        .await;
        if let Ok(Some(key)) = &produced {
            let _ = sender.send(ToCopy::Commit(key.clone())).await;
        }
        drop(sender);
        let (conn, outcome) = writer
            .await
            .map_err(|e| LogError(format!("import writer: {e}")))?;
        match (produced?, outcome?) {
            (None, _) => Err(LogError("nothing to append".into())),
            (Some(_), Some(position)) => {
                self.connections.put_back(conn);
                Ok(Some(position))
            }
            // A sequence was taken: the transaction was rolled back.
            (Some(_), None) => Ok(None),
        }
    }
}
