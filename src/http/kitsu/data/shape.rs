//! How the data routes shape what they answer beyond the stored document: relations only when
//! asked, the names of referenced records on a single read, and which records a caller sees.
use std::collections::BTreeMap;

use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{Access, EntityOf, Extra, Listing, Model, ProjectLink, Vendors, model};

use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::KitsuResult;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{ASSIGNED_WORK, forbidden};

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

/// What a caller may see of a model's list: `None` for everything, else the filter of the
/// records the list rule lets them reach (a list the rule refuses outright is a 403). Team
/// members see the records of the open projects whose team holds them (Zou's "related
/// projects"; of any project for models that list closed ones), authors their own, vendors
/// only what is assigned to them, clients only what is shared with them.
pub async fn visible(
    state: &AppState,
    model: &Model,
    caller: &KitsuCaller,
) -> KitsuResult<Option<Filter>> {
    let rule = model.rules.list;
    let (role, me) = (caller.user.role.as_str(), json!(caller.user_id));
    match rule.listing(role) {
        Listing::All => return Ok(None),
        Listing::Refused => return Err(forbidden().into()),
        Listing::Narrowed => {}
    }
    let team = if rule.needs_team() {
        Some(in_teams(state, model, caller).await?)
    } else {
        None
    };
    let mut reached = Vec::new();
    if rule.access == Access::Anyone {
        reached.push(Filter::All);
    } else if rule.access.allows(role, true)
        && let Some(team) = &team
    {
        reached.push(team.clone());
    }
    if let Some(author) = rule.author
        && (author.roles.is_empty() || author.roles.contains(&role))
    {
        let mine = Filter::Eq(path(author.field), me.clone());
        reached.push(match (&team, author.in_team) {
            (Some(team), true) => Filter::And(vec![mine, team.clone()]),
            _ => mine,
        });
    }
    let mut only = vec![Filter::Or(reached)];
    only.extend(limits(state, model, caller).await?);
    Ok(Some(Filter::And(only)))
}

/// What the list rule withholds from vendors (what is not assigned to them) and clients
/// (what is not shared with them), whatever the project; a list the rule refuses outright is
/// a 403. For lists under a parent the caller may read.
pub async fn limits(
    state: &AppState,
    model: &Model,
    caller: &KitsuCaller,
) -> KitsuResult<Option<Filter>> {
    let rule = model.rules.list;
    let role = caller.user.role.as_str();
    if rule.listing(role) == Listing::Refused {
        return Err(forbidden().into());
    }
    let mut only = Vec::new();
    if let Some(entity) = rule.needs_assignment(role) {
        only.push(assigned(state, entity, caller).await?);
    }
    if let Vendors::Assignee(relation) = rule.vendors
        && role == "vendor"
    {
        only.push(Filter::Contains(path(relation), json!(caller.user_id)));
    }
    if let Some(clients) = rule.clients
        && role == "client"
    {
        let mut shared = vec![Filter::Eq(path(clients.flag), json!(true))];
        let me = json!(caller.user_id);
        shared.extend(clients.own.map(|own| Filter::Eq(path(own), me)));
        only.push(Filter::Or(shared));
    }
    Ok((!only.is_empty()).then_some(Filter::And(only)))
}

/// The records of `model` in the projects whose team holds the caller (open ones unless the
/// model lists closed ones).
async fn in_teams(state: &AppState, model: &Model, caller: &KitsuCaller) -> KitsuResult<Filter> {
    let projects = model_of("projects").expect("projects are a registry model");
    let mut related = vec![Filter::Contains(path("team"), json!(caller.user_id))];
    if !model.rules.lists_closed {
        related.push(open_filter(state, projects).await?);
    }
    let related = Filter::And(related);
    Ok(match model.project {
        ProjectLink::None => Filter::In(path("id"), vec![]),
        ProjectLink::Itself => related,
        ProjectLink::Field(field) => {
            Filter::In(path(field), ids(state, projects.collection, related).await?)
        }
        ProjectLink::Via { field, route } => {
            let Some(through) = model_of(route) else {
                return Ok(Filter::In(path("id"), vec![]));
            };
            let projects = ids(state, projects.collection, related).await?;
            let owned = Filter::In(path("project_id"), projects);
            Filter::In(path(field), ids(state, through.collection, owned).await?)
        }
    })
}

/// The records whose entity a task assigned to the caller is on (Zou's vendor lists).
async fn assigned(state: &AppState, entity: EntityOf, caller: &KitsuCaller) -> KitsuResult<Filter> {
    let tasks = model_of(ASSIGNED_WORK).expect("tasks are a registry model");
    let mine = Filter::Contains(path("assignees"), json!(caller.user_id));
    let rows = super::scan(state, tasks.collection, mine, &[]).await?;
    let mut entities: Vec<Value> = Vec::new();
    for (_, task) in rows {
        let id = task.get("entity_id").cloned().unwrap_or(Value::Null);
        if !entities.contains(&id) {
            entities.push(id);
        }
    }
    Ok(match entity {
        EntityOf::Itself => Filter::In(path("id"), entities),
        EntityOf::Field(field) => Filter::In(path(field), entities),
        EntityOf::Via {
            field,
            route,
            entity,
        } => {
            let Some(through) = model_of(route) else {
                return Ok(Filter::In(path("id"), vec![]));
            };
            let on = Filter::In(path(entity), entities);
            Filter::In(path(field), ids(state, through.collection, on).await?)
        }
    })
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
            Extra::EntriesPersonOf { list, key, from } => {
                let mut names = super::names::Names::new(state);
                names.entry_people(doc, list, key, from).await?;
                continue;
            }
        };
        if let Value::Object(map) = doc {
            map.insert(key.into(), value);
        }
    }
    Ok(())
}
