//! What every handler shares: the application services and the read gate, behind one `Arc`.
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::adapters::EventLog;
use crate::adapters::nats::EventStream;
use crate::adapters::postgres::PgRelayState;
use crate::http::consistency::ReadGate;
use crate::http::rate_limit::LoginLimiter;
use crate::services::datacube::Datacube;
use crate::services::erasure::Erasure;
use crate::services::history::History;
use crate::services::identity::Identity;
use crate::services::verify::Verifier;
use crate::services::workspaces::Workspaces;

/// What handlers share. Axum clones the state for every request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub identity: Arc<Identity>,
    /// The production tracker's records (Kitsu data API).
    pub records: Arc<crate::services::kitsu::Records>,
    pub log: Arc<dyn EventLog>,
    pub gate: ReadGate,
    pub stream: Option<EventStream>,
    pub relay_state: Option<PgRelayState>,
    pub metrics: PrometheusHandle,
    pub login_limiter: LoginLimiter,
    /// `postgres` or `sqlite`, for /readyz.
    pub storage: &'static str,
    /// Buckets: commands, plans, payments (the workspaces surface).
    pub workspaces: Arc<Workspaces>,
    /// Databases, collections and documents (the document service).
    pub datacube: Arc<Datacube>,
    /// The log's history for auditors (`/api/history`).
    pub history: History,
    /// Verification of the log's tamper evidence (`/api/history/verify`).
    pub verifier: Verifier,
    /// Erasing a person's personal data (`/api/admin`, `annals admin erase-user`).
    pub erasure: Erasure,
}
