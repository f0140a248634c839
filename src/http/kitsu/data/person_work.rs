//! A person's work, as Zou's to-do pages read it (gazu's `all_tasks_for_person`,
//! `all_done_tasks_for_person`, `all_tasks_for_person_and_type`): the tasks assigned to them in
//! the open projects the caller shares with them, with the names around each task, and the
//! tasks of one type on the entities they work on. Read from the tasks' read model.
use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_projections::kitsu::{EXACT_AT, NEWS, NEWS_COLLECTION, RECORDS};

use super::names::Names;
use super::scan;
use super::shape::{open_filter, without_relations};
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Records, forbidden};
use annals_domain::identity::User;

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn not_found(what: &str) -> KitsuError {
    AppError::NotFound(what.to_string()).into()
}

/// The person a `/data/persons/<id>/...` route is about: what is no person's id is a 404,
/// a bot a 403 (Zou's `check_person_is_not_bot`, for studio managers too).
pub(super) async fn subject(state: &AppState, id: &str) -> KitsuResult<User> {
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found(id))?
        .to_string();
    let user = match state.identity.user(&id).await {
        Ok(user) => user,
        Err(AppError::NotFound(_)) => return Err(not_found(&id)),
        Err(e) => return Err(e.into()),
    };
    if user.person_fields().get("is_bot") == Some(&json!(true)) {
        return Err(forbidden().into());
    }
    Ok(user)
}

/// Zou lets vendors read only their own work.
fn vendor_reads_own(caller: &KitsuCaller, person: &User) -> KitsuResult<()> {
    if caller.user.role == "vendor" && caller.user_id != person.user_id {
        return Err(forbidden().into());
    }
    Ok(())
}

/// The ids of the open projects: all of them for studio managers, else those whose team
/// holds the caller (Zou's "related projects").
async fn open_projects(state: &AppState, caller: &KitsuCaller) -> KitsuResult<Vec<Value>> {
    let projects = Records::model("projects")?;
    let mut filters = vec![open_filter(state, projects).await?];
    if caller.user.role != "admin" {
        filters.push(Filter::Contains(path("team"), json!(caller.user_id)));
    }
    let rows = scan(state, projects.collection, Filter::And(filters), &[]).await?;
    Ok(rows.into_iter().map(|(id, _)| json!(id)).collect())
}

/// Which of a person's tasks a list holds.
#[derive(Clone, Copy, PartialEq)]
enum Done {
    No,
    Yes,
}

#[utoipa::path(get, path = "/data/persons/{id}/tasks", tag = "kitsu: data",
    description = "Also served under `/api`. The tasks assigned to the person whose status is \
        not done, in the open projects (for others than studio managers: those whose team holds \
        the caller), each with the names Zou's to-do list shows (`project_name`, \
        `entity_name`, `entity_type_name`, `sequence_name`, `episode_id`, `episode_name`, \
        `task_type_name`, `task_status_name`, colors, `task_*` dates and sizes), `assignees` \
        and `last_comment` (`{text, date, person_id}` of the newest comment not by a client, \
        `{}` without one); an asset cast in episodes has `episode_ids` and `episode_names`. \
        Vendors read only their own (an empty list), clients an empty list.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "Array of tasks"),
        (status = 403, description = "A bot; a vendor asking for someone else"),
        (status = 404, description = "No such person"),
    ))]
pub async fn tasks(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    person_tasks(&state, caller?, &id, Done::No, &headers).await
}

#[utoipa::path(get, path = "/data/persons/{id}/done-tasks", tag = "kitsu: data",
    description = "Also served under `/api`. As `/data/persons/{id}/tasks`, the tasks whose \
        status is done, the latest `end_date` first, then by task type and entity name.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "Array of tasks"),
        (status = 403, description = "A bot; a vendor asking for someone else"),
        (status = 404, description = "No such person"),
    ))]
pub async fn done_tasks(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    person_tasks(&state, caller?, &id, Done::Yes, &headers).await
}

