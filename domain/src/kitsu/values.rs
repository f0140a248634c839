//! Field values: checking one against its field's type, and a record's Zou serialization.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::registry::{Field, FieldType, Model};

/// Why a value does not fit its field (the field is named by the caller).
pub(crate) fn check(field: &Field, value: &Value) -> Result<(), &'static str> {
    if value.is_null() {
        return if field.required {
            Err("is required")
        } else {
            Ok(())
        };
    }
    match field.ty {
        FieldType::Text { max } => match value.as_str() {
            Some(s) if max.is_some_and(|max| s.chars().count() > max) => Err("is too long"),
            Some(s) if field.required && s.trim().is_empty() => Err("is required"),
            Some(_) => Ok(()),
            None => Err("must be a string"),
        },
        FieldType::Bool if value.is_boolean() => Ok(()),
        FieldType::Bool => Err("must be a boolean"),
        FieldType::Int if value.is_i64() => Ok(()),
        FieldType::Int => Err("must be an integer"),
        FieldType::Float if value.is_number() => Ok(()),
        FieldType::Float => Err("must be a number"),
        FieldType::Json => Ok(()),
        FieldType::Choice(codes) => match value.as_str() {
            Some(s) if codes.contains(&s) => Ok(()),
            _ => Err("is not one of the allowed values"),
        },
        FieldType::Date => match value.as_str() {
            Some(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => Ok(()),
            _ => Err("must be a date (YYYY-MM-DD)"),
        },
        FieldType::DateTime => match value.as_str() {
            Some(s) if parse_datetime(s).is_some() => Ok(()),
            _ => Err("must be a date and time (YYYY-MM-DDTHH:MM:SS)"),
        },
        FieldType::Reference(_) => match value.as_str().map(uuid::Uuid::try_parse) {
            Some(Ok(_)) => Ok(()),
            _ => Err("must be a UUID"),
        },
        FieldType::Relation(_) => match value.as_array() {
            Some(items) if items.iter().all(is_uuid) => Ok(()),
            _ => Err("must be a list of UUIDs"),
        },
        FieldType::Entries => match value.as_array() {
            Some(items) if items.iter().all(is_entry) => Ok(()),
            _ => Err("must be a list of entries"),
        },
    }
}

/// An entry as [`entries`] makes them (an entity id, and a preview file id or null), or as
/// Zou's add-entity stores one without preview (the entity id alone).
fn is_entry(value: &Value) -> bool {
    let Some(entry) = value.as_object() else {
        return false;
    };
    entry.get("entity_id").is_some_and(Value::is_string)
        && match entry.get("preview_file_id") {
            Some(p) => entry.len() == 2 && (p.is_null() || p.is_string()),
            None => entry.len() == 1,
        }
}

/// A list of entries as Zou's playlist update keeps them (see `FieldType::Entries`): objects
/// naming an entity (`entity_id`, else `id`) become `{entity_id, preview_file_id}`, anything
/// else is dropped; null stays null.
pub fn entries(value: &Value) -> Value {
    let items = match value {
        Value::Null => return Value::Null,
        Value::Array(items) => items.as_slice(),
        _ => &[],
    };
    let kept = items.iter().filter_map(|item| {
        let entity = ["entity_id", "id"]
            .iter()
            .filter_map(|key| item.get(*key))
            .find(|v| v.as_str().is_some_and(|s| !s.is_empty()))?;
        let preview = match item.get("preview_file_id") {
            Some(Value::String(id)) if !id.is_empty() => json!(id),
            _ => Value::Null,
        };
        Some(json!({"entity_id": entity, "preview_file_id": preview}))
    });
    Value::Array(kept.collect())
}

/// A naive date and time as Zou parses one: `T` or a space between date and time, an
/// optional fraction; a bare date is its midnight.
pub fn parse_datetime(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim();
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(s, format).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

fn is_uuid(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| uuid::Uuid::try_parse(s).is_ok())
}

/// A relation's ids as a create gives them: ids or `{"id": ...}` objects, as Zou takes both;
/// repeated ids count once. Anything else is left for [`check`] to refuse.
pub fn relation_ids(value: &Value) -> Value {
    let Some(items) = value.as_array() else {
        return value.clone();
    };
    let mut ids: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        let id = match item {
            Value::Object(map) => map.get("id").cloned().unwrap_or(Value::Null),
            other => other.clone(),
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Value::Array(ids)
}

/// A stable UUID named by `parts` (a news entry by its comment, a version by its event): the
/// same parts give the same id, live or in a rebuild.
pub fn derived_id(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.finalize()[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Zou's datetime format: naive UTC, ISO-8601, no fraction, no offset.
pub fn zou_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A record as Zou serializes it: `id`, `created_at`, `updated_at`, `type`, then its fields.
pub fn document(
    model: &Model,
    id: &str,
    fields: &BTreeMap<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> Value {
    let mut doc = Map::new();
    doc.insert("id".into(), json!(id));
    doc.insert("created_at".into(), json!(zou_datetime(created_at)));
    doc.insert("updated_at".into(), json!(zou_datetime(updated_at)));
    doc.insert("type".into(), json!(model.type_name));
    for field in model.fields {
        let value = fields.get(field.name).cloned().unwrap_or(Value::Null);
        doc.insert(field.name.into(), value);
    }
    Value::Object(doc)
}
