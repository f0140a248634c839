//! The view store interface: JSON documents in collections plus one checkpoint per projection.
//! Implemented for Postgres (and later SQLite) outside this crate.
use async_trait::async_trait;
use serde_json::Value;

use crate::Position;
use crate::filter::Query;

/// One change to a read model, produced by a projector and applied by the store.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewOp {
    /// Creates or replaces a document.
    Upsert {
        collection: &'static str,
        id: String,
        doc: Value,
        owner: Option<String>,
    },
    /// Shallow-merges the object `patch` into an existing document; no-op if it is missing.
    Merge {
        collection: &'static str,
        id: String,
        patch: Value,
    },
    /// Adds `by` to the integer field `field` (missing counts as 0); no-op if the document is missing.
    Increment {
        collection: &'static str,
        id: String,
        field: &'static str,
        by: i64,
    },
    Delete {
        collection: &'static str,
        id: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("view store unavailable: {0}")]
    Unavailable(String),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Someone else (another worker, a rebuild) moved the checkpoint first.
    #[error("checkpoint moved to {0}")]
    CheckpointMoved(Position),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<(String, Value)>,
    pub total: u64,
}

#[async_trait]
pub trait ViewStore: Send + Sync {
    async fn checkpoint(&self, projection: &str) -> Result<Position, StoreError>;

    /// Applies `ops` and moves the checkpoint from `expected` to `next`, in one transaction.
    /// Fails with [`CommitError::CheckpointMoved`] (applying nothing) if the checkpoint is not
    /// `expected`: this is what makes redelivery and concurrent workers harmless.
    async fn commit(
        &self,
        projection: &str,
        expected: Position,
        next: Position,
        ops: &[ViewOp],
    ) -> Result<(), CommitError>;

    /// Deletes the projection's documents and sets its checkpoint back to zero, atomically.
    async fn reset(&self, projection: &str, collections: &[&'static str])
    -> Result<(), StoreError>;

    async fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError>;

    async fn find(&self, collection: &str, query: &Query) -> Result<Page, StoreError>;

    /// Every document of a collection, ordered by id (for comparisons and exports).
    async fn dump(&self, collection: &str) -> Result<Vec<(String, Value)>, StoreError>;
}
