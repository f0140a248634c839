//! A project's budgets and their entries (gazu's `get_budgets`, `get_budget`, `create_budget`,
//! `update_budget`, `remove_budget`, and the same five for budget entries): Zou's
//! `/data/projects/<id>/budgets` routes over the registry models `budgets` and
//! `budget-entries`. Each route checks the ids of its path (the budget is the project's, the
//! entry the budget's), asks Zou's manager project access, reads the body as Zou's schema does,
//! and hands the write to the generic record service; reads come from the read model.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{Model, Record};
use annals_projections::kitsu::RECORDS;

use super::entity_links::manages;
use super::names::doc_of;
use super::schema::{Key, Kind, key, schema, uuid_of, validation};
use super::shape::without_relations;
use super::{scan, serialized};
use crate::es::commands::Executed;
use crate::http::consistency::{Freshness, with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

const BUDGETS: &str = "budgets";
const ENTRIES: &str = "budget-entries";

/// The keys Zou's lists leave out (its models' `present()`).
const UNPRESENTED: &[&str] = &["created_at", "updated_at", "type"];

/// Zou's `BudgetSchema` (create).
const BUDGET_CREATE: &[Key] = &[
    Key {
        required: true,
        ..key("name", Kind::NonEmpty)
    },
    key("currency", Kind::Str),
];

/// Zou's `BudgetUpdateSchema`.
const BUDGET_UPDATE: &[Key] = &[key("name", Kind::Str), key("currency", Kind::Str)];

/// Zou's `BudgetEntrySchema` (create) and, with `exceptions`, `BudgetEntryUpdateSchema`.
const ENTRY_FIELDS: &[Key] = &[
    key("department_id", Kind::NonEmpty),
    key("person_id", Kind::Str),
    key("start_date", Kind::Str),
    key("months_duration", Kind::Int),
    key("daily_salary", Kind::Float),
    key("position", Kind::Str),
    key("seniority", Kind::Str),
];

const ENTRY_CREATE: &[Key] = &[
    Key {
        required: true,
        ..key("department_id", Kind::NonEmpty)
    },
    key("person_id", Kind::Str),
    key("start_date", Kind::Str),
    key("months_duration", Kind::Int),
    key("daily_salary", Kind::Float),
    key("position", Kind::Str),
    key("seniority", Kind::Str),
];

const ENTRY_UPDATE_EXTRA: Key = key("exceptions", Kind::Dict);

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn not_found(what: &str, id: &str) -> KitsuError {
    AppError::NotFound(format!("no {what} {id}")).into()
}

/// Zou's cleaning of an entry's `exceptions`: none is an empty map, and months whose value is
/// null or not above zero are dropped; values are whole numbers (Zou's `int()`).
fn exceptions(value: Option<&Value>) -> KitsuResult<Value> {
    let Some(Value::Object(months)) = value else {
        return Ok(json!({}));
    };
    let mut kept = Map::new();
    for (month, days) in months {
        let days = match days {
            Value::Null => continue,
            Value::Number(n) => n.as_f64().map(f64::trunc),
            Value::String(s) => s.trim().parse::<i64>().ok().map(|i| i as f64),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        let Some(days) = days.filter(|d| d.abs() < 9.0e15) else {
            return Err(validation(vec![(
                format!("exceptions.{month}"),
                "Input should be a valid integer".into(),
            )]));
        };
        if days > 0.0 {
            kept.insert(month.clone(), json!(days as i64));
        }
    }
    Ok(Value::Object(kept))
}

/// A list item as Zou presents it.
fn presented(doc: Value) -> Value {
    match doc {
        Value::Object(mut map) => {
            map.retain(|k, _| !UNPRESENTED.contains(&k.as_str()));
            Value::Object(map)
        }
        other => other,
    }
}

/// The project of the path, once the caller may manage it (a studio manager passes before
/// the project is looked up, as in Zou).
async fn managed_project(state: &AppState, caller: &KitsuCaller, id: &str) -> KitsuResult<String> {
    let id = uuid_of(id)?;
    manages(state, caller, &id).await?;
    Ok(id)
}

/// The live budget `id` of the project, from the log: 404 when there is none or it is
/// another project's.
async fn live_budget(state: &AppState, project: &str, id: &str) -> KitsuResult<Record> {
    let budgets = Records::model(BUDGETS)?;
    let budget = state.records.live(budgets, id).await?;
    if budget.fields.get("project_id").and_then(Value::as_str) != Some(project) {
        return Err(not_found("budget", id));
    }
    Ok(budget)
}

/// The live entry `id` of the budget, from the log: 404 when there is none or it is another
/// budget's.
async fn live_entry(state: &AppState, budget: &str, id: &str) -> KitsuResult<Record> {
    let entries = Records::model(ENTRIES)?;
    let entry = state.records.live(entries, id).await?;
    if entry.fields.get("budget_id").and_then(Value::as_str) != Some(budget) {
        return Err(not_found("budget entry", id));
    }
    Ok(entry)
}

/// The read-model document of the budget `id` of the project, once fresh for the caller.
async fn budget_doc(
    state: &AppState,
    headers: &HeaderMap,
    project: &str,
    id: &str,
) -> KitsuResult<(Option<Value>, Freshness)> {
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let doc = doc_of(state, BUDGETS, id).await?;
    if let Some(doc) = &doc
        && doc["project_id"].as_str() != Some(project)
    {
        return Err(not_found("budget", id));
    }
    Ok((doc, freshness))
}

/// The records of `model` whose `field` is `id`, in `order`, as Zou presents them.
async fn presented_of(
    state: &AppState,
    model: &Model,
    field: &str,
    id: &str,
    order: &[&str],
) -> KitsuResult<Value> {
    let rows = scan(
        state,
        model.collection,
        Filter::Eq(path(field), json!(id)),
        order,
    )
    .await?;
    Ok(Value::Array(
        rows.into_iter().map(|(_, doc)| presented(doc)).collect(),
    ))
}

/// A created record as Zou answers it: 200 (not 201), the whole record.
fn created(model: &Model, id: &str, executed: &Executed<Record>) -> Response {
    let body = Json(serialized(model, id, &executed.state)).into_response();
    with_position(body, executed.position)
}

#[utoipa::path(get, path = "/data/projects/{id}/budgets", tag = "kitsu: data",
    description = "Also served under `/api`. The project's budgets by revision (creation order), as Zou \
        presents them (no `created_at`, `updated_at`, `type`). For studio managers and the \
        production managers of its team.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "Array of budgets"),
        (status = 400, description = "`Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = managed_project(&state, &caller, &project).await?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let budgets = Records::model(BUDGETS)?;
    let body = presented_of(
        &state,
        budgets,
        "project_id",
        &project,
        &["revision", "created_at"],
    )
    .await?;
    Ok(with_freshness(Json(body).into_response(), freshness))
}

#[utoipa::path(post, path = "/data/projects/{id}/budgets", tag = "kitsu: data",
    description = "Also served under `/api`. Creates a budget of the project: `name` (required) \
        and `currency` (`USD` when absent); its `revision` is one more than the project's \
        highest. Other keys are ignored. Answers 200, as Zou.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    request_body = Object,
    responses(
        (status = 200, description = "The created budget"),
        (status = 400, description = "`Validation error.` naming the field; `Wrong UUID format.`; an unknown project"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = managed_project(&state, &caller, &project).await?;
    let mut input = schema(
        &body,
        &BUDGET_CREATE.iter().collect::<Vec<_>>(),
        "BudgetSchema",
    )?;
    input.entry("currency").or_insert_with(|| json!("USD"));
    // The next revision is read from the project's budgets, caught up with the log (Zou
    // reads its table the same way, without a lock: two concurrent creates may share one).
    state.gate.wait(&headers, &[RECORDS]).await?;
    let budgets = Records::model(BUDGETS)?;
    let listed = scan(
        &state,
        budgets.collection,
        Filter::Eq(path("project_id"), json!(project)),
        &[],
    )
    .await?;
    let highest = listed
        .iter()
        .filter_map(|(_, doc)| doc["revision"].as_i64())
        .max()
        .unwrap_or(0);
    input.insert("project_id".into(), json!(project));
    input.insert("revision".into(), json!(highest + 1));
    let metadata = meta.metadata(Some(&caller.user_id));
    let (id, executed) = state
        .records
        .create(budgets, input, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    Ok(created(budgets, &id, &executed))
}

#[utoipa::path(get, path = "/data/projects/{id}/budgets/{budget_id}", tag = "kitsu: data",
    description = "Also served under `/api`. One budget of the project.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
    ),
    responses(
        (status = 200, description = "The budget"),
        (status = 400, description = "`Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((project, budget)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget) = (uuid_of(&project)?, uuid_of(&budget)?);
    let project = managed_project(&state, &caller, &project).await?;
    let (doc, freshness) = budget_doc(&state, &headers, &project, &budget).await?;
    let doc = doc.ok_or_else(|| not_found("budget", &budget))?;
    let budgets = Records::model(BUDGETS)?;
    Ok(with_freshness(
        Json(without_relations(budgets, doc)).into_response(),
        freshness,
    ))
}

#[utoipa::path(put, path = "/data/projects/{id}/budgets/{budget_id}", tag = "kitsu: data",
    description = "Also served under `/api`. Changes a budget's `name` or `currency` (a null is \
        no change); other keys are ignored.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The budget after the change"),
        (status = 400, description = "`Validation error.` naming the field; `Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, budget)): Path<(String, String)>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget) = (uuid_of(&project)?, uuid_of(&budget)?);
    let project = managed_project(&state, &caller, &project).await?;
    let mut input = schema(
        &body,
        &BUDGET_UPDATE.iter().collect::<Vec<_>>(),
        "BudgetUpdateSchema",
    )?;
    input.retain(|_, v| !v.is_null());
    let current = live_budget(&state, &project, &budget).await?;
    let budgets = Records::model(BUDGETS)?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .update(budgets, &budget, current, input, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let body = without_relations(budgets, serialized(budgets, &budget, &executed.state));
    Ok(with_position(Json(body).into_response(), executed.position))
}

#[utoipa::path(delete, path = "/data/projects/{id}/budgets/{budget_id}", tag = "kitsu: data",
    description = "Also served under `/api`. Deletes a budget and its entries.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
    ),
    responses(
        (status = 204, description = "Deleted, with its entries"),
        (status = 400, description = "`Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, budget)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget) = (uuid_of(&project)?, uuid_of(&budget)?);
    let project = managed_project(&state, &caller, &project).await?;
    live_budget(&state, &project, &budget).await?;
    let budgets = Records::model(BUDGETS)?;
    // Its entries are found in the read model: let it catch up with the log first.
    state.gate.wait(&headers, &[RECORDS]).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    state
        .records
        .clear_referrers(budgets, &budget, true, &caller.user_id, &metadata)
        .await
        .map_err(|refusal| match refusal {
            crate::services::kitsu::Refusal::Failed(e) => KitsuError::from(e),
            _ => KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"message": crate::services::kitsu::REFERENCED}),
            ),
        })?;
    let position = state
        .records
        .delete(budgets, &budget, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        position,
    ))
}

