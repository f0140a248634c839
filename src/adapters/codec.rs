//! The log codec: the one place where a row of the event log becomes an event in its current
//! shape.
//!
//! Every path that turns a stored row into an event passes through [`decode`]: aggregate loads
//! (the repository cqrs-es reads streams through, [`super::LogRepository`]) and the log readers
//! ([`super::postgres::PgEventLog`], [`super::sqlite::SqliteEventLog`]) behind the relay and so
//! NATS, the projections' catch-up and rebuild, `annals replay` and `/api/history`. So a change
//! of how stored events are read (upcasting old versions, opening sealed personal data) is
//! made here once and every reader sees it. Nothing here rewrites the log.
//!
//! Personal fields are stored sealed ([`super::sealed`], by the write path in
//! `es::commands`); [`decode`] opens them with the keys it is given (a field whose key was
//! erased reads as erased), then upcasts. Readers fetch the keys of a whole batch in one query
//! and keep none, so an erasure holds for every reader from its next batch on:
//! [`stored_all`], [`serialized_all`].
use annals_contracts::{LogError, StoredEvent};
use annals_domain::catalogue::UPCASTERS;
use annals_domain::versioning::UnknownVersion;
use cqrs_es::persist::{PersistenceError, SerializedEvent};
use serde_json::Value;

use super::person_keys::KeyStore;
use super::sealed::{self, Keys};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error(transparent)]
    UnknownVersion(#[from] UnknownVersion),
    #[error("stored {event_type} event is not a JSON object tagged with its type")]
    Untagged { event_type: String },
}

/// A stored event's version and payload (the cqrs-es tagged form, `{"<type>": {..}}`) as the
/// current version of its type reads them, its sealed fields opened with `keys`.
pub fn decode(
    aggregate_type: &str,
    event_type: &str,
    version: &str,
    mut payload: Value,
    keys: &Keys,
) -> Result<(String, Value), CodecError> {
    sealed::open(&mut payload, keys);
    let current = UPCASTERS.current_version(aggregate_type, event_type);
    if version == current {
        return Ok((version.to_string(), payload));
    }
    let untagged = || CodecError::Untagged {
        event_type: event_type.to_string(),
    };
    let Value::Object(mut tagged) = payload else {
        return Err(untagged());
    };
    let Some(Value::Object(fields)) = tagged.remove(event_type) else {
        return Err(untagged());
    };
    let (version, fields) = UPCASTERS.upcast(aggregate_type, event_type, version, fields)?;
    tagged.insert(event_type.to_string(), Value::Object(fields));
    Ok((version.to_string(), Value::Object(tagged)))
}

/// The subjects whose keys `events` need.
pub fn subjects(events: &[StoredEvent]) -> Vec<String> {
    sealed::subjects_of(events.iter().map(|e| &e.payload))
}

/// Rows read for the global order (relay, projections, replay, history), with the keys
/// they need fetched in one query.
pub async fn stored_all(
    events: Vec<StoredEvent>,
    store: &KeyStore,
) -> Result<Vec<StoredEvent>, LogError> {
    let keys = store
        .keys_for(events.iter().map(|e| &e.payload))
        .await
        .map_err(super::log_error)?;
    events.into_iter().map(|e| stored(e, &keys)).collect()
}

/// Rows read to load aggregates (cqrs-es), with the keys they need fetched in one query.
pub async fn serialized_all(
    events: Vec<SerializedEvent>,
    store: &KeyStore,
) -> Result<Vec<SerializedEvent>, PersistenceError> {
    let keys = store
        .keys_for(events.iter().map(|e| &e.payload))
        .await
        .map_err(|e| PersistenceError::UnknownError(Box::new(e)))?;
    events.into_iter().map(|e| serialized(e, &keys)).collect()
}

/// A row read for the global order (relay, projections, replay, history).
pub fn stored(mut event: StoredEvent, keys: &Keys) -> Result<StoredEvent, LogError> {
    let (version, payload) = decode(
        &event.aggregate_type,
        &event.event_type,
        &event.event_version,
        std::mem::take(&mut event.payload),
        keys,
    )
    .map_err(|e| {
        LogError(format!(
            "{}/{}/{}: {e}",
            event.aggregate_type, event.aggregate_id, event.sequence
        ))
    })?;
    event.event_version = version;
    event.payload = payload;
    Ok(event)
}

/// Set in the metadata of an event read to load an aggregate when some of its fields read as
/// erased: a state a process remembers from before the erasure is then read anew (see
/// `es::commands`), so that it cannot keep what the erasure removed.
pub const ERASED_FIELDS: &str = "annals.erased_fields";

/// A row read to load an aggregate (cqrs-es).
pub fn serialized(
    mut event: SerializedEvent,
    keys: &Keys,
) -> Result<SerializedEvent, PersistenceError> {
    if sealed::has_erased(&event.payload, keys)
        && let Value::Object(metadata) = &mut event.metadata
    {
        metadata.insert(ERASED_FIELDS.into(), Value::String("true".into()));
    }
    let (version, payload) = decode(
        &event.aggregate_type,
        &event.event_type,
        &event.event_version,
        std::mem::take(&mut event.payload),
        keys,
    )
    .map_err(|e| PersistenceError::DeserializationError(Box::new(e)))?;
    event.event_version = version;
    event.payload = payload;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_old_version_is_read_in_the_current_shape_and_version() {
        let stored = json!({"UserRegistered": {"user_id": "u1", "email": "a@b.c",
            "first_name": "A", "last_name": "B", "role": "user", "at": "2026-01-01T00:00:00Z"}});
        let (version, payload) =
            decode("user", "UserRegistered", "1.0", stored, &Keys::new()).unwrap();
        assert_eq!(version, "2.0");
        assert_eq!(payload["UserRegistered"]["registered_via"], "unrecorded");
        assert_eq!(payload["UserRegistered"]["email"], "a@b.c");
    }

    #[test]
    fn sealed_fields_are_opened_before_upcasting_and_erased_without_their_key() {
        use crate::adapters::sealed::{PersonKey, seal};
        let key = PersonKey::generate();
        let stored = json!({"UserRegistered": {"user_id": "u1",
            "email": seal("email:d1", &key, &json!("a@b.c")), "first_name": seal("user:u1", &key, &json!("A")),
            "last_name": "B", "role": "user", "at": "2026-01-01T00:00:00Z"}});
        let keys = Keys::from([("email:d1".to_string(), key.clone())]);
        let (version, payload) = decode("user", "UserRegistered", "1.0", stored, &keys).unwrap();
        assert_eq!(version, "2.0");
        assert_eq!(payload["UserRegistered"]["email"], "a@b.c");
        assert_eq!(payload["UserRegistered"]["first_name"], "erased");
    }

    #[test]
    fn a_current_event_passes_unchanged() {
        let stored = json!({"EmailVerified": {"at": "2026-01-01T00:00:00Z"}});
        let read = decode("user", "EmailVerified", "1.0", stored.clone(), &Keys::new()).unwrap();
        assert_eq!(read, ("1.0".to_string(), stored));
    }

    #[test]
    fn an_unreadable_row_is_an_error_naming_the_event() {
        let error = decode("user", "UserRegistered", "1.0", json!("x"), &Keys::new()).unwrap_err();
        assert!(error.to_string().contains("UserRegistered"), "{error}");
        let error = decode(
            "user",
            "UserRegistered",
            "9.0",
            json!({"UserRegistered": {}}),
            &Keys::new(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("9.0"), "{error}");
    }
}
