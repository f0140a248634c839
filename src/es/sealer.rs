//! Seals over the global order, written by the leading relay for the events it has passed
//! (published, or behind its starting point): every `every` events or `interval`, whichever
//! comes first. A seal folds the chain hashes of the events after the previous seal into the
//! running hash (`annals_contracts::integrity`), read back from the log rather than taken
//! from the published envelopes: what is sealed is what is stored.
//!
//! Crash-safe by construction: a seal is derived from the log and the previous seal alone, so
//! a relay that dies before sealing leaves the stretch to its successor, which continues from
//! the last stored seal. Seal numbers are the table's key: a relay that lost its leadership
//! and seals late finds its number taken, and reloads.
use std::sync::Arc;
use std::time::{Duration, Instant};

use annals_contracts::integrity::{GENESIS, Hash, Seal, fold};
use annals_contracts::{LogError, Position};

use crate::adapters::integrity::IntegrityLog;

/// When to seal.
#[derive(Debug, Clone, Copy)]
pub struct SealPolicy {
    pub every: u64,
    pub interval: Duration,
}

/// Hashes read from the log at a time while folding.
const FOLD_BATCH: i64 = 10_000;

pub struct Sealer {
    integrity: Arc<dyn IntegrityLog>,
    policy: SealPolicy,
    last: Option<Seal>,
    /// Events passed since the last seal (counted by the relay, to decide when).
    unsealed: u64,
    since: Instant,
}

impl Sealer {
    /// Continues from the last stored seal.
    pub async fn resume(
        integrity: Arc<dyn IntegrityLog>,
        policy: SealPolicy,
    ) -> Result<Self, LogError> {
        let last = integrity.last_seal().await?;
        Ok(Self {
            integrity,
            policy,
            last,
            unsealed: 0,
            since: Instant::now(),
        })
    }

    pub fn passed(&mut self, events: usize) {
        self.unsealed += events as u64;
    }

    /// Whether a seal up to `cursor` is due.
    pub fn due(&self, cursor: Position) -> bool {
        cursor > self.sealed_upto()
            && (self.unsealed >= self.policy.every || self.since.elapsed() >= self.policy.interval)
    }

    fn sealed_upto(&self) -> Position {
        self.last.as_ref().map_or(Position::ZERO, |s| s.last)
    }

    /// Seals the events after the last seal up to `cursor` (at most about `every` of them, so
    /// that a long unsealed stretch, a log's first seal after an upgrade say, is sealed in
    /// steps between publishing); `None` if there were none, or if another relay sealed first.
    pub async fn seal(&mut self, cursor: Position) -> Result<Option<Seal>, LogError> {
        let mut running: Hash = match &self.last {
            Some(seal) => running_hash(seal)?,
            None => GENESIS,
        };
        let (mut after, mut first, mut count) = (self.sealed_upto(), None, 0i64);
        loop {
            let hashes = self
                .integrity
                .hashes_between(after, cursor, FOLD_BATCH)
                .await?;
            for (position, hash) in &hashes {
                running = fold(&running, &hash.unwrap_or(GENESIS));
                first.get_or_insert(*position);
                after = *position;
                count += 1;
            }
            if (hashes.len() as i64) < FOLD_BATCH || count as u64 >= self.policy.every {
                break;
            }
        }
        let rest = first.is_some() && after < cursor;
        // More to seal: due again at once.
        self.unsealed = if rest { self.policy.every } else { 0 };
        self.since = Instant::now();
        let Some(first) = first else {
            return Ok(None);
        };
        let seal = Seal {
            number: self.last.as_ref().map_or(0, |s| s.number) + 1,
            first,
            last: after,
            count,
            running_hash: hex::encode(running),
            sealed_at: annals_contracts::integrity::recorded_now(),
            logid: None,
        };
        if !self.integrity.add_seal(&seal).await? {
            tracing::warn!(
                number = seal.number,
                "seal number taken by another relay; continuing from its seal"
            );
            self.last = self.integrity.last_seal().await?;
            return Ok(None);
        }
        metrics::counter!("annals_seals_total").increment(1);
        self.last = Some(seal.clone());
        Ok(Some(seal))
    }
}

/// A stored seal's running hash.
pub fn running_hash(seal: &Seal) -> Result<Hash, LogError> {
    hex::decode(&seal.running_hash)
        .ok()
        .and_then(|bytes| annals_contracts::integrity::to_hash(&bytes))
        .ok_or_else(|| LogError(format!("seal {} has a malformed running hash", seal.number)))
}
