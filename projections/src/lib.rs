//! Projections: turn the ordered event history into read models.
//!
//! This crate knows the interfaces of the event log ([`EventReader`]), the bus ([`EventBus`])
//! and the view store ([`ViewStore`]), never their implementations, and nothing about HTTP.
mod bus;
mod coalesce;
mod envelope;
pub mod filter;
pub mod identity;
mod log;
mod position;
mod progress;
mod projection;
mod store;
mod worker;
pub mod workspaces;

use std::sync::Arc;

pub use bus::{BusError, Delivery, EventBus, Subscription};
pub use coalesce::coalesce;
pub use envelope::{Envelope, SOURCE, StoredEvent, chain, redact};
pub use log::{EventReader, LogError};
pub use position::{Position, PositionParseError};
pub use progress::ProgressBoard;
pub use projection::{Projection, ProjectionError};
pub use store::{CommitError, Nested, Page, StoreError, ViewOp, ViewStore};
pub use worker::{
    BATCH, GROUP_CONSUMER, IDLE, QUIET_FLUSH, StoredCheckpoint, Worker, WorkerError, WorkerGroup,
    consumer_name, rebuild,
};

/// Every projection annals runs.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(identity::UserProfiles),
        Arc::new(identity::ApiKeys),
        Arc::new(workspaces::BucketViews),
    ]
}

/// The collections of all projections that stay out of the document index.
pub fn unindexed() -> std::collections::HashSet<&'static str> {
    all().iter().flat_map(|p| p.unindexed()).copied().collect()
}
