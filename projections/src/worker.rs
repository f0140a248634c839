//! The projection worker: consumes the bus, applies each batch of events together with the
//! checkpoint in one store transaction, acks after commit, and repairs gaps from the log.
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::Projection;
use annals_contracts::{
    BusError, CommitError, Envelope, EventBus, EventReader, IDLE, Lease, LogError, Position,
    ProgressBoard, StoreError, StoredCheckpoint, Subscription, ViewOp, ViewStore, chain_owned,
};

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Largest batch read from the bus or the log at once.
pub const BATCH: usize = 500;

pub struct Worker {
    projection: Arc<dyn Projection>,
    store: Arc<dyn ViewStore>,
    log: Arc<dyn EventReader>,
    progress: Arc<ProgressBoard>,
    /// Everything up to here is applied (what readers in this process are told).
    checkpoint: Position,
    /// What the store holds; behind `checkpoint` only by events without changes.
    stored: StoredCheckpoint,
}

/// Name of the durable bus consumer shared by all workers of a projection.
pub fn consumer_name(projection: &str) -> String {
    format!("projection-{projection}")
}

/// The bus consumer of the group of all projections a process runs.
pub const GROUP_CONSUMER: &str = "projections";

/// Workers that share one bus consumer: each delivered batch is read (and decoded) once and
/// handed to every worker; each keeps its own checkpoint, skipping what it already applied.
/// One delivery per event instead of one per projection is most of the bus's work saved.
/// How often a group without a bus reads the log.
pub const LOG_POLL: Duration = Duration::from_millis(25);
/// How often a group without a bus tries to subscribe again.
pub const BUS_RETRY: Duration = Duration::from_secs(1);
/// How often a leading group checks its lease.
pub const LEASE_CHECK: Duration = Duration::from_secs(1);

pub struct WorkerGroup {
    consumer: String,
    workers: Vec<Worker>,
    forward: Option<Forward>,
}

/// A subscription being attempted.
type Subscribing = Pin<Box<dyn Future<Output = Result<Box<dyn Subscription>, BusError>> + Send>>;

/// Told of every delivered batch once all workers applied it.
pub type Forward = Box<dyn Fn(&[Envelope]) + Send + Sync>;

impl WorkerGroup {
    pub fn new(consumer: impl Into<String>, workers: Vec<Worker>) -> Self {
        Self {
            consumer: consumer.into(),
            workers,
            forward: None,
        }
    }

    /// Hands each applied batch on (to followers in this process that would otherwise need a
    /// bus consumer of their own).
    pub fn forwarding(mut self, forward: Forward) -> Self {
        self.forward = Some(forward);
        self
    }

