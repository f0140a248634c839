//! What DataCube requests carry: query-string parameters and body fields, each refused with
//! the field named.
use std::collections::HashMap;

use serde_json::{Map, Value};

use annals_domain::datacube::{Field, FieldType};

use crate::services::datacube::NewCollection;
use crate::services::error::AppError;

/// The query string's parameters (the last of a repeated one wins).
pub fn query_params(raw: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A required, non-blank parameter.
pub fn required<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, AppError> {
    params
        .get(name)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::invalid(name, "is required"))
}

/// An optional boolean body field.
pub fn flag(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, AppError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(AppError::invalid(name, "must be true or false")),
    }
}

fn string<'a>(value: Option<&'a Value>, at: &str) -> Result<&'a str, AppError> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        None | Some(Value::Null) => Err(AppError::invalid(at, "is required")),
        Some(Value::String(_)) => Err(AppError::invalid(at, "must not be blank")),
        Some(_) => Err(AppError::invalid(at, "must be a string")),
    }
}

/// A collection declaration `{name, fields: [{name, type}]}` at `at`.
pub fn collection(value: &Value, at: &str) -> Result<NewCollection, AppError> {
    let Value::Object(map) = value else {
        return Err(AppError::invalid(
            at,
            "must be an object with name and fields",
        ));
    };
    let name = string(map.get("name"), &format!("{at}.name"))?
        .trim()
        .to_string();
    let fields = match map.get("fields") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(j, f)| field(f, &format!("{at}.fields[{j}]")))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(AppError::invalid(
                format!("{at}.fields"),
                "must be an array",
            ));
        }
    };
    Ok(NewCollection { name, fields })
}

fn field(value: &Value, at: &str) -> Result<Field, AppError> {
    let Value::Object(map) = value else {
        return Err(AppError::invalid(
            at,
            "must be an object with name and type",
        ));
    };
    let name = string(map.get("name"), &format!("{at}.name"))?
        .trim()
        .to_string();
    let field_type = match map.get("type") {
        None | Some(Value::Null) => FieldType::String,
        Some(Value::String(t)) => FieldType::parse(t).ok_or_else(|| {
            AppError::invalid(
                format!("{at}.type"),
                "must be one of string, number, integer, boolean, date, datetime, object, array, any",
            )
        })?,
        Some(_) => return Err(AppError::invalid(format!("{at}.type"), "must be a string")),
    };
    Ok(Field { name, field_type })
}

/// The `collections` array of a body (each a declaration).
pub fn collections(body: &Map<String, Value>) -> Result<Vec<NewCollection>, AppError> {
    match body.get("collections") {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| collection(c, &format!("collections[{i}]")))
            .collect(),
        Some(_) => Err(AppError::invalid("collections", "must be an array")),
    }
}

/// A list of non-blank strings.
pub fn names(body: &Map<String, Value>, name: &str) -> Result<Vec<String>, AppError> {
    match body.get(name) {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, v)| string(Some(v), &format!("{name}[{i}]")).map(|s| s.trim().to_string()))
            .collect(),
        None | Some(Value::Null) => Err(AppError::invalid(name, "is required")),
        Some(_) => Err(AppError::invalid(
            name,
            "must be a non-empty array of names",
        )),
    }
}
