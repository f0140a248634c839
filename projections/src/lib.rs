//! Projections: turn the ordered event history into read models.
//!
//! This crate knows the contracts of the event log, the bus and the view store
//! (`annals-contracts`), never their implementations, and nothing about HTTP.
mod coalesce;
pub mod datacube;
pub mod identity;
pub mod kitsu;
mod projection;
mod worker;
pub mod workspaces;

use std::sync::Arc;

pub use coalesce::coalesce;
pub use projection::{Projection, ProjectionError};
pub use worker::{
    BATCH, BUS_RETRY, GROUP_CONSUMER, LEASE_CHECK, LOG_POLL, Stopped, Worker, WorkerError,
    WorkerGroup, consumer_name, rebuild,
};

/// Every projection annals runs.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(identity::UserProfiles),
        Arc::new(identity::ApiKeys),
        Arc::new(workspaces::BucketViews),
        Arc::new(datacube::DatabaseViews),
        Arc::new(datacube::DocumentViews),
        Arc::new(kitsu::KitsuRecords),
        Arc::new(kitsu::KitsuNews),
        Arc::new(kitsu::KitsuPersons),
    ]
}

/// The collections of all projections that stay out of the document index.
pub fn unindexed() -> std::collections::HashSet<&'static str> {
    all().iter().flat_map(|p| p.unindexed()).copied().collect()
}