    /// Runs until cancelled, or until `lease` (when given) is lost. Returns an error only if
    /// the log or the view store is unavailable; the caller restarts the group (each worker
    /// resumes from its stored checkpoint). Messages are acknowledged once every worker
    /// committed them.
    ///
    /// The bus is a wake-up and a fan-out, not the only path: while it is unreachable (an
    /// outage of any length), the group reads the log every [`LOG_POLL`] and tries the bus
    /// again every [`BUS_RETRY`], so read models keep up and no restart storm follows.
    pub async fn run(
        mut self,
        bus: Arc<dyn EventBus>,
        cancel: CancellationToken,
        mut lease: Option<Box<dyn Lease>>,
    ) -> Result<Stopped, WorkerError> {
        for worker in &mut self.workers {
            worker.load_checkpoint().await?;
        }
        // Events committed while no worker ran may predate what the bus still holds.
        self.follow_log().await?;
        for worker in &self.workers {
            tracing::info!(projection = worker.projection.name(), checkpoint = %worker.checkpoint, "projection worker started");
        }
        // Messages of another log (a stream shared by mistake) are not ours to apply.
        let own_log = match self.workers.first() {
            Some(worker) => Some(worker.log.log_id().await?),
            None => None,
        };
        let mut foreign_seen = false;
        let mut subscription: Option<Box<dyn Subscription>> = None;
        let mut subscribing: Option<Subscribing> = None;
        let mut bus = BusHealth {
            bus,
            down_since: None,
            next_try: Instant::now(),
        };
        let mut lease_checked = Instant::now();
        loop {
            if cancel.is_cancelled() {
                return Ok(Stopped::Cancelled);
            }
            if let Some(held) = lease.as_mut()
                && lease_checked.elapsed() >= LEASE_CHECK
            {
                lease_checked = Instant::now();
                if !held.still_held().await {
                    tracing::warn!(consumer = %self.consumer, "projection leadership lost; standing by");
                    return Ok(Stopped::LeaseLost);
                }
            }
            if subscription.is_none() && subscribing.is_none() && Instant::now() >= bus.next_try {
                let (bus, consumer) = (bus.bus.clone(), self.consumer.clone());
                subscribing = Some(Box::pin(async move { bus.subscribe(&consumer).await }));
            }
            let Some(sub) = subscription.as_mut() else {
                // No bus: the log is the path. A subscription is attempted beside it, since a
                // client waiting for an unreachable server may take seconds to give up.
                let mut attempted = None;
                tokio::select! {
                    _ = cancel.cancelled() => return Ok(Stopped::Cancelled),
                    result = async { subscribing.as_mut().expect("checked").await }, if subscribing.is_some() => {
                        attempted = Some(result);
                    }
                    _ = tokio::time::sleep(LOG_POLL) => {}
                }
                match attempted {
                    Some(Ok(s)) => {
                        subscribing = None;
                        bus.back(&self.consumer);
                        subscription = Some(s);
                    }
                    Some(Err(e)) => {
                        subscribing = None;
                        bus.lost(&self.consumer, &e);
                    }
                    None => {}
                }
                // Events committed before the subscription started may predate its delivery.
                self.follow_log().await?;
                continue;
            };
            let idle = self
                .workers
                .iter()
                .map(|w| w.stored.idle(w.checkpoint))
                .min()
                .unwrap_or(IDLE);
            let batch = tokio::select! {
                _ = cancel.cancelled() => return Ok(Stopped::Cancelled),
                batch = sub.next_batch(BATCH, idle) => batch,
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    subscription = None;
                    bus.lost(&self.consumer, &e);
                    continue;
                }
            };
            if batch.is_empty() {
                if idle == IDLE {
                    // Quiet bus: whatever the log holds beyond the workers (a large commit
                    // still being published, say) is read once for all of them, not once per
                    // projection.
                    self.follow_log().await?;
                } else {
                    for worker in &mut self.workers {
                        worker.flush().await?;
                    }
                }
                continue;
            }
            let mut envelopes = Vec::with_capacity(batch.len());
            let mut acks = Vec::with_capacity(batch.len());
            for delivery in batch {
                match delivery.envelope {
                    Ok(envelope)
                        if envelope
                            .logid
                            .as_ref()
                            .is_some_and(|id| Some(id) != own_log.as_ref()) =>
                    {
                        metrics::counter!("annals_foreign_messages_total").increment(1);
                        if !foreign_seen {
                            foreign_seen = true;
                            tracing::error!(consumer = %self.consumer, theirs = ?envelope.logid, ours = ?own_log, "ignoring messages of another log on this stream");
                        }
                    }
                    Ok(envelope) => envelopes.push(envelope),
                    // The chain check notices the hole and repairs from the log.
                    Err(reason) => {
                        tracing::warn!(consumer = %self.consumer, %reason, "unreadable message")
                    }
                }
                acks.push(delivery.ack);
            }
            if envelopes.is_empty() {
                // Nothing of this log arrived (another log's messages): ours, if any, are in
                // the log, since our relay does not publish into a foreign stream.
                self.follow_log().await?;
            } else {
                self.apply(&envelopes).await?;
            }
            for ack in acks {
                ack().await;
            }
        }
    }

    /// Hands a batch to every worker, then to the followers.
    async fn apply(&mut self, envelopes: &[Envelope]) -> Result<(), WorkerError> {
        for worker in &mut self.workers {
            worker.apply_delivered(envelopes).await?;
        }
        if let Some(forward) = &self.forward {
            forward(envelopes);
        }
        Ok(())
    }

    /// Applies what the log holds beyond the slowest worker, one read per batch for all.
    async fn follow_log(&mut self) -> Result<(), WorkerError> {
        loop {
            let Some(from) = self.workers.iter().map(|w| w.checkpoint).min() else {
                return Ok(());
            };
            let Some(log) = self.workers.first().map(|w| w.log.clone()) else {
                return Ok(());
            };
            let events = log.read_after(from, BATCH as i64).await?;
            if events.is_empty() {
                for worker in &mut self.workers {
                    worker.flush().await?;
                }
                return Ok(());
            }
            let envelopes = chain_owned(events, from);
            self.apply(&envelopes).await?;
        }
    }
}

/// The bus as a group sees it: since when it is unreachable, and when to try it again.
struct BusHealth {
    bus: Arc<dyn EventBus>,
    down_since: Option<Instant>,
    next_try: Instant,
}

