//! Names and schemas of databases and collections, and the type check of declared fields.
use chrono::{DateTime, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest database, collection or field name, in characters.
pub const MAX_NAME: usize = 100;

/// A database name as stored and compared: trimmed and lower-cased.
pub fn normalize_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Names are 1 to 100 word characters (Unicode letters, digits, `_`) or `-`, as the original.
pub fn valid_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=MAX_NAME).contains(&len)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// The declared type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    /// `YYYY-MM-DD` or an RFC 3339 time (the seed sends times for a `date` field).
    Date,
    /// An RFC 3339 time.
    Datetime,
    Object,
    Array,
    Any,
}

impl FieldType {
    /// The canonical type of a name the original's clients send (its aliases included).
    pub fn parse(name: &str) -> Option<FieldType> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "string" | "str" | "text" | "regex" | "objectid" | "oid" => FieldType::String,
            "number" | "num" | "float" | "double" | "decimal128" => FieldType::Number,
            "integer" | "int" | "long" => FieldType::Integer,
            "boolean" | "bool" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" | "timestamp" => FieldType::Datetime,
            "object" | "dict" => FieldType::Object,
            "array" | "list" => FieldType::Array,
            "any" | "null" | "binary" => FieldType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Object => "object",
            FieldType::Array => "array",
            FieldType::Any => "any",
        }
    }

    /// Whether `value` has this type; `null` stands for "no value" and fits every type.
    pub fn admits(self, value: &Value) -> bool {
        let time = |s: &str| DateTime::parse_from_rfc3339(s).is_ok();
        match (self, value) {
            (_, Value::Null) | (FieldType::Any, _) => true,
            (FieldType::String, Value::String(_)) => true,
            (FieldType::Number, Value::Number(_)) => true,
            (FieldType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (FieldType::Boolean, Value::Bool(_)) => true,
            (FieldType::Date, Value::String(s)) => {
                time(s) || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
            }
            (FieldType::Datetime, Value::String(s)) => time(s),
            (FieldType::Object, Value::Object(_)) => true,
            (FieldType::Array, Value::Array(_)) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
}

/// A collection of a database. Its id names the documents' streams, so a collection dropped
/// and created again starts with no documents while the old ones keep their history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Collection {
    pub collection_id: String,
    pub name: String,
    pub fields: Vec<Field>,
}

impl Collection {
    /// The first declared field of `body` (a top-level key) whose value has the wrong type.
    pub fn mistyped<'a>(&'a self, body: &serde_json::Map<String, Value>) -> Option<&'a Field> {
        self.fields.iter().find(|f| {
            body.get(&f.name)
                .is_some_and(|value| !f.field_type.admits(value))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_are_word_characters_and_dashes() {
        assert!(valid_name("my_customer-project"));
        assert!(valid_name("données"));
        for bad in ["", "a b", "a.b", "a/b", &"x".repeat(101)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn types_admit_their_values_and_null() {
        assert_eq!(FieldType::parse(" Int "), Some(FieldType::Integer));
        assert_eq!(FieldType::parse("uuid"), None);
        assert!(FieldType::Integer.admits(&json!(3)));
        assert!(!FieldType::Integer.admits(&json!(3.5)));
        assert!(FieldType::Date.admits(&json!("2023-10-27T10:00:00Z")));
        assert!(FieldType::Date.admits(&json!("2023-10-27")));
        assert!(!FieldType::Datetime.admits(&json!("2023-10-27")));
        assert!(!FieldType::String.admits(&json!(1)));
        assert!(FieldType::Boolean.admits(&json!(null)));
        assert!(FieldType::Any.admits(&json!({"a": [1]})));
    }
}
