//! A project's team as a list, and its settings: the task types, task statuses and asset types
//! it uses (gazu's `get_team`, `add_task_type`, `remove_task_type`, `add_task_status`,
//! `remove_task_status`, `get_project_task_statuses`, `add_asset_type`). A setting is a relation
//! of the project record, changed by `Link`/`Unlink` commands on its stream; the lists are reads
//! of the project's read model.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_domain::identity::user::person::{for_client, minimal};
use annals_projections::kitsu::RECORDS;

use super::names::doc_of;
use super::projects::{managed, project_id};
use super::shape::without_relations;
use super::{json_object, scan, serialized};
use crate::http::consistency::{Freshness, with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult, METHOD_NOT_ALLOWED_MESSAGE};
use crate::http::kitsu::persons::person;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Records, forbidden};
use annals_contracts::filter::{FieldPath, Filter};

/// One of a project's settings lists.
struct Setting {
    /// The path segment after `settings/`.
    route: &'static str,
    /// The project's relation it changes, and the model of its records.
    relation: &'static str,
    model: &'static str,
    /// The body key naming the record to add.
    key: &'static str,
    /// Zou's class name, in its "not found" message.
    class: &'static str,
    /// Zou answers the list at `GET .../settings/<route>` (else that is a 405).
    listed: bool,
}

const SETTINGS: &[Setting] = &[
    Setting {
        route: "task-types",
        relation: "task_types",
        model: "task-types",
        key: "task_type_id",
        class: "TaskType",
        listed: false,
    },
    Setting {
        route: "task-status",
        relation: "task_statuses",
        model: "task-status",
        key: "task_status_id",
        class: "TaskStatus",
        listed: true,
    },
    Setting {
        route: "asset-types",
        relation: "asset_types",
        model: "entity-types",
        key: "asset_type_id",
        class: "EntityType",
        listed: false,
    },
];

fn setting(route: &str) -> KitsuResult<&'static Setting> {
    SETTINGS
        .iter()
        .find(|s| s.route == route)
        .ok_or_else(|| AppError::NotFound(format!("no setting {route}")).into())
}

/// A project the caller may read (Zou's project access: studio managers, and the members of
/// its team): its id, its read-model document and how fresh that is. What is no project is a
/// 404.
pub(super) struct Readable {
    pub id: String,
    pub doc: Value,
    pub freshness: Freshness,
}

pub(super) async fn readable_project(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    headers: &HeaderMap,
) -> KitsuResult<Readable> {
    let id = project_id(id)?;
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let project = doc_of(state, "projects", &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no project {id}")))?;
    if caller.user.role != "admin" && !holds(&project["team"], &caller.user_id) {
        return Err(forbidden().into());
    }
    Ok(Readable {
        id,
        doc: project,
        freshness,
    })
}

fn holds(ids: &Value, id: &str) -> bool {
    ids.as_array()
        .is_some_and(|ids| ids.iter().any(|held| held.as_str() == Some(id)))
}

/// The records of `route` whose ids `ids` lists, in creation order, without relations.
pub(super) async fn listed_records(
    state: &AppState,
    route: &str,
    ids: &Value,
) -> KitsuResult<Vec<Value>> {
    let model = Records::model(route)?;
    let ids = ids.as_array().cloned().unwrap_or_default();
    let path = FieldPath::parse("id").expect("a valid path");
    let rows = scan(
        state,
        model.collection,
        Filter::In(path, ids),
        &["created_at", "name"],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(_, doc)| without_relations(model, doc))
        .collect())
}

#[utoipa::path(get, path = "/data/projects/{id}/team", tag = "kitsu: data",
    description = "Also served under `/api`. The project's team, each person with \
        `project_role` (null: annals has no per-project roles): studio and production managers \
        read the whole person (with `departments`), clients the client person, everyone else \
        the minimal one (`departments` empty, as Zou).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "Array of persons"),
        (status = 403, description = "The caller is not in the project's team"),
        (status = 404, description = "No such project"),
    ))]
