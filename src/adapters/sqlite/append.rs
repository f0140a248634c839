//! Batched appends to the SQLite log: one write transaction for the whole batch (one fsync),
//! each command's events inserted unless one of their sequences is taken.
//!
//! Each row carries its recorded time, content digest and chain hash, computed here
//! (`annals_contracts::integrity`) from the hash of the previous event of its stream, read in
//! the same transaction.
use async_trait::async_trait;
use chrono::SecondsFormat;
use sqlx::{Row, SqlitePool};

use annals_contracts::integrity::{EventContent, GENESIS, Hash, link, recorded_now, to_hash};
use annals_contracts::{LogError, Position};

use super::WriteTurns;
use crate::adapters::append::{Appendix, BatchWriter};
use crate::adapters::log_error;

pub struct SqliteBatchWriter {
    pool: SqlitePool,
    turns: WriteTurns,
}

impl SqliteBatchWriter {
    /// `turns`: shared with every other writer to the same file.
    pub fn new(pool: SqlitePool, turns: WriteTurns) -> Self {
        Self { pool, turns }
    }
}

#[async_trait]
impl BatchWriter for SqliteBatchWriter {
    async fn write(&self, batch: &[Appendix]) -> Result<Vec<Option<Position>>, LogError> {
        let _turn = self.turns.take().await;
        // IMMEDIATE: take the write lock up front, so no reader-turned-writer deadlock.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(log_error)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        let recorded_at = recorded_now();
        let recorded_text = recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut scratch = Vec::new();
        for events in batch {
            // A savepoint per command: a taken sequence rolls back only this command.
            sqlx::query("SAVEPOINT command")
                .execute(&mut *tx)
                .await
                .map_err(log_error)?;
            let mut kept = true;
            let mut previous = match events.first() {
                Some(first) => previous_hash(&mut tx, first).await?,
                None => None,
            };
            for event in events {
                let digest = EventContent {
                    aggregate_type: &event.aggregate_type,
                    aggregate_id: &event.aggregate_id,
                    sequence: event.sequence as i64,
                    event_type: &event.event_type,
                    event_version: &event.event_version,
                    payload: &event.payload,
                    metadata: &event.metadata,
                    recorded_at,
                }
                .digest_with(&mut scratch);
                // As the Postgres trigger: no hash after an unhashed event.
                let hash = previous.map(|p| link(&p, &digest));
                previous = hash;
                let inserted = sqlx::query(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                         event_version, payload, metadata, recorded_at, digest,
                                         hash)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (aggregate_type, aggregate_id, sequence) DO NOTHING",
                )
                .bind(&event.aggregate_type)
                .bind(&event.aggregate_id)
                .bind(event.sequence as i64)
                .bind(&event.event_type)
                .bind(&event.event_version)
                .bind(&event.payload)
                .bind(&event.metadata)
                .bind(&recorded_text)
                .bind(&digest[..])
                .bind(hash.as_ref().map(|h| &h[..]))
                .execute(&mut *tx)
                .await
                .map_err(log_error)?;
                if inserted.rows_affected() == 0 {
                    kept = false;
                    break;
                }
            }
            let outcome = if kept {
                let last = events.last().expect("non-empty");
                let row = sqlx::query(
                    "SELECT global_id FROM events
                      WHERE aggregate_type = ? AND aggregate_id = ? AND sequence = ?",
                )
                .bind(&last.aggregate_type)
                .bind(&last.aggregate_id)
                .bind(last.sequence as i64)
                .fetch_one(&mut *tx)
                .await
                .map_err(log_error)?;
                Some(Position::new(
                    0,
                    row.try_get("global_id").map_err(log_error)?,
                ))
            } else {
                sqlx::query("ROLLBACK TO command")
                    .execute(&mut *tx)
                    .await
                    .map_err(log_error)?;
                None
            };
            sqlx::query("RELEASE command")
                .execute(&mut *tx)
                .await
                .map_err(log_error)?;
            outcomes.push(outcome);
        }
        tx.commit().await.map_err(log_error)?;
        Ok(outcomes)
    }
}

/// The chain hash the first of a command's events links to: the stream's previous event's
/// (`None` if that one has none), or the genesis hash when there is no previous event.
async fn previous_hash(
    tx: &mut sqlx::SqliteConnection,
    first: &cqrs_es::persist::SerializedEvent,
) -> Result<Option<Hash>, LogError> {
    let row: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT hash FROM events WHERE aggregate_type = ? AND aggregate_id = ? AND sequence = ?",
    )
    .bind(&first.aggregate_type)
    .bind(&first.aggregate_id)
    .bind(first.sequence as i64 - 1)
    .fetch_optional(&mut *tx)
    .await
    .map_err(log_error)?;
    Ok(match row {
        None => Some(GENESIS),
        Some(hash) => hash.as_deref().and_then(to_hash),
    })
}
