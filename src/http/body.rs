//! Lenient JSON bodies with precise errors: every problem names its field.
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use crate::http::datacube::errors::DatacubeError;
use crate::services::error::AppError;

/// A JSON object body. An empty body counts as `{}` (clients send that on GET/DELETE).
pub struct JsonObject(pub Map<String, Value>);

/// As an extractor it answers in the document-service shape (its only direct user); other
/// surfaces call [`JsonObject::read`] and map the error to their own shape.
impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = DatacubeError;

    async fn from_request(req: Request, state: &S) -> Result<Self, DatacubeError> {
        Ok(Self::read(req, state).await?)
    }
}

impl JsonObject {
    pub async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge {
                    field: "body".into(),
                    message: "is larger than the request size limit".into(),
                }
            } else {
                AppError::invalid("body", "could not be read")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonObject(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => {
                check_storable(&map)?;
                Ok(JsonObject(map))
            }
            Ok(_) => Err(AppError::invalid("body", "must be a JSON object")),
            Err(e) => Err(AppError::invalid(
                "body",
                format!("is not valid JSON ({e})"),
            )),
        }
    }

    /// A required string; blank counts as missing.
    pub fn required_str(&self, field: &str) -> Result<String, AppError> {
        match self.optional_str(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(AppError::invalid(field, "is required")),
        }
    }

    pub fn optional_str(&self, field: &str) -> Result<Option<String>, AppError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AppError::invalid(field, "must be a string")),
        }
    }
}

/// The path of the first string or key in `value` that a backend cannot store, `root` naming
/// `value` itself. Postgres refuses the NUL character in `text` and `jsonb` (SQLite keeps it),
/// so both backends refuse it here, before any command runs. (Unpaired surrogates never get
/// this far: the JSON parser refuses them.)
pub fn unstorable(value: &Value, root: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(root.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| unstorable(item, &format!("{root}[{i}]"))),
        Value::Object(map) => unstorable_in(map, root),
        _ => None,
    }
}

/// [`unstorable`] for the members of an object: a key holding NUL is itself the offender.
fn unstorable_in(map: &Map<String, Value>, root: &str) -> Option<String> {
    map.iter().find_map(|(key, item)| {
        let key_text = escape_nul(key);
        let path = if root.is_empty() {
            key_text
        } else {
            format!("{root}.{key_text}")
        };
        if key.contains('\0') {
            Some(path)
        } else {
            unstorable(item, &path)
        }
    })
}

/// A name holding NUL, printable in an error (`\u0000` for each NUL).
pub fn escape_nul(name: &str) -> String {
    name.replace('\0', "\\u0000")
}

/// Refuses an object holding anything a backend cannot store, naming the field.
pub fn check_storable(map: &Map<String, Value>) -> Result<(), AppError> {
    match unstorable_in(map, "") {
        Some(field) => Err(AppError::invalid(
            field,
            "must not contain the NUL character (\\u0000)",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_characters_are_found_in_strings_and_keys_at_any_depth() {
        let ok = json!({"a": "x", "b": [1, {"c": "y"}]});
        assert_eq!(unstorable(&ok, ""), None);
        let deep = json!({"a": "x", "b": [1, {"c": "y\u{0}"}]});
        assert_eq!(unstorable(&deep, ""), Some("b[1].c".into()));
        let key = json!({"opts": {"k\u{0}": 1}});
        assert_eq!(unstorable(&key, ""), Some("opts.k\\u0000".into()));
        let Value::Object(map) = json!({"name": "a\u{0}b"}) else {
            unreachable!()
        };
        let err = check_storable(&map).unwrap_err();
        assert!(
            matches!(err, AppError::Invalid { ref field, .. } if field == "name"),
            "{err:?}"
        );
    }
}
