//! DataCube queries: Mongo-style `filters`, `sort` and `fields` turned into the read models'
//! filter language, scoped to one collection, and documents shaped for the answer.
use serde_json::{Map, Value};

use annals_contracts::filter::{FieldPath, Filter, Query, Sort, SortDirection, Within};
use annals_projections::datacube::META;

use crate::services::error::AppError;

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 1000;

fn path(p: &str) -> FieldPath {
    FieldPath::parse(p).expect("static path")
}

/// The insertion order: the place of a document's insert in the log.
fn insertion_order() -> Sort {
    Sort {
        path: path(&format!("{META}.n")),
        direction: SortDirection::Asc,
    }
}

/// `filters` as sent: a JSON object, or a string holding one (query strings).
pub fn filter_value(raw: Option<&Value>) -> Result<Value, AppError> {
    let value = match raw {
        None | Some(Value::Null) => return Ok(Value::Object(Map::new())),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Value::Object(Map::new())),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| AppError::invalid("filters", format!("not valid JSON: {e}")))?,
        Some(v) => v.clone(),
    };
    if !value.is_object() {
        return Err(AppError::invalid("filters", "must be a JSON object"));
    }
    Ok(value)
}

/// A top-level `id` (also inside `$and`/`$or`/`$nor` clauses) is the original's alias of `_id`.
fn alias_id(value: &mut Value) {
    let Value::Object(map) = value else { return };
    if !map.contains_key("_id")
        && let Some(id) = map.remove("id")
    {
        map.insert("_id".into(), id);
    }
    for key in ["$and", "$or", "$nor"] {
        if let Some(Value::Array(clauses)) = map.get_mut(key) {
            clauses.iter_mut().for_each(alias_id);
        }
    }
}

/// Mongo's array rule: equality with a scalar also matches an array holding it.
fn with_array_membership(filter: Filter) -> Filter {
    let member = |p: &FieldPath, v: &Value| {
        if v.is_array() || v.is_object() || v.is_null() {
            Filter::Eq(p.clone(), v.clone())
        } else {
            Filter::Or(vec![
                Filter::Eq(p.clone(), v.clone()),
                Filter::Contains(p.clone(), v.clone()),
            ])
        }
    };
    match filter {
        Filter::Eq(p, v) => member(&p, &v),
        Filter::Ne(p, v) => Filter::Not(Box::new(member(&p, &v))),
        Filter::In(p, vs) => Filter::Or(vs.iter().map(|v| member(&p, v)).collect()),
        Filter::And(fs) => Filter::And(fs.into_iter().map(with_array_membership).collect()),
        Filter::Or(fs) => Filter::Or(fs.into_iter().map(with_array_membership).collect()),
        Filter::Not(f) => Filter::Not(Box::new(with_array_membership(*f))),
        Filter::ElemMatch(p, f) => Filter::ElemMatch(p, Box::new(with_array_membership(*f))),
        // `$all: ["a"]` also matches a field that is "a" itself, as in Mongo.
        Filter::Contains(p, v) if !(v.is_array() || v.is_object() || v.is_null()) => {
            Filter::Or(vec![
                Filter::Eq(p.clone(), v.clone()),
                Filter::Contains(p, v),
            ])
        }
        other => other,
    }
}

/// A Mongo-style filter (already a JSON object) in the filter language.
pub fn compile_filter(mut value: Value) -> Result<Filter, AppError> {
    alias_id(&mut value);
    let filter = Filter::from_json(&value).map_err(filter_error)?;
    Ok(with_array_membership(filter))
}

