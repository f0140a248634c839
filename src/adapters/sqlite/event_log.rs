//! Reading the SQLite event log in its global order (the single writer makes it commit order).
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Row, SqlitePool};

use annals_contracts::{EventReader, LogError, Position, StoredEvent};

use crate::adapters::person_keys::KeyStore;
use crate::adapters::{EventLog, codec, log_error};

#[derive(Clone)]
pub struct SqliteEventLog {
    pool: SqlitePool,
    /// The keys sealed personal fields need.
    keys: KeyStore,
}

impl SqliteEventLog {
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            keys: KeyStore::Sqlite(pool.clone()),
            pool,
        }
    }
}

/// SQLite positions have no transaction part: `global_id` alone orders them.
fn position(gid: i64) -> Position {
    Position::new(0, gid)
}

fn row_to_event(row: &sqlx::sqlite::SqliteRow) -> Result<StoredEvent, LogError> {
    let payload: String = row.try_get("payload").map_err(log_error)?;
    let metadata: String = row.try_get("metadata").map_err(log_error)?;
    let recorded_at: String = row.try_get("recorded_at").map_err(log_error)?;
    let metadata: HashMap<String, String> = serde_json::from_str(&metadata).unwrap_or_default();
    // Raw: the callers pass the batch through the log codec.
    Ok(StoredEvent {
        position: position(row.try_get("global_id").map_err(log_error)?),
        aggregate_type: row.try_get("aggregate_type").map_err(log_error)?,
        aggregate_id: row.try_get("aggregate_id").map_err(log_error)?,
        sequence: row.try_get("sequence").map_err(log_error)?,
        event_type: row.try_get("event_type").map_err(log_error)?,
        event_version: row.try_get("event_version").map_err(log_error)?,
        payload: serde_json::from_str::<Value>(&payload)
            .map_err(|e| LogError(format!("stored payload is not JSON: {e}")))?,
        metadata,
        recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| LogError(format!("bad recorded_at {recorded_at:?}: {e}")))?,
    })
}

#[async_trait]
impl EventReader for SqliteEventLog {
    async fn read_after(&self, after: Position, limit: i64) -> Result<Vec<StoredEvent>, LogError> {
        let rows = sqlx::query(
            "SELECT global_id, aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata, recorded_at
               FROM events
              WHERE global_id > ?
              ORDER BY global_id
              LIMIT ?",
        )
        .bind(after.gid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        let raw = rows
            .iter()
            .map(row_to_event)
            .collect::<Result<Vec<_>, _>>()?;
        codec::stored_all(raw, &self.keys).await
    }

    async fn head(&self) -> Result<Option<Position>, LogError> {
        let gid: Option<i64> = sqlx::query_scalar("SELECT max(global_id) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(log_error)?;
        Ok(gid.map(position))
    }
    async fn event_at(&self, position: Position) -> Result<Option<StoredEvent>, LogError> {
        let row = sqlx::query(
            "SELECT global_id, aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata, recorded_at
               FROM events
              WHERE global_id = ?",
        )
        .bind(position.gid)
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        let raw: Vec<StoredEvent> = row
            .as_ref()
            .map(row_to_event)
            .transpose()?
            .into_iter()
            .collect();
        Ok(codec::stored_all(raw, &self.keys).await?.pop())
    }

    async fn log_id(&self) -> Result<String, LogError> {
        sqlx::query_scalar("SELECT id FROM log_identity")
            .fetch_one(&self.pool)
            .await
            .map_err(log_error)
    }

    async fn read_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after: Position,
        limit: i64,
    ) -> Result<Vec<(Position, StoredEvent)>, LogError> {
        let rows = sqlx::query(
            "SELECT e.global_id, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
                    e.event_version, e.payload, e.metadata, e.recorded_at,
                    (SELECT max(b.global_id) FROM events b WHERE b.global_id < e.global_id)
                        AS prev_gid
               FROM events e
              WHERE e.aggregate_type = ? AND e.aggregate_id = ? AND e.global_id > ?
              ORDER BY e.sequence
              LIMIT ?",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after.gid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        let (prevs, raw): (Vec<Position>, Vec<StoredEvent>) = rows
            .iter()
            .map(|row| {
                let prev: Option<i64> = row.try_get("prev_gid").map_err(log_error)?;
                Ok((prev.map_or(Position::ZERO, position), row_to_event(row)?))
            })
            .collect::<Result<Vec<_>, LogError>>()?
            .into_iter()
            .unzip();
        Ok(prevs
            .into_iter()
            .zip(codec::stored_all(raw, &self.keys).await?)
            .collect())
    }

    async fn position_before(&self, before: Position) -> Result<Position, LogError> {
        let gid: Option<i64> =
            sqlx::query_scalar("SELECT max(global_id) FROM events WHERE global_id < ?")
                .bind(before.gid)
                .fetch_one(&self.pool)
                .await
                .map_err(log_error)?;
        Ok(gid.map_or(Position::ZERO, position))
    }
}

#[async_trait]
impl EventLog for SqliteEventLog {
    async fn stream_position(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<Position>, LogError> {
        let gid: Option<i64> = sqlx::query_scalar(
            "SELECT global_id FROM events WHERE aggregate_type = ? AND aggregate_id = ?
              ORDER BY sequence DESC LIMIT 1",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        Ok(gid.map(position))
    }

    async fn count_after(&self, after: Position, cap: i64) -> Result<i64, LogError> {
        sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE global_id > ? LIMIT ?)",
        )
        .bind(after.gid)
        .bind(cap)
        .fetch_one(&self.pool)
        .await
        .map_err(log_error)
    }

    async fn ping(&self) -> Result<(), LogError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(log_error)
    }
}
