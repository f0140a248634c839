//! Assigning tasks to a person and clearing assignations (Zou's `PUT
//! /actions/persons/<id>/assign` and `PUT /actions/tasks/clear-assignation`, what gazu's
//! `assign_task`, `assign_tasks_to_person` and `clear_assignations` call). Each task changes
//! by a link or unlink on its own stream, so concurrent assignations are all kept; a task
//! that is unknown or that the caller may not change is skipped, as Zou skips it.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::Position;
use annals_domain::identity::User;
use annals_domain::kitsu::{Model, Record};

use super::serialized;
use crate::es::commands::Metadata;
use crate::http::consistency::with_position;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

const ASSIGNEES: &str = "assignees";

/// A JSON body as Zou's schemas read it: anything but an object is an empty one.
fn body_object(body: &Bytes) -> Map<String, Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The `task_ids` of Zou's `AssignTasksSchema` / `UnassignTasksSchema`: a list of at least
/// one string.
fn task_ids(body: &Map<String, Value>) -> KitsuResult<Vec<String>> {
    let list = match body.get("task_ids") {
        None | Some(Value::Null) => {
            return Err(KitsuError::validation("task_ids", "Field required"));
        }
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(KitsuError::validation(
                "task_ids",
                "Input should be a valid list",
            ));
        }
    };
    if list.is_empty() {
        return Err(KitsuError::validation(
            "task_ids",
            "List should have at least 1 item after validation, not 0",
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, id)| match id {
            Value::String(id) => Ok(id.clone()),
            _ => Err(KitsuError::validation(
                &format!("task_ids.{i}"),
                "Input should be a valid string",
            )),
        })
        .collect()
}

/// The live task of `id`, or none for a malformed or unknown id (skipped, as Zou skips it).
async fn live_task(
    state: &AppState,
    model: &Model,
    id: &str,
) -> KitsuResult<Option<(String, Record)>> {
    let Ok(id) = uuid::Uuid::try_parse(id).map(|u| u.to_string()) else {
        return Ok(None);
    };
    match state.records.live(model, &id).await {
        Ok(task) => Ok(Some((id, task))),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The departments a person belongs to.
fn departments(user: &User) -> Vec<Value> {
    user.person_fields()
        .get("departments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// What Zou's department rules look at for one task: whether the caller is a studio manager,
/// or in the task's project team, and the department of the task's type.
struct Standing {
    admin: bool,
    in_team: bool,
    task_department: Option<Value>,
}

async fn standing(
    state: &AppState,
    model: &Model,
    caller: &KitsuCaller,
    task: &Record,
) -> KitsuResult<Standing> {
    if caller.user.role == "admin" {
        return Ok(Standing {
            admin: true,
            in_team: true,
            task_department: None,
        });
    }
    let in_team = state
        .records
        .in_team(model, |k| task.fields.get(k), &caller.user_id)
        .await?;
    let task_type = task.fields.get("task_type_id").and_then(Value::as_str);
    let task_department = match task_type {
        Some(task_type) => match state
            .records
            .live(Records::model("task-types")?, task_type)
            .await
        {
            Ok(record) => record.fields.get("department_id").cloned(),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    Ok(Standing {
        admin: false,
        in_team,
        task_department: task_department.filter(|d| !d.is_null()),
    })
}

/// Whether the caller may assign `person` to the task (Zou's `check_task_department_access`):
/// a studio manager; or, in the team, a production manager; a supervisor without departments,
/// or one whose departments hold the task type's and share one with the person; anyone
/// assigning themselves to a task of their department.
fn may_assign(caller: &KitsuCaller, standing: &Standing, person: &User) -> bool {
    if standing.admin {
        return true;
    }
    if !standing.in_team {
        return false;
    }
    let mine = departments(&caller.user);
    let of_mine = standing
        .task_department
        .as_ref()
        .is_some_and(|d| mine.contains(d));
    match caller.user.role.as_str() {
        "manager" => true,
        "supervisor"
            if mine.is_empty()
                || (of_mine && departments(person).iter().any(|d| mine.contains(d))) =>
        {
            true
        }
        _ => of_mine && person.user_id == caller.user_id,
    }
}

/// Whether the caller may take `person` (or everyone) off the task (Zou's
/// `check_task_department_access_for_unassign`): a studio manager; or, in the team, a
/// production manager; a supervisor without departments or whose departments hold the task
/// type's; anyone taking themselves off a task they are assigned to.
fn may_unassign(
    caller: &KitsuCaller,
    standing: &Standing,
    task: &Record,
    person: Option<&str>,
) -> bool {
    if standing.admin {
        return true;
    }
    if !standing.in_team {
        return false;
    }
    let mine = departments(&caller.user);
    let assigned = task
        .fields
        .get(ASSIGNEES)
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(&caller.user_id)));
    match caller.user.role.as_str() {
        "manager" => true,
        "supervisor"
            if mine.is_empty()
                || standing
                    .task_department
                    .as_ref()
                    .is_some_and(|d| mine.contains(d)) =>
        {
            true
        }
        _ => assigned && person == Some(caller.user_id.as_str()),
    }
}

/// Puts `person` in the team of `project` unless there already (Zou adds an assignee to the
/// team of the first assigned task's project).
async fn join_team(
    state: &AppState,
    project: &str,
    person: &str,
    by: &str,
    metadata: &Metadata,
) -> KitsuResult<Option<Position>> {
    let projects = Records::model("projects")?;
    let current = state.records.live(projects, project).await?;
    let in_team = current
        .fields
        .get("team")
        .and_then(Value::as_array)
        .is_some_and(|team| team.iter().any(|m| m.as_str() == Some(person)));
    if in_team {
        return Ok(None);
    }
    let executed = state
        .records
        .relink(projects, project, "team", person, true, by, metadata)
        .await?;
    Ok(Some(executed.position))
}

#[utoipa::path(put, path = "/actions/persons/{id}/assign", tag = "kitsu: data",
    description = "Also served under `/api`. Assigns the person to the tasks of `task_ids` \
        (at least one) and makes the caller their assigner; the person joins the team of the \
        first task's project. Unknown tasks, and tasks the caller may not change, are \
        skipped. Answers the assigned tasks, with `assignees`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    request_body = Object,
    responses(
        (status = 200, description = "Array of the assigned tasks"),
        (status = 400, description = "`Validation error.` naming `task_ids`; `{error: \"Assignee doesn't exist in database.\"}`"),
    ))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(person): Path<String>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let ids = task_ids(&body_object(&body))?;
    let model = Records::model("tasks")?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let mut assignee: Option<User> = None;
    let mut assigned = Vec::new();
    let mut position = None;
    for id in ids {
        let Some((id, task)) = live_task(&state, model, &id).await? else {
            continue;
        };
        // As Zou: the person is looked up once a task is found, before the rights.
        if assignee.is_none() {
            let unknown = || {
                KitsuError::Body(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "Assignee doesn't exist in database."}),
                )
            };
            if uuid::Uuid::try_parse(&person).is_err() {
                return Err(unknown());
            }
            assignee = match state.identity.user(&person).await {
                Ok(user) => Some(user),
                Err(AppError::NotFound(_)) => return Err(unknown()),
                Err(e) => return Err(e.into()),
            };
        }
        let standing = standing(&state, model, &caller, &task).await?;
        if !assignee
            .as_ref()
            .is_some_and(|person| may_assign(&caller, &standing, person))
        {
            continue;
        }
        let mut executed = state
            .records
            .relink(
                model,
                &id,
                ASSIGNEES,
                &person,
                true,
                &caller.user_id,
                &metadata,
            )
            .await?;
        if task.fields.get("assigner_id").and_then(Value::as_str) != Some(&caller.user_id) {
            let mut change = Map::new();
            change.insert("assigner_id".into(), json!(caller.user_id));
            executed = state
                .records
                .update(
                    model,
                    &id,
                    executed.state,
                    change,
                    &caller.user_id,
                    &metadata,
                )
                .await
                .map_err(KitsuError::crud)?;
        }
        position = Some(executed.position);
        assigned.push(serialized(model, &id, &executed.state));
    }
    if let Some(project) = assigned
        .first()
        .and_then(|t| t.get("project_id"))
        .and_then(Value::as_str)
        && let Some(joined) =
            join_team(&state, project, &person, &caller.user_id, &metadata).await?
    {
        position = Some(joined);
    }
    let response = Json(Value::Array(assigned)).into_response();
    Ok(match position {
        Some(position) => with_position(response, position),
        None => response,
    })
}