/// What an upsert inserts when its filter matches nothing: the filter's equalities (`{"f": v}`,
/// `{"f": {"$eq": v}}`, also inside a top-level `$and`), dotted paths as embedded objects.
pub fn upsert_seed(value: &Value) -> Result<Map<String, Value>, AppError> {
    fn collect(value: &Value, at: &str, seed: &mut Map<String, Value>) -> Result<(), AppError> {
        let Value::Object(map) = value else {
            return Ok(());
        };
        for (key, v) in map {
            if key == "$and" {
                for (i, clause) in v.as_array().into_iter().flatten().enumerate() {
                    collect(clause, &format!("{at}.$and[{i}]"), seed)?;
                }
                continue;
            }
            if key.starts_with('$') {
                continue;
            }
            let equal = match v {
                Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => ops.get("$eq"),
                literal => Some(literal),
            };
            let Some(equal) = equal else { continue };
            let field = format!("{at}.{key}");
            let mut slot = &mut *seed;
            let segments: Vec<&str> = key.split('.').collect();
            let (last, parents) = segments.split_last().expect("split gives one part");
            for segment in parents {
                let next = slot
                    .entry(segment.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                slot = next.as_object_mut().ok_or_else(|| {
                    AppError::invalid(field.clone(), "conflicts with another equality to upsert")
                })?;
            }
            if slot.insert(last.to_string(), equal.clone()).is_some() {
                return Err(AppError::invalid(
                    field,
                    "conflicts with another equality to upsert",
                ));
            }
        }
        Ok(())
    }
    let mut value = value.clone();
    alias_id(&mut value);
    let mut seed = Map::new();
    collect(&value, "filters", &mut seed)?;
    Ok(seed)
}

fn filter_error(e: annals_contracts::filter::FilterError) -> AppError {
    use annals_contracts::filter::FilterError;
    let at = match &e {
        FilterError::NotAnObject { at }
        | FilterError::UnknownOperator { at, .. }
        | FilterError::InvalidOperand { at, .. }
        | FilterError::InvalidPath { at, .. }
        | FilterError::MixedOperators { at }
        | FilterError::DollarKeyInLiteral { at }
        | FilterError::NulCharacter { at }
        | FilterError::TooDeep { at, .. }
        | FilterError::TooManyClauses { at, .. } => at.clone(),
    };
    let message = e.to_string();
    let message = message
        .strip_prefix(&format!("{at}: "))
        .unwrap_or(&message)
        .to_string();
    AppError::invalid(at, message)
}

/// The rows of the collection `collection_id` in the read model, listed in insertion order
/// (the document projection's owner and ord).
pub fn within(collection_id: &str) -> Within {
    Within {
        owner: collection_id.to_owned(),
        ord: path(&format!("{META}.n")),
    }
}

/// `filter` within the collection `collection_id`, said in the documents' own fields (for
/// documents rebuilt from the log; the read model's queries use [`within`]).
pub fn scoped(collection_id: &str, filter: Filter) -> Filter {
    let scope = Filter::Eq(
        path(&format!("{META}.c")),
        Value::String(collection_id.into()),
    );
    match filter {
        Filter::All => scope,
        f => Filter::And(vec![scope, f]),
    }
}

/// `sort` as sent (`{"signup_date": -1, "name": 1}`, or a string holding it), then insertion
/// order.
pub fn sort(raw: Option<&Value>) -> Result<Vec<Sort>, AppError> {
    let value = match raw {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::String(s)) if s.trim().is_empty() => Value::Object(Map::new()),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|_| AppError::invalid("sort", "must be a JSON object like {\"field\": -1}"))?,
        Some(v) => v.clone(),
    };
    let Value::Object(keys) = value else {
        return Err(AppError::invalid(
            "sort",
            "must be a JSON object like {\"field\": -1}",
        ));
    };
    let mut sort = Vec::with_capacity(keys.len() + 1);
    for (key, direction) in keys {
        let direction = match direction.as_i64() {
            Some(1) => SortDirection::Asc,
            Some(-1) => SortDirection::Desc,
            _ => return Err(AppError::invalid(format!("sort.{key}"), "must be 1 or -1")),
        };
        let path = FieldPath::parse(&key)
            .map_err(|e| AppError::invalid(format!("sort.{key}"), e.to_string()))?;
        sort.push(Sort { path, direction });
    }
    sort.push(insertion_order());
    Ok(sort)
}

/// Which fields an answer keeps: `{"a": 1, "b.c": 1}` (those and `_id`), `{"a": 0}` (all
/// but those), or a list `["a", "b"]` / `"a,b"`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Projection {
    #[default]
    All,
    Include(Vec<Vec<String>>),
    Exclude(Vec<Vec<String>>),
}

