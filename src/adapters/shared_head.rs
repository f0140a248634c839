//! The log's head read once for every request waiting on it: each read-your-writes wait needs
//! the newest committed position, and under load many arrive together. They share one query
//! that started after they arrived (the batcher's guarantee), so each still sees every commit
//! that preceded it.
use std::sync::Arc;

use async_trait::async_trait;

use annals_contracts::{LogError, Position};

use crate::adapters::EventLog;
use crate::adapters::batching::{Batcher, Work};

/// Concurrent head reads at most served by one query.
const MAX_SHARED: usize = 1024;

struct HeadReads {
    log: Arc<dyn EventLog>,
}

#[async_trait]
impl Work for HeadReads {
    type Item = ();
    type Output = Option<Position>;
    type Key = ();

    fn key(_: &()) -> Option<()> {
        None
    }

    fn weight(_: &()) -> usize {
        1
    }

    async fn run(&self, items: &[()]) -> Result<Vec<Option<Position>>, LogError> {
        let head = self.log.head().await?;
        Ok(vec![head; items.len()])
    }
}

/// The head of the log, read once per batch of concurrent askers.
pub struct SharedHead {
    reads: Batcher<HeadReads>,
}

impl SharedHead {
    /// Starts its lane on the current runtime.
    pub fn start(log: Arc<dyn EventLog>) -> Self {
        Self {
            reads: Batcher::start(Arc::new(HeadReads { log }), 1, MAX_SHARED),
        }
    }

    pub async fn head(&self) -> Result<Option<Position>, LogError> {
        self.reads.submit(()).await
    }
}
