//! The task routes gazu's `task` module calls beside the generic `/data/tasks` ones: a task
//! with everything around it (`/data/tasks/<id>/full`), an entity's tasks with the names Zou
//! joins in (`/data/shots/<id>/tasks`, `/data/assets/<id>/tasks`), a task's comments, newest
//! first, and commenting (`POST /actions/tasks/<id>/comment`), which may move the task's
//! status in the same transaction.
use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::Model;
use annals_projections::kitsu::{EXACT_AT, NEWS, NEWS_COLLECTION, RECORDS};

use super::names::{Names, doc_of};
use super::query::{DEFAULT_LIMIT, list_options};
use super::shape::visible;
use super::shape::{relations_asked, without_relations};
use super::target::{Target, renamed};
use super::{json_object, listed, page_of, query_pairs, scan, serialized};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::kitsu::persons::person;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Commenter, NewComment, Records};

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

fn not_found(what: &str) -> KitsuError {
    AppError::NotFound(what.to_string()).into()
}

/// A person as Zou's `serialize_safe` gives it; null for an unknown id.
async fn full_person(state: &AppState, id: Option<&Value>) -> KitsuResult<Value> {
    let Some(id) = id.and_then(Value::as_str) else {
        return Ok(Value::Null);
    };
    match state.identity.user(id).await {
        Ok(user) => Ok(person(&user)),
        Err(AppError::NotFound(_)) => Ok(Value::Null),
        Err(e) => Err(e.into()),
    }
}

/// The live task `id` a caller may read (Zou's task access: the project's team), from the
/// read model.
pub(super) async fn readable_task(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
) -> KitsuResult<Value> {
    let tasks = Records::model("tasks")?;
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found(id))?
        .to_string();
    let task = doc_of(state, "tasks", &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    permit_read(state, tasks, &id, &task, caller).await?;
    Ok(task)
}

async fn permit_read(
    state: &AppState,
    model: &Model,
    id: &str,
    doc: &Value,
    caller: &KitsuCaller,
) -> KitsuResult<()> {
    state
        .records
        .permit(
            model.rules.read,
            model,
            Some(id),
            |k| doc.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    Ok(())
}

/// Every document of `collection` matching `filter`, in `sort` order.
pub(super) async fn every(
    state: &AppState,
    collection: &str,
    filter: Filter,
    sort: &[&str],
) -> KitsuResult<Vec<Value>> {
    let rows = scan(state, collection, filter, sort).await?;
    Ok(rows.into_iter().map(|(_, doc)| doc).collect())
}

#[utoipa::path(get, path = "/data/tasks/{id}/full", tag = "kitsu: data",
    description = "Also served under `/api`. The task (with `assignees`) and what Zou's task \
        page shows around it: `entity`, `entity_type`, `project`, `task_status`, `task_type`, \
        `persons` (the assignees), `assigner`, `is_subscribed`, and for a shot or sequence its \
        `sequence` and `episode`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The task's UUID")),
    responses(
        (status = 200, description = "The task with its surroundings"),
        (status = 403, description = "The caller is not in the task's project team"),
        (status = 404, description = "No such task"),
    ))]
pub async fn full(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let mut task = readable_task(&state, &caller, &id).await?;
    let mut names = Names::new(&state);
    let entity = names.doc("entities", task.get("entity_id")).await?;
    let entity_type = without_relations(
        Records::model("entity-types")?,
        names
            .doc("entity-types", entity.get("entity_type_id"))
            .await?,
    );
    let mut persons = Vec::new();
    for assignee in task["assignees"].as_array().cloned().unwrap_or_default() {
        let found = full_person(&state, Some(&assignee)).await?;
        if !found.is_null() {
            persons.push(found);
        }
    }
    let mut around = json!({
        // Zou serves the task's entity as a plain `Entity` here.
        "entity": renamed(entity.clone(), Some("Entity")),
        "entity_type": entity_type,
        "is_subscribed": false,
        "persons": persons,
        "project": without_relations(
            Records::model("projects")?,
            names.doc("projects", task.get("project_id")).await?,
        ),
        "task_status": names.doc("task-status", task.get("task_status_id")).await?,
        "task_type": names.doc("task-types", task.get("task_type_id")).await?,
        "type": "Task",
    });
    let assigner = full_person(&state, task.get("assigner_id")).await?;
    if !assigner.is_null() {
        around["assigner"] = assigner;
    }
    let sequence = match entity["type"].as_str() {
        _ if entity["parent_id"].is_null() => Value::Null,
        Some("Sequence") => entity.clone(),
        Some("Shot" | "Scene") => names.doc("entities", entity.get("parent_id")).await?,
        _ => Value::Null,
    };
    if !sequence.is_null() {
        let episode = names.doc("entities", sequence.get("parent_id")).await?;
        around["sequence"] = sequence;
        if !episode.is_null() {
            around["episode"] = episode;
        }
    }
    if let (Value::Object(task), Value::Object(around)) = (&mut task, around) {
        task.extend(around);
    }
    Ok(with_freshness(Json(task).into_response(), freshness))
}

