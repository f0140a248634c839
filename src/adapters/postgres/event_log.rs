//! Reading the Postgres event log in its gap-safe global order.
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Row};

use annals_contracts::{EventReader, LogError, Position, StoredEvent};

use super::Sticky;
use crate::adapters::person_keys::{KeyStore, fetch_postgres};
use crate::adapters::{EventLog, codec, log_error};

#[derive(Clone)]
pub struct PgEventLog {
    pool: PgPool,
    /// The keys sealed personal fields need.
    keys: KeyStore,
    /// For `read_after`, which the relay and the workers call in a loop.
    tailing: Sticky,
}

impl PgEventLog {
    pub fn new(pool: PgPool) -> Self {
        Self {
            tailing: Sticky::new(pool.clone()),
            keys: KeyStore::Postgres(pool.clone()),
            pool,
        }
    }
}

pub(crate) fn parse_xid8(text: &str) -> Result<u64, LogError> {
    text.parse()
        .map_err(|_| LogError(format!("bad transaction id {text:?}")))
}

fn row_to_event(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, LogError> {
    let tx: String = row.try_get("tx").map_err(log_error)?;
    let metadata: Value = row.try_get("metadata").map_err(log_error)?;
    let metadata: HashMap<String, String> = serde_json::from_value(metadata).unwrap_or_default();
    // Raw: the callers pass the batch through the log codec.
    Ok(StoredEvent {
        position: Position::new(
            parse_xid8(&tx)?,
            row.try_get("global_id").map_err(log_error)?,
        ),
        aggregate_type: row.try_get("aggregate_type").map_err(log_error)?,
        aggregate_id: row.try_get("aggregate_id").map_err(log_error)?,
        sequence: row.try_get("sequence").map_err(log_error)?,
        event_type: row.try_get("event_type").map_err(log_error)?,
        event_version: row.try_get("event_version").map_err(log_error)?,
        payload: row.try_get("payload").map_err(log_error)?,
        metadata,
        recorded_at: row
            .try_get::<DateTime<Utc>, _>("recorded_at")
            .map_err(log_error)?,
    })
}

#[async_trait]
impl EventReader for PgEventLog {
    async fn read_after(&self, after: Position, limit: i64) -> Result<Vec<StoredEvent>, LogError> {
        // The fence: rows of transactions that may still be running, and everything after
        // them, stay invisible, so a lower global_id can never show up behind the cursor.
        let rows = sqlx::query(
            "SELECT tx_id::text AS tx, global_id, aggregate_type, aggregate_id, sequence,
                    event_type, event_version, payload, metadata, recorded_at
               FROM events
              WHERE (tx_id, global_id) > ($1::text::xid8, $2)
                AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY tx_id, global_id
              LIMIT $3",
        )
        .bind(after.tx.to_string())
        .bind(after.gid)
        .bind(limit);
        let mut conn = self.tailing.get().await.map_err(log_error)?;
        let rows = rows.fetch_all(&mut *conn).await.map_err(log_error)?;
        let raw = rows
            .iter()
            .map(row_to_event)
            .collect::<Result<Vec<_>, _>>()?;
        // The keys on the same kept connection: the relay and the workers tail in a loop.
        let keys = fetch_postgres(&mut *conn, &codec::subjects(&raw))
            .await
            .map_err(log_error)?;
        self.tailing.put_back(conn);
        raw.into_iter().map(|e| codec::stored(e, &keys)).collect()
    }

    async fn head(&self) -> Result<Option<Position>, LogError> {
        let row = sqlx::query(
            "SELECT tx_id::text AS tx, global_id FROM events ORDER BY tx_id DESC, global_id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        row.map(|r| {
            let tx: String = r.get("tx");
            Ok(Position::new(parse_xid8(&tx)?, r.get("global_id")))
        })
        .transpose()
    }
    async fn event_at(&self, position: Position) -> Result<Option<StoredEvent>, LogError> {
        let row = sqlx::query(
            "SELECT tx_id::text AS tx, global_id, aggregate_type, aggregate_id, sequence,
                    event_type, event_version, payload, metadata, recorded_at
               FROM events
              WHERE global_id = $2 AND tx_id = $1::text::xid8",
        )
        .bind(position.tx.to_string())
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
        // The primary key finds the stream; each predecessor is one step back on the
        // global-order index. A stream's sequence order is its global order: an event's
        // successor is written by a transaction that read it, so it commits later.
        let rows = sqlx::query(
            "SELECT e.tx_id::text AS tx, e.global_id, e.aggregate_type, e.aggregate_id,
                    e.sequence, e.event_type, e.event_version, e.payload, e.metadata,
                    e.recorded_at, prev.tx AS prev_tx, prev.global_id AS prev_gid
               FROM events e
               LEFT JOIN LATERAL (
                    SELECT b.tx_id::text AS tx, b.global_id FROM events b
                     WHERE (b.tx_id, b.global_id) < (e.tx_id, e.global_id)
                     ORDER BY b.tx_id DESC, b.global_id DESC LIMIT 1) prev ON true
              WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
                AND (e.tx_id, e.global_id) > ($3::text::xid8, $4)
                AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY e.sequence
              LIMIT $5",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after.tx.to_string())
        .bind(after.gid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        let (prevs, raw): (Vec<Position>, Vec<StoredEvent>) = rows
            .iter()
            .map(|row| {
                let prev = prev_position(
                    row.try_get("prev_tx").map_err(log_error)?,
                    row.try_get("prev_gid").map_err(log_error)?,
                )?;
                Ok((prev, row_to_event(row)?))
            })
            .collect::<Result<Vec<_>, LogError>>()?
            .into_iter()
            .unzip();
        Ok(prevs
            .into_iter()
            .zip(codec::stored_all(raw, &self.keys).await?)
            .collect())
    }

    async fn position_before(&self, position: Position) -> Result<Position, LogError> {
        let row = sqlx::query(
            "SELECT tx_id::text AS tx, global_id FROM events
              WHERE (tx_id, global_id) < ($1::text::xid8, $2)
              ORDER BY tx_id DESC, global_id DESC LIMIT 1",
        )
        .bind(position.tx.to_string())
        .bind(position.gid)
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        match row {
            Some(r) => prev_position(Some(r.get("tx")), Some(r.get("global_id"))),
            None => Ok(Position::ZERO),
        }
    }
}

fn prev_position(tx: Option<String>, gid: Option<i64>) -> Result<Position, LogError> {
    match (tx, gid) {
        (Some(tx), Some(gid)) => Ok(Position::new(parse_xid8(&tx)?, gid)),
        _ => Ok(Position::ZERO),
    }
}

#[async_trait]
impl EventLog for PgEventLog {
    async fn stream_position(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<Position>, LogError> {
        let row = sqlx::query(
            "SELECT tx_id::text AS tx, global_id FROM events
              WHERE aggregate_type = $1 AND aggregate_id = $2
              ORDER BY sequence DESC LIMIT 1",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        row.map(|r| {
            let tx: String = r.get("tx");
            Ok(Position::new(parse_xid8(&tx)?, r.get("global_id")))
        })
        .transpose()
    }

    async fn count_after(&self, after: Position, cap: i64) -> Result<i64, LogError> {
        sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM events
                WHERE (tx_id, global_id) > ($1::text::xid8, $2) LIMIT $3) pending",
        )
        .bind(after.tx.to_string())
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
