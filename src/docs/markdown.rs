//! docs/events.md: the template's prose with the tables generated from the schemas.
use std::collections::BTreeMap;

use serde_json::Value;

use super::schemas::{EventType, Family};

const TEMPLATE: &str = include_str!("events_template.md");

/// What the template's `{{name}}` placeholders stand for.
pub struct Facts {
    pub stream: &'static str,
    pub subject_prefix: &'static str,
    pub duplicate_window_minutes: u64,
    pub schemas_dir: &'static str,
}

pub fn render(facts: &Facts, envelope: &Value, catalogue: &[Family]) -> String {
    let values = [
        ("stream", facts.stream.to_string()),
        ("subject_prefix", facts.subject_prefix.to_string()),
        (
            "duplicate_window",
            format!("{} minutes", facts.duplicate_window_minutes),
        ),
        ("schemas_dir", facts.schemas_dir.to_string()),
        ("envelope_fields", fields_table(envelope, envelope)),
        ("catalogue_index", index(catalogue)),
        ("catalogue", events(catalogue, facts.schemas_dir)),
        ("shared_types", shared_types(envelope, catalogue)),
    ];
    let mut out = TEMPLATE.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value.trim_end());
    }
    out
}

fn index(catalogue: &[Family]) -> String {
    let mut out = String::from("| aggregate type | events |\n|---|---|\n");
    for family in catalogue {
        let links: Vec<String> = family
            .events
            .iter()
            .map(|e| format!("[{}](#{})", e.name, anchor(&e.full_name())))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} |\n",
            family.aggregate_type,
            links.join(", ")
        ));
    }
    out
}

fn events(catalogue: &[Family], schemas_dir: &str) -> String {
    let mut out = String::new();
    for family in catalogue {
        out.push_str(&format!(
            "### Aggregate `{}`\n\n{}\n\nSubject `<prefix>.{}.<id>`.\n\n",
            family.aggregate_type, family.about, family.aggregate_type
        ));
        for event in &family.events {
            out.push_str(&event_section(event, schemas_dir));
        }
    }
    out
}

fn event_section(event: &EventType, schemas_dir: &str) -> String {
    let mut out = format!("#### {}\n\n", event.full_name());
    if let Some(description) = event.schema["description"].as_str() {
        out.push_str(&format!("{}\n\n", one_line(description)));
    }
    out.push_str(&format!(
        "Version **{}** · schema [`{}`]({}/{})\n\n",
        event.version,
        event.file_name(),
        schemas_dir.trim_start_matches("docs/"),
        event.file_name()
    ));
    if !event.history.is_empty() {
        out.push_str("History:\n\n");
        out.push_str(&format!(
            "- {}: first version\n",
            annals_domain::versioning::INITIAL_VERSION
        ));
        for step in &event.history {
            out.push_str(&format!("- {}: {}\n", step.to, one_line(step.change)));
        }
        out.push('\n');
    }
    out.push_str(&fields_table(&event.schema, &event.schema));
    out.push('\n');
    out
}