/// The entity views whose records list their tasks (`/data/shots/<id>/tasks`).
pub(super) const WITH_TASKS: &[&str] = &["shots", "assets", "sequences", "episodes", "edits"];

/// An entity's tasks, each with the names Zou joins in, ordered as Zou orders them.
pub(super) async fn entity_tasks(
    state: &AppState,
    caller: KitsuCaller,
    route: &str,
    id: &str,
    raw: &Option<String>,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let target = Target::of(route)?;
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found(id))?
        .to_string();
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let entity = doc_of(state, "entities", &id)
        .await?
        .filter(|doc| target.check(|k| doc.get(k)).is_ok())
        .ok_or_else(|| not_found(&id))?;
    permit_read(state, target.model, &id, &entity, &caller).await?;
    let tasks_model = Records::model("tasks")?;
    let relations = relations_asked(&query_pairs(raw), false);
    let docs = every(
        state,
        tasks_model.collection,
        Filter::Eq(path("entity_id"), json!(id)),
        &["created_at"],
    )
    .await?;
    let mut names = Names::new(state);
    let entity_type_name = names
        .name("entity-types", entity.get("entity_type_id"))
        .await?;
    let mut listed = Vec::with_capacity(docs.len());
    for doc in docs {
        let mut doc = if relations {
            doc
        } else {
            without_relations(tasks_model, doc)
        };
        let extra = json!({
            "project_name": names.name("projects", doc.get("project_id")).await?,
            "task_type_name": names.name("task-types", doc.get("task_type_id")).await?,
            "task_status_name": names.name("task-status", doc.get("task_status_id")).await?,
            "entity_type_name": entity_type_name,
            "entity_name": entity["name"],
        });
        if let (Value::Object(doc), Value::Object(extra)) = (&mut doc, extra) {
            doc.extend(extra);
        }
        listed.push(doc);
    }
    let key = |doc: &Value| {
        [
            "name",
            "project_name",
            "task_type_name",
            "entity_type_name",
            "entity_name",
        ]
        .map(|k| doc[k].as_str().unwrap_or_default().to_lowercase())
    };
    listed.sort_by_key(key);
    Ok(with_freshness(Json(listed).into_response(), freshness))
}

