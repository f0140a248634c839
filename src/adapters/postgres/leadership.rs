//! Leadership by Postgres advisory lock: the lease is a dedicated connection holding the lock
//! of the role, so a crash (the connection closes) ends it at once.
use async_trait::async_trait;
use sqlx::{Connection, PgConnection};

use annals_contracts::{Leadership, Lease, LogError};

pub struct PgLeadership {
    database_url: String,
}

impl PgLeadership {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
        }
    }
}

/// The advisory lock key of a role: FNV-1a over `annals:<role>` (stable across builds and
/// processes, unlike `std`'s hasher).
pub fn lock_key(role: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"annals:".iter().chain(role.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

struct PgLease {
    conn: PgConnection,
}

#[async_trait]
impl Lease for PgLease {
    async fn still_held(&mut self) -> bool {
        self.conn.ping().await.is_ok()
    }
}

#[async_trait]
impl Leadership for PgLeadership {
    async fn try_lead(&self, role: &str) -> Result<Option<Box<dyn Lease>>, LogError> {
        let mut conn = PgConnection::connect(&self.database_url)
            .await
            .map_err(|e| LogError(e.to_string()))?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key(role))
            .fetch_one(&mut conn)
            .await
            .map_err(|e| LogError(e.to_string()))?;
        Ok(got.then(|| Box::new(PgLease { conn }) as Box<dyn Lease>))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_distinct_stable_keys() {
        assert_eq!(lock_key("projections"), lock_key("projections"));
        assert_ne!(lock_key("projections"), lock_key("invitations"));
    }
}
