//! The tamper evidence of the embedded log (migrations/sqlite/0004_tamper_evidence.sql).
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use annals_contracts::integrity::{GENESIS, Hash, Seal, to_hash};
use annals_contracts::{LogError, Position};

use super::WriteTurns;
use crate::adapters::integrity::{ChainRow, IntegrityLog, RunRecord, chain_rows, stream_starts};
use crate::adapters::log_error;

#[derive(Clone)]
pub struct SqliteIntegrity {
    pool: SqlitePool,
    turns: WriteTurns,
}

impl SqliteIntegrity {
    /// `turns`: shared with every other writer to the same file.
    pub fn new(pool: SqlitePool, turns: WriteTurns) -> Self {
        Self { pool, turns }
    }
}

const COLUMNS: &str = "global_id, aggregate_type, aggregate_id, sequence, event_type,
    event_version, payload, metadata, recorded_at, digest, hash";

fn time(text: &str) -> Result<DateTime<Utc>, LogError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| LogError(format!("bad time {text:?}: {e}")))
}

fn json(text: &str) -> Result<Value, LogError> {
    serde_json::from_str(text).map_err(|e| LogError(format!("stored JSON unreadable: {e}")))
}

fn chain_row(row: &SqliteRow) -> Result<ChainRow, LogError> {
    let get = |name: &str| row.try_get::<String, _>(name).map_err(log_error);
    Ok(ChainRow {
        position: Position::new(0, row.try_get("global_id").map_err(log_error)?),
        aggregate_type: get("aggregate_type")?,
        aggregate_id: get("aggregate_id")?,
        sequence: row.try_get("sequence").map_err(log_error)?,
        event_type: get("event_type")?,
        event_version: get("event_version")?,
        payload: get("payload")?,
        metadata: get("metadata")?,
        recorded_at: time(&get("recorded_at")?)?,
        digest: row.try_get("digest").map_err(log_error)?,
        hash: row.try_get("hash").map_err(log_error)?,
    })
}

const SEAL_COLUMNS: &str =
    "number, first_tx, first_gid, last_tx, last_gid, count, running_hash, sealed_at";

