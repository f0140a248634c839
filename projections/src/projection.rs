//! What a projection is: a pure function from an event to changes of its read model.
use annals_contracts::{Envelope, ViewOp};

#[derive(Debug, thiserror::Error)]
#[error("{projection} cannot read {event}: {reason}")]
pub struct ProjectionError {
    pub projection: &'static str,
    pub event: String,
    pub reason: String,
}

impl ProjectionError {
    /// `projection` could not read `event` (its payload does not decode), for `reason`.
    pub fn unreadable(projection: &'static str, event: &Envelope, reason: impl ToString) -> Self {
        Self {
            projection,
            event: event.id.clone(),
            reason: reason.to_string(),
        }
    }
}

pub trait Projection: Send + Sync + 'static {
    /// Stable name: keys the checkpoint and the durable consumer.
    fn name(&self) -> &'static str;
    /// Collections this projection owns (cleared on rebuild).
    fn collections(&self) -> &'static [&'static str];
    /// Of its collections, those only ever read by id or owner, never searched by a filter:
    /// their documents stay out of the document index, which every write of an indexed
    /// document pays for. A filter on them still works, by scanning the collection. A change
    /// of this list reaches each document at its next write: after taking a collection off
    /// it, rebuild the projection (`annals rebuild --projection NAME`), or searches miss the
    /// documents not rewritten since.
    fn unindexed(&self) -> &'static [&'static str] {
        &[]
    }
    /// The changes one event makes. Must depend on the event alone, so that live processing
    /// and a rebuild from the log give the same read model.
    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError>;
}