pub fn projection(raw: Option<&Value>) -> Result<Projection, AppError> {
    let bad = || {
        AppError::invalid(
            "fields",
            "must be {\"field\": 1} or {\"field\": 0}, or a list of fields",
        )
    };
    let value = match raw {
        None | Some(Value::Null) => return Ok(Projection::All),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Projection::All),
        Some(Value::String(s)) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(s).map_err(|_| bad())?
        }
        Some(Value::String(s)) => Value::Array(
            s.split(',')
                .map(|f| Value::String(f.trim().into()))
                .collect(),
        ),
        Some(v) => v.clone(),
    };
    let split = |p: &str| -> Result<Vec<String>, AppError> {
        FieldPath::parse(p)
            .map(|p| p.segments().to_vec())
            .map_err(|e| AppError::invalid(format!("fields.{p}"), e.to_string()))
    };
    match value {
        Value::Array(items) => {
            let paths = items
                .iter()
                .map(|i| i.as_str().ok_or_else(bad).and_then(split))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Projection::Include(paths))
        }
        Value::Object(map) if !map.is_empty() => {
            let mut include = Vec::new();
            let mut exclude = Vec::new();
            for (key, flag) in &map {
                let on = match flag {
                    Value::Bool(b) => *b,
                    Value::Number(n) => n.as_f64() != Some(0.0),
                    _ => return Err(bad()),
                };
                if on { &mut include } else { &mut exclude }.push(split(key)?);
            }
            match (include.is_empty(), exclude.is_empty()) {
                (false, true) => Ok(Projection::Include(include)),
                (true, false) => Ok(Projection::Exclude(exclude)),
                // `_id: 0` may go with inclusions, as in Mongo.
                (false, false) if exclude == [vec!["_id".to_string()]] => {
                    include.push(vec!["-_id".into()]);
                    Ok(Projection::Include(include))
                }
                _ => Err(AppError::invalid(
                    "fields",
                    "cannot mix inclusion and exclusion",
                )),
            }
        }
        _ => Err(bad()),
    }
}

fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(value) = from.get(first) else { return };
    if rest.is_empty() {
        to.insert(first.clone(), value.clone());
    } else if let Value::Object(inner) = value {
        let entry = to
            .entry(first.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(target) = entry {
            copy_path(inner, target, rest);
        }
    }
}

fn remove_path(doc: &mut Map<String, Value>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            doc.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = doc.get_mut(first) {
                remove_path(inner, rest);
            }
        }
    }
}

/// A document view as clients see it: without the service's own fields, projected.
pub fn shown(doc: Value, projection: &Projection) -> Value {
    let Value::Object(mut doc) = doc else {
        return doc;
    };
    doc.remove(META);
    Value::Object(match projection {
        Projection::All => doc,
        Projection::Exclude(paths) => {
            paths.iter().for_each(|p| remove_path(&mut doc, p));
            doc
        }
        Projection::Include(paths) => {
            let mut out = Map::new();
            let hide_id = paths.iter().any(|p| p == &["-_id"]);
            if !hide_id {
                copy_path(&doc, &mut out, &["_id".to_string()]);
            }
            paths.iter().for_each(|p| copy_path(&doc, &mut out, p));
            out
        }
    })
}

/// Page and page size as sent (defaults 1 and 20; page size at most 1000).
pub fn page(page: Option<&str>, page_size: Option<&str>) -> Result<(u32, u32), AppError> {
    let number = |field: &str, raw: Option<&str>, default: u32, max: u32| match raw {
        None | Some("") => Ok(default),
        Some(s) => s
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| AppError::invalid(field, format!("must be an integer from 1 to {max}"))),
    };
    Ok((
        number("page", page, 1, u32::MAX)?,
        number("page_size", page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
    ))
}

