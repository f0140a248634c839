use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::datacube::Collection;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum DatabaseEvent {
    DatabaseCreated {
        database_id: String,
        owner: String,
        /// Lower-cased, as shown.
        name: String,
        collections: Vec<Collection>,
        at: DateTime<Utc>,
    },
    CollectionsAdded {
        collections: Vec<Collection>,
        at: DateTime<Utc>,
    },
    /// The collections' documents leave the read models; their streams stay for auditors.
    CollectionsDropped {
        collection_ids: Vec<String>,
        names: Vec<String>,
        at: DateTime<Utc>,
    },
    DatabaseDropped {
        at: DateTime<Utc>,
    },
}

impl DomainEvent for DatabaseEvent {
    fn event_type(&self) -> String {
        match self {
            DatabaseEvent::DatabaseCreated { .. } => "DatabaseCreated",
            DatabaseEvent::CollectionsAdded { .. } => "CollectionsAdded",
            DatabaseEvent::CollectionsDropped { .. } => "CollectionsDropped",
            DatabaseEvent::DatabaseDropped { .. } => "DatabaseDropped",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
