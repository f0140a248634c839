//! Wiring: adapters, application state, and the long-running parts (API, relay, workers).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgPool, SqlitePool};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use annals_contracts::{EventBus, EventReader, Leadership, ProgressBoard, SoleProcess, ViewStore};
use annals_domain::identity::{ApiKey, EmailClaim, Session, User};
use annals_projections::{GROUP_CONSUMER, Projection, Stopped, Worker, WorkerGroup};

use crate::adapters::integrity::IntegrityLog;
use crate::adapters::mail::{Mailer, OutboxMailer, SmtpMailer};
use crate::adapters::nats::{EventStream, JetStreamBus, JetStreamPublisher};
use crate::adapters::person_keys::{KeyStore, Sealer};
use crate::adapters::postgres::{
    self, PgEventLog, PgIntegrity, PgLeadership, PgRelayState, PgViewStore,
};
use crate::adapters::shared_head::SharedHead;
use crate::adapters::sqlite::{self, SqliteEventLog, SqliteIntegrity, SqliteViewStore};
use crate::adapters::{EventLog, GroupAppender, LocalBus, LogRepository, Publisher};
use crate::config::{Config, ConfigError, Storage};
use crate::es::commands::{Commands, WriteSide};
use crate::es::relay::{Relay, RelayMode};
use crate::es::sealer::SealPolicy;
use crate::http::answers::Answers;
use crate::http::consistency::ReadGate;
use crate::http::rate_limit::LoginLimiter;
use crate::http::state::{AppState, Services};
use crate::services::identity::{Identity, Passwords, Tokens};

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

/// The connected storage of one process.
#[derive(Clone)]
pub enum Backend {
    Postgres(PgPool),
    /// The event log's pool (every commit fsynced) and the read models' pool.
    Sqlite(SqlitePool, SqlitePool),
}

/// The connected adapters of one process.
pub struct Infra {
    pub config: Config,
    pub backend: Backend,
    pub log: Arc<dyn EventLog>,
    pub views: Arc<dyn ViewStore>,
    pub progress: Arc<ProgressBoard>,
    /// Poked after each local command so the relay publishes without waiting for its poll.
    pub wake: Arc<Notify>,
    /// Every command's events go through it (batched appends, see `infra::append`).
    pub appender: Arc<GroupAppender>,
    /// The log's hashes, seals and verification runs.
    pub integrity: Arc<dyn IntegrityLog>,
    /// JetStream, when configured; otherwise events travel on `local_bus`.
    pub stream: Option<EventStream>,
    pub local_bus: LocalBus,
    /// The keys that seal personal data, and those this process used lately.
    pub sealer: Arc<Sealer>,
}