fn seal(row: &SqliteRow) -> Result<Seal, LogError> {
    let running: Vec<u8> = row.try_get("running_hash").map_err(log_error)?;
    let at = |tx: &str, gid: &str| -> Result<Position, LogError> {
        Ok(Position::new(
            row.try_get::<i64, _>(tx).map_err(log_error)? as u64,
            row.try_get(gid).map_err(log_error)?,
        ))
    };
    Ok(Seal {
        number: row.try_get("number").map_err(log_error)?,
        first: at("first_tx", "first_gid")?,
        last: at("last_tx", "last_gid")?,
        count: row.try_get("count").map_err(log_error)?,
        running_hash: hex::encode(running),
        sealed_at: time(&row.try_get::<String, _>("sealed_at").map_err(log_error)?)?,
        logid: None,
    })
}

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[async_trait]
impl IntegrityLog for SqliteIntegrity {
    /// A batch comes back as one JSON array in one row: sqlx hands SQLite rows over one at a
    /// time between threads, which made reading the slowest stage of verification.
    async fn rows_after(&self, after: Position, limit: i64) -> Result<Vec<ChainRow>, LogError> {
        let text: Option<String> = sqlx::query_scalar(
            "SELECT json_group_array(json_array(global_id, aggregate_type, aggregate_id, sequence,
                    event_type, event_version, CAST(payload AS TEXT), CAST(metadata AS TEXT),
                    recorded_at, iif(digest IS NULL, NULL, hex(digest)),
                    iif(hash IS NULL, NULL, hex(hash))))
               FROM (SELECT * FROM events WHERE global_id > ? ORDER BY global_id LIMIT ?)",
        )
        .bind(after.gid)
        .bind(limit)
        .fetch_one(&self.pool)
        .await
        .map_err(log_error)?;
        type Packed = (
            i64,
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let packed: Vec<Packed> = serde_json::from_str(text.as_deref().unwrap_or("[]"))
            .map_err(|e| LogError(format!("reading the log: {e}")))?;
        let blob = |hex_text: Option<String>| hex_text.and_then(|h| hex::decode(h).ok());
        let mut rows = packed
            .into_iter()
            .map(|p| {
                Ok(ChainRow {
                    position: Position::new(0, p.0),
                    aggregate_type: p.1,
                    aggregate_id: p.2,
                    sequence: p.3,
                    event_type: p.4,
                    event_version: p.5,
                    payload: p.6,
                    metadata: p.7,
                    recorded_at: time(&p.8)?,
                    digest: blob(p.9),
                    hash: blob(p.10),
                })
            })
            .collect::<Result<Vec<_>, LogError>>()?;
        // An aggregate's order is not promised.
        rows.sort_unstable_by_key(|r| r.position);
        Ok(rows)
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
            "SELECT global_id, hash FROM events WHERE global_id > ? AND global_id <= ?
              ORDER BY global_id LIMIT ?",
        )
        .bind(after.gid)
        .bind(upto.gid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(log_error)?;
        rows.iter()
            .map(|row| {
                let hash: Option<Vec<u8>> = row.try_get("hash").map_err(log_error)?;
                Ok((
                    Position::new(0, row.try_get("global_id").map_err(log_error)?),
                    hash.as_deref().and_then(to_hash),
                ))
            })
            .collect()
    }

    async fn seals_after(&self, after: i64, limit: i64) -> Result<Vec<Seal>, LogError> {
        let rows = sqlx::query(&format!(
            "SELECT {SEAL_COLUMNS} FROM seals WHERE number > ? ORDER BY number LIMIT ?"
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
        let _turn = self.turns.take().await;
        let done = sqlx::query(
            "INSERT INTO seals (number, first_tx, first_gid, last_tx, last_gid, count,
                                running_hash, sealed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (number) DO NOTHING",
        )
        .bind(s.number)
        .bind(s.first.tx as i64)
        .bind(s.first.gid)
        .bind(s.last.tx as i64)
        .bind(s.last.gid)
        .bind(s.count)
        .bind(running)
        .bind(text(s.sealed_at))
        .execute(&self.pool)
        .await
        .map_err(log_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_run(&self, run: &RunRecord) -> Result<(), LogError> {
        let _turn = self.turns.take().await;
        sqlx::query(
            "INSERT INTO verify_runs (finished_at, source, intact, report) VALUES (?, ?, ?, ?)",
        )
        .bind(text(run.finished_at))
        .bind(&run.source)
        .bind(run.intact)
        .bind(run.report.to_string())
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
                finished_at: time(&r.try_get::<String, _>("finished_at").map_err(log_error)?)?,
                source: r.try_get("source").map_err(log_error)?,
                intact: r.try_get("intact").map_err(log_error)?,
                report: json(&r.try_get::<String, _>("report").map_err(log_error)?)?,
            })
        })
        .transpose()
    }

    async fn backfill(&self) -> Result<u64, LogError> {
        let _turn = self.turns.take().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(log_error)?;
        let (upto, done): (i64, bool) = sqlx::query_as("SELECT upto, done FROM chain_backfill")
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
                  WHERE global_id <= ? AND hash IS NULL
                    AND (aggregate_type, aggregate_id, sequence) > (?, ?, ?)
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
            let mut before = std::collections::HashMap::new();
            for start in stream_starts(&rows) {
                let hash: Option<Option<Vec<u8>>> = sqlx::query_scalar(
                    "SELECT hash FROM events
                      WHERE aggregate_type = ? AND aggregate_id = ? AND sequence = ?",
                )
                .bind(&start.aggregate_type)
                .bind(&start.aggregate_id)
                .bind(start.sequence - 1)
                .fetch_optional(&mut *tx)
                .await
                .map_err(log_error)?;
                let previous = match hash {
                    None => Some(GENESIS),
                    Some(h) => h.as_deref().and_then(to_hash),
                };
                before.insert(start.position, previous);
            }
            let chained = chain_rows(&rows, |row| before.get(&row.position).copied().flatten());
            for (row, (digest, hash)) in rows.iter().zip(chained) {
                sqlx::query("UPDATE events SET digest = ?, hash = ? WHERE global_id = ?")
                    .bind(&digest[..])
                    .bind(hash.as_ref().map(|h| &h[..]))
                    .bind(row.position.gid)
                    .execute(&mut *tx)
                    .await
                    .map_err(log_error)?;
            }
            hashed += rows.len() as u64;
        }
        sqlx::query("UPDATE chain_backfill SET done = 1")
            .execute(&mut *tx)
            .await
            .map_err(log_error)?;
        tx.commit().await.map_err(log_error)?;
        Ok(hashed)
    }
}
