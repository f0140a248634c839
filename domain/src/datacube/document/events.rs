use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum DocumentEvent {
    DocumentInserted {
        database_id: String,
        collection_id: String,
        collection: String,
        document_id: String,
        body: Map<String, Value>,
        at: DateTime<Utc>,
    },
    /// What changed, as top-level fields: their new values, and those removed.
    DocumentUpdated {
        set: Map<String, Value>,
        unset: Vec<String>,
        at: DateTime<Utc>,
    },
    DocumentDeleted {
        at: DateTime<Utc>,
    },
}

impl DomainEvent for DocumentEvent {
    fn event_type(&self) -> String {
        match self {
            DocumentEvent::DocumentInserted { .. } => "DocumentInserted",
            DocumentEvent::DocumentUpdated { .. } => "DocumentUpdated",
            DocumentEvent::DocumentDeleted { .. } => "DocumentDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
