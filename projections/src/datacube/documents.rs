//! `datacube_documents`: one document per live DataCube document, as the Data API answers it
//! (`_id`, the body, `_created_at`, `_updated_at`, `_version`), plus [`META`]: the collection id
//! every query is scoped by, the database id, and the document's place in the log (the default
//! order).
//!
//! | id | fields |
//! |---|---|
//! | `<collection id>:<document id>` | the body, `_id _created_at _updated_at _version`, `_dc: {c: collection id, d: database id, n: insertion order}` |
//!
//! Each row's owner is its collection id and its ord `_dc.n`, for queries in insertion order.
//!
//! A dropped collection or database takes its documents out (their streams stay in the log).
use annals_domain::datacube::{Database, DatabaseEvent, Document, DocumentEvent};
use cqrs_es::Aggregate;
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_contracts::{Envelope, Nested, ViewOp};

use crate::{Projection, ProjectionError};

pub const DOCUMENTS: &str = "datacube_documents";
/// The key of the service's own fields in a document view (never shown to clients).
pub const META: &str = "_dc";
const NAME: &str = "datacube_documents";

/// The view id of a document: its stream id.
pub fn document_view_id(collection_id: &str, document_id: &str) -> String {
    annals_domain::datacube::document::stream_id(collection_id, document_id)
}

pub struct DocumentViews;

impl Projection for DocumentViews {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collections(&self) -> &'static [&'static str] {
        &[DOCUMENTS]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        let unreadable = |e| ProjectionError::unreadable(NAME, event, e);
        if event.aggregatetype == Database::TYPE {
            let decoded: DatabaseEvent = event.decode().map_err(unreadable)?;
            return Ok(dropped(&event.aggregateid, decoded).into_iter().collect());
        }
        if event.aggregatetype != Document::TYPE {
            return Ok(vec![]);
        }
        let decoded: DocumentEvent = event.decode().map_err(unreadable)?;
        let id = event.aggregateid.clone();
        Ok(match decoded {
            DocumentEvent::DocumentInserted {
                database_id,
                collection_id,
                document_id,
                body,
                at,
                ..
            } => {
                let mut doc = body;
                doc.insert("_id".into(), json!(document_id));
                doc.insert("_created_at".into(), json!(at));
                doc.insert("_updated_at".into(), json!(at));
                doc.insert("_version".into(), json!(event.sequence));
                let order = event.position.gid;
                doc.insert(
                    META.into(),
                    json!({"c": collection_id, "d": database_id, "n": order}),
                );
                // Listed under its collection in insertion order (`Within`): pages in that
                // order walk an index instead of sorting every match.
                vec![ViewOp::Upsert {
                    collection: DOCUMENTS.into(),
                    id,
                    doc: Value::Object(doc),
                    owner: Some(collection_id),
                    ord: Some(order),
                }]
            }
            DocumentEvent::DocumentUpdated { set, unset, at } => {
                let mut patch = set;
                patch.insert("_updated_at".into(), json!(at));
                patch.insert("_version".into(), json!(event.sequence));
                unset
                    .into_iter()
                    .map(|key| ViewOp::Nested {
                        collection: DOCUMENTS.into(),
                        id: id.clone(),
                        path: vec![key],
                        change: Nested::Remove,
                    })
                    .chain([ViewOp::merge(DOCUMENTS, id.clone(), Value::Object(patch))])
                    .collect()
            }
            DocumentEvent::DocumentDeleted { .. } => vec![ViewOp::delete(DOCUMENTS, id)],
        })
    }
}

/// The documents a database event takes out of the read model: those of dropped collections,
/// or of a dropped database.
fn dropped(database_id: &str, event: DatabaseEvent) -> Option<ViewOp> {
    let meta = |key: &str| FieldPath::parse(&format!("{META}.{key}")).expect("a valid path");
    let matching = match event {
        DatabaseEvent::CollectionsDropped { collection_ids, .. } => Filter::In(
            meta("c"),
            collection_ids.into_iter().map(Value::String).collect(),
        ),
        DatabaseEvent::DatabaseDropped { .. } => Filter::Eq(meta("d"), json!(database_id)),
        DatabaseEvent::DatabaseCreated { .. } | DatabaseEvent::CollectionsAdded { .. } => {
            return None;
        }
    };
    Some(ViewOp::delete_matching(DOCUMENTS, matching))
}
