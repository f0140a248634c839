//! Verification of the log's tamper evidence, shared by `annals verify` and
//! `GET /api/history/verify`: one pass over the log in its global order checks every event's
//! content digest and its link to the previous event of its stream, and folds the chain
//! hashes into the running hash that every seal must match (the rules are in
//! `annals_contracts::integrity`). Runs are recorded, so an auditor sees when the log was last
//! checked and with what result.
pub mod read_models;

use std::collections::HashMap;
use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use annals_contracts::integrity::{GENESIS, Hash, Seal, fold, link, to_hash};
use annals_contracts::{LogError, Position};

use crate::adapters::integrity::{ChainRow, IntegrityLog, RunRecord};
use crate::es::sealer::running_hash;

/// Rows read at a time (the next batch is read while this one is hashed).
const BATCH: i64 = 10_000;
/// Batches between the pipeline's stages.
const DEPTH: usize = 2;
/// Seals read at a time.
const SEAL_BATCH: i64 = 1000;
/// Problems kept in a report beyond the count.
const KEPT: usize = 20;

/// A broken link: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Broken {
    /// An event whose content, hash or place in its stream does not check out.
    Event {
        /// `<aggregate type>/<aggregate id>`
        stream: String,
        sequence: i64,
        #[schema(value_type = String, example = "882.2")]
        position: Position,
        reason: String,
    },
    /// A seal that the log no longer matches.
    Seal {
        seal: i64,
        /// The seal's last position.
        #[schema(value_type = String, example = "882.2")]
        position: Position,
        reason: String,
    },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Event {
                stream,
                sequence,
                position,
                reason,
            } => write!(
                f,
                "stream {stream}, sequence {sequence} (position {position}): {reason}"
            ),
            Broken::Seal {
                seal,
                position,
                reason,
            } => write!(f, "seal {seal} (up to position {position}): {reason}"),
        }
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    /// True when every stream chain and every seal checked out.
    pub intact: bool,
    pub events: u64,
    pub streams: u64,
    pub seals: u64,
    /// Events after the newest seal: their order between streams, and the end of each
    /// stream, are not sealed yet (the relay seals every few seconds).
    pub unsealed_events: u64,
    /// The newest position checked.
    #[schema(value_type = String, example = "882.2")]
    pub upto: Position,
    /// How many broken links were found.
    pub problems: u64,
    /// The first broken link in the global order, if any.
    pub first_broken: Option<Broken>,
    /// The first few broken links (at most 20), in the global order.
    pub broken: Vec<Broken>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// A recorded run: when, from where, and its report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Run {
    pub finished_at: DateTime<Utc>,
    /// `cli` or `api`.
    pub source: String,
    pub intact: bool,
    pub report: Report,
}

#[derive(Clone)]
pub struct Verifier {
    integrity: Arc<dyn IntegrityLog>,
    /// One run at a time per process: a run reads the whole log.
    running: Arc<tokio::sync::Mutex<()>>,
}

impl Verifier {
    pub fn new(integrity: Arc<dyn IntegrityLog>) -> Self {
        Self {
            integrity,
            running: Arc::default(),
        }
    }

    /// How many events the log holds (for a progress bar).
    pub async fn count(&self) -> Result<u64, LogError> {
        self.integrity.count().await
    }

    /// The last recorded run, if any.
    pub async fn last_run(&self) -> Result<Option<Run>, LogError> {
        let Some(record) = self.integrity.last_run().await? else {
            return Ok(None);
        };
        let report = serde_json::from_value(record.report)
            .map_err(|e| LogError(format!("a stored verification run is unreadable: {e}")))?;
        Ok(Some(Run {
            finished_at: record.finished_at,
            source: record.source,
            intact: record.intact,
            report,
        }))
    }