async fn person_tasks(
    state: &AppState,
    caller: KitsuCaller,
    id: &str,
    done: Done,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let person = subject(state, id).await?;
    vendor_reads_own(&caller, &person)?;
    let freshness = state.gate.wait(headers, &[RECORDS, NEWS]).await?;
    // Zou answers vendors (who may only ask for themselves) and clients an empty list.
    if matches!(caller.user.role.as_str(), "vendor" | "client") {
        return Ok(with_freshness(Json(json!([])).into_response(), freshness));
    }
    let tasks = Records::model("tasks")?;
    let filter = Filter::And(vec![
        Filter::Contains(path("assignees"), json!(person.user_id)),
        Filter::In(path("project_id"), open_projects(state, &caller).await?),
    ]);
    let docs: Vec<Value> = scan(state, tasks.collection, filter, &["created_at"])
        .await?
        .into_iter()
        .map(|(_, doc)| doc)
        .collect();
    let mut names = Names::new(state);
    names
        .preload("task-status", docs.iter().map(|d| d.get("task_status_id")))
        .await?;
    let mut kept = Vec::new();
    for doc in docs {
        let status = names.doc("task-status", doc.get("task_status_id")).await?;
        let is_done = status["is_done"] == json!(true);
        if is_done == (done == Done::Yes) {
            kept.push(doc);
        }
    }
    let mut listed = with_surroundings(state, &mut names, kept).await?;
    if done == Done::Yes {
        // Postgres puts a null `end_date` first in a descending order.
        listed.sort_by(|a, b| {
            let end = |d: &Value| d["end_date"].as_str().map(str::to_string);
            let names = |d: &Value| {
                (
                    d["task_type_name"].as_str().unwrap_or_default().to_string(),
                    d["entity_name"].as_str().unwrap_or_default().to_string(),
                )
            };
            match (end(a), end(b)) {
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (x, y) => y.cmp(&x).then_with(|| names(a).cmp(&names(b))),
            }
        });
    }
    Ok(with_freshness(Json(listed).into_response(), freshness))
}

/// The newest comment of each task not made by a client, as Zou's `last_comment`.
async fn last_comments(
    state: &AppState,
    names: &mut Names<'_>,
    task_ids: Vec<Value>,
) -> KitsuResult<HashMap<String, Value>> {
    let comments = Records::model("comments")?;
    let mut rows = scan(
        state,
        comments.collection,
        Filter::In(path("object_id"), task_ids.clone()),
        &["created_at"],
    )
    .await?;
    // The stored dates have whole seconds; the news entries of the comments the exact time.
    let exact: HashMap<String, String> = scan(
        state,
        NEWS_COLLECTION,
        Filter::In(path("task_id"), task_ids),
        &[],
    )
    .await?
    .into_iter()
    .filter_map(|(_, news)| {
        Some((
            news["comment_id"].as_str()?.to_string(),
            news[EXACT_AT].as_str()?.to_string(),
        ))
    })
    .collect();
    rows.sort_by_cached_key(|(id, comment)| {
        let at = comment["created_at"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (at, exact.get(id).cloned())
    });
    let mut last = HashMap::new();
    for (_, comment) in rows {
        let author = names.person(comment.get("person_id")).await?;
        if author["role"] == "client" {
            continue;
        }
        if let Some(task) = comment["object_id"].as_str() {
            last.insert(
                task.to_string(),
                json!({
                    "text": comment["text"],
                    "date": comment["created_at"],
                    "person_id": comment["person_id"],
                }),
            );
        }
    }
    Ok(last)
}

/// The episodes each asset is cast in (links from an episode to it), by episode name.
async fn cast_in_episodes(
    state: &AppState,
    names: &mut Names<'_>,
    entity_ids: Vec<Value>,
) -> KitsuResult<HashMap<String, Vec<(String, Value)>>> {
    let links = Records::model("entity-links")?;
    let rows = scan(
        state,
        links.collection,
        Filter::In(path("entity_out_id"), entity_ids),
        &[],
    )
    .await?;
    let mut episodes: HashMap<String, Vec<(String, Value)>> = HashMap::new();
    for (_, link) in rows {
        let episode = names.doc("entities", link.get("entity_in_id")).await?;
        if episode["type"] != "Episode" {
            continue;
        }
        if let Some(asset) = link["entity_out_id"].as_str() {
            let name = episode["name"].as_str().unwrap_or_default().to_string();
            episodes
                .entry(asset.to_string())
                .or_default()
                .push((name, link["entity_in_id"].clone()));
        }
    }
    for list in episodes.values_mut() {
        list.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(episodes)
}

/// Each task with what Zou's to-do list joins in (`resolve_episode_and_build_task_dict`).
async fn with_surroundings(
    state: &AppState,
    names: &mut Names<'_>,
    docs: Vec<Value>,
) -> KitsuResult<Vec<Value>> {
    let task_ids: Vec<Value> = docs.iter().map(|d| d["id"].clone()).collect();
    let entity_ids: Vec<Value> = docs.iter().map(|d| d["entity_id"].clone()).collect();
    names
        .preload("entities", entity_ids.iter().map(Some))
        .await?;
    let last = last_comments(state, names, task_ids).await?;
    let episodes = cast_in_episodes(state, names, entity_ids).await?;
    let text = |v: &Value| match v {
        Value::Null => json!(""),
        other => json!(other.as_str().unwrap_or_default()),
    };
    let mut listed = Vec::with_capacity(docs.len());
    for mut doc in docs {
        let project = names.doc("projects", doc.get("project_id")).await?;
        let entity = names.doc("entities", doc.get("entity_id")).await?;
        let entity_type = names
            .doc("entity-types", entity.get("entity_type_id"))
            .await?;
        let task_type = names.doc("task-types", doc.get("task_type_id")).await?;
        let status = names.doc("task-status", doc.get("task_status_id")).await?;
        let sequence = names.doc("entities", entity.get("parent_id")).await?;
        let mut episode_id = sequence.get("parent_id").cloned().unwrap_or(Value::Null);
        let mut episode_name = names.name("entities", Some(&episode_id)).await?;
        if episode_id.is_null() {
            // No episode above: the one the entity belongs to (an episode's asset), "MP"
            // (main pack) when that is no episode.
            episode_id = text(&entity["source_id"]);
            if episode_id != "" {
                let source = names.doc("entities", Some(&episode_id)).await?;
                episode_name = if source["type"] == "Episode" {
                    source["name"].clone()
                } else {
                    json!("MP")
                };
            }
        }
        if entity_type["name"] == "Sequence" && !entity["parent_id"].is_null() {
            episode_id = entity["parent_id"].clone();
            episode_name = names.name("entities", Some(&episode_id)).await?;
        }
        let mut extra = json!({
            "project_name": project["name"],
            "project_has_avatar": project["has_avatar"],
            "entity_name": entity["name"],
            "entity_description": entity["description"],
            "entity_data": entity["data"],
            "entity_preview_file_id": text(&entity["preview_file_id"]),
            "entity_source_id": text(&entity["source_id"]),
            "entity_type_name": entity_type["name"],
            "entity_canceled": entity["canceled"],
            "sequence_name": sequence.get("name").cloned().unwrap_or(Value::Null),
            "episode_id": episode_id,
            "episode_name": episode_name,
            "task_type_for_entity": task_type["for_entity"],
            "task_estimation": doc["estimation"],
            "task_duration": doc["duration"],
            "task_start_date": doc["start_date"],
            "task_due_date": doc["due_date"],
            "task_type_name": task_type["name"],
            "task_status_name": status["name"],
            "task_type_color": task_type["color"],
            "task_status_color": status["color"],
            "task_status_short_name": status["short_name"],
        });
        let id = doc["id"].as_str().unwrap_or_default().to_string();
        extra["last_comment"] = last.get(&id).cloned().unwrap_or_else(|| json!({}));
        if let Some(cast) = doc["entity_id"].as_str().and_then(|e| episodes.get(e)) {
            extra["episode_ids"] = cast.iter().map(|(_, id)| id.clone()).collect();
            extra["episode_names"] = cast.iter().map(|(name, _)| json!(name)).collect();
        }
        if let (Value::Object(doc), Value::Object(extra)) = (&mut doc, extra) {
            doc.extend(extra);
        }
        if doc.get("assignees").is_none() {
            doc["assignees"] = json!([]);
        }
        listed.push(doc);
    }
    Ok(listed)
}

#[utoipa::path(get, path = "/data/persons/{id}/related-tasks/{task_type_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. The tasks of the task type on the entities of the \
        open projects the person has a task on (theirs and their colleagues'), as plain tasks \
        without relations. Anyone but a vendor may ask about anyone.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The person's UUID"),
        ("task_type_id" = String, Path, description = "The task type's UUID"),
    ),
    responses(
        (status = 200, description = "Array of tasks"),
        (status = 400, description = "`Invalid UUID value: <task_type_id>`"),
        (status = 403, description = "A bot; a vendor asking for someone else"),
        (status = 404, description = "No such person"),
    ))]