impl BusHealth {
    /// The bus failed (a subscription or a delivery): logged once per outage.
    fn lost(&mut self, consumer: &str, error: &BusError) {
        if self.down_since.is_none() {
            tracing::warn!(consumer, %error, "bus unavailable; following the log");
            self.down_since = Some(Instant::now());
        }
        self.next_try = Instant::now() + BUS_RETRY;
    }

    fn back(&mut self, consumer: &str) {
        if let Some(since) = self.down_since.take() {
            tracing::info!(consumer, after = ?since.elapsed(), "bus back; following it again");
        }
    }
}

/// Why a group stopped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    Cancelled,
    /// Another process leads the projections now.
    LeaseLost,
}

impl Worker {
    pub fn new(
        projection: Arc<dyn Projection>,
        store: Arc<dyn ViewStore>,
        log: Arc<dyn EventReader>,
        progress: Arc<ProgressBoard>,
    ) -> Self {
        Self {
            projection,
            store,
            log,
            progress,
            checkpoint: Position::ZERO,
            stored: StoredCheckpoint::new(Position::ZERO),
        }
    }

    /// How long the stored checkpoint may trail behind change-less events (default
    /// [`annals_contracts::QUIET_FLUSH`]).
    pub fn with_quiet_flush(mut self, quiet_flush: Duration) -> Self {
        self.stored = StoredCheckpoint::with_quiet(self.stored.position(), quiet_flush);
        self
    }

    /// The checkpoint the store holds for this worker's projection, as far as it knows.
    pub fn stored_checkpoint(&self) -> Position {
        self.stored.position()
    }

    pub fn checkpoint(&self) -> Position {
        self.checkpoint
    }

    /// Runs alone on its own bus consumer until cancelled (see [`WorkerGroup::run`]).
    pub async fn run(
        self,
        bus: Arc<dyn EventBus>,
        cancel: CancellationToken,
    ) -> Result<(), WorkerError> {
        let consumer = consumer_name(self.projection.name());
        WorkerGroup::new(consumer, vec![self])
            .run(bus, cancel, None)
            .await
            .map(|_| ())
    }

    fn dirty(&self) -> bool {
        self.stored.position() != self.checkpoint
    }

    pub async fn load_checkpoint(&mut self) -> Result<Position, StoreError> {
        self.checkpoint = self.store.checkpoint(self.projection.name()).await?;
        self.stored.set(self.checkpoint);
        self.progress
            .publish(self.projection.name(), self.checkpoint);
        Ok(self.checkpoint)
    }

    /// Applies delivered events. Already-applied ones are skipped; if the rest does not continue
    /// the chain from the checkpoint (a message went missing), the log supplies the events.
    pub async fn apply_delivered(&mut self, envelopes: &[Envelope]) -> Result<(), WorkerError> {
        loop {
            let fresh = self.unapplied(envelopes);
            let Some(last) = fresh.last().map(|e| e.position) else {
                return Ok(());
            };
            if is_chained(&fresh, self.checkpoint) {
                if self.commit(&fresh).await? {
                    return Ok(());
                }
                // Someone else moved the checkpoint: filter again against theirs.
            } else {
                let name = self.projection.name();
                metrics::counter!("annals_projection_gaps_repaired_total", "projection" => name)
                    .increment(1);
                tracing::warn!(projection = name, checkpoint = %self.checkpoint, until = %last, "gap in the bus, repairing from the log");
                return self.repair_until(last).await;
            }
        }
    }

