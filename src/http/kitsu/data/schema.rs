//! Zou's request schemas (pydantic models, lax mode) as the project-scoped routes read their
//! bodies: which keys, their types, which are required; and Zou's refusal of the rest
//! (`Validation error.` naming each field).
use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::http::body::check_storable;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::services::error::AppError;

/// A value type of Zou's request schemas (pydantic, lax mode).
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Str,
    /// A string of at least one character.
    NonEmpty,
    Int,
    Float,
    Dict,
    Bool,
    /// A list of strings (`List[str]`); `min` items at least.
    StrList {
        min: usize,
    },
}

/// One key of a schema: its type, whether a body must hold it, and whether a null is taken
/// (an `Optional` type) or refused (a plain one).
pub(super) struct Key {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) required: bool,
    pub(super) nullable: bool,
}

pub(super) const fn key(name: &'static str, kind: Kind) -> Key {
    Key {
        name,
        kind,
        required: false,
        nullable: true,
    }
}

/// A key the body must hold, not null.
pub(super) const fn required(name: &'static str, kind: Kind) -> Key {
    Key {
        required: true,
        nullable: false,
        ..key(name, kind)
    }
}

/// A key with a default, not null when given.
pub(super) const fn defaulted(name: &'static str, kind: Kind) -> Key {
    Key {
        nullable: false,
        ..key(name, kind)
    }
}

/// An id of the path, as Zou's `check_id_parameter` reads it.
pub(super) fn uuid_of(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| {
            KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": "Wrong UUID format.", "data": null}),
            )
        })
}

/// pydantic's message for a null where `kind` is wanted.
fn null_message(kind: Kind) -> &'static str {
    match kind {
        Kind::Str | Kind::NonEmpty => "Input should be a valid string",
        Kind::Int => "Input should be a valid integer",
        Kind::Float => "Input should be a valid number",
        Kind::Dict => "Input should be a valid dictionary",
        Kind::Bool => "Input should be a valid boolean",
        Kind::StrList { .. } => "Input should be a valid list",
    }
}

/// A value of `kind` as pydantic's lax mode takes it, or its message.
pub(super) fn coerced(kind: Kind, value: &Value) -> Result<Value, &'static str> {
    match (kind, value) {
        (_, Value::Null) => Ok(Value::Null),
        (Kind::Str, Value::String(_)) => Ok(value.clone()),
        (Kind::NonEmpty, Value::String(s)) if s.is_empty() => {
            Err("String should have at least 1 character")
        }
        (Kind::NonEmpty, Value::String(_)) => Ok(value.clone()),
        (Kind::Str | Kind::NonEmpty, _) => Err("Input should be a valid string"),
        (Kind::Int, Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(json!(i)),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(json!(f as i64)),
            _ => Err("Input should be a valid integer, got a number with a fractional part"),
        },
        (Kind::Int, Value::String(s)) => {
            s.trim().parse::<i64>().map(|i| json!(i)).map_err(
                |_| "Input should be a valid integer, unable to parse string as an integer",
            )
        }
        (Kind::Int, _) => Err("Input should be a valid integer"),
        (Kind::Float, Value::Number(n)) => Ok(json!(n.as_f64().unwrap_or_default())),
        (Kind::Float, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| json!(f))
            .ok_or("Input should be a valid number, unable to parse string as a number"),
        (Kind::Float, _) => Err("Input should be a valid number"),
        (Kind::Dict, Value::Object(_)) => Ok(value.clone()),
        (Kind::Dict, _) => Err("Input should be a valid dictionary"),
        (Kind::Bool, Value::Bool(_)) => Ok(value.clone()),
        (Kind::Bool, Value::Number(n)) => match n.as_f64() {
            Some(0.0) => Ok(json!(false)),
            Some(1.0) => Ok(json!(true)),
            _ => Err("Input should be a valid boolean, unable to interpret input"),
        },
        (Kind::Bool, Value::String(s)) => match s.to_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(json!(false)),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(json!(true)),
            _ => Err("Input should be a valid boolean, unable to interpret input"),
        },
        (Kind::Bool, _) => Err("Input should be a valid boolean"),
        (Kind::StrList { .. }, Value::Array(_)) => Ok(value.clone()),
        (Kind::StrList { .. }, _) => Err("Input should be a valid list"),
    }
}

