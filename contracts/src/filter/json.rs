//! DataCube/Mongo-style JSON filters -> [`Filter`].
//!
//! `{"a.b": v}` is `Eq` (several keys: `And`); `{"a": {"$op": arg, ..}}`
//! applies operators (`$eq $ne $gt $gte $lt $lte $in $nin $ieq $ilike
//! $contains $exists $not $regex` (with `$options: "i"`) `$all $size $type
//! $elemMatch`; several: `And`; the four bounds form one `Range`);
//! `{"$and": [..]}`, `{"$or": [..]}`, `{"$nor": [..]}`, `{"$not": {..}}`
//! combine. An object value without `$` keys is a literal to equal.
//!
//! `$all: [v, ..]` is an array holding every `v` (`[]` matches nothing);
//! `$size: n` an array of `n` elements; `$type` one type or a list (Mongo's
//! names and codes of the JSON types); `$elemMatch` takes operators that an
//! element itself must meet (`{"$gte": 80, "$lt": 85}`) or a filter object on
//! the element's fields (`{"sku": "a", "qty": {"$gt": 1}}`).

use serde_json::{Map, Value};

use super::{FieldPath, Filter, FilterError, JsonType, MAX_CLAUSES, MAX_DEPTH, Pattern};

/// What `$type` takes.
const TYPES: &str = "a type (\"string\", \"number\", \"bool\", \"object\", \"array\", \"null\", or Mongo's code) or a non-empty list of them";

pub(super) fn parse(value: &Value, root: &str) -> Result<Filter> {
    let mut parser = Parser {
        clauses: MAX_CLAUSES,
    };
    parser.object(value, root, 1)
}

struct Parser {
    /// Conditions still allowed; bounds the size of the compiled SQL.
    clauses: usize,
}

type Result<T> = std::result::Result<T, FilterError>;

fn is_op(key: &str) -> bool {
    key.starts_with('$')
}

/// Keys in sorted order so the result (and its SQL) never depends on
/// serde_json's map ordering features.
fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn conjunction(mut parts: Vec<Filter>) -> Filter {
    match parts.len() {
        0 => Filter::All,
        1 => parts.pop().expect("one part"),
        _ => Filter::And(parts),
    }
}

fn invalid(at: &str, op: &str, expected: &'static str) -> FilterError {
    FilterError::InvalidOperand {
        at: at.to_owned(),
        op: op.to_owned(),
        expected,
    }
}

impl Parser {
    fn take(&mut self, at: &str, n: usize) -> Result<()> {
        self.clauses = self
            .clauses
            .checked_sub(n)
            .ok_or_else(|| FilterError::TooManyClauses {
                at: at.to_owned(),
                max: MAX_CLAUSES,
            })?;
        Ok(())
    }

