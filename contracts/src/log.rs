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

    /// Up to `limit` events of one stream after `after` (a global position), in the stream's
    /// order (its sequence, which is also their global order), held back like `read_after`
    /// (never past a transaction that could still be running). Each comes with the position
    /// of the event just before it in the global order (its envelope's `prevposition`).
    /// Served by the stream's primary key, however long the log.
    async fn read_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after: Position,
        limit: i64,
    ) -> Result<Vec<(Position, StoredEvent)>, LogError>;

    /// The position of the newest event before `position` in the global order
    /// (`Position::ZERO` if none): the `prevposition` of an event at `position`.
    async fn position_before(&self, position: Position) -> Result<Position, LogError>;
}
