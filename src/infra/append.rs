//! Group append: the commands that finish while the log is busy go into the next batch, written
//! by one statement and made durable by one commit (one fsync), each command keeping its own
//! optimistic-concurrency check. A command's events are appended entirely or not at all.
//!
//! Why: one command used to cost its own transaction (BEGIN, INSERT, COMMIT, then a read of
//! its position); under concurrent load most of the database's work was per-transaction
//! overhead. Batching is what group commit does inside Postgres, moved one level up, where the
//! statement and the round trips are shared too.
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use cqrs_es::persist::SerializedEvent;
use tokio::sync::{Mutex, mpsc, oneshot};

use annals_projections::{LogError, Position};

/// Events of one command, for one stream, with consecutive sequences.
pub type Appendix = Vec<SerializedEvent>;

/// What happened to one command's events.
pub type AppendOutcome = Result<Option<Position>, LogError>;

/// A log that appends several commands at once, atomically per command.
#[async_trait]
pub trait BatchWriter: Send + Sync {
    /// Appends each entry of `batch` (at most one per stream) in one transaction. For each
    /// entry: the position of its last event, or `None` when one of its sequences was taken
    /// (an optimistic-concurrency conflict: none of its events are kept).
    async fn write(&self, batch: &[Appendix]) -> Result<Vec<Option<Position>>, LogError>;
}

/// A stored event's key: aggregate type, aggregate id, sequence.
pub type EventKey = (String, String, usize);

pub fn key(event: &SerializedEvent) -> EventKey {
    (
        event.aggregate_type.clone(),
        event.aggregate_id.clone(),
        event.sequence,
    )
}

struct Pending {
    events: Appendix,
    reply: oneshot::Sender<AppendOutcome>,
}

impl Pending {
    fn stream(&self) -> (String, String) {
        let (aggregate_type, aggregate_id, _) = key(&self.events[0]);
        (aggregate_type, aggregate_id)
    }

    fn len(&self) -> usize {
        self.events.len()
    }
}

/// Most events in one batch (the statement's arrays and the transaction stay small).
const MAX_BATCH_EVENTS: usize = 512;

/// Hands commands' events to a few writer lanes that batch whatever queued up meanwhile.
pub struct GroupAppender {
    queue: mpsc::UnboundedSender<Pending>,
}

impl GroupAppender {
    /// Starts `lanes` writers (at least one) on the current runtime. They stop when the
    /// appender is dropped.
    pub fn start(writer: Arc<dyn BatchWriter>, lanes: usize) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        let intake = Arc::new(Mutex::new(Intake {
            receiver,
            held: VecDeque::new(),
        }));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(writer.clone(), intake.clone()));
        }
        Self { queue }
    }

    /// Appends one command's events; `Ok(None)` is a conflict (the stream moved on).
    pub async fn append(&self, events: Appendix) -> AppendOutcome {
        if events.is_empty() {
            return Err(LogError("nothing to append".into()));
        }
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { events, reply })
            .map_err(|_| LogError("the log writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| LogError("the log writer has stopped".into()))?
    }
}

struct Intake {
    receiver: mpsc::UnboundedReceiver<Pending>,
    /// Commands for a stream that already had one in the previous batch: first in the next.
    held: VecDeque<Pending>,
}

impl Intake {
    /// Waits for work, then takes everything queued (up to the batch limit), one command per
    /// stream: two commands on one stream in one statement could not both be checked.
    async fn next_batch(&mut self) -> Option<Vec<Pending>> {
        let mut candidates: VecDeque<Pending> = std::mem::take(&mut self.held);
        if candidates.is_empty() {
            candidates.push_back(self.receiver.recv().await?);
        }
        let mut batch = Vec::new();
        let mut streams = HashSet::new();
        let mut events = 0;
        loop {
            let next = match candidates.pop_front() {
                Some(p) => p,
                None => match self.receiver.try_recv() {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            if !batch.is_empty() && events + next.len() > MAX_BATCH_EVENTS {
                self.held.push_back(next);
                break;
            }
            if streams.insert(next.stream()) {
                events += next.len();
                batch.push(next);
            } else {
                self.held.push_back(next);
            }
        }
        // Whatever was not looked at keeps its place ahead of newer arrivals.
        self.held.extend(candidates);
        Some(batch)
    }
}

async fn lane(writer: Arc<dyn BatchWriter>, intake: Arc<Mutex<Intake>>) {
    loop {
        let mut batch = match intake.lock().await.next_batch().await {
            Some(batch) => batch,
            None => return,
        };
        let events: Vec<Appendix> = batch
            .iter_mut()
            .map(|p| std::mem::take(&mut p.events))
            .collect();
        metrics::histogram!("annals_append_batch_commands").record(batch.len() as f64);
        match writer.write(&events).await {
            Ok(outcomes) => {
                for (pending, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = pending.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                for pending in batch {
                    let _ = pending.reply.send(Err(LogError(e.0.clone())));
                }
            }
        }
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
    async fn concurrent_appends_share_batches_and_each_gets_its_position() {
        let log = Arc::new(MemoryLog::default());
        let appender = Arc::new(GroupAppender::start(log.clone(), 1));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let appender = appender.clone();
                tokio::spawn(async move { appender.append(vec![event(&format!("u{i}"), 1)]).await })
            })
            .collect();
        let mut positions = HashSet::new();
        for task in tasks {
            let position = task.await.unwrap().unwrap().expect("no conflict");
            assert!(positions.insert(position), "positions are distinct");
        }
        let batches = log.batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 40);
        assert!(
            batches.len() < 40,
            "some commands shared a batch: {batches:?}"
        );
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
