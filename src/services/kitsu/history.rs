//! A record's history, read from its own stream: each change with its author, time, event
//! type and the fields before and after, newest first. The stream outlives the record, so a
//! deleted record's history stays readable (who may read it is the route's decision).
use serde_json::{Value, json};

use annals_contracts::{Envelope, Position};
use annals_domain::identity::user::history::{PersonChange, person_changes};
use annals_domain::identity::{User, UserEvent};
use annals_domain::kitsu::{FieldChange, Model, RECORD_TYPE, RecordEvent, zou_datetime};
use cqrs_es::Aggregate;

use crate::services::error::AppError;
use crate::services::history::History;

/// A record's past, as its stream holds it.
pub struct RecordHistory {
    /// Newest first.
    pub entries: Vec<Value>,
    /// The last event deleted the record.
    pub deleted: bool,
}

/// The changes one event made: a create sets every field from nothing, a delete takes every
/// field to nothing, an update lists what it changed.
fn changes(event: &RecordEvent) -> Vec<FieldChange> {
    let from_to = |fields: &std::collections::BTreeMap<String, Value>, created: bool| {
        fields
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(field, value)| {
                let (old, new) = if created {
                    (Value::Null, value.clone())
                } else {
                    (value.clone(), Value::Null)
                };
                FieldChange {
                    field: field.clone(),
                    old,
                    new,
                }
            })
            .collect()
    };
    match event {
        RecordEvent::RecordCreated { fields, .. } => from_to(fields, true),
        RecordEvent::RecordUpdated { changes, .. } => changes.clone(),
        RecordEvent::RecordDeleted { fields, .. } => from_to(fields, false),
    }
}

/// The history of the record `id` of `model`; `NotFound` when no record of that model ever
/// had the id.
pub async fn record_history(
    history: &History,
    model: &Model,
    id: &str,
) -> Result<RecordHistory, AppError> {
    let stored = history.stream(RECORD_TYPE, id).await?;
    let mut entries = Vec::with_capacity(stored.len());
    let mut deleted = false;
    for event in &stored {
        let decoded: RecordEvent = Envelope::from_stored(event, Position::ZERO)
            .decode()
            .map_err(|e| AppError::Unavailable(format!("record event {id}: {e}")))?;
        let (route, by, at) = match &decoded {
            RecordEvent::RecordCreated { model, by, at, .. }
            | RecordEvent::RecordUpdated { model, by, at, .. }
            | RecordEvent::RecordDeleted { model, by, at, .. } => (model, by, at),
        };
        if route != model.route {
            return Err(AppError::NotFound(format!("no {} {id}", model.route)));
        }
        deleted = matches!(decoded, RecordEvent::RecordDeleted { .. });
        entries.push(json!({
            "id": format!("{id}/{}", event.sequence),
            "type": format!("{}Change", model.type_name),
            "record_id": id,
            "sequence": event.sequence,
            "event": event.event_type,
            "author_id": by,
            "created_at": zou_datetime(*at),
            "request_id": event.metadata.get("request_id"),
            "changes": changes(&decoded),
        }));
    }
    if entries.is_empty() {
        return Err(AppError::NotFound(format!("no {} {id}", model.route)));
    }
    entries.reverse();
    Ok(RecordHistory { entries, deleted })
}

/// A person's past: each event of their account that changed the person, newest first, with
/// the changes the domain reads from it (`annals_domain::identity::user::history`), secrets
/// named without values. The changes are kept typed so the route can show each caller what
/// their view of the person holds.
pub struct PersonHistory {
    /// Newest first: the entry without its changes, and the changes.
    pub entries: Vec<(Value, Vec<PersonChange>)>,
    /// The account was erased (a deleted person).
    pub deleted: bool,
}

/// The history of the person `id`; `NotFound` when no account ever had the id.
pub async fn person_history(history: &History, id: &str) -> Result<PersonHistory, AppError> {
    let stored = history.stream(User::TYPE, id).await?;
    let mut user = User::default();
    let mut entries = Vec::with_capacity(stored.len());
    for event in &stored {
        // The stored payload, not the published envelope: the envelope leaves secrets out,
        // and a changed secret is told by comparing them (they are never shown).
        let decoded: UserEvent = serde_json::from_value(event.payload.clone())
            .map_err(|e| AppError::Unavailable(format!("user event {id}: {e}")))?;
        let by = match &decoded {
            UserEvent::PersonDetailsChanged { by, .. } => Some(by.clone()),
            _ => event.metadata.get("actor").cloned(),
        };
        let at = event.payload[&event.event_type]["at"]
            .as_str()
            .and_then(crate::services::history::parse_time)
            .unwrap_or(event.recorded_at);
        let (after, changes) = person_changes(&user, decoded);
        user = after;
        if changes.is_empty() {
            continue;
        }
        let entry = json!({
            "id": format!("{id}/{}", event.sequence),
            "type": "PersonChange",
            "record_id": id,
            "sequence": event.sequence,
            "event": event.event_type,
            "author_id": by,
            "created_at": zou_datetime(at),
            "request_id": event.metadata.get("request_id"),
        });
        entries.push((entry, changes));
    }
    if !user.registered {
        return Err(AppError::NotFound(format!("no persons {id}")));
    }
    entries.reverse();
    Ok(PersonHistory {
        entries,
        deleted: user.erased,
    })
}
