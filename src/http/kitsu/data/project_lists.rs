//! The lists of a project's records gazu reads beside the generic ones: the task types it uses
//! (`all_task_types_for_project`), its comments (`all_comments_for_project`), its assets of one
//! type (`all_assets_for_project_and_type`) and an entity's tasks of one type
//! (`all_tasks_for_entity_and_task_type`). Reads of the read models, for the project's team.
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_projections::kitsu::RECORDS;

use super::names::doc_of;
use super::project_settings::{listed_records, readable_project};
use super::query::list_options;
use super::shape::{limits, without_relations};
use super::target::Target;
use super::{all_of, page_of, query_pairs, scan};
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Records, forbidden};

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

#[utoipa::path(get, path = "/data/projects/{id}/task-types", tag = "kitsu: data",
    description = "Also served under `/api`. The task types the project uses (its \
        `task_types` setting), in creation order, for the members of its team.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "Array of task types"),
        (status = 403, description = "The caller is not in the project's team"),
        (status = 404, description = "No such project"),
    ))]
pub async fn task_types(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = readable_project(&state, &caller, &id, &headers).await?;
    let listed = listed_records(&state, "task-types", &project.doc["task_types"]).await?;
    Ok(with_freshness(
        Json(listed).into_response(),
        project.freshness,
    ))
}

#[utoipa::path(get, path = "/data/projects/{id}/comments", tag = "kitsu: data",
    description = "Also served under `/api`. The comments on the project's tasks, the latest \
        change first, with their relations (`previews`, `mentions`, `department_mentions`, \
        `acknowledgements`, `attachment_files`); with `page` (and `limit`), Zou's paginated \
        object. For the members of its team but clients and vendors.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "Array of comments, or the paginated object"),
        (status = 400, description = "A malformed `page` or `limit`"),
        (status = 403, description = "Not in the project's team; a client or vendor"),
        (status = 404, description = "No such project"),
    ))]
pub async fn comments(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = readable_project(&state, &caller, &id, &headers).await?;
    if matches!(caller.user.role.as_str(), "client" | "vendor") {
        return Err(forbidden().into());
    }
    let tasks = Records::model("tasks")?;
    let comments = Records::model("comments")?;
    let of_project = Filter::Eq(path("project_id"), json!(project.id));
    let task_ids: Vec<Value> = scan(&state, tasks.collection, of_project, &[])
        .await?
        .into_iter()
        .map(|(id, _)| json!(id))
        .collect();
    // Only `page` and `limit` are read: other keys are no filters here.
    let pairs: Vec<(String, String)> = query_pairs(&raw)
        .into_iter()
        .filter(|(k, _)| k == "page" || k == "limit")
        .collect();
    let mut options = list_options(comments, &pairs)?;
    options.relations = true;
    options.filter = Filter::In(path("object_id"), task_ids);
    let body = match options.page {
        Some(page) => page_of(&state, comments, &options, page).await?,
        None => Value::Array(
            scan(
                &state,
                comments.collection,
                options.filter.clone(),
                &["-updated_at", "-created_at"],
            )
            .await?
            .into_iter()
            .map(|(_, doc)| doc)
            .collect(),
        ),
    };
    Ok(with_freshness(
        Json(body).into_response(),
        project.freshness,
    ))
}

#[utoipa::path(get, path = "/data/projects/{id}/asset-types/{type_id}/assets",
    tag = "kitsu: data",
    description = "Also served under `/api`. The project's assets of the asset type, filtered by \
        the query string as `/data/assets` is; vendors see those they have a task on. An \
        unknown project or type is an empty list for studio managers.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("type_id" = String, Path, description = "The asset type's UUID"),
    ),
    responses(
        (status = 200, description = "Array of assets"),
        (status = 400, description = "A malformed filter or id"),
        (status = 403, description = "The caller is not in the project's team"),
    ))]