/// A project's tasks, as Zou's `GET /data/projects/<id>/tasks` gives them (gazu's
/// `all_tasks_for_project`): with their assignees, the newest change first; `task_type_id`
/// filters, `episode_id` keeps the tasks of the shots of the episode's sequences, and `page`
/// asks for Zou's paginated object.
pub(super) async fn project_tasks(
    state: &AppState,
    caller: KitsuCaller,
    id: &str,
    raw: &Option<String>,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found(id))?
        .to_string();
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let projects = Records::model("projects")?;
    let project = doc_of(state, "projects", &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    permit_read(state, projects, &id, &project, &caller).await?;
    let tasks = Records::model("tasks")?;
    let pairs = query_pairs(raw);
    let (episode, pairs): (Vec<_>, Vec<_>) =
        pairs.into_iter().partition(|(k, _)| k == "episode_id");
    let mut options = list_options(tasks, &pairs)?;
    options.relations = true;
    // Zou pages this list by its own page size, whatever `limit` says.
    options.limit = DEFAULT_LIMIT;
    let mut filters = vec![options.filter, Filter::Eq(path("project_id"), json!(id))];
    if let Some((_, episode)) = episode.last() {
        let episode = uuid::Uuid::try_parse(episode)
            .map_err(|_| KitsuError::invalid_field("episode_id", "must be a UUID"))?
            .to_string();
        // The shots of the episode's sequences, as Zou joins them.
        let children = |parents: Vec<Value>| Filter::In(path("parent_id"), parents);
        let ids = |docs: Vec<(String, Value)>| docs.into_iter().map(|(id, _)| json!(id)).collect();
        let entities = Records::model("entities")?.collection;
        let sequences = scan(
            state,
            entities,
            children(vec![json!(episode)]),
            &["created_at"],
        )
        .await?;
        let shots = scan(state, entities, children(ids(sequences)), &["created_at"]).await?;
        filters.push(Filter::In(path("entity_id"), ids(shots)));
    }
    filters.extend(visible(state, tasks, &caller).await?);
    options.filter = Filter::And(filters);
    let body = match options.page {
        Some(page) => page_of(state, tasks, &options, page).await?,
        None => {
            let rows = scan(
                state,
                tasks.collection,
                options.filter.clone(),
                &["-updated_at", "-created_at"],
            )
            .await?;
            Value::Array(
                rows.into_iter()
                    .map(|(_, doc)| listed(tasks, doc, &options))
                    .collect(),
            )
        }
    };
    Ok(with_freshness(Json(body).into_response(), freshness))
}

#[utoipa::path(get, path = "/data/tasks/{id}/comments", tag = "kitsu: data",
    description = "Also served under `/api`. The task's comments, newest first, each with its \
        author as `person` (`id, first_name, last_name, full_name, has_avatar, role`), its \
        `task_status` (`id, name, short_name, color`), `editor` when edited, and its \
        `acknowledgements`, `mentions`, `department_mentions`, `previews`, `attachment_files`. \
        Only studio, production managers and supervisors see the comments of clients.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The task's UUID")),
    responses(
        (status = 200, description = "Array of comments"),
        (status = 403, description = "The caller is not in the task's project team"),
        (status = 404, description = "No such task"),
    ))]
pub async fn comments(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let freshness = state.gate.wait(&headers, &[RECORDS, NEWS]).await?;
    let task = readable_task(&state, &caller, &id).await?;
    let model = Records::model("comments")?;
    let mut docs = every(
        &state,
        model.collection,
        Filter::Eq(path("object_id"), task["id"].clone()),
        &["-created_at", "-id"],
    )
    .await?;
    // Zou's comments are newest first to the microsecond; the stored dates have whole
    // seconds, the news entries the exact time.
    let exact: HashMap<String, String> = every(
        &state,
        NEWS_COLLECTION,
        Filter::Eq(path("task_id"), task["id"].clone()),
        &[],
    )
    .await?
    .into_iter()
    .filter_map(|n| {
        Some((
            n["comment_id"].as_str()?.into(),
            n[EXACT_AT].as_str()?.into(),
        ))
    })
    .collect();
    docs.sort_by_cached_key(|doc| {
        let at = doc["created_at"].as_str().unwrap_or_default().to_string();
        let exact = doc["id"].as_str().and_then(|id| exact.get(id)).cloned();
        std::cmp::Reverse((at, exact))
    });
    let sees_clients = matches!(
        caller.user.role.as_str(),
        "admin" | "manager" | "supervisor" | "client"
    );
    let mut names = Names::new(&state);
    let mut listed = Vec::with_capacity(docs.len());
    for doc in docs {
        let author = names.person(doc.get("person_id")).await?;
        if !sees_clients && author["role"] == "client" {
            continue;
        }
        let status = names.doc("task-status", doc.get("task_status_id")).await?;
        let mut extra = json!({
            "person": author,
            "task_status": {
                "name": status["name"],
                "short_name": status["short_name"],
                "color": status["color"],
                "id": doc["task_status_id"],
            },
        });
        if !doc["editor_id"].is_null() {
            let editor = names.person(doc.get("editor_id")).await?;
            extra["editor"] = json!({
                "first_name": editor["first_name"],
                "last_name": editor["last_name"],
                "has_avatar": editor["has_avatar"],
                "role": editor["role"],
                "id": doc["editor_id"],
            });
        }
        // Zou lists these beside the comment, whatever `relations` says.
        let mut doc = doc;
        names
            .entry_people(&mut doc, "replies", "person", "person_id")
            .await?;
        if let (Value::Object(doc), Value::Object(extra)) = (&mut doc, extra) {
            doc.extend(extra);
        }
        listed.push(doc);
    }
    Ok(with_freshness(Json(listed).into_response(), freshness))
}