pub async fn team(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = readable_project(&state, &caller, &id, &headers).await?;
    let mut members = Vec::new();
    for member in project.doc["team"].as_array().cloned().unwrap_or_default() {
        let Some(member) = member.as_str() else {
            continue;
        };
        let user = match state.identity.user(member).await {
            Ok(user) => user,
            Err(AppError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let whole = person(&user);
        let mut shown = match caller.user.role.as_str() {
            "admin" | "manager" => whole.clone(),
            "client" => for_client(&whole),
            _ => {
                let mut shown = minimal(&whole);
                shown["departments"] = json!([]);
                shown
            }
        };
        shown["project_role"] = Value::Null;
        members.push((whole["created_at"].clone(), shown));
    }
    // Zou lists the team as its person table holds it: in creation order.
    members.sort_by_key(|(at, shown)| (at.to_string(), shown["id"].to_string()));
    let members: Vec<Value> = members.into_iter().map(|(_, shown)| shown).collect();
    Ok(with_freshness(
        Json(members).into_response(),
        project.freshness,
    ))
}

#[utoipa::path(get, path = "/data/projects/{id}/settings/{setting}", tag = "kitsu: data",
    description = "Also served under `/api`. `task-status`: the task statuses the project uses, \
        in creation order, for the members of its team. Zou serves no list at `task-types` and \
        `asset-types` (405); `GET /data/projects/{id}/task-types` lists the task types.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("setting" = String, Path, description = "`task-status`"),
    ),
    responses(
        (status = 200, description = "Array of task statuses"),
        (status = 403, description = "The caller is not in the project's team"),
        (status = 404, description = "No such project or setting"),
        (status = 405, description = "`task-types`, `asset-types`"),
    ))]
pub async fn settings_list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, route)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let setting = setting(&route)?;
    if !setting.listed {
        return Err(KitsuError::message(
            StatusCode::METHOD_NOT_ALLOWED,
            METHOD_NOT_ALLOWED_MESSAGE,
        ));
    }
    let caller = caller?;
    let project = readable_project(&state, &caller, &id, &headers).await?;
    let listed = listed_records(&state, setting.model, &project.doc[setting.relation]).await?;
    Ok(with_freshness(
        Json(listed).into_response(),
        project.freshness,
    ))
}

/// Zou's `WrongParameterException`: 400 `{error, message, data: null}`.
fn wrong(message: String) -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": true, "message": message, "data": null}),
    )
}

#[utoipa::path(post, path = "/data/projects/{id}/settings/{setting}", tag = "kitsu: data",
    description = "Also served under `/api`. Adds a task type (`task-types`, body \
        `{task_type_id}`), task status (`task-status`, `{task_status_id}`) or asset type \
        (`asset-types`, `{asset_type_id}`) to the project's settings (once: again is no \
        change). Answers the project without relations.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("setting" = String, Path, description = "`task-types`, `task-status` or `asset-types`"),
    ),
    request_body = Object,
    responses(
        (status = 201, description = "The project, without relations"),
        (status = 400, description = "`Validation error.` naming the missing key; `<Class> with id <id> not found`"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project or setting"),
    ))]
pub async fn add_setting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, route)): Path<(String, String)>,
    body: Bytes,
) -> KitsuResult<Response> {
    let setting = setting(&route)?;
    let caller = caller?;
    let id = project_id(&id)?;
    let input = json_object(&body)?;
    let member = match input.get(setting.key) {
        None | Some(Value::Null) => {
            return Err(KitsuError::validation(setting.key, "Field required"));
        }
        Some(Value::String(member)) => member.clone(),
        Some(_) => {
            return Err(KitsuError::validation(
                setting.key,
                "Input should be a valid string",
            ));
        }
    };
    let model = managed(&state, &caller, &id).await?;
    let target = Records::model(setting.model)?;
    let known = match uuid::Uuid::try_parse(&member) {
        Ok(parsed) => {
            let member = parsed.to_string();
            let record = state.records.live(target, &member).await;
            record.is_ok().then_some(member)
        }
        Err(_) if setting.route == "task-types" => {
            return Err(wrong(format!(
                "{} is required and must be a valid UUID",
                setting.key
            )));
        }
        Err(_) => None,
    };
    // Zou fails (500) on an unknown task type; annals answers as for the others.
    let Some(member) = known else {
        return Err(wrong(format!(
            "{} with id {member} not found",
            setting.class
        )));
    };
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .relink(
            model,
            &id,
            setting.relation,
            &member,
            true,
            &caller.user_id,
            &metadata,
        )
        .await?;
    let body = without_relations(model, serialized(model, &id, &executed.state));
    let response = (StatusCode::CREATED, Json(body)).into_response();
    Ok(with_position(response, executed.position))
}

#[utoipa::path(delete, path = "/data/projects/{id}/settings/{setting}/{member}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Takes a task type, task status or asset type out \
        of the project's settings (204 also when it was not in them).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("setting" = String, Path, description = "`task-types`, `task-status` or `asset-types`"),
        ("member" = String, Path, description = "The record's UUID"),
    ),
    responses(
        (status = 204, description = "Not in the settings (any more)"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project or setting"),
    ))]
pub async fn remove_setting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, route, member)): Path<(String, String, String)>,
) -> KitsuResult<Response> {
    let setting = setting(&route)?;
    let caller = caller?;
    let id = project_id(&id)?;
    let model = managed(&state, &caller, &id).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .relink(
            model,
            &id,
            setting.relation,
            &member,
            false,
            &caller.user_id,
            &metadata,
        )
        .await?;
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        executed.position,
    ))
}