#[utoipa::path(put, path = "/actions/tasks/clear-assignation", tag = "kitsu: data",
    description = "Also served under `/api`. Takes `person_id` (or, without it, everyone) \
        off the assignees of the tasks of `task_ids` (at least one). Unknown tasks, and tasks \
        the caller may not change, are skipped. Answers the ids of the tasks cleared.",
    security(("bearer" = [])),
    request_body = Object,
    responses(
        (status = 200, description = "Array of task ids"),
        (status = 400, description = "`Validation error.` naming `task_ids` or `person_id`"),
    ))]
pub async fn clear(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let body = body_object(&body);
    let ids = task_ids(&body)?;
    let person = match body.get("person_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(person)) => Some(person.clone()),
        Some(_) => {
            return Err(KitsuError::validation(
                "person_id",
                "Input should be a valid string",
            ));
        }
    };
    let model = Records::model("tasks")?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let mut cleared = Vec::new();
    let mut position = None;
    for id in ids {
        let Some((id, task)) = live_task(&state, model, &id).await? else {
            continue;
        };
        let standing = standing(&state, model, &caller, &task).await?;
        if !may_unassign(&caller, &standing, &task, person.as_deref()) {
            continue;
        }
        let current: Vec<String> = task
            .fields
            .get(ASSIGNEES)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let leaving: Vec<String> = match &person {
            Some(person) => current.into_iter().filter(|p| p == person).collect(),
            None => current,
        };
        for member in leaving {
            let executed = state
                .records
                .relink(
                    model,
                    &id,
                    ASSIGNEES,
                    &member,
                    false,
                    &caller.user_id,
                    &metadata,
                )
                .await?;
            position = Some(executed.position);
        }
        cleared.push(json!(id));
    }
    let response = Json(Value::Array(cleared)).into_response();
    Ok(match position {
        Some(position) => with_position(response, position),
        None => response,
    })
}
