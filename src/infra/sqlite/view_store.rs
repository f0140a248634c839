// PLACEHOLDER so the crate builds while the SQLite view store is written; replaced wholesale.
use async_trait::async_trait;
use serde_json::Value;
use sqlx::SqlitePool;

use annals_projections::filter::Query;
use annals_projections::{CommitError, Page, Position, StoreError, ViewOp, ViewStore};

#[derive(Clone)]
pub struct SqliteViewStore {
    #[allow(dead_code)]
    pool: SqlitePool,
}

impl SqliteViewStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

fn pending() -> StoreError {
    StoreError::Unavailable("sqlite view store not written yet".into())
}

#[async_trait]
impl ViewStore for SqliteViewStore {
    async fn checkpoint(&self, _: &str) -> Result<Position, StoreError> {
        Err(pending())
    }
    async fn commit(&self, _: &str, _: Position, _: Position, _: &[ViewOp]) -> Result<(), CommitError> {
        Err(pending().into())
    }
    async fn reset(&self, _: &str, _: &[&'static str]) -> Result<(), StoreError> {
        Err(pending())
    }
    async fn get(&self, _: &str, _: &str) -> Result<Option<Value>, StoreError> {
        Err(pending())
    }
    async fn find(&self, _: &str, _: &Query) -> Result<Page, StoreError> {
        Err(pending())
    }
    async fn dump(&self, _: &str) -> Result<Vec<(String, Value)>, StoreError> {
        Err(pending())
    }
}