/// Zou's validation error naming `field`.
fn validation(field: &str, message: &str) -> KitsuError {
    KitsuError::validation(field, message)
}

fn text_field(body: &Map<String, Value>, key: &str) -> KitsuResult<String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(validation(key, "Input should be a valid string")),
    }
}

/// A list field as Zou reads it: a list, a JSON-encoded list, or null for none.
fn list_field(body: &Map<String, Value>, key: &str) -> KitsuResult<Value> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(json!([])),
        Some(Value::Array(items)) => Ok(Value::Array(items.clone())),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => Ok(Value::Array(items)),
            _ => Err(validation(key, "Input should be a valid list")),
        },
        Some(_) => Err(validation(key, "Input should be a valid list")),
    }
}

/// The body of a comment request (Zou's `CommentCreateSchema`).
fn new_comment(body: &Map<String, Value>) -> KitsuResult<NewComment> {
    let task_status_id = match body.get("task_status_id") {
        None | Some(Value::Null) => return Err(validation("task_status_id", "Field required")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(validation(
                "task_status_id",
                "Input should be a valid string",
            ));
        }
    };
    let for_client = match body.get("for_client") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(validation("for_client", "Input should be a valid boolean")),
    };
    let optional = |key| text_field(body, key).map(|s| Some(s).filter(|s| !s.is_empty()));
    Ok(NewComment {
        task_status_id,
        text: text_field(body, "comment")?,
        person_id: optional("person_id")?,
        created_at: optional("created_at")?,
        checklist: list_field(body, "checklist")?,
        links: list_field(body, "links")?,
        for_client,
    })
}

#[utoipa::path(post, path = "/actions/tasks/{id}/comment", tag = "kitsu: data",
    description = "Also served under `/api`. Comments on a task: `{task_status_id, comment, \
        checklist, links, for_client, person_id, created_at}` (the last three for studio and \
        production managers only). The comment is made and, when its status differs, the task \
        moves to it, in one transaction; the news feed gets an entry. Answers the comment with \
        its `task_status` and author `person`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The task's UUID")),
    request_body = Object,
    responses(
        (status = 201, description = "The comment"),
        (status = 400, description = "`Validation error.` naming the field; no more retakes"),
        (status = 403, description = "The caller may not act on the task, or use the status"),
        (status = 404, description = "No such task, status or person"),
    ))]
pub async fn comment(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let body = json_object(&body)?;
    let input = new_comment(&body)?;
    // Whether the caller was mentioned in the task's conversation is read from the comments'
    // read model: let it catch up first, for the roles a mention can let in.
    if !matches!(caller.user.role.as_str(), "admin" | "manager" | "client") {
        state.gate.wait(&headers, &[RECORDS]).await?;
    }
    let metadata = meta.metadata(Some(&caller.user_id));
    let who = Commenter {
        user_id: &caller.user_id,
        role: &caller.user.role,
    };
    let made = state
        .records
        .comment_task(&id, input, who, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let comments = Records::model("comments")?;
    let statuses = Records::model("task-status")?;
    let status_id = made
        .comment
        .fields
        .get("task_status_id")
        .and_then(Value::as_str);
    let mut doc = serialized(comments, &made.comment_id, &made.comment);
    doc["task_status"] = serialized(statuses, status_id.unwrap_or_default(), &made.status);
    doc["person"] = full_person(&state, Some(&json!(made.author))).await?;
    let response = (StatusCode::CREATED, Json(doc));
    Ok(with_position(response.into_response(), made.position))
}