impl Infra {
    /// Connects the configured storage (migrating it) and, if configured, NATS.
    pub async fn connect(config: Config) -> Result<Self, StartError> {
        let backend = match &config.storage {
            Storage::Postgres { url } => {
                let pool = postgres::connect(url, config.db_pool)
                    .await
                    .map_err(|e| StartError::Database(e.to_string()))?;
                postgres::migrate(&pool)
                    .await
                    .map_err(|e| StartError::Migrate(e.to_string()))?;
                Backend::Postgres(pool)
            }
            Storage::Sqlite { url } => {
                let pool = sqlite::connect(url)
                    .await
                    .map_err(|e| StartError::Database(format!("{url}: {e}")))?;
                sqlite::migrate(&pool)
                    .await
                    .map_err(|e| StartError::Migrate(e.to_string()))?;
                let views = sqlite::connect_views(url)
                    .await
                    .map_err(|e| StartError::Database(format!("{url}: {e}")))?;
                Backend::Sqlite(pool, views)
            }
        };
        let stream = match &config.nats_url {
            Some(url) => Some(
                EventStream::connect(url, &config.nats_stream, &config.nats_subject_prefix)
                    .await
                    .map_err(|e| StartError::Nats(e.0))?,
            ),
            None => None,
        };
        // One file, one writer at a time: the log's appends and the views' commits take turns.
        let turns = sqlite::WriteTurns::default();
        let (log, views): (Arc<dyn EventLog>, Arc<dyn ViewStore>) = match &backend {
            Backend::Postgres(pool) => (
                Arc::new(PgEventLog::new(pool.clone())),
                Arc::new(PgViewStore::new(
                    pool.clone(),
                    annals_projections::unindexed(),
                )),
            ),
            Backend::Sqlite(pool, views) => (
                Arc::new(SqliteEventLog::new(pool.clone())),
                Arc::new(SqliteViewStore::new(views.clone(), turns.clone())),
            ),
        };
        tracing::info!(
            event_log = match backend { Backend::Postgres(_) => "postgres", Backend::Sqlite(..) => "sqlite" },
            view_store = match backend { Backend::Postgres(_) => "postgres", Backend::Sqlite(..) => "sqlite" },
            bus = if stream.is_some() { "nats-jetstream" } else { "in-process" },
            database = %redact_url(match &config.storage { Storage::Postgres { url } | Storage::Sqlite { url } => url }),
            "adapters connected"
        );
        // Two lanes on Postgres: one batch commits while the next one fills. SQLite has one
        // writer, so a second lane would only wait for the lock.
        let appender = Arc::new(match &backend {
            Backend::Postgres(pool) => {
                GroupAppender::start(Arc::new(postgres::PgBatchWriter::new(pool.clone())), 2)
            }
            Backend::Sqlite(pool, _) => GroupAppender::start(
                Arc::new(sqlite::SqliteBatchWriter::new(pool.clone(), turns.clone())),
                1,
            ),
        });
        let integrity: Arc<dyn IntegrityLog> = match &backend {
            Backend::Postgres(pool) => Arc::new(PgIntegrity::new(pool.clone())),
            Backend::Sqlite(pool, _) => Arc::new(SqliteIntegrity::new(pool.clone(), turns.clone())),
        };
        // Rows written before the log had hashes are hashed once, before anything is appended.
        let hashed = integrity
            .backfill()
            .await
            .map_err(|e| StartError::Migrate(format!("hashing the existing events: {e}")))?;
        if hashed > 0 {
            tracing::info!(
                events = hashed,
                "hashed the events written before tamper evidence"
            );
        }
        let sealer = Arc::new(Sealer::new(match &backend {
            Backend::Postgres(pool) => KeyStore::Postgres(pool.clone()),
            Backend::Sqlite(pool, _) => KeyStore::Sqlite(pool.clone()),
        }));
        Ok(Self {
            sealer,
            log,
            views,
            integrity,
            progress: Arc::new(ProgressBoard::default()),
            wake: Arc::new(Notify::new()),
            appender,
            backend,
            stream,
            local_bus: LocalBus::default(),
            config,
        })
    }

