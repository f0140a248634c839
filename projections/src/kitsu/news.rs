//! Zou's news feed (reference 4.3): one entry per comment on a task, built from the comment's
//! creation event alone (its [`Subject`] says which task, project, type and entity it was
//! about, and whether it moved the task's status), so a rebuild gives the live feed. The names
//! around an entry (project, entity, author) are joined when it is read, as Zou does.
use annals_contracts::{Envelope, ViewOp};
use annals_domain::kitsu::{
    RECORD_TYPE, RecordEvent, Subject, changed_status, derived_id, zou_datetime,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::{Projection, ProjectionError};

/// The projection's name (its checkpoint), which reads wait for.
pub const NEWS: &str = "kitsu_news";
/// Its one collection.
pub const NEWS_COLLECTION: &str = "kitsu_news";

const COMMENTS: &str = "comments";

/// The key of an entry holding its comment's exact time (Zou's `created_at` has whole seconds,
/// and Zou's comments sort by the exact one); readers sort by it and do not show it.
pub const EXACT_AT: &str = "_at";

/// The id of the news entry of the comment `comment_id`.
pub fn news_id(comment_id: &str) -> String {
    derived_id(&["news", comment_id])
}

pub struct KitsuNews;

fn unreadable(event: &Envelope, reason: impl ToString) -> ProjectionError {
    ProjectionError::unreadable(NEWS, event, reason)
}

/// A news entry as stored: what Zou's `News` row holds plus the task's keys its feed filters
/// on.
fn entry(
    comment_id: &str,
    fields: &Map<String, Value>,
    subject: &Subject,
    at: DateTime<Utc>,
) -> Value {
    let of_task = |key: &str| subject.fields.get(key).cloned().unwrap_or(Value::Null);
    let own = |key: &str| fields.get(key).cloned().unwrap_or(Value::Null);
    json!({
        "id": news_id(comment_id),
        "type": "News",
        "author_id": own("person_id"),
        "comment_id": comment_id,
        "task_id": subject.id,
        "task_type_id": of_task("task_type_id"),
        "task_status_id": own("task_status_id"),
        "task_entity_id": of_task("entity_id"),
        "preview_file_id": own("preview_file_id"),
        "project_id": of_task("project_id"),
        "created_at": zou_datetime(at),
        EXACT_AT: at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        "change": changed_status(subject),
    })
}

impl Projection for KitsuNews {
    fn name(&self) -> &'static str {
        NEWS
    }

    fn collections(&self) -> &'static [&'static str] {
        &[NEWS_COLLECTION]
    }

    fn project(&self, event: &Envelope) -> Result<Vec<ViewOp>, ProjectionError> {
        if event.aggregatetype != RECORD_TYPE {
            return Ok(vec![]);
        }
        let decoded: RecordEvent = event.decode().map_err(|e| unreadable(event, e))?;
        let id = event.aggregateid.as_str();
        Ok(match decoded {
            RecordEvent::RecordCreated {
                model,
                fields,
                at,
                subject: Some(subject),
                ..
            } if model == COMMENTS && subject.model == "tasks" => {
                let fields: Map<String, Value> = fields.into_iter().collect();
                let doc = entry(id, &fields, &subject, at);
                vec![ViewOp::upsert(NEWS_COLLECTION, news_id(id), doc)]
            }
            // The feed shows a comment's status and preview as they are now.
            RecordEvent::RecordUpdated { model, changes, .. } if model == COMMENTS => {
                let patch: Map<String, Value> = changes
                    .into_iter()
                    .filter(|c| matches!(c.field.as_str(), "task_status_id" | "preview_file_id"))
                    .map(|c| (c.field, c.new))
                    .collect();
                if patch.is_empty() {
                    vec![]
                } else {
                    vec![ViewOp::merge(
                        NEWS_COLLECTION,
                        news_id(id),
                        Value::Object(patch),
                    )]
                }
            }
            RecordEvent::RecordDeleted { model, .. } if model == COMMENTS => {
                vec![ViewOp::delete(NEWS_COLLECTION, news_id(id))]
            }
            _ => vec![],
        })
    }
}

#[cfg(test)]
mod tests {
    use annals_contracts::{Position, StoredEvent};
    use annals_domain::kitsu::{FieldChange, Record};
    use chrono::{TimeZone, Utc};
    use cqrs_es::Aggregate;

    use super::*;

    fn envelope(id: &str, event: RecordEvent) -> Envelope {
        use cqrs_es::DomainEvent;
        let stored = StoredEvent {
            position: Position::new(1, 1),
            aggregate_type: Record::TYPE.into(),
            aggregate_id: id.into(),
            sequence: 1,
            event_type: event.event_type(),
            event_version: "1.0".into(),
            payload: serde_json::to_value(&event).unwrap(),
            metadata: Default::default(),
            recorded_at: Utc::now(),
        };
        Envelope::from_stored(&stored, Position::ZERO)
    }

    fn commented(changes: Vec<FieldChange>) -> RecordEvent {
        RecordEvent::RecordCreated {
            model: "comments".into(),
            fields: [
                ("person_id".to_string(), json!("p1")),
                ("task_status_id".to_string(), json!("wip")),
            ]
            .into(),
            by: "p1".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
            subject: Some(Subject {
                model: "tasks".into(),
                id: "t1".into(),
                fields: [
                    ("project_id".to_string(), json!("pr1")),
                    ("task_type_id".to_string(), json!("tt1")),
                    ("entity_id".to_string(), json!("e1")),
                ]
                .into(),
                changes,
            }),
        }
    }

    #[test]
    fn a_comment_on_a_task_is_one_entry_that_says_whether_it_moved_the_status() {
        let moved = vec![FieldChange {
            field: "task_status_id".into(),
            old: json!("todo"),
            new: json!("wip"),
        }];
        let ops = KitsuNews
            .project(&envelope("c1", commented(moved)))
            .unwrap();
        let ViewOp::Upsert { id, doc, .. } = &ops[0] else {
            panic!("{ops:?}");
        };
        assert_eq!(*id, news_id("c1"));
        assert_eq!(doc["change"], true);
        assert_eq!(doc["project_id"], "pr1");
        assert_eq!(doc["task_entity_id"], "e1");
        assert_eq!(doc["author_id"], "p1");
        assert_eq!(doc["created_at"], "2026-11-28T12:00:00");
        let ops = KitsuNews
            .project(&envelope("c2", commented(vec![])))
            .unwrap();
        let ViewOp::Upsert { doc, .. } = &ops[0] else {
            panic!("{ops:?}");
        };
        assert_eq!(doc["change"], false);
    }

    #[test]
    fn other_records_make_no_news() {
        let mut event = commented(vec![]);
        if let RecordEvent::RecordCreated { subject, .. } = &mut event {
            *subject = None;
        }
        assert!(
            KitsuNews
                .project(&envelope("c1", event))
                .unwrap()
                .is_empty()
        );
    }
}