pub async fn related_tasks(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, task_type_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let person = subject(&state, &id).await?;
    vendor_reads_own(&caller, &person)?;
    // Zou fails on a malformed task type (500): annals names it.
    let task_type_id = uuid::Uuid::try_parse(&task_type_id)
        .map_err(|_| {
            KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": format!("Invalid UUID value: {task_type_id}"), "data": null}),
            )
        })?
        .to_string();
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let tasks = Records::model("tasks")?;
    let projects = Records::model("projects")?;
    let open = scan(
        &state,
        projects.collection,
        open_filter(&state, projects).await?,
        &[],
    )
    .await?;
    let open: Vec<Value> = open.into_iter().map(|(id, _)| json!(id)).collect();
    let theirs = Filter::And(vec![
        Filter::Contains(path("assignees"), json!(person.user_id)),
        Filter::In(path("project_id"), open),
    ]);
    let mut entities: Vec<Value> = Vec::new();
    for (_, task) in scan(&state, tasks.collection, theirs, &[]).await? {
        if !entities.contains(&task["entity_id"]) {
            entities.push(task["entity_id"].clone());
        }
    }
    let related = Filter::And(vec![
        Filter::In(path("entity_id"), entities),
        Filter::Eq(path("task_type_id"), json!(task_type_id)),
    ]);
    let listed: Vec<Value> = scan(&state, tasks.collection, related, &["created_at"])
        .await?
        .into_iter()
        .map(|(_, doc)| without_relations(tasks, doc))
        .collect();
    Ok(with_freshness(Json(listed).into_response(), freshness))
}
