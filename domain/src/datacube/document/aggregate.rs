use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{DocumentEvent, Update, check_body};
use crate::datacube::Collection;
use crate::decide::Decide;

/// The stream of document `document_id` in the collection `collection_id`.
pub fn stream_id(collection_id: &str, document_id: &str) -> String {
    format!("{collection_id}:{document_id}")
}

/// Longest client-chosen `_id`, in characters.
const MAX_ID: usize = 200;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub database_id: String,
    pub collection_id: String,
    pub collection: String,
    pub document_id: String,
    pub body: Map<String, Value>,
    pub inserted: bool,
    pub deleted: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DocumentCommand {
    /// `collection` is the collection as it is now, for its schema.
    Insert {
        database_id: String,
        collection: Collection,
        document_id: String,
        body: Map<String, Value>,
        at: DateTime<Utc>,
    },
    Update {
        update: Update,
        collection: Collection,
        at: DateTime<Utc>,
    },
    Delete {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("_id: a document with this id already exists")]
    AlreadyExists,
    #[error("document not found")]
    NotFound,
    #[error("_id: must be a string of 1 to 200 characters")]
    BadId,
    #[error("{field}: expected {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    #[error("{0}: is set by the service")]
    ReservedField(String),
    #[error("{0}: keys cannot start with '$'")]
    DollarKey(String),
    #[error("{0}: nested too deeply")]
    TooDeep(String),
    #[error("update_data: {0}")]
    BadUpdate(&'static str),
    #[error("update_data: unknown operator \"{0}\"")]
    UnknownOperator(String),
    #[error("update_data: \"{op}\" expects {expected}")]
    BadOperand { op: String, expected: &'static str },
    #[error("{0}: not a valid path here")]
    BadPath(String),
    #[error("update_data: paths \"{0}\" and \"{1}\" conflict")]
    ConflictingPaths(String, String),
    #[error("{0}: is not a number")]
    NotANumber(String),
    #[error("{0}: is not an array")]
    NotAnArray(String),
}

impl DocumentError {
    /// The field the error is about, for the error body.
    pub fn field(&self) -> String {
        match self {
            DocumentError::AlreadyExists | DocumentError::BadId => "_id".into(),
            DocumentError::NotFound => "filters".into(),
            DocumentError::WrongType { field, .. } => field.clone(),
            DocumentError::ReservedField(f)
            | DocumentError::DollarKey(f)
            | DocumentError::TooDeep(f)
            | DocumentError::BadPath(f)
            | DocumentError::NotANumber(f)
            | DocumentError::NotAnArray(f) => f.clone(),
            DocumentError::BadUpdate(_)
            | DocumentError::UnknownOperator(_)
            | DocumentError::BadOperand { .. }
            | DocumentError::ConflictingPaths(..) => "update_data".into(),
        }
    }
}

impl Document {
    pub fn exists(&self) -> bool {
        self.inserted && !self.deleted
    }
}

/// A body fit to store in `collection`: well-formed, declared fields of their type.
fn valid(body: &Map<String, Value>, collection: &Collection) -> Result<(), DocumentError> {
    check_body(body)?;
    if let Some(field) = collection.mistyped(body) {
        return Err(DocumentError::WrongType {
            field: field.name.clone(),
            expected: field.field_type.name(),
        });
    }
    Ok(())
}

/// The top-level differences from `old` to `new`: new values, and keys removed.
fn changes(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> (Map<String, Value>, Vec<String>) {
    let set = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unset = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (set, unset)
}

impl Decide for Document {
    fn decide(&self, command: DocumentCommand) -> Result<Vec<DocumentEvent>, DocumentError> {
        Ok(match command {
            DocumentCommand::Insert {
                database_id,
                collection,
                document_id,
                body,
                at,
            } => {
                if self.inserted {
                    return Err(DocumentError::AlreadyExists);
                }
                let len = document_id.chars().count();
                if !(1..=MAX_ID).contains(&len) || document_id.contains('\0') {
                    return Err(DocumentError::BadId);
                }
                valid(&body, &collection)?;
                vec![DocumentEvent::DocumentInserted {
                    database_id,
                    collection_id: collection.collection_id,
                    collection: collection.name,
                    document_id,
                    body,
                    at,
                }]
            }
            DocumentCommand::Update {
                update,
                collection,
                at,
            } => {
                if !self.exists() {
                    return Err(DocumentError::NotFound);
                }
                let new = update.apply(&self.body)?;
                valid(&new, &collection)?;
                let (set, unset) = changes(&self.body, &new);
                if set.is_empty() && unset.is_empty() {
                    vec![]
                } else {
                    vec![DocumentEvent::DocumentUpdated { set, unset, at }]
                }
            }
            DocumentCommand::Delete { at } => {
                if !self.exists() {
                    return Err(DocumentError::NotFound);
                }
                vec![DocumentEvent::DocumentDeleted { at }]
            }
        })
    }
}

impl Aggregate for Document {
    const TYPE: &'static str = "datacube_document";
    type Command = DocumentCommand;
    type Event = DocumentEvent;
    type Error = DocumentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: DocumentCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), DocumentError> {
        crate::decide::handle(self, command, sink).await
    }

    fn apply(&mut self, event: DocumentEvent) {
        match event {
            DocumentEvent::DocumentInserted {
                database_id,
                collection_id,
                collection,
                document_id,
                body,
                at,
            } => {
                self.database_id = database_id;
                self.collection_id = collection_id;
                self.collection = collection;
                self.document_id = document_id;
                self.body = body;
                self.inserted = true;
                self.created_at = Some(at);
                self.updated_at = Some(at);
            }
            DocumentEvent::DocumentUpdated { set, unset, at } => {
                for key in unset {
                    self.body.remove(&key);
                }
                self.body.extend(set);
                self.updated_at = Some(at);
            }
            DocumentEvent::DocumentDeleted { at } => {
                self.deleted = true;
                self.updated_at = Some(at);
            }
        }
    }
}
