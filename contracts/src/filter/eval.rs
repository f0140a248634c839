//! In-memory reference semantics: the executable form of the rules in the
//! module docs, against which SQL compilers are checked.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::{FieldPath, Filter, JsonType, Query, Sort, SortDirection, is_index};
use crate::StoreError;

impl FieldPath {
    /// The value at this path, or `None` when missing (walks objects, and arrays at index
    /// segments).
    pub fn lookup<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(doc, |v, segment| match v {
            Value::Object(members) => members.get(segment),
            Value::Array(items) if is_index(segment) => items.get(segment.parse::<usize>().ok()?),
            _ => None,
        })
    }
}

impl Filter {
    /// Whether `doc` matches; the reference every SQL compiler must agree with.
    pub fn matches(&self, doc: &Value) -> bool {
        match self {
            Filter::All => true,
            Filter::And(fs) => fs.iter().all(|f| f.matches(doc)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(doc)),
            Filter::Not(f) => !f.matches(doc),
            Filter::Eq(p, v) => eq_at(p.lookup(doc), v),
            Filter::Ne(p, v) => !eq_at(p.lookup(doc), v),
            Filter::In(p, vs) => vs.iter().any(|v| eq_at(p.lookup(doc), v)),
            Filter::IEq(p, s) => {
                matches!(p.lookup(doc), Some(Value::String(x)) if x.eq_ignore_ascii_case(s))
            }
            Filter::ILike(p, s) => matches!(p.lookup(doc), Some(Value::String(x))
                if x.to_ascii_lowercase().contains(&s.to_ascii_lowercase())),
            Filter::Range {
                path,
                gt,
                gte,
                lt,
                lte,
            } => {
                let found = path.lookup(doc);
                let holds = |bound: &Option<Value>, ok: fn(Ordering) -> bool| match bound {
                    None => true,
                    Some(b) => found.and_then(|v| same_type_cmp(v, b)).is_some_and(ok),
                };
                holds(gt, Ordering::is_gt)
                    && holds(gte, Ordering::is_ge)
                    && holds(lt, Ordering::is_lt)
                    && holds(lte, Ordering::is_le)
            }
            Filter::Contains(p, v) => {
                matches!(p.lookup(doc), Some(Value::Array(items)) if items.iter().any(|i| json_eq(i, v)))
            }
            Filter::Exists(p, present) => p.lookup(doc).is_some() == *present,
            Filter::Regex(p, r) => matches!(p.lookup(doc), Some(Value::String(x))
                if regex::Regex::new(r.as_str()).is_ok_and(|re| re.is_match(x))),
            Filter::Size(p, n) => {
                matches!(p.lookup(doc), Some(Value::Array(items)) if items.len() == *n as usize)
            }
            Filter::Type(p, types) => p
                .lookup(doc)
                .is_some_and(|v| types.contains(&JsonType::of(v))),
            Filter::ElemMatch(p, f) => {
                matches!(p.lookup(doc), Some(Value::Array(items)) if items.iter().any(|e| f.matches(e)))
            }
        }
    }
}

impl Query {
    /// Filters, sorts and pages `(id, doc)` rows, returning the ids in order; a cursor of
    /// another sort is [`StoreError::InvalidQuery`].
    pub fn evaluate<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> Result<Vec<&'a str>, StoreError> {
        let after = match &self.after {
            Some(cursor) => Some(cursor.position(&self.sort)?),
            None => None,
        };
        let mut hits: Vec<_> = rows
            .into_iter()
            .filter(|(_, doc)| self.filter.matches(doc))
            .filter(|(id, doc)| {
                after.is_none_or(|(keys, after_id)| {
                    let keys = keys.iter().map(Some);
                    row_cmp(&self.sort, doc.lookups(&self.sort), id, keys, after_id).is_gt()
                })
            })
            .collect();
        hits.sort_by(|(a_id, a), (b_id, b)| {
            row_cmp(
                &self.sort,
                a.lookups(&self.sort),
                a_id,
                b.lookups(&self.sort),
                b_id,
            )
        });
        let offset = usize::try_from(self.offset).unwrap_or(usize::MAX);
        Ok(hits
            .into_iter()
            .skip(offset)
            .take(self.limit as usize)
            .map(|(id, _)| id)
            .collect())
    }
}

trait Lookups {
    /// The values at each sort key's path.
    fn lookups<'s>(&'s self, sort: &'s [Sort]) -> impl Iterator<Item = Option<&'s Value>>;
}

impl Lookups for Value {
    fn lookups<'s>(&'s self, sort: &'s [Sort]) -> impl Iterator<Item = Option<&'s Value>> {
        sort.iter().map(|s| s.path.lookup(self))
    }
}

/// The order of two rows given their values at the sort keys: key by key, then by id.
fn row_cmp<'v>(
    sort: &[Sort],
    a: impl Iterator<Item = Option<&'v Value>>,
    a_id: &str,
    b: impl Iterator<Item = Option<&'v Value>>,
    b_id: &str,
) -> Ordering {
    sort.iter()
        .zip(a.zip(b))
        .map(|(s, (a, b))| sort_cmp(a, b, s.direction))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
        .then_with(|| a_id.as_bytes().cmp(b_id.as_bytes()))
}

/// Eq semantics: `null` also matches a missing value.
fn eq_at(found: Option<&Value>, v: &Value) -> bool {
    match found {
        None => v.is_null(),
        Some(f) => json_eq(f, v),
    }
}

/// JSON equality with numbers compared numerically.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y).is_eq(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Range ordering: only numbers with numbers and strings with strings.
fn same_type_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Some(cmp_numbers(x, y)),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

/// Sort order of one key; missing and null last in both directions.
fn sort_cmp(a: Option<&Value>, b: Option<&Value>, direction: SortDirection) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            Some(Value::Number(_)) => 0,
            Some(Value::String(_)) => 1,
            Some(Value::Bool(_)) => 2,
            Some(Value::Array(_) | Value::Object(_)) => 3,
            None | Some(Value::Null) => 4,
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra == 4 || rb == 4 {
        return ra.cmp(&rb);
    }
    let order = ra.cmp(&rb).then_with(|| match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(x), Some(y)) => same_type_cmp(x, y).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    });
    match direction {
        SortDirection::Asc => order,
        SortDirection::Desc => order.reverse(),
    }
}

fn cmp_numbers(x: &Number, y: &Number) -> Ordering {
    fn int(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    let float = |n: &Number| n.as_f64().unwrap_or(f64::NAN);
    match (int(x), int(y)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(a), None) => cmp_int_float(a, float(y)),
        (None, Some(b)) => cmp_int_float(b, float(x)).reverse(),
        // JSON has no NaN, so partial_cmp always answers.
        (None, None) => float(x).partial_cmp(&float(y)).unwrap_or(Ordering::Equal),
    }
}

/// Exact integer/float comparison (`as f64` would round large integers).
fn cmp_int_float(i: i128, f: f64) -> Ordering {
    const TWO_POW_127: f64 = 1.7014118346046923e38;
    if f >= TWO_POW_127 {
        return Ordering::Less;
    }
    if f < -TWO_POW_127 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    i.cmp(&(whole as i128)).then(
        // Same integer part: the fraction decides.
        if f > whole {
            Ordering::Less
        } else if f < whole {
            Ordering::Greater
        } else {
            Ordering::Equal
        },
    )
}
