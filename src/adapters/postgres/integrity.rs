//! The tamper evidence of the Postgres log (migrations/postgres/0006_tamper_evidence.sql).
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgPool, Row};

use annals_contracts::integrity::{GENESIS, Hash, Seal, to_hash};
use annals_contracts::{LogError, Position};

use super::event_log::parse_xid8;
use crate::adapters::integrity::{ChainRow, IntegrityLog, RunRecord, chain_rows, stream_starts};
use crate::adapters::log_error;

#[derive(Clone)]
pub struct PgIntegrity {
    pool: PgPool,
}

impl PgIntegrity {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

const COLUMNS: &str = "tx_id::text AS tx, global_id, aggregate_type, aggregate_id, sequence,
    event_type, event_version, payload::text AS payload, metadata::text AS metadata, recorded_at,
    digest, hash";

fn position(row: &PgRow, tx: &str, gid: &str) -> Result<Position, LogError> {
    let text: String = row.try_get(tx).map_err(log_error)?;
    Ok(Position::new(
        parse_xid8(&text)?,
        row.try_get(gid).map_err(log_error)?,
    ))
}

fn chain_row(row: &PgRow) -> Result<ChainRow, LogError> {
    Ok(ChainRow {
        position: position(row, "tx", "global_id")?,
        aggregate_type: row.try_get("aggregate_type").map_err(log_error)?,
        aggregate_id: row.try_get("aggregate_id").map_err(log_error)?,
        sequence: row.try_get("sequence").map_err(log_error)?,
        event_type: row.try_get("event_type").map_err(log_error)?,
        event_version: row.try_get("event_version").map_err(log_error)?,
        payload: row.try_get("payload").map_err(log_error)?,
        metadata: row.try_get("metadata").map_err(log_error)?,
        recorded_at: row.try_get("recorded_at").map_err(log_error)?,
        digest: row.try_get("digest").map_err(log_error)?,
        hash: row.try_get("hash").map_err(log_error)?,
    })
}

fn seal(row: &PgRow) -> Result<Seal, LogError> {
    let running: Vec<u8> = row.try_get("running_hash").map_err(log_error)?;
    Ok(Seal {
        number: row.try_get("number").map_err(log_error)?,
        first: position(row, "first_tx", "first_gid")?,
        last: position(row, "last_tx", "last_gid")?,
        count: row.try_get("count").map_err(log_error)?,
        running_hash: hex::encode(running),
        sealed_at: row.try_get("sealed_at").map_err(log_error)?,
        logid: None,
    })
}

const SEAL_COLUMNS: &str =
    "number, first_tx::text AS first_tx, first_gid, last_tx::text AS last_tx,
    last_gid, count, running_hash, sealed_at";

#[async_trait]
impl IntegrityLog for PgIntegrity {
    async fn rows_after(&self, after: Position, limit: i64) -> Result<Vec<ChainRow>, LogError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events
              WHERE (tx_id, global_id) > ($1::text::xid8, $2)
                AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY tx_id, global_id
              LIMIT $3"
        ))
        .bind(after.tx.to_string())
        .bind(after.gid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        rows.iter().map(chain_row).collect()
    }

    async fn count(&self) -> Result<u64, LogError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(log_error)?;
        Ok(n as u64)
    }

    async fn hashes_between(
        &self,
        after: Position,
        upto: Position,
        limit: i64,
    ) -> Result<Vec<(Position, Option<Hash>)>, LogError> {
        let rows = sqlx::query(
            "SELECT tx_id::text AS tx, global_id, hash FROM events
              WHERE (tx_id, global_id) > ($1::text::xid8, $2)
                AND (tx_id, global_id) <= ($3::text::xid8, $4)
              ORDER BY tx_id, global_id
              LIMIT $5",
        )
        .bind(after.tx.to_string())
        .bind(after.gid)
        .bind(upto.tx.to_string())
        .bind(upto.gid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        rows.iter()
            .map(|row| {
                let hash: Option<Vec<u8>> = row.try_get("hash").map_err(log_error)?;
                Ok((
                    position(row, "tx", "global_id")?,
                    hash.as_deref().and_then(to_hash),
                ))
            })
            .collect()
    }

    async fn seals_after(&self, after: i64, limit: i64) -> Result<Vec<Seal>, LogError> {
        let rows = sqlx::query(&format!(
            "SELECT {SEAL_COLUMNS} FROM seals WHERE number > $1 ORDER BY number LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        rows.iter().map(seal).collect()
    }

    async fn last_seal(&self) -> Result<Option<Seal>, LogError> {
        let row = sqlx::query(&format!(
            "SELECT {SEAL_COLUMNS} FROM seals ORDER BY number DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        row.as_ref().map(seal).transpose()
    }

    async fn add_seal(&self, s: &Seal) -> Result<bool, LogError> {
        let running = hex::decode(&s.running_hash).map_err(|e| LogError(e.to_string()))?;
        let done = sqlx::query(
            "INSERT INTO seals (number, first_tx, first_gid, last_tx, last_gid, count,
                                running_hash, sealed_at)
             VALUES ($1, $2::text::xid8, $3, $4::text::xid8, $5, $6, $7, $8)
             ON CONFLICT (number) DO NOTHING",
        )
        .bind(s.number)
        .bind(s.first.tx.to_string())
        .bind(s.first.gid)
        .bind(s.last.tx.to_string())
        .bind(s.last.gid)
        .bind(s.count)
        .bind(running)
        .bind(s.sealed_at)
        .execute(&self.pool)
        .await
        .map_err(log_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_run(&self, run: &RunRecord) -> Result<(), LogError> {
        sqlx::query(
            "INSERT INTO verify_runs (finished_at, source, intact, report) VALUES ($1, $2, $3, $4)",
        )
        .bind(run.finished_at)
        .bind(&run.source)
        .bind(run.intact)
        .bind(&run.report)
        .execute(&self.pool)
        .await
        .map_err(log_error)?;
        Ok(())
    }

    async fn last_run(&self) -> Result<Option<RunRecord>, LogError> {
        let row = sqlx::query(
            "SELECT finished_at, source, intact, report FROM verify_runs ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(log_error)?;
        row.map(|r| {
            Ok(RunRecord {
                finished_at: r
                    .try_get::<DateTime<Utc>, _>("finished_at")
                    .map_err(log_error)?,
                source: r.try_get("source").map_err(log_error)?,
                intact: r.try_get("intact").map_err(log_error)?,
                report: r.try_get::<Value, _>("report").map_err(log_error)?,
            })
        })
        .transpose()
    }

    async fn backfill(&self) -> Result<u64, LogError> {
        let mut conn = self.pool.acquire().await.map_err(log_error)?;
        let mut tx = conn.begin().await.map_err(log_error)?;
        // The row lock makes concurrent starts take turns; the second finds it done.
        let (upto, done): (i64, bool) =
            sqlx::query_as("SELECT upto, done FROM chain_backfill FOR UPDATE")
                .fetch_one(&mut *tx)
                .await
                .map_err(log_error)?;
        if done {
            return Ok(0);
        }
        let mut after: (String, String, i64) = (String::new(), String::new(), -1);
        let mut hashed = 0u64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM events
                  WHERE global_id <= $1 AND hash IS NULL
                    AND (aggregate_type, aggregate_id, sequence) > ($2, $3, $4)
                  ORDER BY aggregate_type, aggregate_id, sequence
                  LIMIT 5000"
            ))
            .bind(upto)
            .bind(&after.0)
            .bind(&after.1)
            .bind(after.2)
            .fetch_all(&mut *tx)
            .await
            .map_err(log_error)?;
            let rows: Vec<ChainRow> = rows.iter().map(chain_row).collect::<Result<_, _>>()?;
            let Some(last) = rows.last() else { break };
            after = (
                last.aggregate_type.clone(),
                last.aggregate_id.clone(),
                last.sequence,
            );
            // The hash before each stream's first row here: hashed in an earlier page, by a
            // writer, or none (a stream's first event).
            let starts = stream_starts(&rows);
            let found = sqlx::query(
                "SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.hash FROM events e
                   JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS u(t, i, s)
                     ON (e.aggregate_type, e.aggregate_id, e.sequence) = (u.t, u.i, u.s - 1)",
            )
            .bind(
                starts
                    .iter()
                    .map(|r| r.aggregate_type.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                starts
                    .iter()
                    .map(|r| r.aggregate_id.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(starts.iter().map(|r| r.sequence).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await
            .map_err(log_error)?;
            let mut before = HashMap::new();
            for row in &found {
                let sequence: i64 = row.try_get("sequence").map_err(log_error)?;
                let hash: Option<Vec<u8>> = row.try_get("hash").map_err(log_error)?;
                before.insert(
                    (
                        row.try_get::<String, _>("aggregate_type")
                            .map_err(log_error)?,
                        row.try_get::<String, _>("aggregate_id")
                            .map_err(log_error)?,
                        sequence + 1,
                    ),
                    hash.as_deref().and_then(to_hash),
                );
            }
            let chained = chain_rows(&rows, |row| {
                let key = (
                    row.aggregate_type.clone(),
                    row.aggregate_id.clone(),
                    row.sequence,
                );
                before.get(&key).copied().unwrap_or(Some(GENESIS))
            });
            let (mut gids, mut digests, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
            for (row, (digest, hash)) in rows.iter().zip(chained) {
                gids.push(row.position.gid);
                digests.push(digest.to_vec());
                hashes.push(hash.map(|h| h.to_vec()));
            }
            sqlx::query(
                "UPDATE events e SET digest = u.d, hash = u.h
                   FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u(g, d, h)
                  WHERE e.global_id = u.g",
            )
            .bind(gids)
            .bind(digests)
            .bind(hashes)
            .execute(&mut *tx)
            .await
            .map_err(log_error)?;
            hashed += rows.len() as u64;
        }
        sqlx::query("UPDATE chain_backfill SET done = true")
            .execute(&mut *tx)
            .await
            .map_err(log_error)?;
        tx.commit().await.map_err(log_error)?;
        Ok(hashed)
    }
}
