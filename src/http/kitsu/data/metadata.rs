//! A project's metadata descriptors (gazu's `all_metadata_descriptors`,
//! `add_metadata_descriptor`, `get_metadata_descriptor`, `update_metadata_descriptor`,
//! `remove_metadata_descriptor`, `reorder_metadata_descriptors`): Zou's
//! `/data/projects/<id>/metadata-descriptors` routes over the registry model
//! `metadata-descriptors` (gazu's `get_metadata_descriptor_by_field_name` is the generic list).
//! Each route reads the body as Zou's schema does, checks the path's ids and Zou's access
//! (the team reads, narrowed for clients and vendors; studio managers, the team's production
//! managers and the supervisors of all of a descriptor's departments write), derives
//! `field_name` from `name`, and hands the write to the generic record service; reads come
//! from the read model.
use std::cmp::Ordering;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::{
    Access, METADATA_DATA_TYPES, METADATA_ENTITY_TYPES, Model, Record, slug,
};
use annals_projections::kitsu::RECORDS;

use super::names::doc_of;
use super::schema::{Key, Kind, defaulted, key, required, schema};
use super::{scan, serialized};
use crate::es::commands::Metadata;
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Records, forbidden};

const DESCRIPTORS: &str = "metadata-descriptors";

/// The longest name (and field name) Zou's columns hold.
const NAME_MAX: usize = 120;

const LIST: Kind = Kind::StrList { min: 0 };

/// Zou's `MetadataDescriptorSchema` (create).
const CREATE: &[Key] = &[
    defaulted("entity_type", Kind::Str),
    key("task_type_id", Kind::Str),
    required("name", Kind::NonEmpty),
    defaulted("data_type", Kind::NonEmpty),
    key("for_client", Kind::Bool),
    defaulted("choices", LIST),
    defaulted("departments", LIST),
];

/// Zou's `MetadataDescriptorUpdateSchema`: every key but `name` has a default, which an
/// update leaving it out sets.
const UPDATE: &[Key] = &[
    key("name", Kind::Str),
    key("for_client", Kind::Bool),
    defaulted("data_type", Kind::NonEmpty),
    defaulted("choices", LIST),
    defaulted("departments", LIST),
];

/// Zou's `MetadataDescriptorOrderSchema`.
const ORDER: &[Key] = &[
    required("entity_type", Kind::NonEmpty),
    required("descriptor_ids", Kind::StrList { min: 1 }),
];

fn keys(schema: &'static [Key]) -> Vec<&'static Key> {
    schema.iter().collect()
}

fn model() -> KitsuResult<&'static Model> {
    Ok(Records::model(DESCRIPTORS)?)
}

/// Zou's `WrongParameterException`.
fn wrong_parameter(message: impl Into<String>) -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": message.into(), "data": null}),
    )
}

fn not_found(id: &str) -> KitsuError {
    AppError::NotFound(format!("no metadata descriptor {id}")).into()
}

/// An id of the path: what is not a UUID names nothing (Zou's 404).
fn found_id(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| not_found(id))
}

