//! Batched appends to the SQLite log: one write transaction for the whole batch (one fsync),
//! each command's events inserted unless one of their sequences is taken.
use async_trait::async_trait;
use sqlx::{Row, SqlitePool};

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
        for events in batch {
            // A savepoint per command: a taken sequence rolls back only this command.
            sqlx::query("SAVEPOINT command")
                .execute(&mut *tx)
                .await
                .map_err(log_error)?;
            let mut kept = true;
            for event in events {
                let inserted = sqlx::query(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                         event_version, payload, metadata)
                     VALUES (?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (aggregate_type, aggregate_id, sequence) DO NOTHING",
                )
                .bind(&event.aggregate_type)
                .bind(&event.aggregate_id)
                .bind(event.sequence as i64)
                .bind(&event.event_type)
                .bind(&event.event_version)
                .bind(&event.payload)
                .bind(&event.metadata)
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
