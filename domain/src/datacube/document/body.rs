//! What a document body may hold.
use serde_json::{Map, Value};

use super::DocumentError;

/// Deepest nesting of objects and arrays in a document.
pub const MAX_DEPTH: usize = 100;

/// Top-level keys the service sets itself.
pub const RESERVED_KEYS: [&str; 4] = ["_id", "_created_at", "_updated_at", "_version"];

/// Refuses keys starting with `$` (operators), the reserved keys at the top, and nesting deeper
/// than [`MAX_DEPTH`]; the error names the field.
pub fn check_body(body: &Map<String, Value>) -> Result<(), DocumentError> {
    for (key, value) in body {
        if RESERVED_KEYS.contains(&key.as_str()) {
            return Err(DocumentError::ReservedField(key.clone()));
        }
        check_value(key, value, key, 1)?;
    }
    Ok(())
}

fn check_value(key: &str, value: &Value, at: &str, depth: usize) -> Result<(), DocumentError> {
    if key.starts_with('$') {
        return Err(DocumentError::DollarKey(at.to_owned()));
    }
    if depth > MAX_DEPTH {
        return Err(DocumentError::TooDeep(at.to_owned()));
    }
    match value {
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| check_value(k, v, &format!("{at}.{k}"), depth + 1)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_value("", v, &format!("{at}[{i}]"), depth + 1)),
        _ => Ok(()),
    }
}