    /// The envelopes beyond the checkpoint: usually the batch's tail, borrowed (each worker of
    /// a group reads the same batch).
    fn unapplied<'a>(&self, envelopes: &'a [Envelope]) -> Cow<'a, [Envelope]> {
        let newer = |e: &Envelope| e.position > self.checkpoint;
        match envelopes.iter().position(newer) {
            None => Cow::Borrowed(&[]),
            Some(first) if envelopes[first..].iter().all(newer) => {
                Cow::Borrowed(&envelopes[first..])
            }
            Some(_) => Cow::Owned(envelopes.iter().filter(|e| newer(e)).cloned().collect()),
        }
    }

    /// Reads the log from the checkpoint up to and including `until`.
    async fn repair_until(&mut self, until: Position) -> Result<(), WorkerError> {
        while self.checkpoint < until {
            let events: Vec<_> = self
                .log
                .read_after(self.checkpoint, BATCH as i64)
                .await?
                .into_iter()
                .take_while(|e| e.position <= until)
                .collect();
            if events.is_empty() {
                break;
            }
            let envelopes = chain_owned(events, self.checkpoint);
            self.commit(&envelopes).await?;
        }
        Ok(())
    }

    /// Applies everything the log holds beyond the checkpoint. Returns how many events.
    pub async fn catch_up_from_log(&mut self) -> Result<u64, WorkerError> {
        let mut applied = 0;
        loop {
            let events = self.log.read_after(self.checkpoint, BATCH as i64).await?;
            if events.is_empty() {
                return Ok(applied);
            }
            applied += events.len() as u64;
            let envelopes = chain_owned(events, self.checkpoint);
            self.commit(&envelopes).await?;
        }
    }

    /// Stores a checkpoint that only events without changes moved.
    pub async fn flush(&mut self) -> Result<(), WorkerError> {
        if self.dirty() {
            self.store_checkpoint(&[]).await?;
        }
        Ok(())
    }

    /// One transaction: the batch's view changes and the new checkpoint. If someone else moved
    /// the checkpoint meanwhile, adopt theirs and return `false`; callers re-read from there.
    async fn commit(&mut self, envelopes: &[Envelope]) -> Result<bool, WorkerError> {
        let Some(last) = envelopes.last() else {
            return Ok(true);
        };
        let name = self.projection.name();
        let mut ops: Vec<ViewOp> = Vec::new();
        for envelope in envelopes {
            match self.projection.project(envelope) {
                Ok(mut more) => ops.append(&mut more),
                // Deterministic: a rebuild skips the same event, so live and rebuilt views agree.
                Err(e) => {
                    metrics::counter!("annals_projection_errors_total", "projection" => name)
                        .increment(1);
                    tracing::error!(projection = name, error = %e, "event skipped");
                }
            }
        }
        let ops = crate::coalesce(&ops);
        self.checkpoint = last.position;
        if ops.is_empty() && !self.stored.due() {
            // Nothing to write: readers here learn it at once, the store a little later.
            self.applied(envelopes);
            return Ok(true);
        }
        let stored = self.store_checkpoint(&ops).await?;
        if stored {
            self.applied(envelopes);
        }
        Ok(stored)
    }

    /// One transaction from the stored checkpoint to `self.checkpoint`, with `ops`. If another
    /// worker moved the stored checkpoint meanwhile, adopts (and announces) theirs and returns
    /// `false`; a stored batch is announced by the caller.
    async fn store_checkpoint(&mut self, ops: &[ViewOp]) -> Result<bool, WorkerError> {
        let name = self.projection.name();
        let stored = match self
            .store
            .commit(name, self.stored.position(), self.checkpoint, ops)
            .await
        {
            Ok(()) => {
                self.stored.set(self.checkpoint);
                true
            }
            Err(CommitError::CheckpointMoved(actual)) => {
                tracing::debug!(projection = name, %actual, "checkpoint moved by another worker");
                self.checkpoint = actual;
                self.stored.set(actual);
                self.progress.publish(name, actual);
                false
            }
            Err(CommitError::Store(e)) => return Err(e.into()),
        };
        Ok(stored)
    }

    fn applied(&self, envelopes: &[Envelope]) {
        let name = self.projection.name();
        let now = chrono::Utc::now();
        // One handle for the batch: looking it up builds its labels.
        let lags = metrics::histogram!("annals_projection_lag_seconds", "projection" => name);
        for envelope in envelopes {
            let lag = (now - envelope.time).num_microseconds().unwrap_or(0) as f64 / 1e6;
            lags.record(lag.max(0.0));
        }
        metrics::counter!("annals_projection_events_total", "projection" => name)
            .increment(envelopes.len() as u64);
        self.progress.publish(name, self.checkpoint);
    }
}

fn is_chained(envelopes: &[Envelope], from: Position) -> bool {
    let mut prev = from;
    for e in envelopes {
        if e.prevposition != prev {
            return false;
        }
        prev = e.position;
    }
    true
}

/// Rebuilds a projection from the event log alone: clears its documents and checkpoint, then
/// replays every event in global order. Returns how many events were replayed.
pub async fn rebuild(
    projection: Arc<dyn Projection>,
    store: Arc<dyn ViewStore>,
    log: Arc<dyn EventReader>,
    progress: Arc<ProgressBoard>,
) -> Result<u64, WorkerError> {
    store
        .reset(projection.name(), projection.collections())
        .await?;
    let mut worker = Worker::new(projection, store, log, progress);
    worker.load_checkpoint().await?;
    let replayed = worker.catch_up_from_log().await?;
    worker.flush().await?;
    Ok(replayed)
}
