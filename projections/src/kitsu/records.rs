//! One collection per registry model, one document per live record, shaped as Zou serializes
//! it (`id`, `created_at`, `updated_at`, `type`, the fields), so the list routes answer the
//! documents as they are.
use std::sync::LazyLock;

use annals_contracts::{Envelope, ViewOp};
use annals_domain::kitsu::{MODELS, RECORD_TYPE, RecordEvent, document, model, zou_datetime};
use serde_json::{Map, Value};

use super::exact_links::{EXACT_LINKS, LINKS_MODEL, exact_link_op};
use crate::{Projection, ProjectionError};

/// The projection's name (its checkpoint), which reads wait for.
pub const RECORDS: &str = "kitsu_records";

static COLLECTIONS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    MODELS
        .iter()
        .map(|m| m.collection)
        .chain([EXACT_LINKS])
        .collect()
});

pub struct KitsuRecords;

fn unreadable(event: &Envelope, reason: impl ToString) -> ProjectionError {
    ProjectionError::unreadable(RECORDS, event, reason)
}

impl Projection for KitsuRecords {
    fn name(&self) -> &'static str {
        RECORDS
    }

    fn collections(&self) -> &'static [&'static str] {
        &COLLECTIONS
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != RECORD_TYPE {
            return Ok(vec![]);
        }
        let decoded: RecordEvent = event.decode().map_err(|e| unreadable(event, e))?;
        let route = match &decoded {
            RecordEvent::RecordCreated { model, .. }
            | RecordEvent::RecordUpdated { model, .. }
            | RecordEvent::RecordDeleted { model, .. } => model.clone(),
        };
        let definition =
            model(&route).ok_or_else(|| unreadable(event, format!("unknown model {route}")))?;
        let id = event.aggregateid.clone();
        let exact = (route == LINKS_MODEL).then(|| exact_link_op(&id, &decoded));
        let mut ops = match decoded {
            RecordEvent::RecordCreated { fields, at, .. } => vec![ViewOp::upsert(
                definition.collection,
                id.clone(),
                document(definition, &id, &fields, at, at),
            )],
            RecordEvent::RecordUpdated { changes, at, .. } => {
                let mut patch: Map<String, Value> = changes
                    .into_iter()
                    .map(|change| (change.field, change.new))
                    .collect();
                patch.insert("updated_at".into(), Value::String(zou_datetime(at)));
                vec![ViewOp::merge(
                    definition.collection,
                    id,
                    Value::Object(patch),
                )]
            }
            RecordEvent::RecordDeleted { .. } => vec![ViewOp::delete(definition.collection, id)],
        };
        ops.extend(exact);
        Ok(ops)
    }
}

#[cfg(test)]
mod tests {
    use annals_contracts::{Position, StoredEvent};
    use annals_domain::kitsu::{FieldChange, Record};
    use chrono::{TimeZone, Utc};
    use cqrs_es::Aggregate;
    use serde_json::json;

    use super::*;

    fn envelope(event: RecordEvent) -> Envelope {
        use cqrs_es::DomainEvent;
        let stored = StoredEvent {
            position: Position::new(1, 1),
            aggregate_type: Record::TYPE.into(),
            aggregate_id: "r1".into(),
            sequence: 1,
            event_type: event.event_type(),
            event_version: "1.0".into(),
            payload: serde_json::to_value(&event).unwrap(),
            metadata: Default::default(),
            recorded_at: Utc::now(),
        };
        Envelope::from_stored(&stored, Position::ZERO)
    }

    #[test]
    fn records_become_zou_documents_and_leave_on_delete() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2026, 11, 28, 13, 0, 0).unwrap();
        let fields = [
            ("name".to_string(), json!("Open")),
            ("color".to_string(), json!("#000000")),
        ]
        .into();
        let ops = KitsuRecords
            .project(&envelope(RecordEvent::RecordCreated {
                model: "project-status".into(),
                fields,
                by: "u".into(),
                at,
                subject: None,
            }))
            .unwrap();
        let ViewOp::Upsert {
            collection, doc, ..
        } = &ops[0]
        else {
            panic!("{ops:?}");
        };
        assert_eq!(collection, "kitsu_project_status");
        assert_eq!(doc["type"], "ProjectStatus");
        assert_eq!(doc["id"], "r1");
        let ops = KitsuRecords
            .project(&envelope(RecordEvent::RecordUpdated {
                model: "project-status".into(),
                changes: vec![FieldChange {
                    field: "name".into(),
                    old: json!("Open"),
                    new: json!("Opened"),
                }],
                by: "u".into(),
                at: later,
            }))
            .unwrap();
        assert_eq!(
            ops,
            vec![ViewOp::merge(
                "kitsu_project_status",
                "r1",
                json!({"name": "Opened", "updated_at": "2026-11-28T13:00:00"})
            )]
        );
    }
}
