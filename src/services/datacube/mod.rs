//! Document database use cases (DataCube): databases and collections ([`databases`]),
//! documents ([`documents`]) and their queries ([`query`]). The rules stay in the domain
//! (`annals_domain::datacube`); this layer makes ids, checks ownership on the log's state, and
//! appends commands spanning many streams together ([`Together`]).
pub mod databases;
pub mod documents;
pub mod import;
pub mod past;
pub mod query;
pub mod split;

use std::sync::Arc;

use annals_contracts::ViewStore;
use annals_domain::datacube::{Database, DatabaseName, Document};

use crate::es::commands::{Commands, MAX_ATTEMPTS, WriteSide};
use crate::es::together::Together;
use crate::services::error::AppError;
use crate::services::history::History;
use crate::services::workspaces::service::is_object_id;

pub use databases::{CollectionReport, NewCollection};

pub struct Datacube {
    pub databases: Commands<Database>,
    pub names: Commands<DatabaseName>,
    pub documents: Commands<Document>,
    pub together: Together,
    pub views: Arc<dyn ViewStore>,
    /// The log, for documents' histories and queries `as_of` a time.
    pub history: History,
    /// Largest import file, in bytes.
    pub import_max_bytes: u64,
}

impl Datacube {
    pub fn new(
        write: &WriteSide,
        views: Arc<dyn ViewStore>,
        history: History,
        import_max_bytes: u64,
    ) -> Self {
        Self {
            databases: Commands::new(write, ()),
            names: Commands::new(write, ()),
            documents: Commands::new(write, ()),
            together: Together::new(write),
            views,
            history,
            import_max_bytes,
        }
    }

    /// The caller's database, read from the log (so a write never acts on a stale one);
    /// anyone else's, or a malformed id, is not found.
    pub async fn owned(&self, owner: &str, database_id: &str) -> Result<Database, AppError> {
        if !is_object_id(database_id) {
            return Err(not_found());
        }
        let database = self.databases.load(database_id).await?;
        database.owned_by(owner)?;
        Ok(database)
    }
}

pub fn not_found() -> AppError {
    AppError::NotFound("database not found".into())
}

/// Conflicts on a multi-stream append before giving up (409).
const ATTEMPTS: u32 = MAX_ATTEMPTS;
