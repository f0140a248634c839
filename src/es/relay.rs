//! The relay: tails the event log in its global order and publishes every event to the bus.
//!
//! With JetStream, one relay leads at a time (a Postgres advisory lock) and its cursor advances
//! only after JetStream acknowledged, so a crash republishes at most one batch, which
//! `Nats-Msg-Id` deduplicates. With the in-process bus there is one process and nothing to
//! remember: it starts at the log's head, and workers read older events from the log.
//!
//! The leading relay also seals what it has passed (`es::sealer`), and publishes the seals.
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use annals_contracts::{EventReader, Leadership, Lease, Position, StoredCheckpoint, chain_owned};

use crate::adapters::Publisher;
use crate::adapters::integrity::IntegrityLog;
use crate::adapters::postgres::PgRelayState;
use crate::es::sealer::{SealPolicy, Sealer};

const BATCH: i64 = 500;
/// Poll interval when nothing woke the relay (writes from other processes).
const POLL: Duration = Duration::from_millis(10);
const RETRY: Duration = Duration::from_millis(250);
/// How often a relay that cannot resume (no database, or a stream it must not publish into)
/// tries again.
const RESUME_RETRY: Duration = Duration::from_secs(2);
const LEADERSHIP_CHECK: Duration = Duration::from_secs(1);
/// How often a busy relay stores its cursor. The cursor only shortens a new leader's start
/// (it also asks the stream for its last message), so it need not be stored per batch.
const CURSOR_SAVE: Duration = Duration::from_millis(100);

pub enum RelayMode {
    /// JetStream: leadership lock and a cursor in Postgres.
    Durable {
        state: PgRelayState,
        leadership: Arc<dyn Leadership>,
    },
    /// The in-process bus.
    Local,
}

pub struct Relay {
    pub log: Arc<dyn EventReader>,
    pub publisher: Arc<dyn Publisher>,
    pub mode: RelayMode,
    /// Poked by local writers so that their events go out without waiting for the poll.
    pub wake: Arc<Notify>,
    /// Where the seals go, and when.
    pub integrity: Arc<dyn IntegrityLog>,
    pub sealing: SealPolicy,
}