    /// The Postgres pool, when Postgres is the storage.
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite(..) => None,
        }
    }

    /// The SQLite pool, when the embedded store is the storage.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.backend {
            Backend::Sqlite(pool, _) => Some(pool),
            Backend::Postgres(_) => None,
        }
    }

    pub fn reader(&self) -> Arc<dyn EventReader> {
        match &self.backend {
            Backend::Postgres(pool) => Arc::new(PgEventLog::new(pool.clone())),
            Backend::Sqlite(pool, _) => Arc::new(SqliteEventLog::new(pool.clone())),
        }
    }

    /// How a `Commands` gets its repository for stream reads.
    fn repository(&self) -> Arc<dyn Fn() -> LogRepository + Send + Sync> {
        match &self.backend {
            Backend::Postgres(pool) => {
                // One set of kept connections serves the reads of every aggregate type.
                let (pool, reads) = (pool.clone(), postgres::Sticky::new(pool.clone()));
                Arc::new(move || LogRepository::postgres(pool.clone(), reads.clone()))
            }
            Backend::Sqlite(pool, _) => {
                let pool = pool.clone();
                Arc::new(move || LogRepository::sqlite(pool.clone()))
            }
        }
    }

    /// What every aggregate's `Commands` writes through.
    pub(crate) fn write_side(&self) -> WriteSide {
        WriteSide {
            repository: self.repository(),
            log: self.log.clone(),
            appender: self.appender.clone(),
            wake: self.wake.clone(),
            sealer: self.sealer.clone(),
        }
    }

    fn reactor_parts(&self) -> crate::services::workspaces::invitations::ReactorParts {
        crate::services::workspaces::invitations::ReactorParts {
            write: self.write_side(),
            views: self.views.clone(),
            log: self.reader(),
            progress: self.progress.clone(),
            leadership: self.leadership(),
        }
    }

    fn relay_state(&self) -> Option<PgRelayState> {
        match (&self.backend, &self.stream) {
            (Backend::Postgres(pool), Some(_)) => Some(PgRelayState::new(pool.clone(), "nats")),
            _ => None,
        }
    }

    pub fn state(&self) -> Result<AppState, StartError> {
        let mailer: Arc<dyn Mailer> = match &self.config.smtp_url {
            Some(url) => Arc::new(
                SmtpMailer::new(url, &self.config.mail_from).map_err(|e| StartError::Mail(e.0))?,
            ),
            None => Arc::new(OutboxMailer::new(&self.config.data_dir)),
        };
        let write = self.write_side();
        let identity = Identity {
            users: Commands::<User>::new(&write, ()),
            claims: Commands::<EmailClaim>::new(&write, ()),
            sessions: Commands::<Session>::new(&write, ()),
            api_keys: Arc::new(Commands::<ApiKey>::new(&write, ())),
            passwords: Passwords::new(),
            tokens: Tokens::new(&self.config.jwt_secret),
            mailer,
            public_url: self.config.public_url.clone(),
        };
        let workspaces = crate::services::workspaces::Workspaces {
            buckets: Commands::new(&write, ()),
            accounts: Commands::new(&write, ()),
            config: self.config.workspaces.clone(),
            payments: Arc::new(crate::services::workspaces::payments::LocalPayments),
        };
        let (identity, workspaces) = (Arc::new(identity), Arc::new(workspaces));
        let records = Arc::new(crate::services::kitsu::Records {
            records: Commands::new(&write, ()),
            claims: Commands::new(&write, ()),
            calendars: Commands::new(&write, ()),
            identity: identity.clone(),
            views: self.views.clone(),
            together: crate::es::together::Together::new(&write),
            log: self.reader(),
            progress: self.progress.clone(),
        });
        let erasure = crate::services::erasure::Erasure {
            identity: identity.clone(),
            workspaces: workspaces.clone(),
            views: self.views.clone(),
            log: self.reader(),
            progress: self.progress.clone(),
            sealer: self.sealer.clone(),
        };
        Ok(AppState::new(Services {
            erasure,
            workspaces,
            datacube: Arc::new(crate::services::datacube::Datacube::new(
                &write,
                self.views.clone(),
                crate::services::history::History::new(self.reader()),
                self.config.import_max_bytes,
            )),
            identity,
            records,
            log: self.log.clone(),
            history: crate::services::history::History::new(self.reader()),
            verifier: crate::services::verify::Verifier::new(self.integrity.clone()),
            gate: ReadGate {
                head: Arc::new(SharedHead::start(self.log.clone())),
                views: self.views.clone(),
                progress: self.progress.clone(),
                max_wait: self.config.read_wait,
                answers: Arc::new(Answers::new(
                    self.progress.clone(),
                    self.config.kept_answers,
                )),
            },
            relay_state: self.relay_state(),
            stream: self.stream.clone(),
            metrics: crate::telemetry::metrics(),
            login_limiter: LoginLimiter::new(self.config.login_rate_per_minute),
            storage: match self.backend {
                Backend::Postgres(_) => "postgres",
                Backend::Sqlite(..) => "sqlite",
            },
        }))
    }

    pub fn relay(&self) -> Relay {
        let (publisher, mode): (Arc<dyn Publisher>, RelayMode) =
            match (self.relay_state(), &self.stream, &self.config.storage) {
                (Some(state), Some(stream), Storage::Postgres { url }) => (
                    Arc::new(JetStreamPublisher::new(
                        stream.clone(),
                        self.config.nats_seal_subject.clone(),
                    )),
                    RelayMode::Durable {
                        state,
                        leadership: Arc::new(PgLeadership::new(url.clone())),
                    },
                ),
                _ => (Arc::new(self.local_bus.clone()), RelayMode::Local),
            };
        Relay {
            log: self.reader(),
            publisher,
            mode,
            wake: self.wake.clone(),
            integrity: self.integrity.clone(),
            sealing: SealPolicy {
                every: self.config.seal_every,
                interval: self.config.seal_interval,
            },
        }
    }

    pub fn spawn_relay(&self, cancel: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(self.relay().run(cancel))
    }

    /// Who may lead a role: an advisory lock on Postgres, always this process when embedded.
    pub fn leadership(&self) -> Arc<dyn Leadership> {
        match &self.config.storage {
            Storage::Postgres { url } => Arc::new(PgLeadership::new(url.clone())),
            Storage::Sqlite { .. } => Arc::new(SoleProcess),
        }
    }

    pub fn bus(&self) -> Arc<dyn EventBus> {
        match &self.stream {
            Some(stream) => Arc::new(JetStreamBus::new(stream.clone())),
            None => Arc::new(self.local_bus.clone()),
        }
    }

    pub fn worker(&self, projection: Arc<dyn Projection>) -> Worker {
        Worker::new(
            projection,
            self.views.clone(),
            self.reader(),
            self.progress.clone(),
        )
    }

    /// The projection workers, as one supervised group on one bus consumer: restarted (each
    /// from its checkpoint) if it fails. The workspaces invitation reactor runs beside them and
    /// follows the batches they applied (an in-process feed, not a bus consumer of its own).
    pub fn spawn_workers(&self, cancel: CancellationToken) -> Vec<JoinHandle<()>> {
        let bus = self.bus();
        let applied = LocalBus::default();
        let reactor = crate::services::workspaces::invitations::spawn(
            self.reactor_parts(),
            Arc::new(applied.clone()),
            cancel.clone(),
        );
        let make = {
            let views = self.views.clone();
            let reader = self.reader();
            let progress = self.progress.clone();
            move || {
                let workers = annals_projections::all()
                    .into_iter()
                    .map(|p| Worker::new(p, views.clone(), reader.clone(), progress.clone()))
                    .collect();
                let applied = applied.clone();
                WorkerGroup::new(GROUP_CONSUMER, workers)
                    .forwarding(Box::new(move |envelopes| applied.send(envelopes)))
            }
        };
        let leadership = self.leadership();
        let progress = self.progress.clone();
        let group = tokio::spawn(async move {
            let mut standing_by = false;
            while !cancel.is_cancelled() {
                // One process applies the projections at a time; the others stand by and take
                // over within a second or two of its end (its lock goes with its connection).
                let lease = match leadership.try_lead(GROUP_CONSUMER).await {
                    Ok(Some(lease)) => lease,
                    Ok(None) => {
                        if !standing_by {
                            tracing::info!("another process applies the projections; standing by");
                            standing_by = true;
                        }
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = tokio::time::sleep(STANDBY_POLL) => {}
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot ask for projection leadership");
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = tokio::time::sleep(STANDBY_POLL) => {}
                        }
                        continue;
                    }
                };
                if standing_by {
                    tracing::info!("taking over the projections");
                    standing_by = false;
                }
                match make().run(bus.clone(), cancel.clone(), Some(lease)).await {
                    Ok(Stopped::Cancelled) => {}
                    Ok(Stopped::LeaseLost) => {
                        // Readers here must ask the store from now on, not this process.
                        for projection in annals_projections::all() {
                            progress.forget(projection.name());
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "projection workers stopped; restarting");
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                    }
                }
            }
        });
        vec![group, reactor]
    }
}

/// How often a standing-by process asks whether it may lead the projections.
const STANDBY_POLL: Duration = Duration::from_secs(1);

/// A database URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
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
