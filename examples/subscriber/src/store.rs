//! The subscriber's own database (SQLite): the derived table `bucket_members` and the
//! checkpoint, changed together in one transaction, so that a crash anywhere leaves the table
//! and the checkpoint consistent: an event is applied entirely, once, or not at all.
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::Error;
use crate::envelope::{Envelope, Position};
use crate::members::{self, Change};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bucket_members (
    bucket_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    email     TEXT,
    role      TEXT NOT NULL,
    PRIMARY KEY (bucket_id, user_id)
);
CREATE TABLE IF NOT EXISTS subscriber_checkpoint (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    position     TEXT NOT NULL,
    time         TEXT,
    log_id       TEXT,
    from_history INTEGER NOT NULL,
    from_stream  INTEGER NOT NULL
);
INSERT OR IGNORE INTO subscriber_checkpoint VALUES (1, '0.0', NULL, NULL, 0, 0);
";

/// Where the subscriber is in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last event applied (`0.0` before the first).
    pub position: Position,
    /// When that event was recorded: where a new stream consumer starts.
    pub time: Option<DateTime<Utc>>,
    /// The log followed; envelopes of another log are refused.
    pub log_id: Option<String>,
    /// Events applied from the REST history and from the NATS stream, for operators (and the
    /// tests): their sum is the number of events in the log up to `position`.
    pub from_history: i64,
    pub from_stream: i64,
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    History,
    Stream,
}

/// What became of a batch of envelopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub applied: usize,
    /// At or before the checkpoint: redelivered, or already read from the other source.
    pub skipped: usize,
    /// An envelope whose `prevposition` is not the checkpoint: the events between are missing
    /// here. Nothing from it on was applied.
    pub gap: Option<Gap>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub checkpoint: Position,
    pub prevposition: Position,
    pub position: Position,
}

/// A row of `bucket_members`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    pub bucket_id: String,
    pub user_id: String,
    pub email: Option<String>,
    pub role: String,
}

pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (or creates) the database at `url`, e.g. `sqlite://members.db`.
    pub async fn open(url: &str) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Full);
        // One connection: one writer, and an in-memory database stays one database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        // WAL lets readers of the table read while the subscriber writes. Switched on once, when
        // the file is new: switching needs an exclusive lock that cannot wait for other readers.
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await?;
        if mode != "wal" && mode != "memory" {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn checkpoint(&self) -> Result<Checkpoint, Error> {
        read_checkpoint(&mut *self.pool.acquire().await?).await
    }

    /// Applies `events` in order, in one transaction with the checkpoint. An event at or
    /// before the checkpoint is skipped (delivery is at least once); one that does not follow
    /// the checkpoint stops the batch with a [`Gap`].
    pub async fn apply(&self, events: &[Envelope], via: Via) -> Result<Applied, Error> {
        // IMMEDIATE: take the write lock before reading the checkpoint. A deferred transaction
        // that read first fails at once (SQLITE_BUSY) if another connection wrote meanwhile,
        // e.g. a reader of the table that opened the database.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut checkpoint = read_checkpoint(&mut tx).await?;
        let mut outcome = Applied::default();
        for event in events {
            if event.position <= checkpoint.position {
                outcome.skipped += 1;
                continue;
            }
            match (&checkpoint.log_id, &event.logid) {
                (Some(ours), Some(theirs)) if ours != theirs => {
                    return Err(Error::OtherLog {
                        ours: ours.clone(),
                        theirs: theirs.clone(),
                    });
                }
                (None, Some(theirs)) => checkpoint.log_id = Some(theirs.clone()),
                _ => {}
            }
            if event.prevposition != checkpoint.position {
                outcome.gap = Some(Gap {
                    checkpoint: checkpoint.position,
                    prevposition: event.prevposition,
                    position: event.position,
                });
                break;
            }
            let changes = members::changes(event).map_err(|e| Error::Event {
                id: event.id.clone(),
                reason: e.to_string(),
            })?;
            for change in changes {
                write(&mut tx, change).await?;
            }
            checkpoint.position = event.position;
            checkpoint.time = Some(event.time);
            match via {
                Via::History => checkpoint.from_history += 1,
                Via::Stream => checkpoint.from_stream += 1,
            }
            outcome.applied += 1;
        }
        if outcome.applied > 0 {
            sqlx::query(
                "UPDATE subscriber_checkpoint SET position = ?, time = ?, log_id = ?, \
                 from_history = ?, from_stream = ? WHERE id = 1",
            )
            .bind(checkpoint.position.to_string())
            .bind(checkpoint.time)
            .bind(&checkpoint.log_id)
            .bind(checkpoint.from_history)
            .bind(checkpoint.from_stream)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The whole table, ordered by bucket and user.
    pub async fn members(&self) -> Result<Vec<Member>, Error> {
        let rows = sqlx::query(
            "SELECT bucket_id, user_id, email, role FROM bucket_members \
             ORDER BY bucket_id, user_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Member {
                    bucket_id: row.try_get("bucket_id")?,
                    user_id: row.try_get("user_id")?,
                    email: row.try_get("email")?,
                    role: row.try_get("role")?,
                })
            })
            .collect()
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

async fn read_checkpoint(conn: &mut SqliteConnection) -> Result<Checkpoint, Error> {
    let row = sqlx::query(
        "SELECT position, time, log_id, from_history, from_stream \
         FROM subscriber_checkpoint WHERE id = 1",
    )
    .fetch_one(conn)
    .await?;
    let position: String = row.try_get("position")?;
    Ok(Checkpoint {
        position: position.parse().map_err(|e| Error::Event {
            id: "the stored checkpoint".into(),
            reason: format!("{e}"),
        })?,
        time: row.try_get("time")?,
        log_id: row.try_get("log_id")?,
        from_history: row.try_get("from_history")?,
        from_stream: row.try_get("from_stream")?,
    })
}

async fn write(conn: &mut SqliteConnection, change: Change) -> Result<(), sqlx::Error> {
    let query = match change {
        Change::Join {
            bucket,
            user_id,
            email,
            role,
        } => sqlx::query(
            "INSERT INTO bucket_members (bucket_id, user_id, email, role) VALUES (?, ?, ?, ?) \
             ON CONFLICT (bucket_id, user_id) DO UPDATE SET email = excluded.email, role = excluded.role",
        )
        .bind(bucket)
        .bind(user_id)
        .bind(email)
        .bind(role),
        Change::SetRole {
            bucket,
            user_id,
            role,
        } => sqlx::query("UPDATE bucket_members SET role = ? WHERE bucket_id = ? AND user_id = ?")
            .bind(role)
            .bind(bucket)
            .bind(user_id),
        Change::Leave { bucket, user_id } => {
            sqlx::query("DELETE FROM bucket_members WHERE bucket_id = ? AND user_id = ?")
                .bind(bucket)
                .bind(user_id)
        }
        Change::DropBucket { bucket } => {
            sqlx::query("DELETE FROM bucket_members WHERE bucket_id = ?").bind(bucket)
        }
    };
    query.execute(conn).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn at(tx: u64) -> Position {
        Position { tx, gid: tx }
    }

    /// The event at `at(tx)`, following `at(prev)`.
    fn event(tx: u64, prev: u64, name: &str, data: Value) -> Envelope {
        Envelope {
            id: format!("bucket/b1/{tx}"),
            time: Utc::now(),
            aggregatetype: "bucket".into(),
            aggregateid: "b1".into(),
            eventname: name.into(),
            data,
            position: at(tx),
            prevposition: at(prev),
            logid: Some("log-1".into()),
        }
    }

    fn created(tx: u64, prev: u64) -> Envelope {
        event(
            tx,
            prev,
            "BucketCreated",
            json!({"owner": {"user_id": "u1", "email": "a@x.io"}}),
        )
    }

    fn added(tx: u64, prev: u64, user: &str) -> Envelope {
        event(
            tx,
            prev,
            "MemberAdded",
            json!({"user_id": user, "email": format!("{user}@x.io"), "role": "user"}),
        )
    }

    async fn store() -> Store {
        Store::open("sqlite::memory:").await.unwrap()
    }

    fn users(members: &[Member]) -> Vec<(&str, &str)> {
        members
            .iter()
            .map(|m| (m.user_id.as_str(), m.role.as_str()))
            .collect()
    }

    #[tokio::test]
    async fn events_apply_in_order_and_move_the_checkpoint() {
        let store = store().await;
        let outcome = store
            .apply(&[created(1, 0), added(2, 1, "u2")], Via::History)
            .await
            .unwrap();
        assert_eq!(outcome.applied, 2);
        let checkpoint = store.checkpoint().await.unwrap();
        assert_eq!(checkpoint.position, at(2));
        assert_eq!(checkpoint.log_id.as_deref(), Some("log-1"));
        assert_eq!((checkpoint.from_history, checkpoint.from_stream), (2, 0));
        assert_eq!(
            users(&store.members().await.unwrap()),
            [("u1", "owner"), ("u2", "user")]
        );
    }

    #[tokio::test]
    async fn a_redelivered_event_is_skipped() {
        let store = store().await;
        store
            .apply(&[created(1, 0), added(2, 1, "u2")], Via::History)
            .await
            .unwrap();
        let removed = event(3, 2, "MemberRemoved", json!({"user_id": "u2"}));
        store.apply(&[removed], Via::Stream).await.unwrap();
        // The stream delivers again what the history already gave.
        let again = store
            .apply(&[added(2, 1, "u2"), added(1, 0, "u9")], Via::Stream)
            .await
            .unwrap();
        assert_eq!((again.applied, again.skipped, again.gap), (0, 2, None));
        assert_eq!(users(&store.members().await.unwrap()), [("u1", "owner")]);
        let checkpoint = store.checkpoint().await.unwrap();
        assert_eq!((checkpoint.from_history, checkpoint.from_stream), (2, 1));
    }

    #[tokio::test]
    async fn an_event_that_does_not_follow_the_checkpoint_is_a_gap() {
        let store = store().await;
        store.apply(&[created(1, 0)], Via::History).await.unwrap();
        let outcome = store
            .apply(&[added(5, 4, "u2"), added(6, 5, "u3")], Via::Stream)
            .await
            .unwrap();
        assert_eq!(outcome.applied, 0);
        assert_eq!(
            outcome.gap,
            Some(Gap {
                checkpoint: at(1),
                prevposition: at(4),
                position: at(5)
            })
        );
        assert_eq!(store.checkpoint().await.unwrap().position, at(1));
        assert_eq!(users(&store.members().await.unwrap()), [("u1", "owner")]);
    }

    #[tokio::test]
    async fn a_gap_keeps_what_came_before_it() {
        let store = store().await;
        let outcome = store
            .apply(&[created(1, 0), added(3, 2, "u2")], Via::History)
            .await
            .unwrap();
        assert_eq!(outcome.applied, 1);
        assert!(outcome.gap.is_some());
        assert_eq!(store.checkpoint().await.unwrap().position, at(1));
    }

    #[tokio::test]
    async fn another_logs_events_are_refused() {
        let store = store().await;
        store.apply(&[created(1, 0)], Via::History).await.unwrap();
        let mut foreign = added(2, 1, "u2");
        foreign.logid = Some("log-2".into());
        let refused = store.apply(&[foreign], Via::Stream).await;
        assert!(
            matches!(refused, Err(Error::OtherLog { .. })),
            "{refused:?}"
        );
        assert_eq!(store.checkpoint().await.unwrap().position, at(1));
    }

    #[tokio::test]
    async fn a_deleted_bucket_takes_its_members() {
        let store = store().await;
        let deleted = event(3, 2, "BucketDeleted", json!({}));
        store
            .apply(&[created(1, 0), added(2, 1, "u2"), deleted], Via::History)
            .await
            .unwrap();
        assert_eq!(store.members().await.unwrap(), []);
    }
}
