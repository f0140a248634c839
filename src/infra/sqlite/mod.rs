//! Embedded adapters: event log (sqlite-es plus a global order) and view store in one SQLite
//! file, for running annals with nothing installed.
mod event_log;
mod view_store;

pub use event_log::SqliteEventLog;
pub use view_store::SqliteViewStore;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Opens (creating if needed) the database file. WAL lets reads run beside the single writer;
/// `synchronous = FULL` makes every acknowledged commit durable, as on Postgres.
pub async fn connect(url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(8)
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
