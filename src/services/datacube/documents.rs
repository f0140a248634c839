//! Documents: insert (one or many, with an import's many more), query, update and delete by
//! filter. Every write of many documents is one append through each document's aggregate;
//! updates and deletes resolve their matches in the read model (which the caller brought up
//! to the command's arrival), then append with the versions they read from the log, so a
//! concurrent change makes the whole command run again rather than be lost.
use std::collections::HashSet;

use chrono::Utc;
use cqrs_es::persist::SerializedEvent;
use serde_json::{Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{Filter, Query};
use annals_domain::datacube::{
    Collection, Database, DatabaseCommand, Document, DocumentCommand, DocumentError, Update,
    document::stream_id, valid_name,
};
use annals_projections::datacube::{DATABASES, DOCUMENTS};

use super::query::{self, Projection};
use super::{ATTEMPTS, Datacube, not_found};
use crate::es::commands::{CommandError, Metadata};
use crate::services::error::AppError;
use crate::services::workspaces::service::object_id;

/// Largest event (a document and its envelope) the bus carries: NATS's default 1 MiB, less
/// room for the envelope.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024 - 16 * 1024;
/// Most documents one update or delete by filter changes.
pub const MAX_MATCHES: u32 = 10_000;

/// Where a request holds its document `i`: `data[3]`, or `update_data` for an upsert.
pub type Naming<'a> = &'a (dyn Fn(usize) -> String + Sync);

/// A domain error about a document of a request, its field under `item` (`data[3]`).
pub(super) fn at_item(item: &str, e: CommandError<DocumentError>) -> AppError {
    match e {
        CommandError::Domain(e) => match AppError::from(e) {
            AppError::Invalid { field, message } => AppError::Invalid {
                field: format!("{item}.{field}"),
                message,
            },
            AppError::Duplicate { field, message } => AppError::Duplicate {
                field: format!("{item}.{field}"),
                message,
            },
            other => other,
        },
        e => e.into(),
    }
}

/// A collection name as a request gives it.
pub fn collection_name(name: &str, field: &str) -> Result<String, AppError> {
    let name = name.trim();
    if !valid_name(name) {
        return Err(AppError::invalid(
            field,
            "must be 1 to 100 letters, digits, '_' or '-'",
        ));
    }
    Ok(name.to_string())
}

/// The document as the read model shows it, from its state in the log (to re-check a filter).
fn as_viewed(document: &Document, version: usize) -> Value {
    let mut doc = document.body.clone();
    doc.insert("_id".into(), json!(document.document_id));
    doc.insert("_created_at".into(), json!(document.created_at));
    doc.insert("_updated_at".into(), json!(document.updated_at));
    doc.insert("_version".into(), json!(version));
    Value::Object(doc)
}

/// The collection a change by filter is about, and who asks.
#[derive(Debug, Clone, Copy)]
pub struct InCollection<'a> {
    pub owner: &'a str,
    pub database_id: &'a str,
    pub collection: &'a str,
}

/// What a change by filter did.
#[derive(Debug, Default)]
pub struct Changed {
    pub matched: usize,
    pub changed: usize,
    /// Where its events landed, if it wrote any.
    pub position: Option<Position>,
    /// The id of the document an upsert inserted, matching nothing.
    pub upserted: Option<String>,
}

