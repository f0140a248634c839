//! Commands on many streams appended as one: a bulk insert, an import, an update or delete by
//! filter, a database created with its name claim. Each stream's events come from its own
//! aggregate ([`Commands::prepare`](crate::es::commands::Commands::prepare)), so the domain
//! validates every one; the append keeps them all or none, and a conflict on any stream is
//! reported so the caller prepares again on fresh state.
use std::sync::Arc;

use cqrs_es::persist::SerializedEvent;
use tokio::sync::Notify;

use annals_contracts::{LogError, Position};

use crate::adapters::GroupAppender;
use crate::adapters::append::EventChunks;
use crate::es::commands::WriteSide;

#[derive(Clone)]
pub struct Together {
    appender: Arc<GroupAppender>,
    wake: Arc<Notify>,
}

impl Together {
    pub fn new(write: &WriteSide) -> Self {
        Self {
            appender: write.appender.clone(),
            wake: write.wake.clone(),
        }
    }

    /// Appends the events in one transaction: the position of the last, or `None` when a
    /// sequence of any stream was taken (nothing is kept).
    pub async fn append(&self, events: Vec<SerializedEvent>) -> Result<Option<Position>, LogError> {
        let count = events.len();
        let outcome = self.appender.append_together(events).await?;
        if outcome.is_some() {
            metrics::counter!("annals_events_appended_total", "aggregate" => "many")
                .increment(count as u64);
            self.wake.notify_one();
        }
        Ok(outcome)
    }

    /// [`Together::append`] of events handed out a chunk at a time (never all held at once).
    pub async fn append_chunked(
        &self,
        source: &mut dyn EventChunks,
    ) -> Result<Option<Position>, LogError> {
        let outcome = self.appender.append_chunked(source).await?;
        if outcome.is_some() {
            self.wake.notify_one();
        }
        Ok(outcome)
    }
}
