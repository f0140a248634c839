//! An entity's versions (Zou's `ShotVersion` / `EditVersion`), read from its own stream: every
//! update is a version holding the name the entity had before it (as Zou keeps the previous
//! name), the data it had after, who made it and when. Newest first.
use serde_json::{Value, json};

use annals_contracts::{Envelope, Position};
use annals_domain::kitsu::{RECORD_TYPE, Record, RecordEvent, derived_id, zou_datetime};

use crate::services::error::AppError;
use crate::services::history::History;

/// The versions of entity `id`, served as `type_name`.
pub async fn entity_versions(
    history: &History,
    id: &str,
    type_name: &str,
) -> Result<Vec<Value>, AppError> {
    let stored = history.stream(RECORD_TYPE, id).await?;
    let mut state = Record::default();
    let mut versions = Vec::new();
    for event in &stored {
        let decoded: RecordEvent = Envelope::from_stored(event, Position::ZERO)
            .decode()
            .map_err(|e| AppError::Unavailable(format!("record event {id}: {e}")))?;
        let before = state.fields.get("name").cloned().unwrap_or(Value::Null);
        let version = match &decoded {
            RecordEvent::RecordUpdated { by, at, .. } => Some((by.clone(), *at)),
            _ => None,
        };
        cqrs_es::Aggregate::apply(&mut state, decoded);
        if let Some((by, at)) = version {
            let at = zou_datetime(at);
            versions.push(json!({
                "id": derived_id(&["version", id, &event.sequence.to_string()]),
                "created_at": at,
                "updated_at": at,
                "name": before,
                "data": state.fields.get("data").cloned().unwrap_or(Value::Null),
                "entity_id": id,
                "person_id": by,
                "type": type_name,
            }));
        }
    }
    versions.reverse();
    Ok(versions)
}