#[utoipa::path(get, path = "/data/projects/{id}/budgets/{budget_id}/entries", tag = "kitsu: data",
    description = "Also served under `/api`. The budget's entries in creation order (to the \
        second), as Zou presents them (no `created_at`, `updated_at`, `type`); an unknown budget has none.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
    ),
    responses(
        (status = 200, description = "Array of budget entries"),
        (status = 400, description = "`Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "The budget is another project's"),
    ))]
pub async fn entries(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((project, budget)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget) = (uuid_of(&project)?, uuid_of(&budget)?);
    let project = managed_project(&state, &caller, &project).await?;
    let (_, freshness) = budget_doc(&state, &headers, &project, &budget).await?;
    let entries = Records::model(ENTRIES)?;
    let body = presented_of(&state, entries, "budget_id", &budget, &["created_at"]).await?;
    Ok(with_freshness(Json(body).into_response(), freshness))
}

#[utoipa::path(post, path = "/data/projects/{id}/budgets/{budget_id}/entries",
    tag = "kitsu: data",
    description = "Also served under `/api`. Creates an entry of the budget: `department_id` \
        (required), `person_id`, `start_date`, `months_duration`, `daily_salary` (these three \
        needed), `position` (`artist`), `seniority` (`mid`); `exceptions` starts empty. Other \
        keys are ignored. Answers 200, as Zou.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The created entry"),
        (status = 400, description = "`Validation error.` or `{message}` naming the field; `Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project"),
    ))]