    /// A filter object: field names and `$and`/`$or`/`$not`, implicitly ANDed.
    fn object(&mut self, value: &Value, at: &str, depth: usize) -> Result<Filter> {
        if depth > MAX_DEPTH {
            return Err(FilterError::TooDeep {
                at: at.to_owned(),
                max: MAX_DEPTH,
            });
        }
        let Value::Object(map) = value else {
            return Err(FilterError::NotAnObject { at: at.to_owned() });
        };
        let mut parts = Vec::with_capacity(map.len());
        for (key, v) in sorted(map) {
            let part = match key.as_str() {
                "$and" | "$or" | "$nor" => {
                    let items = match v {
                        Value::Array(items) if !items.is_empty() => items,
                        _ => return Err(invalid(at, key, "a non-empty array of filter objects")),
                    };
                    let fs = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.object(item, &format!("{at}.{key}[{i}]"), depth + 1))
                        .collect::<Result<Vec<_>>>()?;
                    match key.as_str() {
                        "$and" => Filter::And(fs),
                        "$or" => Filter::Or(fs),
                        _ => Filter::Not(Box::new(Filter::Or(fs))),
                    }
                }
                "$not" => {
                    if !v.is_object() {
                        return Err(invalid(at, key, "a filter object"));
                    }
                    let inner = self.object(v, &format!("{at}.$not"), depth + 1)?;
                    Filter::Not(Box::new(inner))
                }
                k if is_op(k) => {
                    return Err(FilterError::UnknownOperator {
                        at: at.to_owned(),
                        op: key.clone(),
                    });
                }
                _ => {
                    let field_at = format!("{at}.{key}");
                    let path =
                        FieldPath::parse(key).map_err(|source| FilterError::InvalidPath {
                            at: field_at.clone(),
                            source,
                        })?;
                    self.field(&path, v, &field_at, depth)?
                }
            };
            parts.push(part);
        }
        Ok(conjunction(parts))
    }

    /// The value of a field key: an operator object or a literal to equal.
    fn field(&mut self, path: &FieldPath, v: &Value, at: &str, depth: usize) -> Result<Filter> {
        if has_nul(v) {
            return Err(FilterError::NulCharacter { at: at.to_owned() });
        }
        let ops = match v {
            Value::Object(map) if map.keys().any(|k| is_op(k)) => map,
            _ => {
                self.take(at, 1)?;
                return Ok(Filter::Eq(path.clone(), literal(v, at)?));
            }
        };
        if !ops.keys().all(|k| is_op(k)) {
            return Err(FilterError::MixedOperators { at: at.to_owned() });
        }
        let (mut gt, mut gte, mut lt, mut lte) = (None, None, None, None);
        let mut parts = Vec::new();
        for (op, arg) in sorted(ops) {
            let p = path.clone();
            let part = match op.as_str() {
                "$gt" | "$gte" | "$lt" | "$lte" => {
                    if !(arg.is_number() || arg.is_string()) {
                        return Err(invalid(at, op, "a number or a string"));
                    }
                    let slot = match op.as_str() {
                        "$gt" => &mut gt,
                        "$gte" => &mut gte,
                        "$lt" => &mut lt,
                        _ => &mut lte,
                    };
                    *slot = Some(arg.clone());
                    continue;
                }
                "$eq" => Filter::Eq(p, literal(arg, at)?),
                "$ne" => Filter::Ne(p, literal(arg, at)?),
                "$in" | "$nin" => {
                    let Value::Array(items) = arg else {
                        return Err(invalid(at, op, "an array"));
                    };
                    // Each element becomes its own SQL condition.
                    self.take(at, items.len().max(1))?;
                    let values = items
                        .iter()
                        .map(|i| literal(i, at))
                        .collect::<Result<Vec<_>>>()?;
                    let f = Filter::In(p, values);
                    if op == "$in" {
                        f
                    } else {
                        Filter::Not(Box::new(f))
                    }
                }
                "$ieq" | "$ilike" => {
                    let Value::String(s) = arg else {
                        return Err(invalid(at, op, "a string"));
                    };
                    if op == "$ieq" {
                        Filter::IEq(p, s.clone())
                    } else {
                        Filter::ILike(p, s.clone())
                    }
                }
                "$contains" => Filter::Contains(p, literal(arg, at)?),
                // Read with its `$regex`.
                "$options" if ops.contains_key("$regex") => continue,
                "$options" => return Err(invalid(at, op, "a sibling \"$regex\"")),
                "$regex" => {
                    let Value::String(pattern) = arg else {
                        return Err(invalid(at, op, "a string"));
                    };
                    let case_insensitive = match ops.get("$options") {
                        None => false,
                        Some(Value::String(o)) if o.is_empty() => false,
                        Some(Value::String(o)) if o == "i" => true,
                        Some(_) => return Err(invalid(at, "$options", "\"i\" or \"\"")),
                    };
                    let pattern = Pattern::new(pattern, case_insensitive)
                        .map_err(|_| invalid(at, op, "a valid regular expression"))?;
                    Filter::Regex(p, pattern)
                }
                "$exists" => {
                    let Value::Bool(b) = arg else {
                        return Err(invalid(at, op, "a boolean"));
                    };
                    Filter::Exists(p, *b)
                }
                "$all" => {
                    let Value::Array(items) = arg else {
                        return Err(invalid(at, op, "an array"));
                    };
                    self.take(at, items.len().max(1))?;
                    let all = items
                        .iter()
                        .map(|i| Ok(Filter::Contains(p.clone(), literal(i, at)?)))
                        .collect::<Result<Vec<_>>>()?;
                    if all.is_empty() {
                        // Mongo: an empty `$all` matches nothing.
                        Filter::Or(vec![])
                    } else {
                        Filter::And(all)
                    }
                }
                "$size" => {
                    let n = arg
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| invalid(at, op, "a non-negative integer"))?;
                    Filter::Size(p, n)
                }
                "$type" => {
                    let aliases = match arg {
                        Value::Array(items) if !items.is_empty() => items.as_slice(),
                        Value::Array(_) => return Err(invalid(at, op, TYPES)),
                        one => std::slice::from_ref(one),
                    };
                    let types = aliases
                        .iter()
                        .map(|a| JsonType::from_mongo(a).ok_or_else(|| invalid(at, op, TYPES)))
                        .collect::<Result<Vec<_>>>()?;
                    Filter::Type(p, types)
                }
                "$elemMatch" => {
                    let Value::Object(inner) = arg else {
                        return Err(invalid(at, op, "an object"));
                    };
                    if depth + 1 > MAX_DEPTH {
                        return Err(FilterError::TooDeep {
                            at: at.to_owned(),
                            max: MAX_DEPTH,
                        });
                    }
                    let inner_at = format!("{at}.$elemMatch");
                    // Operators on the element itself, or a filter on its fields.
                    let element_ops = inner
                        .keys()
                        .filter(|k| is_op(k) && !matches!(k.as_str(), "$and" | "$or" | "$nor"))
                        .count();
                    let on_element = element_ops > 0 && element_ops == inner.len();
                    if element_ops > 0 && !on_element {
                        return Err(FilterError::MixedOperators { at: inner_at });
                    }
                    let f = if on_element {
                        self.field(&FieldPath::element(), arg, &inner_at, depth + 1)?
                    } else {
                        self.object(arg, &inner_at, depth + 1)?
                    };
                    Filter::ElemMatch(p, Box::new(f))
                }
                "$not" => {
                    if !matches!(arg, Value::Object(m) if !m.is_empty() && m.keys().all(|k| is_op(k)))
                    {
                        return Err(invalid(at, op, "an operator object"));
                    }
                    if depth + 1 > MAX_DEPTH {
                        return Err(FilterError::TooDeep {
                            at: at.to_owned(),
                            max: MAX_DEPTH,
                        });
                    }
                    Filter::Not(Box::new(self.field(path, arg, at, depth + 1)?))
                }
                _ => {
                    return Err(FilterError::UnknownOperator {
                        at: at.to_owned(),
                        op: op.clone(),
                    });
                }
            };
            // `$in`/`$nin`/`$all` paid per element, `$not` and `$elemMatch` through their
            // inner operators.
            let paid = op == "$all"
                || matches!(
                    part,
                    Filter::In(..) | Filter::Not(..) | Filter::ElemMatch(..)
                );
            if !paid {
                self.take(at, 1)?;
            }
            parts.push(part);
        }
        if gt.is_some() || gte.is_some() || lt.is_some() || lte.is_some() {
            self.take(at, 1)?;
            parts.push(Filter::Range {
                path: path.clone(),
                gt,
                gte,
                lt,
                lte,
            });
        }
        Ok(conjunction(parts))
    }
}

/// Postgres cannot hold U+0000 in text or jsonb: refuse it here rather
/// than fail in the database.
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// A literal operand: refuses `$` keys anywhere inside, since they almost
/// always mean an operator was misplaced (`{"a": {"b": {"$gt": 1}}}`).
fn literal(v: &Value, at: &str) -> Result<Value> {
    fn has_dollar_key(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| is_op(k) || has_dollar_key(v)),
            Value::Array(items) => items.iter().any(has_dollar_key),
            _ => false,
        }
    }
    if has_dollar_key(v) {
        return Err(FilterError::DollarKeyInLiteral { at: at.to_owned() });
    }
    Ok(v.clone())
}
