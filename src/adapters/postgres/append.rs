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
use sqlx::{Connection, PgPool, Row};

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
                         payload, metadata, recorded_at, digest) FROM STDIN";

/// `text` as a field of `COPY`'s text format.
fn copy_field(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}

/// `events` as `COPY` rows (text format) for [`COPY`], recorded at `recorded_at`.
fn copy_rows(events: &[cqrs_es::persist::SerializedEvent], recorded_at: DateTime<Utc>) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut scratch = Vec::new();
    let recorded = recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for event in events {
        let digest = crate::adapters::append::digest(event, recorded_at, &mut scratch);
        let (sequence, payload) = (event.sequence.to_string(), event.payload.to_string());
        let metadata = event.metadata.to_string();
        for field in [
            &event.aggregate_type,
            &event.aggregate_id,
            &sequence,
            &event.event_type,
            &event.event_version,
            &payload,
            &metadata,
            &recorded,
        ] {
            copy_field(&mut out, field);
            out.push('\t');
        }
        out.push_str("\\\\x");
        for byte in digest.iter() {
            let _ = write!(out, "{byte:02x}");
        }
        out.push('\n');
    }
    out
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

    /// One `COPY` per chunk in one transaction, rolled back at the first taken sequence (a
    /// unique violation) or failing chunk (a transaction dropped uncommitted rolls back).
    /// `COPY` rather than the batch `INSERT`: no parameter arrays to build and unpack, no
    /// speculative insertion, and the row trigger still chains every event.
    async fn write_chunked(
        &self,
        source: &mut dyn EventChunks,
    ) -> Result<Option<Position>, LogError> {
        let mut conn = self.connections.get().await.map_err(log_error)?;
        let mut tx = conn.begin().await.map_err(log_error)?;
        let recorded_at = recorded_now();
        let mut last_key = None;
        let mut next = source.next_chunk().await?;
        while let Some(chunk) = next {
            if let Some(k) = chunk.last().map(key) {
                last_key = Some(k);
            }
            let rows = copy_rows(&chunk, recorded_at);
            // The source prepares the next chunk while the database stores this one: on two
            // cores that overlaps the server's work with the database's.
            let copy = async {
                let mut copy = tx.copy_in_raw(COPY).await?;
                copy.send(rows.into_bytes()).await?;
                copy.finish().await
            };
            let (copied, following) = tokio::join!(copy, source.next_chunk());
            match copied {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
                Err(e) => return Err(log_error(e)),
            }
            next = following?;
        }
        let Some((aggregate_type, aggregate_id, sequence)) = last_key else {
            return Err(LogError("nothing to append".into()));
        };
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
        self.connections.put_back(conn);
        Ok(Some(position))
    }
}
