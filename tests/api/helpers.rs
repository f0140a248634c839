//! Spawns annals on port 0 against a fresh Postgres database and a private JetStream stream,
//! and talks to it like a client.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use annals::config::{LogFormat, Settings};
use annals::http::state::AppState;
use annals::wiring::{self, Infra};
use annals_contracts::{Position, ProgressBoard, StoredEvent};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "a-strong-and-secure-password";

fn server_url() -> String {
    std::env::var("ANNALS_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("database URL");
    parsed.set_path(&format!("/{db}"));
    parsed.to_string()
}

/// The two ways annals runs: Postgres + NATS JetStream, or embedded (SQLite + in-process bus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Embedded,
}

/// Runs a test once per backend: `#[apply(backends)] async fn name(#[case] backend: Backend)`.
#[rstest_reuse::template]
#[rstest::rstest]
#[case::postgres(Backend::Postgres)]
#[case::embedded(Backend::Embedded)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub fn backends(#[case] backend: Backend) {}

#[derive(Clone, Copy)]
pub struct Options {
    pub backend: Backend,
    pub relay: bool,
    pub workers: bool,
    pub login_rate_per_minute: u32,
    /// Largest import file in bytes.
    pub import_max_bytes: u64,
    /// A JetStream stream name and subject prefix to use instead of the app's own (to make
    /// two apps share one stream).
    pub stream: Option<(&'static str, &'static str)>,
    /// NATS at `127.0.0.1:<port>` instead of `NATS_URL` (e.g. a port where nothing listens).
    pub nats_port: Option<u16>,
}

