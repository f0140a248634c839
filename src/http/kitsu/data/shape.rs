//! How the data routes shape what they answer beyond the stored document: relations only when
//! asked, the names of referenced records on a single read, and which records a caller sees.
use std::collections::BTreeMap;

use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{Access, Extra, Model, ProjectLink, model};

use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::KitsuResult;
use crate::http::state::AppState;
use crate::services::error::AppError;

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

/// The document without its collection relationships (Zou's `relations=false`).
pub fn without_relations(model: &Model, mut doc: Value) -> Value {
    if let Value::Object(map) = &mut doc {
        for relation in model.relations() {
            map.remove(relation.name);
        }
    }
    doc
}

/// Whether a query string asks for relations (`default` when it does not say).
pub fn relations_asked(pairs: &[(String, String)], default: bool) -> bool {
    pairs
        .iter()
        .find(|(k, _)| k == "relations")
        .map_or(default, |(_, v)| v.eq_ignore_ascii_case("true"))
}

/// The ids of the documents of `collection` matching `filter`.
async fn ids(state: &AppState, collection: &str, filter: Filter) -> KitsuResult<Vec<Value>> {
    let rows = super::scan(state, collection, filter, &[]).await?;
    Ok(rows.into_iter().map(|(id, _)| json!(id)).collect())
}

/// The ids of the status records that make a record of `model` open ("Open" project status).
pub async fn open_statuses(state: &AppState, model: &Model) -> KitsuResult<Vec<Value>> {
    let Some(lifecycle) = model.lifecycle else {
        return Ok(vec![]);
    };
    let Some(status) = model
        .field(lifecycle.field)
        .and_then(|f| f.ty.target())
        .and_then(model_of)
    else {
        return Ok(vec![]);
    };
    ids(
        state,
        status.collection,
        Filter::IEq(path("name"), lifecycle.open_name.into()),
    )
    .await
}

fn model_of(route: &str) -> Option<&'static Model> {
    model(route)
}

/// The filter of the open records of `model` (all of them when it has no lifecycle).
pub async fn open_filter(state: &AppState, model: &Model) -> KitsuResult<Filter> {
    match model.lifecycle {
        Some(lifecycle) => Ok(Filter::In(
            path(lifecycle.field),
            open_statuses(state, model).await?,
        )),
        None => Ok(Filter::All),
    }
}

/// Whether a record of a model with a lifecycle is open.
pub async fn is_open(
    state: &AppState,
    model: &Model,
    fields: &BTreeMap<String, Value>,
) -> KitsuResult<bool> {
    let Some(lifecycle) = model.lifecycle else {
        return Ok(false);
    };
    let Some(status) = fields.get(lifecycle.field) else {
        return Ok(false);
    };
    Ok(open_statuses(state, model).await?.contains(status))
}

/// What a caller may see of a team-scoped model's list: `None` for everything. Non-admins see
/// the records of the open projects whose team holds them (Zou's "related projects").
pub async fn visible(
    state: &AppState,
    model: &Model,
    caller: &KitsuCaller,
) -> KitsuResult<Option<Filter>> {
    if !matches!(model.rules.list, Access::Member | Access::Manager) || caller.user.role == "admin"
    {
        return Ok(None);
    }
    let projects = model_of("projects").expect("projects are a registry model");
    let related = Filter::And(vec![
        Filter::Contains(path("team"), json!(caller.user_id)),
        open_filter(state, projects).await?,
    ]);
    Ok(Some(match model.project {
        ProjectLink::None => return Ok(None),
        ProjectLink::Itself => related,
        ProjectLink::Field(field) => {
            Filter::In(path(field), ids(state, projects.collection, related).await?)
        }
        ProjectLink::Via { field, route } => {
            let Some(through) = model_of(route) else {
                return Ok(Some(Filter::In(path("id"), vec![])));
            };
            let projects = ids(state, projects.collection, related).await?;
            let owned = Filter::In(path("project_id"), projects);
            Filter::In(path(field), ids(state, through.collection, owned).await?)
        }
    }))
}

/// Adds `<x>_name` for each of the model's named references `<x>_id` (Zou's
/// `project_status_name`).
pub async fn named_references(state: &AppState, model: &Model, doc: &mut Value) -> KitsuResult<()> {
    for field_name in model.named_references {
        let Some(target) = model
            .field(field_name)
            .and_then(|f| f.ty.target())
            .and_then(model_of)
        else {
            continue;
        };
        let name = name_of(state, Some(target), doc.get(*field_name)).await?;
        let key = format!("{}_name", field_name.trim_end_matches("_id"));
        if let Value::Object(map) = doc {
            map.insert(key, name);
        }
    }
    Ok(())
}

/// The `name` of the record of `target` that `id` refers to; null when there is none.
async fn name_of(
    state: &AppState,
    target: Option<&Model>,
    id: Option<&Value>,
) -> KitsuResult<Value> {
    let (Some(target), Some(id)) = (target, id.and_then(Value::as_str)) else {
        return Ok(Value::Null);
    };
    Ok(state
        .gate
        .views
        .get(target.collection, id)
        .await
        .map_err(AppError::from)?
        .and_then(|d| d.get("name").cloned())
        .unwrap_or(Value::Null))
}

/// Adds a view's extras to a single read (Zou's `project_name`, `sequence_id`, ...).
pub async fn extras(
    state: &AppState,
    model: &Model,
    extras: &[Extra],
    doc: &mut Value,
) -> KitsuResult<()> {
    for extra in extras {
        let (key, value) = match *extra {
            Extra::Same { key, from } => (key, doc.get(from).cloned().unwrap_or(Value::Null)),
            Extra::NameOf { key, from } => {
                let target = model
                    .field(from)
                    .and_then(|f| f.ty.target())
                    .and_then(model_of);
                let name = name_of(state, target, doc.get(from)).await?;
                (key, name)
            }
            Extra::PersonOf { key, from } => {
                let mut names = super::names::Names::new(state);
                (key, names.person(doc.get(from)).await?)
            }
        };
        if let Value::Object(map) = doc {
            map.insert(key.into(), value);
        }
    }
    Ok(())
}