/// A write's refusal: a taken name is Zou's `WrongParameterException`.
fn refused(error: AppError) -> KitsuError {
    match error {
        AppError::Duplicate { message, .. } => wrong_parameter(message),
        other => KitsuError::crud(other),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The caller's departments, as the log holds their account.
fn departments_of(caller: &KitsuCaller) -> Vec<String> {
    strings(caller.user.person_fields().get("departments"))
}

/// The live project `id`, if any.
async fn project(state: &AppState, id: &str) -> KitsuResult<Option<Record>> {
    let project = state
        .records
        .records
        .load(id)
        .await
        .map_err(AppError::from)?;
    Ok(project.is_live("projects").then_some(project))
}

/// Whether the project's team holds the caller with `access` (a studio manager always):
/// 403 when not, 404 for an unknown project unless they are a studio manager.
async fn permit(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    access: Access,
) -> KitsuResult<()> {
    if caller.user.role == "admin" {
        return Ok(());
    }
    let Some(project) = project(state, id).await? else {
        return Err(AppError::NotFound(format!("no project {id}")).into());
    };
    let projects = Records::model("projects")?;
    Ok(state
        .records
        .permit(
            access,
            projects,
            Some(id),
            |k| project.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?)
}

/// Zou's `check_all_departments_access`: the project must exist (whoever asks), then a
/// studio manager, a production manager of the team, or a supervisor of the team whose
/// departments are all among `departments` (none: any, but then `departments` must not be
/// empty).
async fn may_write(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    departments: &[String],
) -> KitsuResult<()> {
    let Some(project) = project(state, id).await? else {
        return Err(AppError::NotFound(format!("no project {id}")).into());
    };
    let role = caller.user.role.as_str();
    if role == "admin" {
        return Ok(());
    }
    let in_team = project
        .fields
        .get("team")
        .and_then(Value::as_array)
        .is_some_and(|team| team.iter().any(|p| p.as_str() == Some(&caller.user_id)));
    let allowed = in_team
        && match role {
            "manager" => true,
            "supervisor" => {
                let theirs = departments_of(caller);
                !departments.is_empty() && theirs.iter().all(|d| departments.contains(d))
            }
            _ => false,
        };
    if allowed {
        Ok(())
    } else {
        Err(forbidden().into())
    }
}

/// Whether the caller sees the descriptor `doc` (Zou narrows them for clients, to the ones
/// for clients, and for vendors, to the ones of their departments or of none).
fn visible(caller: &KitsuCaller, doc: &Value) -> bool {
    match caller.user.role.as_str() {
        "client" => doc["for_client"].as_bool() == Some(true),
        "vendor" => {
            let theirs = departments_of(caller);
            let its = strings(doc.get("departments"));
            its.is_empty() || its.iter().any(|d| theirs.contains(d))
        }
        _ => true,
    }
}

/// Zou's order: by position (none last), then name (byte order, as its database collates).
fn by_position(a: &Value, b: &Value) -> Ordering {
    let position = |d: &Value| d["position"].as_i64().map_or((1, 0), |p| (0, p));
    position(a)
        .cmp(&position(b))
        .then_with(|| a["name"].as_str().cmp(&b["name"].as_str()))
}

/// The descriptors of the project (of `entity_type` when given), in creation order.
async fn descriptors_of(
    state: &AppState,
    project: &str,
    entity_type: Option<&str>,
) -> KitsuResult<Vec<(String, Value)>> {
    let path = |name: &str| FieldPath::parse(name).expect("field names are paths");
    let mut filter = Filter::Eq(path("project_id"), json!(project));
    if let Some(entity_type) = entity_type {
        filter = Filter::And(vec![
            filter,
            Filter::Eq(path("entity_type"), json!(entity_type)),
        ]);
    }
    scan(state, model()?.collection, filter, &["created_at"]).await
}

/// The live descriptor `id` of the project, from the log: 404 when there is none or it is
/// another project's.
async fn live_descriptor(state: &AppState, project: &str, id: &str) -> KitsuResult<Record> {
    let record = state
        .records
        .live(model()?, id)
        .await
        .map_err(|_| not_found(id))?;
    if record.fields.get("project_id").and_then(Value::as_str) != Some(project) {
        return Err(not_found(id));
    }
    Ok(record)
}

/// Zou's move (`to`) or removal (none) of a descriptor's values in the `data` of the records
/// it describes: the project itself for `Project` ones, the tasks of its task type for `Task`
/// ones, else the project's entities of its entity type. One change per record holding a
/// value; the position of the last.
async fn move_values(
    state: &AppState,
    headers: &HeaderMap,
    descriptor: &Record,
    to: Option<&str>,
    by: &str,
    metadata: &Metadata,
) -> KitsuResult<Option<Position>> {
    let field = |name: &str| descriptor.fields.get(name).and_then(Value::as_str);
    let (Some(project), Some(entity_type), Some(from)) = (
        field("project_id"),
        field("entity_type"),
        field("field_name"),
    ) else {
        return Ok(None);
    };
    let path = |name: &str| FieldPath::parse(name).expect("field names are paths");
    let (route, ids) = if entity_type == "Project" {
        ("projects", vec![project.to_string()])
    } else {
        let (route, kind) = match entity_type {
            "Task" => (
                "tasks",
                Filter::Eq(path("task_type_id"), json!(field("task_type_id"))),
            ),
            kind => ("entities", Filter::Eq(path("type"), json!(kind))),
        };
        // The records are found in the read model: let it catch up with the log first.
        state.gate.wait(headers, &[RECORDS]).await?;
        let filter = Filter::And(vec![Filter::Eq(path("project_id"), json!(project)), kind]);
        let rows = scan(state, Records::model(route)?.collection, filter, &[]).await?;
        let ids = rows
            .into_iter()
            .filter(|(_, doc)| doc["data"].get(from).is_some_and(|v| !v.is_null()))
            .map(|(id, _)| id)
            .collect();
        (route, ids)
    };
    let model = Records::model(route)?;
    let mut last = None;
    for id in ids {
        let position = state
            .records
            .move_key(model, &id, "data", from, to, by, metadata)
            .await?;
        last = Some(position);
    }
    Ok(last)
}

fn check_entity_type(entity_type: &str) -> KitsuResult<()> {
    if METADATA_ENTITY_TYPES.contains(&entity_type) {
        Ok(())
    } else {
        Err(wrong_parameter(
            "Wrong entity type. Please select Asset, Shot, Sequence, Episode, Edit, Project, \
             or Task.",
        ))
    }
}

fn check_data_type(data_type: &str) -> KitsuResult<()> {
    if METADATA_DATA_TYPES.contains(&data_type) {
        Ok(())
    } else {
        Err(wrong_parameter("Invalid data_type"))
    }
}

/// A name and the field name derived from it, refused when the columns cannot hold them.
fn named(name: &str) -> KitsuResult<(Value, Value)> {
    let field_name = slug(name);
    if name.chars().count() > NAME_MAX || field_name.len() > NAME_MAX {
        return Err(wrong_parameter("Metadata descriptor name is too long."));
    }
    Ok((json!(name), json!(field_name)))
}

#[utoipa::path(get, path = "/data/projects/{id}/metadata-descriptors", tag = "kitsu: data",
    description = "Also served under `/api`. The project's metadata descriptors by position \
        (none last), then name, whole (with `departments`). For its team and studio managers; \
        clients get the ones `for_client`, vendors the ones of their departments or of none.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "Array of metadata descriptors"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "Not a UUID; an unknown project (but for studio managers)"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = found_id(&project)?;
    permit(&state, &caller, &project, Access::Member).await?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let mut docs: Vec<Value> = descriptors_of(&state, &project, None)
        .await?
        .into_iter()
        .map(|(_, doc)| doc)
        .filter(|doc| visible(&caller, doc))
        .collect();
    docs.sort_by(by_position);
    Ok(with_freshness(
        Json(Value::Array(docs)).into_response(),
        freshness,
    ))
}

#[utoipa::path(post, path = "/data/projects/{id}/metadata-descriptors", tag = "kitsu: data",
    description = "Also served under `/api`. Creates a metadata descriptor of the project: \
        `name` (required; `field_name` is its slug), `entity_type` (`Asset`; or Shot, Edit, \
        Episode, Sequence, Project, Task), `task_type_id` (for `Task` ones only, required \
        there), `data_type` (`string`), `choices`, `for_client`, `departments` (unknown ones \
        dropped). Other keys are ignored. Names and field names are unique per project and \
        entity type.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    request_body = Object,
    responses(
        (status = 201, description = "The created descriptor"),
        (status = 400, description = "`Validation error.` naming the field; a wrong entity type, data type or task type; `Metadata descriptor already exists.`"),
        (status = 403, description = "Not a studio manager, a production manager of the team, nor a supervisor of the team for all the descriptor's departments"),
        (status = 404, description = "Not a UUID, or an unknown project"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(project): Path<String>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let given = schema(&body, &keys(CREATE), "MetadataDescriptorSchema")?;
    let project = found_id(&project)?;
    let departments = strings(given.get("departments"));
    may_write(&state, &caller, &project, &departments).await?;
    let entity_type = given
        .get("entity_type")
        .and_then(Value::as_str)
        .unwrap_or("Asset");
    check_entity_type(entity_type)?;
    let task_type = given.get("task_type_id").and_then(Value::as_str);
    match (entity_type, task_type) {
        ("Task", None) => {
            return Err(wrong_parameter(
                "Task metadata descriptors require a task_type_id.",
            ));
        }
        ("Task", Some(id)) => {
            let known = uuid::Uuid::try_parse(id).is_ok()
                && state.records.is_known("task-types", id).await?;
            if !known {
                return Err(wrong_parameter("Task type not found."));
            }
        }
        (_, Some(_)) => {
            return Err(wrong_parameter(
                "task_type_id only applies to Task metadata descriptors.",
            ));
        }
        (_, None) => {}
    }
    let data_type = given
        .get("data_type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    check_data_type(data_type)?;
    let name = given.get("name").and_then(Value::as_str).unwrap_or("");
    let (name, field_name) = named(name)?;
    let input: Map<String, Value> = [
        ("project_id", json!(project)),
        ("entity_type", json!(entity_type)),
        ("task_type_id", json!(task_type)),
        ("name", name),
        ("field_name", field_name),
        ("data_type", json!(data_type)),
        (
            "choices",
            given.get("choices").cloned().unwrap_or(json!([])),
        ),
        (
            "for_client",
            json!(given.get("for_client").and_then(Value::as_bool) == Some(true)),
        ),
        ("departments", json!(departments)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let descriptors = model()?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let (id, executed) = state
        .records
        .create(descriptors, input, &caller.user_id, &metadata)
        .await
        .map_err(refused)?;
    let body = Json(serialized(descriptors, &id, &executed.state));
    Ok(with_position(
        (StatusCode::CREATED, body).into_response(),
        executed.position,
    ))
}

#[utoipa::path(get, path = "/data/projects/{id}/metadata-descriptors/{descriptor_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. One metadata descriptor of the project, whole.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("descriptor_id" = String, Path, description = "The descriptor's UUID"),
    ),
    responses(
        (status = 200, description = "The metadata descriptor"),
        (status = 403, description = "Not in the project's team; a client and a descriptor not for clients; a vendor and another department's"),
        (status = 404, description = "No such descriptor in this project"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((project, descriptor)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = found_id(&project)?;
    permit(&state, &caller, &project, Access::Member).await?;
    let descriptor = found_id(&descriptor)?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let doc = doc_of(&state, DESCRIPTORS, &descriptor)
        .await?
        .filter(|doc| doc["project_id"].as_str() == Some(project.as_str()))
        .ok_or_else(|| not_found(&descriptor))?;
    if !visible(&caller, &doc) {
        return Err(forbidden().into());
    }
    Ok(with_freshness(Json(doc).into_response(), freshness))
}

#[utoipa::path(put, path = "/data/projects/{id}/metadata-descriptors/{descriptor_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Changes a metadata descriptor as Zou does: a new \
        `name` (an absent or null one keeps it) renames its `field_name` (and the key of its \
        values in the records it describes), and `data_type` \
        (`string`), `choices` (`[]`), `for_client` (false) and `departments` (`[]`) take the \
        given value or, when absent, that default. `entity_type`, `position` and other keys \
        are ignored.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("descriptor_id" = String, Path, description = "The descriptor's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The descriptor after the change"),
        (status = 400, description = "`Validation error.` naming the field; `Name cannot be empty.`; `Invalid data_type`; `Metadata descriptor already exists.`"),
        (status = 403, description = "Not a studio manager, a production manager of the team, nor a supervisor of the team for all the descriptor's departments"),
        (status = 404, description = "No such descriptor in this project"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, descriptor)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let given = schema(&body, &keys(UPDATE), "MetadataDescriptorUpdateSchema")?;
    let project = found_id(&project)?;
    let descriptor = found_id(&descriptor)?;
    let current = live_descriptor(&state, &project, &descriptor).await?;
    let departments = strings(given.get("departments"));
    let mut both = strings(current.fields.get("departments"));
    both.extend(departments.iter().cloned());
    may_write(&state, &caller, &project, &both).await?;
    let name = given.get("name").and_then(Value::as_str);
    if name == Some("") {
        return Err(wrong_parameter("Name cannot be empty."));
    }
    let data_type = given
        .get("data_type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    check_data_type(data_type)?;
    let mut input: Map<String, Value> = [
        ("data_type", json!(data_type)),
        (
            "choices",
            given.get("choices").cloned().unwrap_or(json!([])),
        ),
        (
            "for_client",
            json!(given.get("for_client").and_then(Value::as_bool) == Some(true)),
        ),
        ("departments", json!(departments)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(name) = name {
        let (name, field_name) = named(name)?;
        input.insert("name".into(), name);
        input.insert("field_name".into(), field_name);
    }
    let descriptors = model()?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let before = current.clone();
    let executed = state
        .records
        .update(
            descriptors,
            &descriptor,
            current,
            input,
            &caller.user_id,
            &metadata,
        )
        .await
        .map_err(refused)?;
    let mut position = executed.position;
    let renamed = executed.state.fields.get("field_name");
    if renamed != before.fields.get("field_name") {
        let to = renamed.and_then(Value::as_str);
        let moved = move_values(&state, &headers, &before, to, &caller.user_id, &metadata);
        position = moved.await?.unwrap_or(position);
    }
    let body = serialized(descriptors, &descriptor, &executed.state);
    Ok(with_position(Json(body).into_response(), position))
}

#[utoipa::path(delete, path = "/data/projects/{id}/metadata-descriptors/{descriptor_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Deletes a metadata descriptor of the project \
        and its values in the `data` of the records it describes (`force` changes nothing).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("descriptor_id" = String, Path, description = "The descriptor's UUID"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not a studio manager, a production manager of the team, nor a supervisor of the team for all the descriptor's departments"),
        (status = 404, description = "No such descriptor in this project"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((project, descriptor)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = found_id(&project)?;
    let descriptor = found_id(&descriptor)?;
    let current = live_descriptor(&state, &project, &descriptor).await?;
    let departments = strings(current.fields.get("departments"));
    may_write(&state, &caller, &project, &departments).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    // Zou takes the values out of the records first, then the descriptor.
    move_values(&state, &headers, &current, None, &caller.user_id, &metadata).await?;
    let position = state
        .records
        .delete(model()?, &descriptor, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        position,
    ))
}

#[utoipa::path(post, path = "/data/projects/{id}/metadata-descriptors/reorder",
    tag = "kitsu: data",
    description = "Also served under `/api`. Sets the positions of the project's descriptors \
        of `entity_type` from the order of `descriptor_ids` (from 1; an id given twice takes \
        its last place), the others after them by name; answers them all in their new order. \
        One update per descriptor whose position changes.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    request_body = Object,
    responses(
        (status = 200, description = "The descriptors of the entity type, reordered"),
        (status = 400, description = "`Validation error.` naming the field; a wrong entity type; `Descriptor <id> not found for project <id> and entity type <type>`"),
        (status = 403, description = "Not a studio manager nor a production manager of the team"),
        (status = 404, description = "Not a UUID; an unknown project (but for studio managers)"),
    ))]
pub async fn reorder(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let given = schema(&body, &keys(ORDER), "MetadataDescriptorOrderSchema")?;
    let project = found_id(&project)?;
    permit(&state, &caller, &project, Access::Manager).await?;
    let entity_type = given
        .get("entity_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    check_entity_type(entity_type)?;
    let order = strings(given.get("descriptor_ids"));
    // The descriptors are found in the read model: let it catch up with the log first.
    state.gate.wait(&headers, &[RECORDS]).await?;
    let mut docs: Vec<(String, Value)> =
        descriptors_of(&state, &project, Some(entity_type)).await?;
    if let Some(unknown) = order.iter().find(|id| !docs.iter().any(|(d, _)| d == *id)) {
        return Err(wrong_parameter(format!(
            "Descriptor {unknown} not found for project {project} and entity type {entity_type}"
        )));
    }
    // Zou numbers the listed ones from 1 (a repeated id keeps its last place), then the
    // others by name after the list's length.
    let mut positions: Vec<(String, i64)> = Vec::new();
    for (i, id) in order.iter().enumerate() {
        positions.retain(|(d, _)| d != id);
        positions.push((id.clone(), i as i64 + 1));
    }
    let mut rest: Vec<&(String, Value)> =
        docs.iter().filter(|(id, _)| !order.contains(id)).collect();
    rest.sort_by(|a, b| a.1["name"].as_str().cmp(&b.1["name"].as_str()));
    let start = order.len() as i64 + 1;
    positions.extend(
        rest.iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), start + i as i64)),
    );
    let descriptors = model()?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let mut last = None;
    for (id, position) in positions {
        let Some((_, doc)) = docs.iter_mut().find(|(d, _)| *d == id) else {
            continue;
        };
        if doc["position"].as_i64() == Some(position) {
            continue;
        }
        let current = state.records.live(descriptors, &id).await?;
        let input = Map::from_iter([("position".to_string(), json!(position))]);
        let executed = state
            .records
            .update(descriptors, &id, current, input, &caller.user_id, &metadata)
            .await
            .map_err(KitsuError::crud)?;
        *doc = serialized(descriptors, &id, &executed.state);
        last = Some(executed.position);
    }
    let mut docs: Vec<Value> = docs.into_iter().map(|(_, doc)| doc).collect();
    docs.sort_by(by_position);
    let body = Json(Value::Array(docs)).into_response();
    Ok(match last {
        Some(position) => with_position(body, position),
        None => body,
    })
}
