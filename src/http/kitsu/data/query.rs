//! The list query string as Zou reads it (reference 2.1): reserved options, and every other
//! key that is an attribute of the model compiled to a filter of the read model. Keys that are
//! not attributes are ignored (resources read some of them, e.g. `force`).
use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{DateRange, FieldType, Model, parse_datetime};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::http::kitsu::errors::{KitsuError, KitsuResult};

/// Zou's `NB_RECORDS_PER_PAGE`.
pub const DEFAULT_LIMIT: u32 = 100;

/// What a list request asks.
#[derive(Debug)]
pub struct ListOptions {
    /// `Some` only when `page` is given: the answer is then the paginated object.
    pub page: Option<i64>,
    pub limit: u32,
    /// `fields=a,b`: the keys kept (with `id` and `type`).
    pub fields: Option<Vec<String>>,
    /// `relations=true`: collection relationships as id lists.
    pub relations: bool,
    pub filter: Filter,
    /// The `type` listed records are served under, when not their own (a view's).
    pub type_name: Option<&'static str>,
}

/// The type of an attribute: a field of the model, or one every record has.
fn attribute(model: &Model, key: &str) -> Option<FieldType> {
    match key {
        "id" => Some(FieldType::Reference("")),
        "created_at" | "updated_at" => Some(FieldType::Text { max: None }),
        _ => model.field(key).map(|f| f.ty),
    }
}

/// Zou's boolean casting (gazu sends `True`/`False`); Zou 1.0.97 names the refused value.
fn boolean(value: &str) -> KitsuResult<Value> {
    match value.to_ascii_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Ok(json!(true)),
        "n" | "no" | "f" | "false" | "off" | "0" => Ok(json!(false)),
        _ => Err(KitsuError::bad_request(format!(
            "Invalid boolean value: {value}"
        ))),
    }
}

/// The JSON value a query-string value means for an attribute of type `ty`.
fn typed(ty: FieldType, value: &str) -> KitsuResult<Value> {
    let invalid = || KitsuError::bad_request("One of the provided values has an invalid format.");
    match ty {
        FieldType::Bool => boolean(value),
        FieldType::Reference(_) => uuid::Uuid::try_parse(value)
            .map(|_| json!(value))
            .map_err(|_| KitsuError::bad_request(format!("Invalid UUID value: {value}"))),
        FieldType::Int => value
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|_| invalid()),
        FieldType::Float => value
            .parse::<f64>()
            .map(|n| json!(n))
            .map_err(|_| invalid()),
        FieldType::Relation(_) => typed(FieldType::Reference(""), value),
        FieldType::Text { .. }
        | FieldType::Choice(_)
        | FieldType::Json
        | FieldType::Entries
        | FieldType::Date
        | FieldType::DateTime => Ok(json!(value)),
    }
}

/// A list value (`[...]`): its elements, each read as the attribute's type.
fn list(key: &str, ty: FieldType, value: &str) -> KitsuResult<Vec<Value>> {
    let malformed = || KitsuError::bad_request(format!("Malformed list filter for field {key}."));
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(value) else {
        return Err(malformed());
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => typed(ty, &s),
            Value::Null => Ok(Value::Null),
            other => typed(ty, &other.to_string()),
        })
        .collect()
}

fn clause(key: &str, ty: FieldType, value: &str) -> KitsuResult<Filter> {
    let path = FieldPath::parse(key).map_err(|e| KitsuError::bad_request(e.to_string()))?;
    if value.starts_with('[') {
        return Ok(Filter::In(path, list(key, ty, value)?));
    }
    if key == "name" {
        // Zou compares names with ILIKE: case-insensitive.
        return Ok(Filter::IEq(path, value.to_string()));
    }
    if let FieldType::Relation(_) = ty {
        // A collection relationship: the records whose list holds the id.
        return Ok(Filter::Contains(path, typed(ty, value)?));
    }
    Ok(Filter::Eq(path, typed(ty, value)?))
}

pub fn list_options(model: &Model, pairs: &[(String, String)]) -> KitsuResult<ListOptions> {
    let mut options = ListOptions {
        page: None,
        limit: DEFAULT_LIMIT,
        fields: None,
        relations: false,
        filter: Filter::All,
        type_name: None,
    };
    let mut clauses = Vec::new();
    for (key, value) in pairs {
        match key.as_str() {
            "page" => {
                let page = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| KitsuError::bad_request("page must be an integer."))?;
                options.page = Some(page);
            }
            "limit" => {
                options.limit = match value.trim().parse::<u32>() {
                    Ok(0) | Err(_) => DEFAULT_LIMIT,
                    Ok(n) => n,
                }
            }
            "fields" => {
                options.fields = Some(
                    value
                        .split(',')
                        .map(|f| f.trim().to_string())
                        .filter(|f| !f.is_empty())
                        .collect(),
                );
            }
            "relations" => options.relations = value.eq_ignore_ascii_case("true"),
            _ => {
                if let Some(ty) = attribute(model, key) {
                    clauses.push(clause(key, ty, value)?);
                }
            }
        }
    }
    if let Some(range) = model.date_range {
        clauses.extend(date_range(range, pairs)?);
    }
    if !clauses.is_empty() {
        options.filter = Filter::And(clauses);
    }
    Ok(options)
}