pub async fn type_assets(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, type_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let assets = Target::of("assets")?;
    let mut pairs: Vec<(String, String)> = assets
        .query(query_pairs(&raw))
        .into_iter()
        .filter(|(k, _)| k != "project_id" && k != "entity_type_id")
        .collect();
    pairs.push(("project_id".into(), id.clone()));
    pairs.push(("entity_type_id".into(), type_id));
    let mut options = list_options(assets.model, &pairs)?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    if caller.user.role != "admin" {
        let project = match uuid::Uuid::try_parse(&id) {
            Ok(id) => doc_of(&state, "projects", &id.to_string()).await?,
            Err(_) => None,
        };
        let member = project
            .and_then(|p| p["team"].as_array().cloned())
            .is_some_and(|team| team.contains(&json!(caller.user_id)));
        if !member {
            return Err(forbidden().into());
        }
    }
    options.type_name = assets.type_name();
    let mut filters = vec![options.filter, assets.filter()];
    filters.extend(limits(&state, assets.model, &caller).await?);
    options.filter = Filter::And(filters);
    let body = all_of(&state, assets.model, &options).await?;
    Ok(with_freshness(Json(body).into_response(), freshness))
}

/// What Zou blanks of a task for a client (`CLIENT_BLANK_TASK_VALUES`).
const CLIENT_BLANKS: &[(&str, Value)] = &[
    ("assigner_id", Value::Null),
    ("difficulty", Value::Null),
    ("done_date", Value::Null),
    ("due_date", Value::Null),
    ("end_date", Value::Null),
    ("last_comment_date", Value::Null),
    ("real_start_date", Value::Null),
    ("start_date", Value::Null),
];

/// The zero counts Zou blanks for a client.
const CLIENT_ZEROS: &[&str] = &[
    "completion_rate",
    "duration",
    "estimation",
    "nb_assets_ready",
    "nb_drawings",
    "priority",
    "retake_count",
];

#[utoipa::path(get, path = "/data/entities/{id}/task-types/{task_type_id}/tasks",
    tag = "kitsu: data",
    description = "Also served under `/api`. The entity's tasks of the task type, by name, \
        without relations, for the members of the entity's project team; clients get them with \
        the studio's fields blank (dates, sizes, assigner).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The entity's UUID"),
        ("task_type_id" = String, Path, description = "The task type's UUID"),
    ),
    responses(
        (status = 200, description = "Array of tasks"),
        (status = 403, description = "The caller is not in the entity's project team"),
        (status = 404, description = "No such entity"),
    ))]
pub async fn entity_type_tasks(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, task_type_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let not_found = || KitsuError::from(AppError::NotFound(format!("no entity {id}")));
    let entity_id = uuid::Uuid::try_parse(&id)
        .map_err(|_| not_found())?
        .to_string();
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let entity = doc_of(&state, "entities", &entity_id)
        .await?
        .ok_or_else(not_found)?;
    if caller.user.role != "admin" {
        let project = doc_of(
            &state,
            "projects",
            entity["project_id"].as_str().unwrap_or(""),
        )
        .await?
        .unwrap_or(Value::Null);
        let team = project["team"].as_array().cloned().unwrap_or_default();
        if !team.contains(&json!(caller.user_id)) {
            return Err(forbidden().into());
        }
    }
    let tasks = Records::model("tasks")?;
    // A malformed task type is of no task.
    let filter = Filter::And(vec![
        Filter::Eq(path("entity_id"), json!(entity_id)),
        Filter::Eq(path("task_type_id"), json!(task_type_id)),
    ]);
    let client = caller.user.role == "client";
    let listed: Vec<Value> = scan(&state, tasks.collection, filter, &["name", "created_at"])
        .await?
        .into_iter()
        .map(|(_, doc)| {
            let mut doc = without_relations(tasks, doc);
            if client {
                for (key, blank) in CLIENT_BLANKS {
                    doc[*key] = blank.clone();
                }
                for key in CLIENT_ZEROS {
                    doc[*key] = json!(0);
                }
            }
            doc
        })
        .collect();
    Ok(with_freshness(Json(listed).into_response(), freshness))
}
