//! The past of documents, from their events: one document's versions (who, when, through
//! which credential, what changed), and a collection as it was at a time (`as_of`), folded
//! through the same projection as the live read model.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde_json::{Value, json};

use annals_contracts::filter::{Filter, Sort};
use annals_contracts::{Envelope, Position, ViewOp};
use annals_domain::datacube::{Document, DocumentEvent, document::stream_id};
use annals_projections::Projection as _;
use annals_projections::datacube::DocumentViews;

use super::Datacube;
use super::query::{self, Projection};
use crate::services::error::AppError;
use crate::services::history::Selection;

/// Events read per page of the log when folding a collection's past.
const PAGE: usize = 1000;

/// What one event did to a document, for its history.
fn change(event: &DocumentEvent) -> (&'static str, Value) {
    match event {
        DocumentEvent::DocumentInserted { body, .. } => ("inserted", json!({"set": body})),
        DocumentEvent::DocumentUpdated { set, unset, .. } => {
            ("updated", json!({"set": set, "unset": unset}))
        }
        DocumentEvent::DocumentDeleted { .. } => ("deleted", json!({})),
    }
}

/// Applies a projection's changes to documents held in memory, as the view stores do.
fn apply(docs: &mut BTreeMap<String, Value>, op: ViewOp) {
    match op {
        ViewOp::Upsert { id, doc, .. } => {
            docs.insert(id, doc);
        }
        ViewOp::Merge { id, patch, .. } => {
            if let (Some(Value::Object(doc)), Value::Object(patch)) = (docs.get_mut(&id), patch) {
                doc.extend(patch);
            }
        }
        ViewOp::Nested {
            id, path, change, ..
        } => {
            if let Some(doc) = docs.get_mut(&id) {
                change.apply(doc, &path);
            }
        }
        ViewOp::Delete { id, .. } => {
            docs.remove(&id);
        }
        ViewOp::DeleteMatching { filter, .. } => docs.retain(|_, doc| !filter.matches(doc)),
        // Document views never count.
        ViewOp::Increment { .. } => {}
    }
}

impl Datacube {
    /// Every version of a document of a collection the caller owns, deleted ones included.
    pub async fn document_history(
        &self,
        collection_id: &str,
        document_id: &str,
    ) -> Result<Vec<Value>, AppError> {
        let events = self
            .history
            .stream(Document::TYPE, &stream_id(collection_id, document_id))
            .await?;
        if events.is_empty() {
            return Err(AppError::NotFound(format!(
                "document \"{document_id}\" not found"
            )));
        }
        events
            .into_iter()
            .map(|stored| {
                let envelope = Envelope::from_stored(&stored, Position::ZERO);
                let event: DocumentEvent = envelope
                    .decode()
                    .map_err(|e| AppError::Unavailable(e.to_string()))?;
                let (kind, changes) = change(&event);
                Ok(json!({
                    "version": stored.sequence,
                    "event": kind,
                    "at": stored.recorded_at,
                    "actor": stored.metadata.get("actor"),
                    "via": stored.metadata.get("via"),
                    "request_id": stored.metadata.get("request_id"),
                    "origin": stored.metadata.get("origin"),
                    "changes": changes,
                }))
            })
            .collect()
    }

    /// A page of the collection's documents matching `filter` as they were at `at`, and how
    /// many matched. Reads the document events of the log up to `at`.
    pub async fn find_as_of(
        &self,
        collection_id: &str,
        at: DateTime<Utc>,
        filter: Filter,
        sort: Vec<Sort>,
        (page, page_size): (u32, u32),
        projection: &Projection,
    ) -> Result<(Vec<Value>, u64), AppError> {
        let prefix = format!("{collection_id}:");
        let selection = Selection {
            until: Some(at),
            types: ["DocumentInserted", "DocumentUpdated", "DocumentDeleted"]
                .map(|t| format!("annals.{}.{t}", Document::TYPE))
                .to_vec(),
            upto: self.history.head().await?,
            ..Selection::default()
        };
        let mut docs = BTreeMap::new();
        let mut after = Position::ZERO;
        loop {
            let read = self.history.page(after, &selection, PAGE).await?;
            let done = read.events.len() < PAGE;
            after = read.next;
            for envelope in read.events {
                if envelope.aggregatetype != Document::TYPE
                    || !envelope.aggregateid.starts_with(&prefix)
                {
                    continue;
                }
                let ops = DocumentViews
                    .project(&envelope)
                    .map_err(|e| AppError::Unavailable(e.to_string()))?;
                ops.into_iter().for_each(|op| apply(&mut docs, op));
            }
            if done {
                break;
            }
        }
        let filter = query::scoped(collection_id, filter);
        let total = docs.values().filter(|d| filter.matches(d)).count() as u64;
        let q = query::paged(filter, sort, page, page_size);
        let ids = q
            .evaluate(docs.iter().map(|(id, doc)| (id.as_str(), doc)))
            .map_err(AppError::from)?;
        let data = ids
            .into_iter()
            .filter_map(|id| docs.get(id).cloned())
            .map(|doc| query::shown(doc, projection))
            .collect();
        Ok((data, total))
    }
}
