//! Embedded adapters: event log (sqlite-es plus a global order) and view store in one SQLite
//! file, for running annals with nothing installed.
mod append;
mod event_log;
mod integrity;
mod view_store;

pub use append::SqliteBatchWriter;
pub use event_log::SqliteEventLog;
pub use integrity::SqliteIntegrity;
pub use view_store::SqliteViewStore;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Writers to one SQLite file take turns here, in order. SQLite's own lock makes a writer that
/// finds it taken sleep and retry (1, 2, 5 … 100 ms, no queue); with the event log's appends and
/// the projections' commits competing for it, that made tails of hundreds of milliseconds.
#[derive(Clone, Default)]
pub struct WriteTurns(std::sync::Arc<tokio::sync::Mutex<()>>);

impl WriteTurns {
    pub async fn take(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.0.clone().lock_owned().await
    }
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if needed) the database file. WAL lets reads run beside the single writer;
/// `synchronous = FULL` makes every acknowledged commit durable, as on Postgres.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    open(url, SqliteSynchronous::Full).await
}

/// Connections for the read models. They are derived from the log, so their commits need not
/// wait for an fsync (`NORMAL` in WAL mode stays consistent; a power cut may only lose the
/// last projection commits, views and checkpoint together, which the workers re-apply).
pub async fn connect_views(url: &str) -> Result<SqlitePool, sqlx::Error> {
    open(url, SqliteSynchronous::Normal).await
}

async fn open(url: &str, synchronous: SqliteSynchronous) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // `REGEXP` for the filter language's `Regex` (contracts::filter::sqlite).
        .with_regexp();
    SqlitePoolOptions::new()
        .max_connections(8)
        // No ping before each statement (see the Postgres pool); a file does not hang up.
        .test_before_acquire(false)
        .connect_with(options)
        .await
}

/// Read-only connections to an existing database, for commands that only read the log while a
/// server runs (`annals replay`): no file is created, nothing migrated, no write lock taken
/// (WAL readers never block the writer).
pub async fn connect_read_only(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .with_regexp();
    SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
}

pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// `sqlite://<path>` for a file path.
pub fn url_for(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}
