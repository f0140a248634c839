//! Batching of concurrent requests to the log: what arrives while a lane is busy goes into that
//! lane's next batch, served by one statement. Under load, one round trip (and, for appends, one
//! commit) serves many requests; alone, a request is served at once.
//!
//! A request is only ever served by a batch that started after it arrived, so a read sees every
//! commit that preceded its request, exactly as a read of its own would.
use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc, oneshot};

use annals_contracts::LogError;

/// One kind of batched work.
#[async_trait]
pub trait Work: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Output: Send + 'static;
    type Key: Hash + Eq + Send;

    /// Items with the same key never share a batch (`None`: no restriction).
    fn key(item: &Self::Item) -> Option<Self::Key>;

    /// What an item counts against the batch limit.
    fn weight(item: &Self::Item) -> usize;

    /// Serves a batch: one output per item, in order.
    async fn run(&self, items: &[Self::Item]) -> Result<Vec<Self::Output>, LogError>;
}

type Reply<W> = oneshot::Sender<Result<<W as Work>::Output, LogError>>;

pub struct Batcher<W: Work> {
    queue: mpsc::UnboundedSender<(W::Item, Reply<W>)>,
}

impl<W: Work> Batcher<W> {
    /// Starts `lanes` lanes (at least one) on the current runtime, each serving batches of at
    /// most `max_weight` (or a single heavier item). They stop when the batcher is dropped.
    pub fn start(work: Arc<W>, lanes: usize, max_weight: usize) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        let intake = Arc::new(Mutex::new(Intake::<W> {
            receiver,
            held: VecDeque::new(),
            max_weight,
        }));
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(work.clone(), intake.clone()));
        }
        Self { queue }
    }

    pub async fn submit(&self, item: W::Item) -> Result<W::Output, LogError> {
        let stopped = || LogError("the log's batching lanes have stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue.send((item, reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

struct Intake<W: Work> {
    receiver: mpsc::UnboundedReceiver<(W::Item, Reply<W>)>,
    /// Items that could not join the previous batch: first in the next one.
    held: VecDeque<(W::Item, Reply<W>)>,
    max_weight: usize,
}

impl<W: Work> Intake<W> {
    /// Waits for work, then takes everything queued, within the weight limit and one item per key.
    async fn next_batch(&mut self) -> Option<Vec<(W::Item, Reply<W>)>> {
        let mut candidates = std::mem::take(&mut self.held);
        if candidates.is_empty() {
            candidates.push_back(self.receiver.recv().await?);
        }
        let mut batch = Vec::new();
        let mut keys = HashSet::new();
        let mut weight = 0;
        loop {
            let next = match candidates.pop_front() {
                Some(next) => next,
                None => match self.receiver.try_recv() {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            let w = W::weight(&next.0);
            if !batch.is_empty() && weight + w > self.max_weight {
                self.held.push_back(next);
                break;
            }
            if W::key(&next.0).is_none_or(|key| keys.insert(key)) {
                weight += w;
                batch.push(next);
            } else {
                self.held.push_back(next);
            }
        }
        // What was not looked at keeps its place ahead of newer arrivals.
        self.held.extend(candidates);
        Some(batch)
    }
}

async fn lane<W: Work>(work: Arc<W>, intake: Arc<Mutex<Intake<W>>>) {
    loop {
        let batch = match intake.lock().await.next_batch().await {
            Some(batch) => batch,
            None => return,
        };
        let (items, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match work.run(&items).await {
            Ok(outputs) => {
                for (reply, output) in replies.into_iter().zip(outputs) {
                    let _ = reply.send(Ok(output));
                }
            }
            Err(e) if items.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
            }
            // One item's failure must not fail the others that happened to share its batch
            // (a value the database refuses, say): each is served again on its own, so only
            // the failing one gets the error. An outage fails each of them again, quickly.
            Err(e) => {
                metrics::counter!("annals_batch_failures_isolated").increment(1);
                tracing::debug!(error = %e.0, items = items.len(), "batch failed; serving its items one by one");
                for (item, reply) in items.iter().zip(replies) {
                    let _ = reply.send(work.run(std::slice::from_ref(item)).await.and_then(
                        |mut outputs| {
                            outputs
                                .pop()
                                .ok_or_else(|| LogError("no output for the item".into()))
                        },
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration;

    use super::*;

    /// Doubles numbers, slowly, recording its batches; odd and even numbers share a key.
    #[derive(Default)]
    struct Doubler {
        batches: StdMutex<Vec<Vec<u32>>>,
    }

    #[async_trait]
    impl Work for Doubler {
        type Item = u32;
        type Output = u32;
        type Key = u32;
        fn key(item: &u32) -> Option<u32> {
            (*item >= 100).then_some(item % 2)
        }
        fn weight(_: &u32) -> usize {
            1
        }
        async fn run(&self, items: &[u32]) -> Result<Vec<u32>, LogError> {
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.batches.lock().unwrap().push(items.to_vec());
            // 13 is the value the store refuses: its whole batch fails.
            if items.contains(&13) {
                return Err(LogError("13 cannot be stored".into()));
            }
            Ok(items.iter().map(|i| i * 2).collect())
        }
    }

    #[tokio::test]
    async fn concurrent_items_share_batches_within_the_limit_and_get_their_own_output() {
        let work = Arc::new(Doubler::default());
        let batcher = Arc::new(Batcher::start(work.clone(), 1, 8));
        let tasks: Vec<_> = (20..60)
            .map(|i| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (i, batcher.submit(i).await.unwrap()) })
            })
            .collect();
        for task in tasks {
            let (i, doubled) = task.await.unwrap();
            assert_eq!(doubled, i * 2);
        }
        let batches = work.batches.lock().unwrap().clone();
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 40);
        assert!(batches.len() < 40, "some items shared a batch: {batches:?}");
        assert!(batches.iter().all(|b| b.len() <= 8));
    }

    #[tokio::test]
    async fn items_with_one_key_go_to_separate_batches_in_order() {
        let work = Arc::new(Doubler::default());
        let batcher = Batcher::start(work.clone(), 1, 64);
        let (a, b, c) = tokio::join!(
            batcher.submit(100),
            batcher.submit(102),
            batcher.submit(101)
        );
        assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (200, 204, 202));
        let batches = work.batches.lock().unwrap().clone();
        assert_eq!(batches, vec![vec![100, 101], vec![102]]);
    }

    #[tokio::test]
    async fn a_failing_item_fails_alone_not_the_batch_it_shared() {
        let work = Arc::new(Doubler::default());
        let batcher = Arc::new(Batcher::start(work.clone(), 1, 64));
        let tasks: Vec<_> = (0..30u32)
            .map(|i| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (i, batcher.submit(i).await) })
            })
            .collect();
        for task in tasks {
            match task.await.unwrap() {
                (13, outcome) => assert!(outcome.is_err()),
                (i, outcome) => assert_eq!(outcome.unwrap(), i * 2),
            }
        }
        let batches = work.batches.lock().unwrap().clone();
        assert!(
            batches.iter().any(|b| b.len() > 1 && b.contains(&13)),
            "13 shared a batch: {batches:?}"
        );
    }
}
