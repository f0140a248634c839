//! Comparing live read models with a rebuild from the log (`annals verify --read-models`):
//! documents are equal when their canonical encodings are (numbers by value, keys in any
//! order), since the two stores need not write a number the same way.
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use annals_contracts::integrity::write_canonical;

/// A document that differs: absent (`None`) on one side, or different on both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub collection: String,
    pub id: String,
    pub live: Option<Value>,
    pub rebuilt: Option<Value>,
}

fn canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(&mut out, value);
    out
}

/// The differences between one collection's live documents and its rebuilt ones, by id.
pub fn differences(
    collection: &str,
    live: Vec<(String, Value)>,
    rebuilt: Vec<(String, Value)>,
) -> Vec<Difference> {
    let mut rebuilt: BTreeMap<String, Value> = rebuilt.into_iter().collect();
    let mut out = Vec::new();
    let live: BTreeMap<String, Value> = live.into_iter().collect();
    for (id, doc) in live {
        match rebuilt.remove(&id) {
            Some(other) if canonical(&other) == canonical(&doc) => {}
            other => out.push(Difference {
                collection: collection.to_string(),
                id,
                live: Some(doc),
                rebuilt: other,
            }),
        }
    }
    out.extend(rebuilt.into_iter().map(|(id, doc)| Difference {
        collection: collection.to_string(),
        id,
        live: None,
        rebuilt: Some(doc),
    }));
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equal_documents_written_differently_do_not_differ() {
        let live = vec![
            ("a".to_string(), json!({"n": 1.0, "x": [1, 2]})),
            ("b".to_string(), json!({"keep": true})),
            ("c".to_string(), json!({"name": "live"})),
        ];
        let rebuilt = vec![
            ("c".to_string(), json!({"name": "rebuilt"})),
            ("a".to_string(), json!({"x": [1, 2], "n": 1})),
            ("d".to_string(), json!({})),
        ];
        let found = differences("things", live, rebuilt);
        let ids: Vec<(&str, bool, bool)> = found
            .iter()
            .map(|d| (d.id.as_str(), d.live.is_some(), d.rebuilt.is_some()))
            .collect();
        assert_eq!(
            ids,
            [("b", true, false), ("c", true, true), ("d", false, true)]
        );
    }
}
