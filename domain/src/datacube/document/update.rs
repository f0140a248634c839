//! `update_data`: a plain object (set those fields) or the operators `$set`, `$unset`, `$inc`
//! and `$push`, with dotted paths into embedded objects.
use serde_json::{Map, Number, Value};

use super::DocumentError;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// `(path, value)` in the order given.
    pub set: Vec<(String, Value)>,
    pub unset: Vec<String>,
    pub inc: Vec<(String, Number)>,
    /// `(path, elements)`: one element, or the `$each` list.
    pub push: Vec<(String, Vec<Value>)>,
}

fn operand<'a>(op: &str, v: &'a Value) -> Result<&'a Map<String, Value>, DocumentError> {
    match v {
        Value::Object(m) if !m.is_empty() => Ok(m),
        _ => Err(DocumentError::BadOperand {
            op: op.to_owned(),
            expected: "a non-empty object of field paths",
        }),
    }
}

impl Update {
    /// Parses `update_data`.
    pub fn parse(value: &Value) -> Result<Update, DocumentError> {
        let Value::Object(map) = value else {
            return Err(DocumentError::BadUpdate("must be a JSON object"));
        };
        if map.is_empty() {
            return Err(DocumentError::BadUpdate("must not be empty"));
        }
        let operators = map.keys().filter(|k| k.starts_with('$')).count();
        let mut update = Update::default();
        if operators == 0 {
            update.set = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            return update.checked();
        }
        if operators != map.len() {
            return Err(DocumentError::BadUpdate(
                "cannot mix operators and field names",
            ));
        }
        for (op, arg) in map {
            let fields = operand(op, arg)?;
            match op.as_str() {
                "$set" => update
                    .set
                    .extend(fields.iter().map(|(k, v)| (k.clone(), v.clone()))),
                "$unset" => update.unset.extend(fields.keys().cloned()),
                "$inc" => {
                    for (k, v) in fields {
                        let Value::Number(n) = v else {
                            return Err(DocumentError::BadOperand {
                                op: op.clone(),
                                expected: "numbers",
                            });
                        };
                        update.inc.push((k.clone(), n.clone()));
                    }
                }
                "$push" => {
                    for (k, v) in fields {
                        let elements = match v {
                            Value::Object(m) if m.contains_key("$each") => {
                                match (&m["$each"], m.len()) {
                                    (Value::Array(items), 1) => items.clone(),
                                    _ => {
                                        return Err(DocumentError::BadOperand {
                                            op: "$each".into(),
                                            expected: "an array (and no other modifier)",
                                        });
                                    }
                                }
                            }
                            v => vec![v.clone()],
                        };
                        update.push.push((k.clone(), elements));
                    }
                }
                _ => return Err(DocumentError::UnknownOperator(op.clone())),
            }
        }
        update.checked()
    }

    fn paths(&self) -> impl Iterator<Item = &String> {
        self.set
            .iter()
            .map(|(p, _)| p)
            .chain(&self.unset)
            .chain(self.inc.iter().map(|(p, _)| p))
            .chain(self.push.iter().map(|(p, _)| p))
    }

    /// Refuses `_id` and the reserved fields, empty segments, and two paths where one is the
    /// other or its parent (Mongo's conflicting paths).
    fn checked(self) -> Result<Update, DocumentError> {
        let paths: Vec<&String> = self.paths().collect();
        for (i, p) in paths.iter().enumerate() {
            let top = p.split('.').next().unwrap_or_default();
            if super::RESERVED_KEYS.contains(&top) {
                return Err(DocumentError::ReservedField(top.to_owned()));
            }
            if p.split('.').any(|s| s.is_empty() || s.starts_with('$')) {
                return Err(DocumentError::BadPath((*p).clone()));
            }
            for q in &paths[i + 1..] {
                let nested =
                    |a: &str, b: &str| b.strip_prefix(a).is_some_and(|r| r.starts_with('.'));
                if p == q || nested(p, q) || nested(q, p) {
                    return Err(DocumentError::ConflictingPaths((*p).clone(), (*q).clone()));
                }
            }
        }
        Ok(self)
    }

    /// The body after the update.
    pub fn apply(&self, body: &Map<String, Value>) -> Result<Map<String, Value>, DocumentError> {
        let mut doc = Value::Object(body.clone());
        for (path, value) in &self.set {
            *slot(&mut doc, path)? = value.clone();
        }
        for path in &self.unset {
            remove(&mut doc, path);
        }
        for (path, by) in &self.inc {
            let at = slot(&mut doc, path)?;
            *at = match at {
                Value::Null => Value::Number(by.clone()),
                Value::Number(n) => {
                    Value::Number(add(n, by).ok_or_else(|| DocumentError::BadOperand {
                        op: "$inc".into(),
                        expected: "a sum within the range of numbers",
                    })?)
                }
                _ => return Err(DocumentError::NotANumber(path.clone())),
            };
        }
        for (path, elements) in &self.push {
            let at = slot(&mut doc, path)?;
            match at {
                Value::Null => *at = Value::Array(elements.clone()),
                Value::Array(items) => items.extend(elements.iter().cloned()),
                _ => return Err(DocumentError::NotAnArray(path.clone())),
            }
        }
        match doc {
            Value::Object(map) => Ok(map),
            _ => unreachable!("the document stays an object"),
        }
    }
}

/// `a + b`, as an integer when both are, else as a float.
fn add(a: &Number, b: &Number) -> Option<Number> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x.checked_add(y).map(Number::from),
        _ => Number::from_f64(a.as_f64()? + b.as_f64()?),
    }
}

/// The value at a dotted path, created (as `null`, with objects on the way) when missing. A
/// path through something that is not an object is refused.
fn slot<'a>(doc: &'a mut Value, path: &str) -> Result<&'a mut Value, DocumentError> {
    let mut at = doc;
    for segment in path.split('.') {
        if at.is_null() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else {
            return Err(DocumentError::BadPath(path.to_owned()));
        };
        at = map.entry(segment.to_owned()).or_insert(Value::Null);
    }
    Ok(at)
}

fn remove(doc: &mut Value, path: &str) {
    let segments: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut at = doc;
    for s in parents {
        match at.get_mut(*s) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(map) = at {
        map.remove(*last);
    }
}
