//! The log's tamper evidence as stored: rows with their digests and chain hashes, the relay's
//! seals, and the record of verification runs. Rows are read as stored (no upcasting, no
//! redaction): the hashes cover exactly that.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use annals_contracts::integrity::{EventContent, Hash, Seal, link};
use annals_contracts::{LogError, Position};

/// One row of the `events` table, with its stored digest and hash (`None` when absent).
#[derive(Debug, Clone)]
pub struct ChainRow {
    pub position: Position,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The JSON text as stored: hashed without being parsed into a tree (see
    /// `annals_contracts::integrity::Canonical`).
    pub payload: String,
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
    pub digest: Option<Vec<u8>>,
    pub hash: Option<Vec<u8>>,
}

impl ChainRow {
    pub fn content(&self) -> EventContent<'_, str> {
        EventContent {
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: self.payload.as_str(),
            metadata: self.metadata.as_str(),
            recorded_at: self.recorded_at,
        }
    }
}

/// A finished verification, as stored.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub finished_at: DateTime<Utc>,
    /// `cli` or `api`.
    pub source: String,
    pub intact: bool,
    pub report: Value,
}

#[async_trait]
pub trait IntegrityLog: Send + Sync {
    /// Up to `limit` rows after `after` in the global order, held back like
    /// `EventReader::read_after` (never past a transaction that could still be running).
    /// Fewer does not mean the end: only an empty answer does.
    async fn rows_after(&self, after: Position, limit: i64) -> Result<Vec<ChainRow>, LogError>;

    /// How many rows the log holds (for progress).
    async fn count(&self) -> Result<u64, LogError>;

    /// The chain hashes of up to `limit` events after `after` and at most `upto`, in the global
    /// order (`None`: an event without a valid hash).
    async fn hashes_between(
        &self,
        after: Position,
        upto: Position,
        limit: i64,
    ) -> Result<Vec<(Position, Option<Hash>)>, LogError>;

    /// Up to `limit` seals numbered above `after`, in order.
    async fn seals_after(&self, after: i64, limit: i64) -> Result<Vec<Seal>, LogError>;

    async fn last_seal(&self) -> Result<Option<Seal>, LogError>;

    /// Stores a seal; `false` when its number is taken (another relay sealed meanwhile).
    async fn add_seal(&self, seal: &Seal) -> Result<bool, LogError>;

    async fn record_run(&self, run: &RunRecord) -> Result<(), LogError>;

    async fn last_run(&self) -> Result<Option<RunRecord>, LogError>;

    /// Hashes, once, the rows written before the log had hashes (see the migrations'
    /// `chain_backfill`), in each stream's order; returns how many.
    async fn backfill(&self) -> Result<u64, LogError>;
}

/// Of rows of several streams, each stream's in sequence order, those whose previous event
/// is not the row before them: whoever chains them must look up that event's hash.
pub fn stream_starts(rows: &[ChainRow]) -> Vec<&ChainRow> {
    let mut starts = Vec::new();
    let mut before: Option<&ChainRow> = None;
    for row in rows {
        if !before.is_some_and(|b| follows(b, row)) {
            starts.push(row);
        }
        before = Some(row);
    }
    starts
}

fn follows(before: &ChainRow, row: &ChainRow) -> bool {
    before.aggregate_type == row.aggregate_type
        && before.aggregate_id == row.aggregate_id
        && before.sequence + 1 == row.sequence
}

/// Digest and chain hash of each row, given the hash before each of the [`stream_starts`]
/// (`None`: that event has no hash, so neither do its successors). Used by both backfills.
pub fn chain_rows(
    rows: &[ChainRow],
    previous: impl Fn(&ChainRow) -> Option<Hash>,
) -> Vec<(Hash, Option<Hash>)> {
    let mut out: Vec<(Hash, Option<Hash>)> = Vec::with_capacity(rows.len());
    let mut scratch = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let digest = row.content().digest_with(&mut scratch);
        let before = match i.checked_sub(1) {
            Some(b) if follows(&rows[b], row) => out[b].1,
            _ => previous(row),
        };
        out.push((digest, before.map(|p| link(&p, &digest))));
    }
    out
}