/// The query of one page, counted.
pub fn paged(filter: Filter, sort: Vec<Sort>, page: u32, page_size: u32) -> Query {
    Query {
        filter,
        sort,
        limit: page_size,
        offset: u64::from(page - 1) * u64::from(page_size),
        after: None,
        count: true,
        within: None,
    }
}

/// `{page, page_size, total, total_items, total_pages}` (`total_items` for the original's
/// clients).
pub fn pagination(page: u32, page_size: u32, total: u64) -> Value {
    serde_json::json!({
        "page": page,
        "page_size": page_size,
        "total": total,
        "total_items": total,
        "total_pages": total.div_ceil(u64::from(page_size)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn equality_matches_array_members_and_id_is_an_alias() {
        let f = compile_filter(json!({"tags": "a", "id": "x1"})).unwrap();
        assert!(f.matches(&json!({"_id": "x1", "tags": ["b", "a"]})));
        assert!(f.matches(&json!({"_id": "x1", "tags": "a"})));
        assert!(!f.matches(&json!({"_id": "x2", "tags": "a"})));
        let ne = compile_filter(json!({"tags": {"$ne": "a"}})).unwrap();
        assert!(!ne.matches(&json!({"tags": ["a"]})));
        assert!(ne.matches(&json!({})));
    }

    #[test]
    fn all_and_elem_match_follow_the_array_rules() {
        let all = compile_filter(json!({"tags": {"$all": ["a", "b"]}})).unwrap();
        assert!(all.matches(&json!({"tags": ["b", "c", "a"]})));
        assert!(!all.matches(&json!({"tags": ["a"]})));
        let one = compile_filter(json!({"tags": {"$all": ["a"]}})).unwrap();
        assert!(one.matches(&json!({"tags": "a"})));
        let elem = compile_filter(json!({"items": {"$elemMatch": {"tags": "x"}}})).unwrap();
        assert!(elem.matches(&json!({"items": [{"tags": ["y", "x"]}]})));
        assert!(!elem.matches(&json!({"items": {"tags": "x"}})));
    }

    #[test]
    fn an_upsert_inserts_the_filters_equalities() {
        let seed = upsert_seed(&json!({
            "id": "k1", "sku": {"$eq": "a"}, "qty": {"$gt": 1}, "meta.color": "red",
            "$and": [{"meta.size": 2}], "$or": [{"x": 1}]
        }))
        .unwrap();
        assert_eq!(
            Value::Object(seed),
            json!({"_id": "k1", "sku": "a", "meta": {"color": "red", "size": 2}})
        );
        let e = upsert_seed(&json!({"a": 1, "a.b": 2})).unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "filters.a.b"),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_operators_are_named() {
        let e = compile_filter(json!({"age": {"$where": "1"}})).unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, ref message }
            if field == "filters.age" && message.contains("$where")),
            "{e:?}"
        );
    }

    #[test]
    fn sort_and_projection_parse_the_mongo_forms() {
        let s = sort(Some(&json!("{\"signup_date\": -1}"))).unwrap();
        assert_eq!(s[0].to_string(), "-signup_date");
        assert_eq!(s.len(), 2);
        assert!(sort(Some(&json!({"a": 2}))).is_err());
        let p = projection(Some(&json!("{\"email\": 1, \"a.b\": 1}"))).unwrap();
        let doc = json!({"_id": "1", "email": "e", "a": {"b": 1, "c": 2}, "x": 0, "_dc": {}});
        assert_eq!(
            shown(doc.clone(), &p),
            json!({"_id": "1", "email": "e", "a": {"b": 1}})
        );
        let p = projection(Some(&json!({"x": 0}))).unwrap();
        assert_eq!(
            shown(doc, &p),
            json!({"_id": "1", "email": "e", "a": {"b": 1, "c": 2}})
        );
        assert!(projection(Some(&json!({"a": 1, "b": 0}))).is_err());
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(page(None, None).unwrap(), (1, 20));
        assert!(page(Some("0"), None).is_err());
        assert!(page(None, Some("1001")).is_err());
        assert_eq!(pagination(2, 10, 21)["total_pages"], 3);
        assert_eq!(pagination(1, 10, 0)["total_pages"], 0);
    }
}