/// A table of an object schema's properties: name, type, whether always present, meaning.
fn fields_table(schema: &Value, root: &Value) -> String {
    let Some(properties) = schema["properties"].as_object() else {
        return "(no fields)\n".into();
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = String::from("| field | type | always present | meaning |\n|---|---|---|---|\n");
    for (name, property) in properties {
        let description = property["description"]
            .as_str()
            .or_else(|| described_ref(property, root))
            .or_else(|| conventional(name))
            .map(one_line)
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{name}` | {} | {} | {} |\n",
            type_of(property),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                "no"
            },
            description.replace('|', "\\|")
        ));
    }
    out
}

/// What the fields every event shares mean, where the code does not say it field by field.
fn conventional(field: &str) -> Option<&'static str> {
    match field {
        "at" => Some("When it happened (the time of the command that caused it)."),
        "by" | "added_by" | "invited_by" => Some("The user id of who did it."),
        _ => None,
    }
}

/// The description of the definition a property refers to, when it has none of its own.
fn described_ref<'a>(property: &Value, root: &'a Value) -> Option<&'a str> {
    let name = property["$ref"].as_str()?.strip_prefix("#/$defs/")?;
    root["$defs"][name]["description"].as_str()
}

fn type_of(schema: &Value) -> String {
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|m| m.is_empty()) {
        return "any JSON".into();
    }
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        return format!("[{name}](#{})", anchor(&format!("type {name}")));
    }
    if let Some(values) = constants(schema) {
        return values;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema[key].as_array() {
            return options.iter().map(type_of).collect::<Vec<_>>().join(" or ");
        }
    }
    let kind = |t: &str| match t {
        "array" => format!("array of {}", type_of(&schema["items"])),
        "string" => match schema["format"].as_str() {
            Some(format) => format!("string ({format})"),
            None => "string".into(),
        },
        other => other.to_string(),
    };
    match &schema["type"] {
        Value::String(t) => kind(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .map(kind)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any JSON".into(),
    }
}

/// `enum` and `oneOf` of `const`s (documented enum variants): the values.
fn constants(schema: &Value) -> Option<String> {
    let values: Vec<Value> = match (&schema["enum"], &schema["oneOf"]) {
        (Value::Array(values), _) => values.clone(),
        (_, Value::Array(options)) => options
            .iter()
            .map(|o| o.get("const").cloned())
            .collect::<Option<_>>()?,
        _ => return None,
    };
    Some(
        values
            .iter()
            .map(|v| {
                format!(
                    "`{}`",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join(" \\| "),
    )
}

/// Every definition the schemas share (positions, plans, people, roles ...), once.
fn shared_types(envelope: &Value, catalogue: &[Family]) -> String {
    let mut defs = BTreeMap::new();
    let schemas = std::iter::once(envelope)
        .chain(catalogue.iter().flat_map(|f| &f.events).map(|e| &e.schema));
    for schema in schemas {
        if let Some(map) = schema["$defs"].as_object() {
            for (name, def) in map {
                defs.entry(name.clone())
                    .or_insert_with(|| (def.clone(), schema.clone()));
            }
        }
    }
    let mut out = String::new();
    for (name, (def, root)) in defs {
        out.push_str(&format!("#### Type {name}\n\n"));
        if let Some(description) = def["description"].as_str() {
            out.push_str(&format!("{}\n\n", one_line(description)));
        }
        match constants(&def) {
            Some(values) => {
                out.push_str(&format!("One of {values}.\n\n"));
                if let Some(options) = def["oneOf"].as_array() {
                    for option in options {
                        if let (Some(value), Some(description)) =
                            (option["const"].as_str(), option["description"].as_str())
                        {
                            out.push_str(&format!("- `{value}`: {}\n", one_line(description)));
                        }
                    }
                    out.push('\n');
                }
            }
            None if def.get("properties").is_none() => {
                out.push_str(&format!("A {}", type_of(&def)));
                if let Some(pattern) = def["pattern"].as_str() {
                    out.push_str(&format!(" matching `{pattern}`"));
                }
                out.push_str(".\n\n");
            }
            None => {
                out.push_str(&fields_table(&def, &root));
                out.push('\n');
            }
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// GitHub's heading anchors: lower case, spaces to dashes, punctuation but `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn types_read_like_prose() {
        assert_eq!(
            type_of(&json!({"type": "string", "format": "date-time"})),
            "string (date-time)"
        );
        assert_eq!(
            type_of(&json!({"type": ["string", "null"]})),
            "string or null"
        );
        assert_eq!(
            type_of(&json!({"type": "array", "items": {"type": "string"}})),
            "array of string"
        );
        assert_eq!(
            type_of(&json!({"$ref": "#/$defs/Plan"})),
            "[Plan](#type-plan)"
        );
        assert_eq!(type_of(&json!({"enum": ["a", "b"]})), "`a` \\| `b`");
        assert_eq!(type_of(&json!(true)), "any JSON");
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(
            anchor("annals.user.UserRegistered"),
            "annalsuseruserregistered"
        );
        assert_eq!(anchor("Type PlanLimits"), "type-planlimits");
    }
}