impl Options {
    pub fn of(backend: Backend) -> Self {
        Options {
            backend,
            relay: true,
            workers: true,
            login_rate_per_minute: 1_000_000,
            import_max_bytes: 256 * 1024 * 1024,
            stream: None,
            nats_port: None,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub infra: Infra,
    pub state: AppState,
    pub cancel: CancellationToken,
    _tasks: Vec<JoinHandle<()>>,
    /// The Postgres database to drop afterwards.
    database: Option<String>,
    data_dir: Option<tempfile::TempDir>,
    options: Options,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(Options::of(backend)).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    spawn_in(options, tempfile::tempdir().expect("temp dir")).await
}

async fn spawn_in(options: Options, data_dir: tempfile::TempDir) -> TestApp {
    // Quiet unless asked: `RUST_LOG=info cargo test` shows the app's logs.
    if std::env::var_os("RUST_LOG").is_some() {
        annals::telemetry::init_logs(LogFormat::Pretty);
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let database = match options.backend {
        Backend::Postgres => {
            let database = format!("annals_test_{suffix}");
            let admin = PgPool::connect(&server_url())
                .await
                .expect("Postgres is reachable");
            sqlx::query(&format!("CREATE DATABASE {database}"))
                .execute(&admin)
                .await
                .expect("create test database");
            admin.close().await;
            Some(database)
        }
        Backend::Embedded => None,
    };
    let listener = wiring::bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let port = listener.local_addr().unwrap().port();
    let settings = Settings {
        // Embedded: no DATABASE_URL and no NATS_URL, exactly like a fresh install.
        database_url: database.as_ref().map(|db| with_database(&server_url(), db)),
        nats_url: database.as_ref().map(|_| match options.nats_port {
            Some(port) => format!("nats://127.0.0.1:{port}"),
            None => nats_url(),
        }),
        bind: "127.0.0.1:0".into(),
        public_url: Some(format!("http://127.0.0.1:{port}")),
        jwt_secret: Some("test-secret-test-secret-test-secret-0123".into()),
        data_dir: data_dir.path().to_path_buf(),
        log_format: LogFormat::Pretty,
        smtp_url: None,
        mail_from: "annals <no-reply@annals.test>".into(),
        nats_stream: options
            .stream
            .map_or_else(|| format!("TEST_{suffix}"), |(name, _)| name.to_string()),
        nats_subject_prefix: options.stream.map_or_else(
            || format!("t{suffix}.events"),
            |(_, prefix)| prefix.to_string(),
        ),
        read_wait_ms: 5000,
        kept_answers: 512,
        // High enough for the load tests; the rate-limit test sets its own.
        login_rate_per_minute: options.login_rate_per_minute,
        import_max_bytes: options.import_max_bytes,
        environment: annals::config::Environment::Development,
        db_pool: 16,
        // Seal often, so that tests see their events sealed soon.
        seal_every: 10_000,
        seal_interval_ms: 100,
        nats_seal_subject: format!("t{suffix}.seals"),
    };
    let config = settings.resolve(false).expect("valid test configuration");
    let infra = Infra::connect(config).await.expect("infrastructure");
    let state = infra.state().expect("state");
    let cancel = CancellationToken::new();
    let relay = options.relay.then(|| infra.spawn_relay(cancel.clone()));
    let workers = if options.workers {
        infra.spawn_workers(cancel.clone())
    } else {
        vec![]
    };
    tokio::spawn(wiring::serve(listener, state.clone(), cancel.clone()));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        infra,
        state,
        cancel,
        _tasks: relay.into_iter().chain(workers).collect(),
        database,
        data_dir: Some(data_dir),
        options,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.cancel.cancel();
        let Some(database) = self.database.clone() else {
            return; // the embedded store lives in the temporary data dir
        };
        let stream = self.infra.config.nats_stream.clone();
        // Clean up on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(client) = async_nats::connect(nats_url()).await {
                    let _ = async_nats::jetstream::new(client)
                        .delete_stream(&stream)
                        .await;
                }
                if let Ok(admin) = PgPool::connect(&server_url()).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                            .execute(&admin)
                            .await;
                }
            });
        })
        .join();
    }
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    /// Stops this embedded app and starts a new one on the same data directory, as a process
    /// restart would.
    pub async fn restart(mut self) -> TestApp {
        assert_eq!(
            self.options.backend,
            Backend::Embedded,
            "restart is for the embedded store"
        );
        self.cancel.cancel();
        for task in std::mem::take(&mut self._tasks) {
            let _ = task.await;
        }
        let data_dir = self.data_dir.take().expect("data dir");
        let options = self.options;
        drop(self);
        spawn_in(options, data_dir).await
    }

    /// The Postgres pool (Postgres-backed apps only).
    pub fn pg(&self) -> PgPool {
        self.infra.pg_pool().expect("a Postgres-backed app").clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, email: &str) -> Response {
        self.post(
            "/core/register",
            &json!({"email": email, "firstName": "Ada", "lastName": "Lovelace", "password": PASSWORD}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/core/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers and logs in; returns the access and refresh tokens.
    pub async fn signed_up(&self, email: &str) -> (String, String) {
        assert_eq!(self.register(email).await.status(), StatusCode::CREATED);
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        (
            body["access"].as_str().unwrap().to_string(),
            body["refresh"].as_str().unwrap().to_string(),
        )
    }

    pub async fn me(&self, access: &str) -> Response {
        self.datacube(access).get("/core/me").await
    }

    /// `PATCH /core/me` with `body`, as the owner of `access`.
    pub async fn update_me(&self, access: &str, body: &Value) -> Response {
        self.datacube(access).patch("/core/me", body).await
    }

    /// `POST /api/api_keys` for a key named `name`, as the owner of `access`.
    pub async fn create_api_key(&self, access: &str, name: &str) -> Response {
        self.datacube(access)
            .post("/api/api_keys", &json!({ "name": name }))
            .await
    }

    /// The mails written to the outbox so far.
    pub fn mails(&self) -> Vec<Value> {
        let dir = self.data_dir.as_ref().expect("data dir").path();
        let path: PathBuf = dir.join("outbox").join("mail.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("mail line is JSON"))
            .collect()
    }

    pub fn progress(&self) -> Arc<ProgressBoard> {
        self.infra.progress.clone()
    }

    pub async fn head(&self) -> Position {
        self.infra
            .log
            .head()
            .await
            .unwrap()
            .unwrap_or(Position::ZERO)
    }

    /// Every event of the log, once the reader shows all of them. The reader (like the relay)
    /// holds back rows behind a transaction still running anywhere on the Postgres server, and
    /// the other tests' databases share its transaction ids.
    pub async fn visible_events(&self) -> Vec<StoredEvent> {
        let head = self.head().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let events = self
                .infra
                .reader()
                .read_after(Position::ZERO, 100_000)
                .await
                .unwrap();
            if events.last().map_or(Position::ZERO, |e| e.position) >= head {
                return events;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the log's head {head} stayed invisible to its reader"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `projection` has applied everything up to the log's head.
    pub async fn settle(&self, projection: &str) {
        let head = self.head().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let checkpoint = self.infra.views.checkpoint(projection).await.unwrap();
            if checkpoint >= head {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{projection} stuck at {checkpoint}, head {head}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every collection of `projection`, as the live projection left them (settled first).
    pub async fn dump(
        &self,
        projection: &dyn annals_projections::Projection,
    ) -> Vec<Vec<(String, Value)>> {
        self.settle(projection.name()).await;
        let mut all = Vec::new();
        for collection in projection.collections() {
            all.push(self.infra.views.dump(collection).await.unwrap());
        }
        all
    }

    /// Rebuilds `projection` from the log and asserts that every one of its collections holds
    /// what the live projection wrote; answers those rows.
    pub async fn assert_rebuild_equals_live(
        &self,
        projection: Arc<dyn annals_projections::Projection>,
    ) -> Vec<Vec<(String, Value)>> {
        let live = self.dump(projection.as_ref()).await;
        annals_projections::rebuild(
            projection.clone(),
            self.infra.views.clone(),
            self.infra.reader(),
            self.progress(),
        )
        .await
        .unwrap();
        assert_eq!(
            self.dump(projection.as_ref()).await,
            live,
            "{}",
            projection.name()
        );
        live
    }
}

/// Asserts a document-service error: status, code and named field.
pub async fn assert_error(response: Response, status: StatusCode, field: Option<&str>) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["success"], json!(false), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    if let Some(field) = field {
        assert_eq!(body["error"]["field"], json!(field), "{body}");
    }
    body
}