impl Datacube {
    /// The collection `name` of a database the caller owns, as the read model has it; another
    /// owner's database, or an unknown collection, is not found.
    pub async fn viewed_collection(
        &self,
        owner: &str,
        database_id: &str,
        name: &str,
    ) -> Result<String, AppError> {
        let database = self.viewed_database(owner, database_id).await?;
        database["collections"][name]["collection_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| AppError::NotFound(format!("collection \"{name}\" not found")))
    }

    /// The read model's document of a database the caller owns.
    pub async fn viewed_database(&self, owner: &str, database_id: &str) -> Result<Value, AppError> {
        let database = self
            .views
            .get(DATABASES, database_id)
            .await?
            .ok_or_else(not_found)?;
        if database["user_id"].as_str() != Some(owner) {
            return Err(not_found());
        }
        Ok(database)
    }

    /// Inserts `documents` (JSON objects) into the collection, created without a schema if
    /// missing; all or none. `root` names the request field errors point into.
    pub async fn insert(
        &self,
        owner: &str,
        database_id: &str,
        collection: &str,
        documents: Vec<Value>,
        root: &str,
        metadata: &Metadata,
    ) -> Result<(Vec<String>, Position), AppError> {
        if documents.is_empty() {
            return Err(AppError::invalid(root, "holds no documents"));
        }
        let naming = |i: usize| format!("{root}[{i}]");
        self.insert_named(owner, database_id, collection, documents, &naming, metadata)
            .await
    }

    /// [`Datacube::insert`], errors naming document `i` by `item(i)`.
    async fn insert_named(
        &self,
        owner: &str,
        database_id: &str,
        collection: &str,
        documents: Vec<Value>,
        item: Naming<'_>,
        metadata: &Metadata,
    ) -> Result<(Vec<String>, Position), AppError> {
        let collection = collection_name(collection, "collection_name")?;
        let mut bodies = Vec::with_capacity(documents.len());
        let mut seen = HashSet::new();
        let now = Utc::now();
        for (i, document) in documents.into_iter().enumerate() {
            let Value::Object(mut body) = document else {
                return Err(AppError::invalid(item(i), "must be a JSON object"));
            };
            let id = match body.remove("_id") {
                None | Some(Value::Null) => object_id(now),
                Some(Value::String(id)) => id,
                Some(_) => {
                    return Err(AppError::invalid(
                        format!("{}._id", item(i)),
                        "must be a string",
                    ));
                }
            };
            if !seen.insert(id.clone()) {
                return Err(AppError::Duplicate {
                    field: format!("{}._id", item(i)),
                    message: "appears twice in the request".into(),
                });
            }
            bodies.push((id, body));
        }
        let mut fresh = true;
        for _ in 0..ATTEMPTS {
            let (events, target) = self
                .collection_for_insert(owner, database_id, &collection, metadata)
                .await?;
            let mut events = events;
            for (i, (id, body)) in bodies.iter().enumerate() {
                let insert = DocumentCommand::Insert {
                    database_id: database_id.to_string(),
                    collection: target.clone(),
                    document_id: id.clone(),
                    body: body.clone(),
                    at: now,
                };
                let prepared = self
                    .documents
                    .prepare(
                        &stream_id(&target.collection_id, id),
                        insert,
                        metadata,
                        fresh,
                    )
                    .await
                    .map_err(|e| at_item(&item(i), e))?;
                for event in &prepared.events {
                    check_size(event, &item(i))?;
                }
                events.extend(prepared.events);
            }
            if events.is_empty() {
                return Err(AppError::invalid(item(0), "holds no documents"));
            }
            if let Some(position) = self.together.append(events).await? {
                let ids = bodies.into_iter().map(|(id, _)| id).collect();
                return Ok((ids, position));
            }
            // Someone took an id or changed the database: read every stream this time.
            fresh = false;
        }
        Err(AppError::Conflict)
    }

    /// The collection to insert into and, when it is new, the database's events creating it.
    pub(super) async fn collection_for_insert(
        &self,
        owner: &str,
        database_id: &str,
        name: &str,
        metadata: &Metadata,
    ) -> Result<(Vec<SerializedEvent>, Collection), AppError> {
        let database: Database = self.owned(owner, database_id).await?;
        if let Some(c) = database.collection(name) {
            return Ok((vec![], c.clone()));
        }
        let collection = Collection {
            collection_id: object_id(Utc::now()),
            name: name.to_string(),
            fields: vec![],
        };
        let add = DatabaseCommand::AddCollections {
            by: owner.to_string(),
            collections: vec![collection.clone()],
            at: Utc::now(),
        };
        let prepared = self
            .databases
            .prepare(database_id, add, metadata, false)
            .await?;
        Ok((prepared.events, collection))
    }

    /// One page of the collection's documents matching `filter`.
    pub async fn find(
        &self,
        collection_id: &str,
        filter: Filter,
        sort: Vec<annals_contracts::filter::Sort>,
        (page, page_size): (u32, u32),
        projection: &Projection,
    ) -> Result<(Vec<Value>, u64), AppError> {
        let query = Query {
            within: Some(query::within(collection_id)),
            ..query::paged(filter, sort, page, page_size)
        };
        let found = self.views.find(DOCUMENTS, &query).await?;
        let data = found
            .items
            .into_iter()
            .map(|(_, doc)| query::shown(doc, projection))
            .collect();
        Ok((data, found.total.unwrap_or(0)))
    }

    /// The collection's live documents (what `num_documents` shows).
    pub async fn count(&self, collection_id: &str) -> Result<u64, AppError> {
        let mut query = Query::new(Filter::All, vec![], 0);
        query.count = true;
        query.within = Some(query::within(collection_id));
        Ok(self.views.find(DOCUMENTS, &query).await?.total.unwrap_or(0))
    }

    /// Changes the documents matching `filter` (the first in insertion order, or with `many`
    /// every one) by `change`, a command per matched document.
    async fn change_matching(
        &self,
        InCollection {
            owner,
            database_id,
            collection,
        }: InCollection<'_>,
        filter: &Filter,
        many: bool,
        metadata: &Metadata,
        change: impl Fn(&Collection) -> DocumentCommand,
    ) -> Result<Changed, AppError> {
        for _ in 0..ATTEMPTS {
            let database = self.owned(owner, database_id).await?;
            let target = database.collection(collection).ok_or_else(|| {
                AppError::NotFound(format!("collection \"{collection}\" not found"))
            })?;
            let limit = if many { MAX_MATCHES + 1 } else { 1 };
            let query = Query {
                within: Some(query::within(&target.collection_id)),
                ..Query::new(filter.clone(), query::sort(None)?, limit)
            };
            let found = self.views.find(DOCUMENTS, &query).await?;
            if found.items.len() > MAX_MATCHES as usize {
                return Err(AppError::TooLarge {
                    field: "filters".into(),
                    message: format!("matches more than {MAX_MATCHES} documents; narrow it"),
                });
            }
            let mut outcome = Changed::default();
            let mut events = Vec::new();
            for (stream, _) in found.items {
                let prepared = match self
                    .documents
                    .prepare(&stream, change(target), metadata, false)
                    .await
                {
                    Ok(prepared) => prepared,
                    // Deleted since the read model showed it.
                    Err(CommandError::Domain(DocumentError::NotFound)) => continue,
                    Err(e) => return Err(e.into()),
                };
                let version = prepared.events.first().map_or(0, |e| e.sequence - 1);
                if !filter.matches(&as_viewed(&prepared.before, version)) {
                    continue;
                }
                outcome.matched += 1;
                if !prepared.events.is_empty() {
                    outcome.changed += 1;
                }
                for event in &prepared.events {
                    check_size(event, "update_data")?;
                }
                events.extend(prepared.events);
            }
            if events.is_empty() {
                return Ok(outcome);
            }
            if let Some(position) = self.together.append(events).await? {
                outcome.position = Some(position);
                return Ok(outcome);
            }
        }
        Err(AppError::Conflict)
    }

    pub async fn update(
        &self,
        target: InCollection<'_>,
        filter: &Filter,
        update: Update,
        many: bool,
        metadata: &Metadata,
    ) -> Result<Changed, AppError> {
        let at = Utc::now();
        self.change_matching(target, filter, many, metadata, |c| {
            DocumentCommand::Update {
                update: update.clone(),
                collection: c.clone(),
                at,
            }
        })
        .await
    }

    /// [`Datacube::update`], or when nothing matches, an insert of `seed` (the filter's
    /// equalities) changed by `update`.
    pub async fn upsert(
        &self,
        target: InCollection<'_>,
        filter: &Filter,
        seed: serde_json::Map<String, Value>,
        update: Update,
        many: bool,
        metadata: &Metadata,
    ) -> Result<Changed, AppError> {
        let done = self
            .update(target, filter, update.clone(), many, metadata)
            .await?;
        if done.matched > 0 {
            return Ok(done);
        }
        let body = update.apply(&seed).map_err(AppError::from)?;
        let naming = |_: usize| "update_data".to_string();
        let (ids, position) = self
            .insert_named(
                target.owner,
                target.database_id,
                target.collection,
                vec![Value::Object(body)],
                &naming,
                metadata,
            )
            .await?;
        Ok(Changed {
            position: Some(position),
            upserted: ids.into_iter().next(),
            ..Changed::default()
        })
    }

    pub async fn delete(
        &self,
        target: InCollection<'_>,
        filter: &Filter,
        many: bool,
        metadata: &Metadata,
    ) -> Result<Changed, AppError> {
        let at = Utc::now();
        self.change_matching(target, filter, many, metadata, |_| {
            DocumentCommand::Delete { at }
        })
        .await
    }
}

/// Refuses an event the bus could not carry (413, naming the document).
pub(super) fn check_size(event: &SerializedEvent, field: &str) -> Result<(), AppError> {
    let size = event.payload.to_string().len();
    if size > MAX_EVENT_BYTES {
        return Err(AppError::TooLarge {
            field: field.to_string(),
            message: format!("is {size} bytes; a document may be at most {MAX_EVENT_BYTES}"),
        });
    }
    Ok(())
}

/// The body of a plain map or operator update, as `update_data` sends it.
pub fn parse_update(value: &Value) -> Result<Update, AppError> {
    Update::parse(value).map_err(AppError::from)
}

/// A JSON value holding one object or an array of them, as a list.
pub fn documents_of(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}
