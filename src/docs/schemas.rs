//! The JSON Schemas of the subscriber contract, derived from the types: one per event type
//! (the envelope's `data`), and one of the envelope.
use std::collections::BTreeSet;

use annals_contracts::{Envelope, is_secret};
use annals_domain::catalogue::UPCASTERS;
use annals_domain::catalogue::families;
use annals_domain::versioning::Upcaster;
use serde_json::{Map, Value, json};

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// One event type as subscribers receive it.
pub struct EventType {
    pub aggregate_type: &'static str,
    pub name: String,
    pub version: &'static str,
    pub history: Vec<&'static Upcaster>,
    /// The schema of the envelope's `data`.
    pub schema: Value,
}

impl EventType {
    /// `annals.<aggregate_type>.<name>`, the envelope's `type`.
    pub fn full_name(&self) -> String {
        format!("annals.{}.{}", self.aggregate_type, self.name)
    }

    /// Its schema's file, under the schemas' directory.
    pub fn file_name(&self) -> String {
        format!("{}.{}.json", self.aggregate_type, self.name)
    }
}

/// One aggregate type and its events, in the order the code declares them.
pub struct Family {
    pub aggregate_type: &'static str,
    pub about: &'static str,
    pub events: Vec<EventType>,
}

pub fn catalogue() -> Vec<Family> {
    families()
        .into_iter()
        .map(|family| {
            let schema = serde_json::to_value((family.schema)()).unwrap_or(Value::Null);
            let defs = schema.get("$defs").cloned().unwrap_or_else(|| json!({}));
            let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
            let events = variants
                .iter()
                .filter_map(|variant| {
                    let (name, fields) = variant["properties"].as_object()?.iter().next()?;
                    let description = variant
                        .get("description")
                        .or_else(|| fields.get("description"))
                        .cloned();
                    Some(event_type(
                        family.aggregate_type,
                        name,
                        fields.clone(),
                        description,
                        &defs,
                    ))
                })
                .collect();
            Family {
                aggregate_type: family.aggregate_type,
                about: family.about,
                events,
            }
        })
        .collect()
}

fn event_type(
    aggregate_type: &'static str,
    name: &str,
    fields: Value,
    description: Option<Value>,
    defs: &Value,
) -> EventType {
    let version = UPCASTERS.current_version(aggregate_type, name);
    let full_name = format!("annals.{aggregate_type}.{name}");
    let mut schema = Map::new();
    schema.insert("$schema".into(), json!(DIALECT));
    schema.insert(
        "$id".into(),
        json!(format!("urn:annals:event:{full_name}:{version}")),
    );
    schema.insert("title".into(), json!(full_name));
    if let Some(description) = description {
        schema.insert("description".into(), description);
    }
    schema.insert("x-annals-eventversion".into(), json!(version));
    let Value::Object(fields) = redact(fields) else {
        unreachable!("an event's fields are an object schema")
    };
    for (key, value) in fields {
        if key != "description" {
            schema.insert(key, value);
        }
    }
    // Adding a field makes a new version, so a version's shape is closed.
    schema.insert("additionalProperties".into(), json!(false));
    let used = referenced(&Value::Object(schema.clone()), defs);
    if !used.is_empty() {
        let defs: Map<String, Value> = used
            .into_iter()
            .filter_map(|name| Some((name.clone(), redact(defs.get(&name)?.clone()))))
            .collect();
        schema.insert("$defs".into(), Value::Object(defs));
    }
    EventType {
        aggregate_type,
        name: name.to_string(),
        version,
        history: UPCASTERS.history(aggregate_type, name),
        schema: Value::Object(schema),
    }
}

/// Removes the properties subscribers never receive (the relay redacts them), at any depth.
fn redact(schema: Value) -> Value {
    match schema {
        Value::Object(mut map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                properties.retain(|key, _| !is_secret(key));
            }
            if let Some(Value::Array(required)) = map.get_mut("required") {
                required.retain(|key| !key.as_str().is_some_and(is_secret));
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, redact(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// The `$defs` a schema needs, following references between definitions too.
fn referenced(schema: &Value, defs: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![schema.clone()];
    while let Some(next) = pending.pop() {
        for name in refs(&next) {
            if found.insert(name.clone())
                && let Some(def) = defs.get(&name)
            {
                pending.push(def.clone());
            }
        }
    }
    found
}

fn refs(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, v)| match (key.as_str(), v) {
                ("$ref", Value::String(r)) => r
                    .strip_prefix("#/$defs/")
                    .map(|n| vec![n.to_string()])
                    .unwrap_or_default(),
                _ => refs(v),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(refs).collect(),
        _ => vec![],
    }
}

/// The schema of the envelope every event travels in.
pub fn envelope() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Envelope)).unwrap_or(Value::Null);
    schema["$id"] = json!("urn:annals:envelope");
    schema
}