/// The filter of a model's range of days, as Zou's time spents read `start_date` and
/// `end_date`: none when neither is given (or both are empty), 400 when only one is, and each
/// read as a day (a date and time is its day).
fn date_range(range: DateRange, pairs: &[(String, String)]) -> KitsuResult<Option<Filter>> {
    let given = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (from, to) = (given(range.from), given(range.to));
    if from.unwrap_or_default().is_empty() && to.unwrap_or_default().is_empty() {
        return Ok(None);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(KitsuError::Body(
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": format!(
                    "If querying for a range of dates, both a `{}` and an `{}` must be given.",
                    range.from, range.to
                ),
                "data": null,
            }),
        ));
    };
    let day = |value: &str| {
        parse_datetime(value)
            .map(|at| json!(at.date().format("%Y-%m-%d").to_string()))
            .ok_or_else(|| {
                KitsuError::bad_request("One of the provided values has an invalid format.")
            })
    };
    Ok(Some(Filter::Range {
        path: FieldPath::parse(range.field).map_err(|e| KitsuError::bad_request(e.to_string()))?,
        gt: None,
        gte: Some(day(from)?),
        lt: None,
        lte: Some(day(to)?),
    }))
}

/// Keeps only the asked keys of a document (and always `id` and `type`).
pub fn keep_fields(doc: Value, fields: &Option<Vec<String>>) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, &doc) else {
        return doc;
    };
    Value::Object(
        map.iter()
            .filter(|(k, _)| k.as_str() == "id" || k.as_str() == "type" || fields.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use annals_domain::kitsu::model;

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn query_strings_compile_to_filters_as_zou_reads_them() {
        let task_status = model("task-status").unwrap();
        let options = list_options(
            task_status,
            &pairs(&[
                ("name", "Done"),
                ("is_done", "True"),
                ("priority", "[1, 2]"),
                ("force", "true"),
                ("page", "2"),
                ("limit", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(options.page, Some(2));
        assert_eq!(options.limit, DEFAULT_LIMIT);
        let path = |p: &str| FieldPath::parse(p).unwrap();
        assert_eq!(
            options.filter,
            Filter::And(vec![
                Filter::IEq(path("name"), "Done".into()),
                Filter::Eq(path("is_done"), json!(true)),
                Filter::In(path("priority"), vec![json!(1), json!(2)]),
            ])
        );
    }

    #[test]
    fn a_range_of_days_takes_both_ends_or_none() {
        let time_spents = model("time-spents").unwrap();
        let range = |query: &[(&str, &str)]| list_options(time_spents, &pairs(query));
        let path = |p: &str| FieldPath::parse(p).unwrap();
        assert_eq!(
            range(&[
                ("start_date", "2026-12-10T12:00:00"),
                ("end_date", "2026-12-12")
            ])
            .unwrap()
            .filter,
            Filter::And(vec![Filter::Range {
                path: path("date"),
                gt: None,
                gte: Some(json!("2026-12-10")),
                lt: None,
                lte: Some(json!("2026-12-12")),
            }])
        );
        assert_eq!(
            range(&[("start_date", ""), ("end_date", "")])
                .unwrap()
                .filter,
            Filter::All
        );
        for (query, message) in [
            (
                vec![("start_date", "2026-12-10")],
                "If querying for a range of dates, both a `start_date` and an `end_date` must be given.",
            ),
            (
                vec![("start_date", ""), ("end_date", "2026-12-10")],
                "One of the provided values has an invalid format.",
            ),
            (
                vec![("start_date", "2026-12-xx"), ("end_date", "2026-12-10")],
                "One of the provided values has an invalid format.",
            ),
        ] {
            let Err(KitsuError::Body(status, body)) = range(&query) else {
                panic!("{query:?} accepted");
            };
            assert_eq!((status.as_u16(), &body["message"]), (400, &json!(message)));
        }
        // Elsewhere the two keys are what they are: a task's columns, another model's nothing.
        assert_eq!(
            list_options(model("task-types").unwrap(), &pairs(&[("start_date", "x")]))
                .unwrap()
                .filter,
            Filter::All
        );
    }

    #[test]
    fn malformed_filters_are_refused_with_zou_messages() {
        let task_types = model("task-types").unwrap();
        for (query, message) in [
            (("page", "x"), "page must be an integer."),
            (("department_id", "nope"), "Invalid UUID value: nope"),
            (("archived", "maybe"), "Invalid boolean value: maybe"),
            (
                ("priority", "[1"),
                "Malformed list filter for field priority.",
            ),
        ] {
            let Err(KitsuError::Body(status, body)) = list_options(task_types, &pairs(&[query]))
            else {
                panic!("{query:?} accepted");
            };
            assert_eq!(status.as_u16(), 400);
            assert_eq!(body["message"], message);
        }
    }
}