/// Zou's refusal of a body its schema does not validate, every problem named.
pub(super) fn validation(errors: Vec<(String, String)>) -> KitsuError {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(field, message)| json!({"field": field, "message": message}))
        .collect();
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": "Validation error.", "data": {"errors": errors}}),
    )
}

/// The problems of a list of strings: each item that is no string, then its length.
fn list_problems(name: &str, min: usize, items: &[Value], errors: &mut Vec<(String, String)>) {
    for (i, item) in items.iter().enumerate() {
        if !item.is_string() {
            errors.push((
                format!("{name}.{i}"),
                "Input should be a valid string".into(),
            ));
        }
    }
    if items.len() < min {
        let s = if min == 1 { "" } else { "s" };
        errors.push((
            name.to_string(),
            format!(
                "List should have at least {min} item{s} after validation, not {}",
                items.len()
            ),
        ));
    }
}

/// The body as Zou's schema `class` reads it: what is not JSON is an empty body, other keys
/// are ignored, the schema's keys are checked and coerced (a key the body lacks stays absent).
pub(super) fn schema(body: &Bytes, keys: &[&Key], class: &str) -> KitsuResult<Map<String, Value>> {
    let given = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Null) | Err(_) => Map::new(),
        Ok(_) => {
            let problem = format!("Input should be a valid dictionary or instance of {class}");
            return Err(validation(vec![(String::new(), problem)]));
        }
    };
    let mut read = Map::new();
    let mut errors: Vec<(String, String)> = Vec::new();
    for key in keys {
        match given.get(key.name) {
            None if key.required => errors.push((key.name.to_string(), "Field required".into())),
            None => {}
            Some(Value::Null) if key.required || !key.nullable => {
                errors.push((key.name.to_string(), null_message(key.kind).into()))
            }
            Some(value) => match coerced(key.kind, value) {
                Ok(value) => {
                    if let (Kind::StrList { min }, Value::Array(items)) = (key.kind, &value) {
                        let before = errors.len();
                        list_problems(key.name, min, items, &mut errors);
                        if errors.len() > before {
                            continue;
                        }
                    }
                    read.insert(key.name.into(), value);
                }
                Err(message) => errors.push((key.name.to_string(), message.into())),
            },
        }
    }
    if !errors.is_empty() {
        return Err(validation(errors));
    }
    if let Err(AppError::Invalid { field, message }) = check_storable(&read) {
        return Err(KitsuError::invalid_field(&field, &message));
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_pydantic_lax_mode_reads_them() {
        assert_eq!(coerced(Kind::Int, &json!("3")), Ok(json!(3)));
        assert_eq!(coerced(Kind::Int, &json!(3.0)), Ok(json!(3)));
        assert!(coerced(Kind::Int, &json!(2.5)).is_err());
        assert_eq!(coerced(Kind::Float, &json!(100)), Ok(json!(100.0)));
        assert!(coerced(Kind::Str, &json!(12)).is_err());
        assert!(coerced(Kind::NonEmpty, &json!("")).is_err());
        assert_eq!(coerced(Kind::Str, &Value::Null), Ok(Value::Null));
        assert_eq!(coerced(Kind::Bool, &json!("yes")), Ok(json!(true)));
        assert!(coerced(Kind::Bool, &json!("maybe")).is_err());
        assert!(coerced(Kind::StrList { min: 0 }, &json!("a")).is_err());
    }

    #[test]
    fn lists_name_their_items() {
        let keys = [&defaulted("choices", Kind::StrList { min: 1 })];
        let refused = |body: &str| schema(&Bytes::from(body.to_string()), &keys, "S").is_err();
        assert!(refused(r#"{"choices": [1, "a"]}"#));
        assert!(refused(r#"{"choices": []}"#));
        assert!(refused(r#"{"choices": null}"#));
        assert!(!refused(r#"{"choices": ["a"]}"#));
    }
}
