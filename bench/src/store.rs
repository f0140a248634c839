//! Where the measured server keeps its event log: Postgres, or the embedded SQLite file
//! (`annals serve` without `DATABASE_URL` and `NATS_URL`). The benchmark only reads the
//! server's log (a template row, stream lengths); the raw reference writes elsewhere.
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgConnection, Row, SqliteConnection};

use crate::http::Error;

/// As the server's own SQLite connections (src/infra/sqlite/mod.rs).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub enum Store {
    /// The server's database; the raw reference creates `bench_events` there.
    Postgres { url: String },
    /// The server's SQLite file, and the scratch file of the raw reference.
    Sqlite { server: String, scratch: String },
}

impl Store {
    /// `sqlite:` URLs mean the embedded mode; `scratch` defaults to a file next to the
    /// server's.
    pub fn new(database_url: &str, scratch: Option<&str>) -> Self {
        if database_url.starts_with("sqlite:") {
            let scratch = scratch.map(str::to_string).unwrap_or_else(|| {
                let dir = sqlite_file(database_url)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                format!("sqlite://{}", dir.join("annals-bench-raw.db").display())
            });
            Self::Sqlite {
                server: database_url.to_string(),
                scratch,
            }
        } else {
            Self::Postgres {
                url: database_url.to_string(),
            }
        }
    }

    pub fn embedded(&self) -> bool {
        matches!(self, Self::Sqlite { .. })
    }

    /// Events in the server's log and the longest stream (commands load whole streams).
    pub async fn stream_lengths(&self) -> Result<(i64, i64), Error> {
        const SQL: &str = "SELECT count(*), coalesce(max(sequence), 0) FROM events";
        let row = match self {
            Self::Postgres { url } => {
                let mut conn = PgConnection::connect(url).await?;
                let row = sqlx::query(SQL).fetch_one(&mut conn).await?;
                (row.get(0), row.get(1))
            }
            Self::Sqlite { server, .. } => {
                let mut conn = open_server_sqlite(server).await?;
                let row = sqlx::query(SQL).fetch_one(&mut conn).await?;
                (row.get(0), row.get(1))
            }
        };
        Ok(row)
    }

    /// The newest `ProfileUpdated` the server wrote, or a made-up one of the same shape.
    pub async fn template(&self) -> Template {
        const SQL: &str = "SELECT aggregate_type, event_type, event_version, payload, metadata
            FROM events WHERE event_type = 'ProfileUpdated' ORDER BY global_id DESC LIMIT 1";
        let copied: Result<Option<Template>, Error> = async {
            Ok(match self {
                Self::Postgres { url } => {
                    let mut conn = PgConnection::connect(url).await?;
                    let row = sqlx::query(SQL).fetch_optional(&mut conn).await?;
                    row.map(|row| Template {
                        aggregate_type: row.get(0),
                        event_type: row.get(1),
                        event_version: row.get(2),
                        payload: row.get(3),
                        metadata: row.get(4),
                        copied: true,
                    })
                }
                Self::Sqlite { server, .. } => {
                    let mut conn = open_server_sqlite(server).await?;
                    let row = sqlx::query(SQL).fetch_optional(&mut conn).await?;
                    match row {
                        Some(row) => {
                            let (payload, metadata): (String, String) = (row.get(3), row.get(4));
                            Some(Template {
                                aggregate_type: row.get(0),
                                event_type: row.get(1),
                                event_version: row.get(2),
                                payload: serde_json::from_str(&payload)?,
                                metadata: serde_json::from_str(&metadata)?,
                                copied: true,
                            })
                        }
                        None => None,
                    }
                }
            })
        }
        .await;
        copied.ok().flatten().unwrap_or_else(Template::synthetic)
    }
}

/// The row appended over and over by the raw reference.
#[derive(Clone)]
pub struct Template {
    pub aggregate_type: String,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// Whether it was copied from a real `ProfileUpdated` row of the server.
    pub copied: bool,
}

impl Template {
    pub fn payload_bytes(&self) -> usize {
        self.payload.to_string().len()
    }

    pub fn metadata_bytes(&self) -> usize {
        self.metadata.to_string().len()
    }

    fn synthetic() -> Self {
        Self {
            aggregate_type: "User".into(),
            event_type: "ProfileUpdated".into(),
            event_version: "1.0".into(),
            payload: json!({"ProfileUpdated": {"first_name": "Bench123", "last_name": "Runner45",
                "at": "2026-11-23T12:00:00.123456789Z"}}),
            metadata: json!({"actor": "0190f3a2-7c1e-7d2b-9c4e-5a6b7c8d9e0f",
                "request_id": "0190f3a2-7c1e-7d2b-9c4e-5a6b7c8d9e0f", "origin": "127.0.0.1"}),
            copied: false,
        }
    }
}

/// The file of a `sqlite:` URL.
pub fn sqlite_file(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// A connection to the server's SQLite file, which must exist; it only reads.
pub async fn open_server_sqlite(url: &str) -> Result<SqliteConnection, Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .connect()
        .await?)
}

/// A connection with the settings of the server's event-log connections: WAL, every commit
/// fsynced (`synchronous = FULL`), the same busy timeout. Creates the file if needed.
pub async fn open_log_sqlite(url: &str) -> Result<SqliteConnection, Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .connect()
        .await?)
}

/// The type of the filesystem holding `path` (the longest mount point above it), from
/// /proc/mounts: an SQLite benchmark on tmpfs would measure no fsync at all.
pub fn filesystem(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, mount, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            // Spaces in mount points are written as \040.
            let mount = PathBuf::from(mount.replace("\\040", " "));
            path.starts_with(&mount)
                .then(|| (mount.as_os_str().len(), fstype.to_string()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fstype)| fstype)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_mode_from_the_url() {
        let s = Store::new("sqlite:///tmp/x/annals.db?mode=rwc", None);
        match s {
            Store::Sqlite { scratch, .. } => {
                assert_eq!(scratch, "sqlite:///tmp/x/annals-bench-raw.db")
            }
            Store::Postgres { .. } => panic!("not embedded"),
        }
        assert!(!Store::new("postgres://u@h/db", None).embedded());
        assert_eq!(
            sqlite_file("sqlite:data/annals.db"),
            Path::new("data/annals.db")
        );
        assert!(filesystem(Path::new("/")).is_some());
    }
}
