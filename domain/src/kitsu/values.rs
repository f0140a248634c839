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
        FieldType::Reference(_) => match value.as_str().map(uuid::Uuid::try_parse) {
            Some(Ok(_)) => Ok(()),
            _ => Err("must be a UUID"),
        },
    }
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
