//! Read access to the event log in its global order.
use async_trait::async_trait;

use crate::{Position, StoredEvent};

#[derive(Debug, thiserror::Error)]
#[error("event log unavailable: {0}")]
pub struct LogError(pub String);

#[async_trait]
pub trait EventReader: Send + Sync {
    /// Up to `limit` events after `after`, in global order, never past an event whose
    /// writing transaction could still be running (so nothing can later appear behind them).
    async fn read_after(&self, after: Position, limit: i64) -> Result<Vec<StoredEvent>, LogError>;

    /// The position of the newest committed event, if any.
    async fn head(&self) -> Result<Option<Position>, LogError>;

    /// The event at `position`, if the log holds one there.
    async fn event_at(&self, position: Position) -> Result<Option<StoredEvent>, LogError>;

    /// The log's identity, made when its database was created: a stream belongs to one log.
    async fn log_id(&self) -> Result<String, LogError>;
}
