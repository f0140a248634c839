//! `datacube_documents`: one document per live DataCube document, as the Data API answers it
//! (`_id`, the body, `_created_at`, `_updated_at`, `_version`), plus [`META`]: the collection id
//! every query is scoped by, and the document's place in the log (the default order).
//!
//! | id | fields |
//! |---|---|
//! | `<collection id>:<document id>` | the body, `_id _created_at _updated_at _version`, `_dc: {c: collection id, n: insertion order}` |
use annals_domain::datacube::{Document, DocumentEvent};
use cqrs_es::Aggregate;
use serde_json::{Value, json};

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
        if event.aggregatetype != Document::TYPE {
            return Ok(vec![]);
        }
        let decoded: DocumentEvent = event.decode().map_err(|e| ProjectionError {
            projection: NAME,
            event: event.id.clone(),
            reason: e.to_string(),
        })?;
        let id = event.aggregateid.clone();
        Ok(match decoded {
            DocumentEvent::DocumentInserted {
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
                doc.insert(
                    META.into(),
                    json!({"c": collection_id, "n": event.position.gid}),
                );
                vec![ViewOp::upsert(DOCUMENTS, id, Value::Object(doc))]
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
