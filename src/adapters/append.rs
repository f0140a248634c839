//! Group append: the commands that finish while the log is busy go into the next batch, written
//! by one statement and made durable by one commit (one fsync), each command keeping its own
//! optimistic-concurrency check. A command's events are appended entirely or not at all.
//!
//! Why: one command used to cost its own transaction (BEGIN, INSERT, COMMIT, then a read of
//! its position); under concurrent load most of the database's work was per-transaction
//! overhead. Batching is what group commit does inside Postgres, moved one level up, where the
//! statement and the round trips are shared too.
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::persist::SerializedEvent;

use annals_contracts::integrity::{EventContent, Hash};
use annals_contracts::{LogError, Position};

use super::batching::{Batcher, Work};

/// Events of one command, for one stream, with consecutive sequences.
pub type Appendix = Vec<SerializedEvent>;

/// What happened to one command's events.
pub type AppendOutcome = Result<Option<Position>, LogError>;

/// Events handed out a chunk at a time (an import read back from where it was staged), so
/// that no more than two chunks are held at once (one being stored, the next being prepared).
#[async_trait]
pub trait EventChunks: Send {
    /// The next events (consecutive sequences per stream, a stream's events never split
    /// over two chunks), or `None` at the end. An error aborts the append.
    async fn next_chunk(&mut self) -> Result<Option<Appendix>, LogError>;
}

/// A log that appends several commands at once, atomically per command.
#[async_trait]
pub trait BatchWriter: Send + Sync {
    /// Appends each entry of `batch` (at most one per stream) in one transaction. For each
    /// entry: the position of its last event, or `None` when one of its sequences was taken
    /// (an optimistic-concurrency conflict: none of its events are kept).
    async fn write(&self, batch: &[Appendix]) -> Result<Vec<Option<Position>>, LogError>;

    /// Appends every event of `source`, chunk by chunk, in one transaction: all or nothing.
    /// The position of the last, `None` when a sequence of any stream was taken (nothing is
    /// kept), an error (nothing kept either) when the source fails. This default holds every
    /// chunk at once; the real logs write each as it comes.
    async fn write_chunked(
        &self,
        source: &mut dyn EventChunks,
    ) -> Result<Option<Position>, LogError> {
        let mut events = Vec::new();
        while let Some(chunk) = source.next_chunk().await? {
            events.extend(chunk);
        }
        if events.is_empty() {
            return Err(LogError("nothing to append".into()));
        }
        Ok(self.write(&[events]).await?.pop().flatten())
    }
}

/// A stored event's key: aggregate type, aggregate id, sequence.
pub type EventKey = (String, String, usize);

/// The content digest of `event` as the writers store it, recorded at `recorded_at`
/// (`scratch` is reused between events).
pub fn digest(event: &SerializedEvent, recorded_at: DateTime<Utc>, scratch: &mut Vec<u8>) -> Hash {
    EventContent {
        aggregate_type: &event.aggregate_type,
        aggregate_id: &event.aggregate_id,
        sequence: event.sequence as i64,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &event.payload,
        metadata: &event.metadata,
        recorded_at,
    }
    .digest_with(scratch)
}

pub fn key(event: &SerializedEvent) -> EventKey {
    (
        event.aggregate_type.clone(),
        event.aggregate_id.clone(),
        event.sequence,
    )
}

/// Most events in one batch (the statement's arrays and the transaction stay small).
const MAX_BATCH_EVENTS: usize = 512;

struct Appends(Arc<dyn BatchWriter>);

#[async_trait]
impl Work for Appends {
    type Item = Appendix;
    type Output = Option<Position>;
    /// Two commands on one stream in one statement could not both be checked.
    type Key = (String, String);

    fn key(events: &Appendix) -> Option<(String, String)> {
        let (aggregate_type, aggregate_id, _) = key(events.first()?);
        Some((aggregate_type, aggregate_id))
    }

    fn weight(events: &Appendix) -> usize {
        events.len()
    }

    async fn run(&self, batch: &[Appendix]) -> Result<Vec<Option<Position>>, LogError> {
        metrics::histogram!("annals_append_batch_commands").record(batch.len() as f64);
        self.0.write(batch).await
    }
}

/// Hands commands' events to a few writer lanes that batch whatever queued up meanwhile.
pub struct GroupAppender {
    batcher: Batcher<Appends>,
    writer: Arc<dyn BatchWriter>,
}

impl GroupAppender {
    /// Starts `lanes` writers on the current runtime; they stop when the appender is dropped.
    pub fn start(writer: Arc<dyn BatchWriter>, lanes: usize) -> Self {
        Self {
            batcher: Batcher::start(Arc::new(Appends(writer.clone())), lanes, MAX_BATCH_EVENTS),
            writer,
        }
    }