impl Relay {
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let leadership = match &self.mode {
                RelayMode::Durable { leadership, .. } => {
                    match lead(leadership.as_ref(), &cancel).await {
                        Some(l) => Some(l),
                        None => return,
                    }
                }
                RelayMode::Local => None,
            };
            metrics::gauge!("annals_relay_leader").set(1.0);
            self.publish_while_leader(leadership, &cancel).await;
            metrics::gauge!("annals_relay_leader").set(0.0);
            if cancel.is_cancelled() {
                return;
            }
        }
    }

    /// Where to resume: the stored cursor, or further if the stream already has later events
    /// of this log (a previous leader crashed between the ack and saving its cursor).
    ///
    /// A stream belongs to one log. The relay refuses to publish into a stream whose newest
    /// message comes from another log, and into one that is ahead of this log (a database
    /// restored from a backup): skipping to the stream's position would silently drop this
    /// log's events. Both are reported with both identities until an operator acts.
    async fn resume_point(&self, log_id: &str) -> Result<Position, String> {
        let stored = match &self.mode {
            RelayMode::Durable { state, .. } => state.load().await.map_err(|e| e.to_string())?,
            RelayMode::Local => {
                return Ok(self
                    .log
                    .head()
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or(Position::ZERO));
            }
        };
        let Some(last) = self
            .publisher
            .last_published()
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(stored);
        };
        let destination = self.publisher.destination();
        match last.logid.as_deref() {
            Some(theirs) if theirs != log_id => {
                return Err(format!(
                    "{destination} holds the events of log {theirs}, not of this log {log_id}: \
                     refusing to publish into it (give this log its own stream, \
                     ANNALS_NATS_STREAM)"
                ));
            }
            Some(_) => {}
            None => {
                tracing::warn!(%destination, "the stream's newest message names no log (published before logs had identities)")
            }
        }
        // The stream continues this log only if its newest message is this log's event at
        // that position; otherwise the log lost events the stream has (a restore from a
        // backup), and resuming after the stream's position would skip this log's own.
        let same = self
            .log
            .event_at(last.position)
            .await
            .map_err(|e| e.to_string())?
            .is_some_and(|event| {
                format!(
                    "{}/{}/{}",
                    event.aggregate_type, event.aggregate_id, event.sequence
                ) == last.id
            });
        if !same {
            return Err(format!(
                "{destination} is not a continuation of log {log_id}: its newest message {} at \
                 position {} is not in the log (restored from a backup?); refusing to publish \
                 (publish into a new stream, ANNALS_NATS_STREAM, and let consumers start over)",
                last.id, last.position,
            ));
        }
        Ok(last.position.max(stored))
    }

    async fn publish_while_leader(
        &self,
        mut leadership: Option<Box<dyn Lease>>,
        cancel: &CancellationToken,
    ) {
        let (log_id, mut cursor, mut sealer) = loop {
            let resumed = match self.log.log_id().await {
                Ok(log_id) => match self.resume_point(&log_id).await {
                    Ok(p) => Sealer::resume(self.integrity.clone(), self.sealing)
                        .await
                        .map(|sealer| (log_id, p, sealer))
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e.to_string()),
            };
            match resumed {
                Ok(resumed) => break resumed,
                Err(e) => {
                    metrics::gauge!("annals_relay_refusing").set(1.0);
                    tracing::error!(error = %e, "relay cannot resume");
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(RESUME_RETRY) => {}
                    }
                }
            }
        };
        metrics::gauge!("annals_relay_refusing").set(0.0);
        tracing::info!(%cursor, %log_id, "relay leading");
        let mut checked = Instant::now();
        let mut saved = StoredCheckpoint::with_quiet(cursor, CURSOR_SAVE);
        let mut failing_since: Option<Instant> = None;
        loop {
            if cancel.is_cancelled() {
                return;
            }
            if let Some(leadership) = leadership
                .as_mut()
                .filter(|_| checked.elapsed() > LEADERSHIP_CHECK)
            {
                if !leadership.still_held().await {
                    tracing::warn!("relay lost its leadership connection");
                    return;
                }
                checked = Instant::now();
            }
            let events = match self.log.read_after(cursor, BATCH).await {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(error = %e, "relay cannot read the log");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            let Some(last) = events.last() else {
                metrics::gauge!("annals_relay_lag_seconds").set(0.0);
                self.save_if_due(&mut saved, cursor).await;
                self.seal_if_due(&mut sealer, cursor, &log_id).await;
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
                continue;
            };
            let lag = (chrono::Utc::now() - events[0].recorded_at)
                .num_microseconds()
                .unwrap_or(0);
            metrics::gauge!("annals_relay_lag_seconds").set(lag.max(0) as f64 / 1e6);
            let (count, last) = (events.len(), last.position);
            let mut envelopes = chain_owned(events, cursor);
            for envelope in &mut envelopes {
                envelope.logid = Some(log_id.clone());
            }
            if let Err(e) = self.publisher.publish(&envelopes).await {
                // Once per outage, not once per retry: the bus may be down for minutes.
                if failing_since.is_none() {
                    tracing::warn!(error = %e, "publish failed; retrying the batch until the bus is back");
                    failing_since = Some(Instant::now());
                }
                metrics::counter!("annals_relay_publish_failures_total").increment(1);
                tokio::time::sleep(RETRY).await;
                continue;
            }
            if let Some(since) = failing_since.take() {
                tracing::info!(after = ?since.elapsed(), "bus back; publishing again");
            }
            cursor = last;
            self.save_if_due(&mut saved, cursor).await;
            sealer.passed(count);
            self.seal_if_due(&mut sealer, cursor, &log_id).await;
            metrics::counter!("annals_relay_published_total").increment(count as u64);
        }
    }

    /// Seals up to `cursor` if due, and publishes the seal. A failure is retried at the next
    /// turn (the seal is derived from the log, so nothing is lost meanwhile).
    async fn seal_if_due(&self, sealer: &mut Sealer, cursor: Position, log_id: &str) {
        if !sealer.due(cursor) {
            return;
        }
        match sealer.seal(cursor).await {
            Ok(Some(mut seal)) => {
                seal.logid = Some(log_id.to_string());
                if let Err(e) = self.publisher.publish_seal(&seal).await {
                    tracing::warn!(error = %e, number = seal.number, "seal stored but not published");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot seal the log; retrying"),
        }
    }

    /// Stores the cursor if it moved and the last save is `CURSOR_SAVE` old.
    async fn save_if_due(&self, saved: &mut StoredCheckpoint, cursor: Position) {
        if saved.position() == cursor || !saved.due() {
            return;
        }
        if let RelayMode::Durable { state, .. } = &self.mode {
            // If saving fails the next leader resumes from the stream's last message anyway.
            if let Err(e) = state.save(cursor).await {
                tracing::warn!(error = %e, "relay cursor not saved");
            }
        }
        saved.set(cursor);
    }
}

/// The role whose lease lets a relay publish: one relay at a time.
pub const RELAY_ROLE: &str = "relay";

/// Waits until this relay holds the relay role (or is cancelled).
async fn lead(leadership: &dyn Leadership, cancel: &CancellationToken) -> Option<Box<dyn Lease>> {
    loop {
        match leadership.try_lead(RELAY_ROLE).await {
            Ok(Some(l)) => return Some(l),
            Ok(None) => tracing::debug!("another relay leads; standing by"),
            Err(e) => tracing::warn!(error = %e, "cannot reach Postgres for relay leadership"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}