    /// Verifies the whole log and records the run (`source`: `cli` or `api`). `progress` is
    /// told how many events have been checked so far.
    pub async fn run(
        &self,
        source: &str,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Report, LogError> {
        let _one = self.running.lock().await;
        let report = self.verify(progress).await?;
        self.integrity
            .record_run(&RunRecord {
                finished_at: report.finished_at,
                source: source.to_string(),
                intact: report.intact,
                report: serde_json::to_value(&report).map_err(|e| LogError(e.to_string()))?,
            })
            .await?;
        Ok(report)
    }

    /// The log in batches with their rows' content digests, in a pipeline: the next batch is
    /// read while this one is hashed on every core, and both while the one before is checked.
    fn digested_batches(&self) -> Batches {
        let (read_tx, mut read_rx) =
            tokio::sync::mpsc::channel::<Result<Vec<ChainRow>, LogError>>(DEPTH);
        let (hashed_tx, hashed_rx) = tokio::sync::mpsc::channel(DEPTH);
        let integrity = self.integrity.clone();
        tokio::spawn(async move {
            let mut after = Position::ZERO;
            loop {
                let rows = integrity.rows_after(after, BATCH).await;
                let more = match &rows {
                    Ok(rows) => {
                        after = rows.last().map_or(after, |r| r.position);
                        !rows.is_empty()
                    }
                    Err(_) => false,
                };
                if read_tx.send(rows).await.is_err() || !more {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(rows) = read_rx.recv().await {
                let hashed = match rows {
                    Ok(rows) => tokio::task::spawn_blocking(move || {
                        let digests = digests(&rows);
                        (rows, digests)
                    })
                    .await
                    .map_err(|e| LogError(format!("hashing failed: {e}"))),
                    Err(e) => Err(e),
                };
                if hashed_tx.send(hashed).await.is_err() {
                    break;
                }
            }
        });
        hashed_rx
    }

    async fn verify(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Report, LogError> {
        let started_at = Utc::now();
        // Seals written after this are left to the next run: the scan may not reach them.
        let newest_seal = self.integrity.last_seal().await?.map_or(0, |s| s.number);
        let mut check = Check::default();
        let mut seals = SealQueue {
            integrity: self.integrity.clone(),
            pending: VecDeque::new(),
            fetched: 0,
            newest: newest_seal,
        };
        let mut batches = self.digested_batches();
        while let Some(batch) = batches.recv().await {
            let (rows, digests) = batch?;
            for (row, digest) in rows.into_iter().zip(digests) {
                seals.passed(&mut check, row.position).await?;
                check.event(row, digest);
                seals.ended(&mut check).await?;
            }
            progress(check.events);
        }
        // Seals past the last event: the events they end with are gone.
        while let Some(seal) = seals.front().await? {
            check.problem(Broken::Seal {
                seal: seal.number,
                position: seal.last,
                reason: "its last event is not in the log (events removed)".into(),
            });
            seals.pop(&mut check, &seal)?;
        }
        Ok(Report {
            intact: check.problems == 0,
            events: check.events,
            streams: check.streams.len() as u64,
            seals: check.seals,
            unsealed_events: check.in_seal,
            upto: check.upto,
            problems: check.problems,
            first_broken: check.broken.first().cloned(),
            broken: check.broken,
            started_at,
            finished_at: Utc::now(),
        })
    }
}

/// Batches of rows with their content digests, in the global order.
type Batches = tokio::sync::mpsc::Receiver<Result<(Vec<ChainRow>, Vec<Hash>), LogError>>;

/// The content digests of `rows`, on every core: rows are independent (only the chain and
/// seal folds that follow are sequential).
fn digests(rows: &[ChainRow]) -> Vec<Hash> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut scratch = Vec::new();
                    part.iter()
                        .map(|row| row.content().digest_with(&mut scratch))
                        .collect::<Vec<Hash>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("hashing a row does not panic"))
            .collect()
    })
}

/// The state of one pass.
#[derive(Default)]
struct Check {
    /// Per stream: its last sequence and chain hash seen.
    streams: HashMap<(String, String), (i64, Hash)>,
    events: u64,
    upto: Position,
    running: Hash,
    /// Events since the last seal, and the first of them.
    in_seal: u64,
    first_in_seal: Option<Position>,
    /// Seals checked, and the number of the last one.
    seals: u64,
    last_seal: i64,
    problems: u64,
    broken: Vec<Broken>,
}

impl Check {
    fn problem(&mut self, broken: Broken) {
        self.problems += 1;
        if self.broken.len() < KEPT {
            self.broken.push(broken);
        }
    }