    /// Appends one command's events; `Ok(None)` is a conflict (the stream moved on).
    pub async fn append(&self, events: Appendix) -> AppendOutcome {
        if events.is_empty() {
            return Err(LogError("nothing to append".into()));
        }
        self.batcher.submit(events).await
    }
}

impl GroupAppender {
    /// Appends events of several streams (consecutive sequences per stream) in one
    /// transaction of their own, all or nothing; `Ok(None)` is a conflict on any of them.
    /// Not batched with other commands: a batch keeps one command per stream, and this one
    /// spans many.
    pub async fn append_together(&self, events: Appendix) -> AppendOutcome {
        if events.is_empty() {
            return Err(LogError("nothing to append".into()));
        }
        let mut outcomes = self.writer.write(std::slice::from_ref(&events)).await?;
        Ok(outcomes.pop().flatten())
    }

    /// [`GroupAppender::append_together`] of events handed out a chunk at a time.
    pub async fn append_chunked(&self, source: &mut dyn EventChunks) -> AppendOutcome {
        self.writer.write_chunked(source).await
    }
}

/// Which entries of a batch were kept whole, given the events the log took (by key). Entries
/// kept in part are conflicts too, and their kept events are returned for removal in the same
/// transaction: the sequences they skipped belong to another writer.
pub fn settle(
    batch: &[Appendix],
    taken: &HashMap<EventKey, Position>,
) -> (Vec<Option<Position>>, Vec<EventKey>) {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut undo = Vec::new();
    for events in batch {
        let keys: Vec<EventKey> = events.iter().map(key).collect();
        let positions: Vec<Option<Position>> = keys.iter().map(|k| taken.get(k).copied()).collect();
        if positions.iter().all(Option::is_some) {
            outcomes.push(positions.last().copied().flatten());
        } else {
            undo.extend(
                keys.into_iter()
                    .zip(&positions)
                    .filter(|(_, p)| p.is_some())
                    .map(|(k, _)| k),
            );
            outcomes.push(None);
        }
    }
    (outcomes, undo)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use serde_json::json;

    use super::*;

    fn event(id: &str, sequence: usize) -> SerializedEvent {
        SerializedEvent {
            aggregate_id: id.into(),
            sequence,
            aggregate_type: "user".into(),
            event_type: "Touched".into(),
            event_version: "1".into(),
            payload: json!({}),
            metadata: json!({}),
        }
    }

    /// An in-memory log with the same contract, recording the batches it was given.
    #[derive(Default)]
    struct MemoryLog {
        rows: StdMutex<HashMap<EventKey, Position>>,
        batches: StdMutex<Vec<usize>>,
    }

    #[async_trait]
    impl BatchWriter for MemoryLog {
        async fn write(&self, batch: &[Appendix]) -> Result<Vec<Option<Position>>, LogError> {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.batches.lock().unwrap().push(batch.len());
            let mut rows = self.rows.lock().unwrap();
            let mut next = rows.len() as i64;
            Ok(batch
                .iter()
                .map(|events| {
                    let free = events.iter().all(|e| !rows.contains_key(&key(e)));
                    free.then(|| {
                        let mut last = Position::ZERO;
                        for e in events {
                            next += 1;
                            last = Position::new(1, next);
                            rows.insert(key(e), last);
                        }
                        last
                    })
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn two_commands_on_one_stream_never_share_a_batch() {
        let log = Arc::new(MemoryLog::default());
        let appender = Arc::new(GroupAppender::start(log.clone(), 1));
        let first = appender.append(vec![event("u1", 1)]);
        let second = appender.append(vec![event("u1", 1)]);
        let (a, b) = tokio::join!(first, second);
        let outcomes = [a.unwrap(), b.unwrap()];
        assert_eq!(outcomes.iter().filter(|o| o.is_some()).count(), 1);
        assert_eq!(log.batches.lock().unwrap().clone(), vec![1, 1]);
    }

    #[test]
    fn an_entry_kept_in_part_is_a_conflict_and_its_kept_events_are_undone() {
        let batch = vec![
            vec![event("a", 5), event("a", 6)],
            vec![event("b", 1)],
            vec![event("c", 2)],
        ];
        let taken = HashMap::from([
            (key(&event("a", 6)), Position::new(1, 10)),
            (key(&event("b", 1)), Position::new(1, 11)),
        ]);
        let (outcomes, undo) = settle(&batch, &taken);
        assert_eq!(outcomes, vec![None, Some(Position::new(1, 11)), None]);
        assert_eq!(undo, vec![key(&event("a", 6))]);
    }
}