pub async fn create_entry(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, budget)): Path<(String, String)>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget) = (uuid_of(&project)?, uuid_of(&budget)?);
    let project = managed_project(&state, &caller, &project).await?;
    let mut input = schema(
        &body,
        &ENTRY_CREATE.iter().collect::<Vec<_>>(),
        "BudgetEntrySchema",
    )?;
    live_budget(&state, &project, &budget).await?;
    // A null is no value: the column's default applies, as in Zou.
    input.retain(|_, v| !v.is_null());
    input.insert("budget_id".into(), json!(budget));
    input.insert("exceptions".into(), json!({}));
    let entries = Records::model(ENTRIES)?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let (id, executed) = state
        .records
        .create(entries, input, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    Ok(created(entries, &id, &executed))
}

#[utoipa::path(get, path = "/data/projects/{id}/budgets/{budget_id}/entries/{entry_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. One entry of the budget.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
        ("entry_id" = String, Path, description = "The entry's UUID"),
    ),
    responses(
        (status = 200, description = "The budget entry"),
        (status = 400, description = "`Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project, or entry in this budget"),
    ))]
pub async fn read_entry(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((project, budget, entry)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget, entry) = (uuid_of(&project)?, uuid_of(&budget)?, uuid_of(&entry)?);
    let project = managed_project(&state, &caller, &project).await?;
    let (doc, freshness) = budget_doc(&state, &headers, &project, &budget).await?;
    doc.ok_or_else(|| not_found("budget", &budget))?;
    let doc = doc_of(&state, ENTRIES, &entry)
        .await?
        .filter(|doc| doc["budget_id"].as_str() == Some(budget.as_str()))
        .ok_or_else(|| not_found("budget entry", &entry))?;
    let entries = Records::model(ENTRIES)?;
    Ok(with_freshness(
        Json(without_relations(entries, doc)).into_response(),
        freshness,
    ))
}

