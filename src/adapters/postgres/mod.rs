//! Postgres adapters: the event log (postgres-es plus the global order), the view store and the
//! relay's cursor, and leadership of roles (advisory locks).
mod append;
mod event_log;
mod integrity;
mod leadership;
mod relay_state;
mod sticky;
mod view_store;

pub use append::PgBatchWriter;
pub use event_log::PgEventLog;
pub use integrity::PgIntegrity;
pub use leadership::{PgLeadership, lock_key};
pub use relay_state::PgRelayState;
pub use sticky::Sticky;
pub use view_store::PgViewStore;

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        // sqlx pings every connection it hands out by default: a second round trip for each
        // statement. A connection that died is dropped at its first failing statement instead.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

/// A small pool whose transactions are read-only (`default_transaction_read_only`), for
/// commands that only read the log while servers run (`annals replay`): it never migrates and
/// takes no lock a server needs.
pub async fn connect_read_only(url: &str) -> Result<PgPool, sqlx::Error> {
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?
        .options([("default_transaction_read_only", "on")]);
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
