//! Batched appends to the SQLite log: one write transaction for the whole batch (one fsync),
//! each command's events inserted unless one of their sequences is taken.
//!
//! Each row carries its recorded time, content digest and chain hash, computed here
//! (`annals_contracts::integrity`) from the hash of the previous event of its stream, read in
//! the same transaction.
use async_trait::async_trait;
use chrono::SecondsFormat;
use sqlx::{Row, SqlitePool};

use annals_contracts::integrity::{GENESIS, Hash, link, recorded_now, to_hash};
use annals_contracts::{LogError, Position};

use super::WriteTurns;
use crate::adapters::append::{Appendix, BatchWriter, EventChunks};
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
        let recorded = Recorded::now();
        for events in batch {
            // A savepoint per command: a taken sequence rolls back only this command.
            sqlx::query("SAVEPOINT command")
                .execute(&mut *tx)
                .await
                .map_err(log_error)?;
            let outcome = if insert_events(&mut tx, events, &recorded).await? {
                Some(position_of(&mut tx, events.last().expect("non-empty")).await?)
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

    /// The chunks in one write transaction, rolled back (by dropping it uncommitted) at the
    /// first taken sequence or failing chunk.
    async fn write_chunked(
        &self,
        source: &mut dyn EventChunks,
    ) -> Result<Option<Position>, LogError> {
        let _turn = self.turns.take().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(log_error)?;
        let recorded = Recorded::now();
        let mut last = None;
        while let Some(chunk) = source.next_chunk().await? {
            let Some(end) = chunk.last() else { continue };
            if !insert_events(&mut tx, &chunk, &recorded).await? {
                return Ok(None);
            }
            last = Some(position_of(&mut tx, end).await?);
        }
        if last.is_none() {
            return Err(LogError("nothing to append".into()));
        }
        tx.commit().await.map_err(log_error)?;
        Ok(last)
    }
}

/// The recorded time of a write, as a time and as stored text.
struct Recorded {
    at: chrono::DateTime<chrono::Utc>,
    text: String,
}

impl Recorded {
    fn now() -> Self {
        let at = recorded_now();
        Self {
            text: at.to_rfc3339_opts(SecondsFormat::Micros, true),
            at,
        }
    }
}

/// Inserts `events` (consecutive sequences per stream), each chained to the previous event of
/// its stream; `false` at the first taken sequence (what came before it stays, for the caller
/// to roll back).
async fn insert_events(
    tx: &mut sqlx::SqliteConnection,
    events: &[cqrs_es::persist::SerializedEvent],
    recorded: &Recorded,
) -> Result<bool, LogError> {
    let mut scratch = Vec::new();
    let mut previous: Option<Hash> = None;
    let mut stream: Option<(&str, &str)> = None;
    for event in events {
        let this = (event.aggregate_type.as_str(), event.aggregate_id.as_str());
        if stream != Some(this) {
            previous = previous_hash(tx, event).await?;
            stream = Some(this);
        }
        let digest = crate::adapters::append::digest(event, recorded.at, &mut scratch);
        // As the Postgres trigger: no hash after an unhashed event.
        let hash = previous.map(|p| link(&p, &digest));
        previous = hash;
        let inserted = sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata, recorded_at, digest, hash)
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
        .bind(&recorded.text)
        .bind(&digest[..])
        .bind(hash.as_ref().map(|h| &h[..]))
        .execute(&mut *tx)
        .await
        .map_err(log_error)?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Where a just inserted event landed.
async fn position_of(
    tx: &mut sqlx::SqliteConnection,
    event: &cqrs_es::persist::SerializedEvent,
) -> Result<Position, LogError> {
    let row = sqlx::query(
        "SELECT global_id FROM events
          WHERE aggregate_type = ? AND aggregate_id = ? AND sequence = ?",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence as i64)
    .fetch_one(&mut *tx)
    .await
    .map_err(log_error)?;
    Ok(Position::new(
        0,
        row.try_get("global_id").map_err(log_error)?,
    ))
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
