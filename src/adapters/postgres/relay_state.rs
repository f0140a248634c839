//! The relay's cursor and its leadership lock.
use sqlx::{Connection, PgConnection, PgPool, Row};

use annals_contracts::{LogError, Position};

use super::event_log::parse_xid8;

/// Only one relay may publish at a time: whoever holds this advisory lock (per database).
const LEADER_LOCK: i64 = 0x616e_6e61_6c73_0001;

#[derive(Clone)]
pub struct PgRelayState {
    pool: PgPool,
    name: String,
}

impl PgRelayState {
    pub fn new(pool: PgPool, name: impl Into<String>) -> Self {
        Self {
            pool,
            name: name.into(),
        }
    }

    pub async fn load(&self) -> Result<Position, LogError> {
        let row =
            sqlx::query("SELECT tx_id::text AS tx, global_id FROM relay_cursor WHERE name = $1")
                .bind(&self.name)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| LogError(e.to_string()))?;
        match row {
            Some(r) => {
                let tx: String = r.get("tx");
                Ok(Position::new(parse_xid8(&tx)?, r.get("global_id")))
            }
            None => Ok(Position::ZERO),
        }
    }

    pub async fn save(&self, position: Position) -> Result<(), LogError> {
        sqlx::query(
            "INSERT INTO relay_cursor (name, tx_id, global_id) VALUES ($1, $2::text::xid8, $3)
             ON CONFLICT (name) DO UPDATE
                SET tx_id = EXCLUDED.tx_id, global_id = EXCLUDED.global_id, updated_at = now()",
        )
        .bind(&self.name)
        .bind(position.tx.to_string())
        .bind(position.gid)
        .execute(&self.pool)
        .await
        .map_err(|e| LogError(e.to_string()))?;
        Ok(())
    }
}

/// Held leadership: a dedicated connection owning the advisory lock. Dropping it closes the
/// connection, which releases the lock; so does a crash.
pub struct PgRelayLeadership {
    conn: PgConnection,
}

impl PgRelayLeadership {
    /// `None` if another relay leads.
    pub async fn try_acquire(database_url: &str) -> Result<Option<Self>, LogError> {
        let mut conn = PgConnection::connect(database_url)
            .await
            .map_err(|e| LogError(e.to_string()))?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| LogError(e.to_string()))?;
        Ok(got.then_some(Self { conn }))
    }

    /// Whether the lock is still ours (the connection is alive).
    pub async fn still_held(&mut self) -> bool {
        self.conn.ping().await.is_ok()
    }
}
