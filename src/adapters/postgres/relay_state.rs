//! The relay's cursor (its leadership is a `PgLeadership` role, like the projections').
use sqlx::{PgPool, Row};

use annals_contracts::{LogError, Position};

use super::event_log::parse_xid8;

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
