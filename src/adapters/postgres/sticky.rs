//! Connections kept by one hot path between uses instead of going back to the pool.
//!
//! sqlx pings every connection returned to its pool (a round trip, and a wake-up of the server
//! process) before it can be handed out again. The relay, the projection commits, the append
//! lanes and the command path's stream reads use a connection many times a second, so they keep
//! a couple aside; a connection that saw an error is dropped (back to the pool, which tests it)
//! instead.
use std::sync::{Arc, Mutex};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

/// Spare connections kept per user; more concurrent uses borrow from the pool as usual.
const SPARE: usize = 2;

#[derive(Clone)]
pub struct Sticky {
    pool: PgPool,
    spare: Arc<Mutex<Vec<PoolConnection<Postgres>>>>,
}

impl Sticky {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            spare: Arc::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn get(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        let spare = self.spare.lock().expect("spare connections").pop();
        match spare {
            Some(conn) => Ok(conn),
            None => self.pool.acquire().await,
        }
    }

    /// Keeps a connection whose last use succeeded.
    pub fn put_back(&self, conn: PoolConnection<Postgres>) {
        let mut spare = self.spare.lock().expect("spare connections");
        if spare.len() < SPARE {
            spare.push(conn);
        }
    }
}
