//! Wiring: adapters, application state, and the long-running parts (API, relay, workers).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use annals_domain::identity::{EmailClaim, User};
use annals_projections::{EventBus, EventReader, ProgressBoard, Projection, ViewStore, Worker};

use crate::commands::Commands;
use crate::config::{Config, ConfigError};
use crate::http::consistency::ReadGate;
use crate::identity::{Identity, Passwords, Tokens};
use crate::infra::EventLog;
use crate::infra::mail::{Mailer, OutboxMailer, SmtpMailer};
use crate::infra::nats::{EventStream, JetStreamBus, JetStreamPublisher};
use crate::infra::postgres::{self, PgEventLog, PgRelayState, PgViewStore};
use crate::relay::Relay;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot connect to Postgres: {0}")]
    Database(String),
    #[error("cannot migrate the database: {0}")]
    Migrate(String),
    #[error("cannot connect to NATS JetStream: {0}")]
    Nats(String),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("mail: {0}")]
    Mail(String),
    #[error("unknown projection {0:?} (known: {1})")]
    UnknownProjection(String, String),
    #[error("{0}")]
    Failed(String),
}

#[derive(Clone)]
pub struct AppState {
    pub identity: Arc<Identity>,
    pub log: Arc<dyn EventLog>,
    pub gate: ReadGate,
    pub stream: Option<EventStream>,
    pub relay_state: Option<PgRelayState>,
    pub metrics: PrometheusHandle,
}

/// The connected adapters of one process.
pub struct Infra {
    pub config: Config,
    pub pool: PgPool,
    pub log: Arc<dyn EventLog>,
    pub views: Arc<dyn ViewStore>,
    pub progress: Arc<ProgressBoard>,
    /// Poked after each local command so the relay publishes without waiting for its poll.
    pub wake: Arc<Notify>,
    pub stream: Option<EventStream>,
}

impl Infra {
    /// Connects to Postgres (migrating it) and, if configured, NATS.
    pub async fn connect(config: Config) -> Result<Self, StartError> {
        let pool = postgres::connect(&config.database_url, config.db_pool)
            .await
            .map_err(|e| StartError::Database(e.to_string()))?;
        postgres::migrate(&pool)
            .await
            .map_err(|e| StartError::Migrate(e.to_string()))?;
        let stream = match &config.nats_url {
            Some(url) => Some(
                EventStream::connect(url, &config.nats_stream, &config.nats_subject_prefix)
                    .await
                    .map_err(|e| StartError::Nats(e.0))?,
            ),
            None => None,
        };
        tracing::info!(
            event_log = "postgres",
            view_store = "postgres",
            bus = if stream.is_some() {
                "nats-jetstream"
            } else {
                "none"
            },
            "adapters connected"
        );
        Ok(Self {
            log: Arc::new(PgEventLog::new(pool.clone())),
            views: Arc::new(PgViewStore::new(pool.clone())),
            progress: Arc::new(ProgressBoard::default()),
            wake: Arc::new(Notify::new()),
            pool,
            stream,
            config,
        })
    }

    pub fn reader(&self) -> Arc<dyn EventReader> {
        Arc::new(PgEventLog::new(self.pool.clone()))
    }

    pub fn state(&self) -> Result<AppState, StartError> {
        let mailer: Arc<dyn Mailer> = match &self.config.smtp_url {
            Some(url) => Arc::new(
                SmtpMailer::new(url, &self.config.mail_from).map_err(|e| StartError::Mail(e.0))?,
            ),
            None => Arc::new(OutboxMailer::new(&self.config.data_dir)),
        };
        let pool = self.pool.clone();
        let repository = move || postgres_es::PostgresEventRepository::new(pool.clone());
        let identity = Identity {
            users: Commands::<User>::new(&repository, (), self.log.clone(), self.wake.clone()),
            claims: Commands::<EmailClaim>::new(
                &repository,
                (),
                self.log.clone(),
                self.wake.clone(),
            ),
            passwords: Passwords::new(),
            tokens: Tokens::new(&self.config.jwt_secret),
            mailer,
            public_url: self.config.public_url.clone(),
        };
        Ok(AppState {
            identity: Arc::new(identity),
            log: self.log.clone(),
            gate: ReadGate {
                log: self.log.clone(),
                views: self.views.clone(),
                progress: self.progress.clone(),
                max_wait: self.config.read_wait,
            },
            relay_state: self
                .stream
                .as_ref()
                .map(|_| PgRelayState::new(self.pool.clone(), "nats")),
            stream: self.stream.clone(),
            metrics: crate::telemetry::metrics(),
        })
    }

    pub fn relay(&self) -> Option<Relay> {
        let stream = self.stream.clone()?;
        Some(Relay {
            log: self.reader(),
            state: PgRelayState::new(self.pool.clone(), "nats"),
            publisher: JetStreamPublisher::new(stream),
            database_url: self.config.database_url.clone(),
            wake: self.wake.clone(),
        })
    }

    pub fn spawn_relay(&self, cancel: CancellationToken) -> Option<JoinHandle<()>> {
        let relay = self.relay()?;
        Some(tokio::spawn(relay.run(cancel)))
    }

    pub fn worker(&self, projection: Arc<dyn Projection>) -> Worker {
        Worker::new(
            projection,
            self.views.clone(),
            self.reader(),
            self.progress.clone(),
        )
    }

    /// One supervised worker per projection: restarted (from its checkpoint) if it fails.
    pub fn spawn_workers(&self, cancel: CancellationToken) -> Vec<JoinHandle<()>> {
        let Some(stream) = self.stream.clone() else {
            return vec![];
        };
        let bus: Arc<dyn EventBus> = Arc::new(JetStreamBus::new(stream));
        annals_projections::all()
            .into_iter()
            .map(|projection| {
                let bus = bus.clone();
                let cancel = cancel.clone();
                let make = {
                    let views = self.views.clone();
                    let reader = self.reader();
                    let progress = self.progress.clone();
                    move || {
                        Worker::new(
                            projection.clone(),
                            views.clone(),
                            reader.clone(),
                            progress.clone(),
                        )
                    }
                };
                tokio::spawn(async move {
                    while !cancel.is_cancelled() {
                        if let Err(e) = make().run(bus.clone(), cancel.clone()).await {
                            tracing::warn!(error = %e, "projection worker stopped; restarting");
                            tokio::select! {
                                _ = cancel.cancelled() => {}
                                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                            }
                        }
                    }
                })
            })
            .collect()
    }
}

/// Serves the HTTP API until `cancel` fires.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let app = crate::http::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(cancel.cancelled_owned())
    .await
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).await.map_err(|e| StartError::Bind {
        addr,
        reason: e.to_string(),
    })
}