    /// Checks one event against its stream, and folds it into the running hash.
    /// `digest`: of the row's content as read.
    fn event(&mut self, row: ChainRow, digest: Hash) {
        self.events += 1;
        self.upto = row.position;
        let stored_hash = row.hash.as_deref().and_then(to_hash);
        let stored_digest = row.digest.as_deref().and_then(to_hash);
        let mut reasons = Vec::new();
        match stored_digest {
            None => reasons.push("it has no digest (written outside annals)".to_string()),
            Some(stored) if stored != digest => {
                reasons.push("its content is not what was written (the digest differs)".into())
            }
            Some(_) => {}
        }
        let key = (row.aggregate_type, row.aggregate_id);
        let previous = self.streams.get(&key).copied();
        let before = previous.map_or(GENESIS, |(_, hash)| hash);
        // The link is checked on the stored digest: an edited content is reported above, a
        // broken chain here.
        let expected = link(&before, &stored_digest.unwrap_or(digest));
        match (stored_hash, previous) {
            (None, _) if stored_digest.is_some() => reasons.push(
                "it has no chain hash (it follows an event written outside annals)".into(),
            ),
            (None, _) => {}
            (Some(_), Some((sequence, _))) if sequence + 1 != row.sequence => reasons.push(
                format!(
                    "it follows sequence {sequence} in its stream (events removed, inserted or reordered)"
                ),
            ),
            (Some(hash), _) if hash != expected => reasons.push(
                "its chain hash does not link it to the event before it in its stream".into(),
            ),
            _ => {}
        }
        if !reasons.is_empty() {
            self.problem(Broken::Event {
                stream: format!("{}/{}", key.0, key.1),
                sequence: row.sequence,
                position: row.position,
                reason: reasons.join("; "),
            });
        }
        let chained = stored_hash.unwrap_or(expected);
        match self.streams.entry(key) {
            Entry::Occupied(mut e) => *e.get_mut() = (row.sequence, chained),
            Entry::Vacant(e) => {
                e.insert((row.sequence, chained));
            }
        }
        self.running = fold(&self.running, &stored_hash.unwrap_or(GENESIS));
        self.in_seal += 1;
        self.first_in_seal.get_or_insert(row.position);
    }
}

/// The seals to check, read in order as the scan reaches them.
struct SealQueue {
    integrity: Arc<dyn IntegrityLog>,
    pending: VecDeque<Seal>,
    fetched: i64,
    newest: i64,
}

impl SealQueue {
    async fn front(&mut self) -> Result<Option<Seal>, LogError> {
        if self.pending.is_empty() && self.fetched < self.newest {
            let page = self.integrity.seals_after(self.fetched, SEAL_BATCH).await?;
            self.fetched = page.last().map_or(self.newest, |s| s.number);
            self.pending
                .extend(page.into_iter().filter(|s| s.number <= self.newest));
        }
        Ok(self.pending.front().cloned())
    }

    /// Before an event at `position`: every seal ending before it was not met exactly.
    async fn passed(&mut self, check: &mut Check, position: Position) -> Result<(), LogError> {
        while let Some(seal) = self.front().await? {
            if seal.last >= position {
                break;
            }
            check.problem(Broken::Seal {
                seal: seal.number,
                position: seal.last,
                reason: "its last event is not in the log (removed or moved)".into(),
            });
            self.pop(check, &seal)?;
        }
        Ok(())
    }

    /// After an event: the seal ending there must match what the scan folded.
    async fn ended(&mut self, check: &mut Check) -> Result<(), LogError> {
        let Some(seal) = self.front().await? else {
            return Ok(());
        };
        if seal.last != check.upto {
            return Ok(());
        }
        let expected_number = check.last_seal + 1;
        let mut reasons = Vec::new();
        if seal.number != expected_number {
            reasons.push(format!(
                "seals {expected_number} to {} are missing",
                seal.number - 1
            ));
        }
        if Some(seal.first) != check.first_in_seal {
            reasons.push(format!(
                "it starts at {} but the first event after the seal before it is at {}",
                seal.first,
                check.first_in_seal.unwrap_or(Position::ZERO)
            ));
        }
        if seal.count as u64 != check.in_seal {
            reasons.push(format!(
                "it counted {} events, the log now holds {} there (events removed or inserted)",
                seal.count, check.in_seal
            ));
        }
        if running_hash(&seal)? != check.running {
            reasons.push(
                "the running hash differs (events changed, removed, inserted or reordered)".into(),
            );
        }
        if !reasons.is_empty() {
            check.problem(Broken::Seal {
                seal: seal.number,
                position: seal.last,
                reason: reasons.join("; "),
            });
        }
        self.pop(check, &seal)
    }

    /// Done with `seal`: the next one continues from its stored running hash, so one broken
    /// stretch does not make every later seal look broken.
    fn pop(&mut self, check: &mut Check, seal: &Seal) -> Result<(), LogError> {
        self.pending.pop_front();
        check.seals += 1;
        check.last_seal = seal.number;
        check.running = running_hash(seal)?;
        check.in_seal = 0;
        check.first_in_seal = None;
        Ok(())
    }
}