#[utoipa::path(put, path = "/data/projects/{id}/budgets/{budget_id}/entries/{entry_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Replaces an entry's fields, as Zou does: a field \
        the body leaves out becomes null (so `department_id`, `start_date`, `months_duration` \
        and `daily_salary` must be given), and `exceptions` keeps its months above zero (none: \
        empty). `budget_id` and other keys are ignored.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
        ("entry_id" = String, Path, description = "The entry's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The entry after the change"),
        (status = 400, description = "`Validation error.` or `{message}` naming the field; `Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project, or entry in this budget"),
    ))]
pub async fn update_entry(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, budget, entry)): Path<(String, String, String)>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget, entry) = (uuid_of(&project)?, uuid_of(&budget)?, uuid_of(&entry)?);
    let project = managed_project(&state, &caller, &project).await?;
    let keys: Vec<&Key> = ENTRY_FIELDS
        .iter()
        .chain(std::iter::once(&ENTRY_UPDATE_EXTRA))
        .collect();
    let given = schema(&body, &keys, "BudgetEntryUpdateSchema")?;
    live_budget(&state, &project, &budget).await?;
    let current = live_entry(&state, &budget, &entry).await?;
    // Zou sets every field of its schema, the absent ones to null.
    let mut input: Map<String, Value> = ENTRY_FIELDS
        .iter()
        .map(|k| {
            (
                k.name.to_string(),
                given.get(k.name).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    input.insert("exceptions".into(), exceptions(given.get("exceptions"))?);
    let entries = Records::model(ENTRIES)?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .update(entries, &entry, current, input, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let body = without_relations(entries, serialized(entries, &entry, &executed.state));
    Ok(with_position(Json(body).into_response(), executed.position))
}

#[utoipa::path(delete, path = "/data/projects/{id}/budgets/{budget_id}/entries/{entry_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Deletes an entry of the budget.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("budget_id" = String, Path, description = "The budget's UUID"),
        ("entry_id" = String, Path, description = "The entry's UUID"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`Wrong UUID format.`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "No such budget in this project, or entry in this budget"),
    ))]
pub async fn delete_entry(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, budget, entry)): Path<(String, String, String)>,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (project, budget, entry) = (uuid_of(&project)?, uuid_of(&budget)?, uuid_of(&entry)?);
    let project = managed_project(&state, &caller, &project).await?;
    live_budget(&state, &project, &budget).await?;
    live_entry(&state, &budget, &entry).await?;
    let entries = Records::model(ENTRIES)?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let position = state
        .records
        .delete(entries, &entry, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        position,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_keep_their_months_above_zero() {
        let cleaned = exceptions(Some(&json!({"a": 2, "b": 0, "c": null, "d": "3"}))).unwrap();
        assert_eq!(cleaned, json!({"a": 2, "d": 3}));
        assert_eq!(exceptions(None).unwrap(), json!({}));
        assert_eq!(exceptions(Some(&Value::Null)).unwrap(), json!({}));
        assert!(exceptions(Some(&json!({"a": "x"}))).is_err());
    }
}
