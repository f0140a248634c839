//! The entity routes gazu calls beside the generic ones: the typed `all` lists, the lists
//! under a parent (a project's assets, a sequence's shots, ...) and the creators of assets,
//! episodes, sequences, shots and edits under a project. Each is a row of a small table over
//! the registry's `entities` model and its typed views, not a handler of its own.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter};
use annals_domain::kitsu::Access;
use annals_projections::kitsu::RECORDS;

use super::paged::PLAYLIST_PAGES;
use super::paged::{self, Paged};
use super::query::list_options;
use super::shape::{limits, visible};
use super::target::Target;
use super::{all_of, json_object, query_pairs, serialized};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

const PROJECTS: &str = "projects";

fn path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

/// How the records of a child list belong to their parent.
#[derive(Clone, Copy)]
enum By {
    /// The child's field holds the parent's id.
    Field(&'static str),
    /// The entity types of the parent project's records of this view (Zou's asset types of
    /// a project: those its assets use).
    TypesOf(&'static str),
    /// The child's `parent_id` is one of the parent's records of this view (an episode's
    /// shots: those of its sequences).
    Grandparent(&'static str),
    /// The records the parent's records of a model name: `(model, owner, key)`, the `key` of
    /// the `model`'s records whose `owner` is the parent (an entity's task types: those of
    /// its tasks).
    Named(&'static str, &'static str, &'static str),
}

/// An entity's task types: those its tasks are of.
const TASK_TYPES_OF_TASKS: By = By::Named("tasks", "entity_id", "task_type_id");

/// `GET /data/<parent>/<id>/<child>`: the child view's (or model's) records of one parent.
struct Scope {
    parent: &'static str,
    child: &'static str,
    by: By,
    /// A short list, paged as Zou pages it; else every record.
    paged: Option<&'static Paged>,
}

const SCOPES: &[Scope] = &[
    Scope {
        parent: PROJECTS,
        child: "assets",
        by: By::Field("project_id"),
        paged: None,
    },
    Scope {
        parent: PROJECTS,
        child: "episodes",
        by: By::Field("project_id"),
        paged: None,
    },
    Scope {
        parent: PROJECTS,
        child: "sequences",
        by: By::Field("project_id"),
        paged: None,
    },
    Scope {
        parent: PROJECTS,
        child: "shots",
        by: By::Field("project_id"),
        paged: None,
    },
    Scope {
        parent: PROJECTS,
        child: "edits",
        by: By::Field("project_id"),
        paged: None,
    },
    Scope {
        parent: PROJECTS,
        child: "asset-types",
        by: By::TypesOf("assets"),
        paged: None,
    },
    Scope {
        parent: PROJECTS,
        child: "playlists",
        by: By::Field("project_id"),
        paged: Some(&PLAYLIST_PAGES),
    },
    Scope {
        parent: "episodes",
        child: "sequences",
        by: By::Field("parent_id"),
        paged: None,
    },
    Scope {
        parent: "episodes",
        child: "shots",
        by: By::Grandparent("sequences"),
        paged: None,
    },
    Scope {
        parent: "sequences",
        child: "shots",
        by: By::Field("parent_id"),
        paged: None,
    },
    Scope {
        parent: "shots",
        child: "task-types",
        by: TASK_TYPES_OF_TASKS,
        paged: None,
    },
    Scope {
        parent: "assets",
        child: "task-types",
        by: TASK_TYPES_OF_TASKS,
        paged: None,
    },
    Scope {
        parent: "sequences",
        child: "task-types",
        by: TASK_TYPES_OF_TASKS,
        paged: None,
    },
    Scope {
        parent: "episodes",
        child: "task-types",
        by: TASK_TYPES_OF_TASKS,
        paged: None,
    },
    Scope {
        parent: "edits",
        child: "task-types",
        by: TASK_TYPES_OF_TASKS,
        paged: None,
    },
];

/// `POST /data/projects/<id>/<child>`: an entity of `kind` in the project, under the parent
/// whose id the body gives as `parent_key`, with the body's `keys`.
struct Creator {
    child: &'static str,
    kind: &'static str,
    /// The body key naming the parent entity, and the view it must be of.
    parent: Option<(&'static str, &'static str)>,
    keys: &'static [&'static str],
    /// Zou answers the existing entity of that name under that parent instead of a second.
    reuse: bool,
    /// Zou's description when the body gives none (`""` for all but shots).
    description: Option<&'static str>,
}

const CREATORS: &[Creator] = &[
    Creator {
        child: "episodes",
        kind: "Episode",
        parent: None,
        keys: &["description", "data"],
        reuse: true,
        description: Some(""),
    },
    Creator {
        child: "sequences",
        kind: "Sequence",
        parent: Some(("episode_id", "episodes")),
        keys: &["description", "data"],
        reuse: true,
        description: Some(""),
    },
    Creator {
        child: "shots",
        kind: "Shot",
        parent: Some(("sequence_id", "sequences")),
        keys: &["description", "data", "nb_frames"],
        reuse: true,
        description: None,
    },
    Creator {
        child: "edits",
        kind: "Edit",
        parent: Some(("episode_id", "episodes")),
        keys: &["description", "data"],
        reuse: false,
        description: Some(""),
    },
];

/// An id from a list route's path: Zou validates it as a filter value.
fn filter_id(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| {
            KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": format!("Invalid UUID value: {id}"), "data": null}),
            )
        })
}

/// An id from a creator's path (or body): what is not a live one is a 404 there.
fn found_id(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| AppError::NotFound(format!("no record {id}")).into())
}

fn not_found(what: &str) -> KitsuError {
    AppError::NotFound(what.to_string()).into()
}

#[utoipa::path(get, path = "/data/{model}/all", tag = "kitsu: data",
    description = "Also served under `/api`. The records of a typed view (`assets`, `shots`, \
        `sequences`, `episodes`, `edits`): always a plain array (`page` is not read here), \
        filtered by the query string as a list is (`sequence_id`/`episode_id` name the parent).",
    security(("bearer" = [])),
    params(("model" = String, Path, description = "The view's route, e.g. `assets`")),
    responses(
        (status = 200, description = "Array of records"),
        (status = 400, description = "A malformed filter"),
        (status = 404, description = "No such view"),
    ))]
pub async fn all(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(route): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let target = Target::of(&route)?;
    if target.view.is_none() {
        return Err(not_found(&route));
    }
    let caller = caller?;
    let pairs: Vec<_> = target
        .query(query_pairs(&raw))
        .into_iter()
        .filter(|(k, _)| k != "page")
        .collect();
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let mut options = list_options(target.model, &pairs)?;
    options.type_name = target.type_name();
    let mut filters = vec![options.filter, target.filter()];
    filters.extend(visible(&state, target.model, &caller).await?);
    options.filter = Filter::And(filters);
    let body = all_of(&state, target.model, &options).await?;
    Ok(with_freshness(Json(body).into_response(), freshness))
}

/// The child list of one parent (see [`SCOPES`]), narrowed to the records `within` matches
/// and to what the child's list rule lets the caller see whatever the project.
pub(super) async fn children(
    state: &AppState,
    caller: KitsuCaller,
    (parent, id, child): (&str, &str, &str),
    within: Within,
    raw: &Option<String>,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let scope = SCOPES
        .iter()
        .find(|s| s.parent == parent && s.child == child)
        .ok_or_else(|| not_found(child))?;
    let id = filter_id(id)?;
    let parent = Target::of(scope.parent)?;
    let child = Target::of(scope.child)?;
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let found = state
        .gate
        .views
        .get(parent.model.collection, &id)
        .await
        .map_err(AppError::from)?;
    let Some(doc) = found.filter(|d| parent.check(|k| d.get(k)).is_ok()) else {
        // Zou looks a project up only through its team: unknown is empty for a studio
        // manager, and not theirs for anyone else. Other parents are looked up: 404.
        if parent.view.is_some() {
            return Err(not_found(&id));
        }
        Records::allow(Access::Admin, &caller.user.role)?;
        return Ok(with_freshness(Json(json!([])).into_response(), freshness));
    };
    state
        .records
        .permit(
            parent.model.rules.read,
            parent.model,
            Some(&id),
            |k| doc.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    let limits = limits(state, child.model, &caller).await?;
    let within = within.filter(state).await?;
    let pairs = child.query(query_pairs(raw));
    let mut options = list_options(child.model, &pairs)?;
    options.type_name = child.type_name();
    let belongs = match scope.by {
        By::Field(field) => Filter::Eq(path(field), json!(id)),
        By::TypesOf(view) => {
            let users = Target::of(view)?;
            let mut used = list_options(users.model, &[])?;
            used.filter = Filter::And(vec![
                users.filter(),
                Filter::Eq(path("project_id"), json!(id)),
            ]);
            used.fields = Some(vec!["entity_type_id".into()]);
            let listed = all_of(state, users.model, &used).await?;
            let mut ids: Vec<Value> = Vec::new();
            for doc in listed.as_array().into_iter().flatten() {
                let type_id = doc.get("entity_type_id").cloned().unwrap_or(Value::Null);
                if !ids.contains(&type_id) {
                    ids.push(type_id);
                }
            }
            Filter::In(path("id"), ids)
        }
        By::Named(model, owner, key) => {
            let collection = Records::model(model)?.collection;
            let owned = Filter::Eq(path(owner), json!(id));
            let rows = super::scan(state, collection, owned, &["created_at"]).await?;
            let mut ids: Vec<Value> = Vec::new();
            for (_, doc) in rows {
                let named = doc.get(key).cloned().unwrap_or(Value::Null);
                if !named.is_null() && !ids.contains(&named) {
                    ids.push(named);
                }
            }
            Filter::In(path("id"), ids)
        }
        By::Grandparent(view) => {
            let between = Target::of(view)?;
            let of_parent = Filter::And(vec![
                between.filter(),
                Filter::Eq(path("parent_id"), json!(id)),
            ]);
            let rows =
                super::scan(state, between.model.collection, of_parent, &["created_at"]).await?;
            let ids = rows.into_iter().map(|(id, _)| json!(id)).collect();
            Filter::In(path("parent_id"), ids)
        }
    };
    let mut filters = vec![options.filter, child.filter(), belongs, within];
    filters.extend(limits);
    options.filter = Filter::And(filters);
    let body = match scope.paged {
        Some(paged) => paged::page(state, child.model, &options, &pairs, paged).await?,
        None => all_of(state, child.model, &options).await?,
    };
    Ok(with_freshness(Json(body).into_response(), freshness))
}

/// What narrows a child list further, once the parent is known to be readable.
pub(super) enum Within {
    All,
    /// The records of one episode of the project (`main`: those of none that are not for
    /// all, `all`: those of none for all), as Zou's episode playlists.
    Episode(String),
}

impl Within {
    async fn filter(self, state: &AppState) -> KitsuResult<Filter> {
        let none = Filter::Eq(path("episode_id"), Value::Null);
        Ok(match self {
            Within::All => Filter::All,
            Within::Episode(episode) if episode == "main" => {
                Filter::And(vec![none, Filter::Ne(path("is_for_all"), json!(true))])
            }
            Within::Episode(episode) if episode == "all" => {
                Filter::And(vec![none, Filter::Eq(path("is_for_all"), json!(true))])
            }
            Within::Episode(episode) => {
                let episodes = Target::of("episodes")?;
                let id = found_id(&episode)?;
                let record = state.records.live(episodes.model, &id).await?;
                episodes.check(|k| record.fields.get(k))?;
                Filter::Eq(path("episode_id"), json!(id))
            }
        })
    }
}

#[utoipa::path(get, path = "/data/{model}/{id}/{child}", tag = "kitsu: data",
    description = "Also served under `/api`. The records of a typed view under one parent: \
        `episodes/<id>/sequences`, `episodes/<id>/shots` (the shots of its sequences), \
        `sequences/<id>/shots`, `shots|assets|sequences|episodes|edits/<id>/task-types` (the \
        task types of the entity's tasks) (the project routes are documented \
        at `/data/projects/{id}/{child}`). `shots|assets|sequences|episodes|edits/<id>/tasks`: \
        the entity's own tasks, each with `project_name`, `task_type_name`, \
        `task_status_name`, `entity_type_name`, `entity_name`, ordered by those names; \
        `relations=true` adds `assignees`.",
    security(("bearer" = [])),
    params(
        ("model" = String, Path, description = "The parent's route"),
        ("id" = String, Path, description = "The parent's UUID"),
        ("child" = String, Path, description = "The child view's route"),
    ),
    responses(
        (status = 200, description = "Array of records"),
        (status = 400, description = "`Invalid UUID value: <id>`"),
        (status = 403, description = "The caller may not read the parent"),
        (status = 404, description = "No such parent or list"),
    ))]
pub async fn child_list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((parent, id, child)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    if child == "history" {
        // `/data/<model>/<id>/history` is the generic history route.
        return super::history::history(State(state), caller, Path((parent, id)), headers).await;
    }
    if child == "tasks" && super::tasks::WITH_TASKS.contains(&parent.as_str()) {
        return super::tasks::entity_tasks(&state, caller?, &parent, &id, &raw, &headers).await;
    }
    children(
        &state,
        caller?,
        (&parent, &id, &child),
        Within::All,
        &raw,
        &headers,
    )
    .await
}

#[utoipa::path(get, path = "/data/projects/{id}/{child}", tag = "kitsu: data",
    description = "Also served under `/api`. A project's `assets`, `episodes`, `sequences`, \
        `shots`, `edits`, or `asset-types` (the entity types its assets use, as `AssetType`): \
        a plain array. `tasks`: the project's tasks with `assignees`, newest change first, \
        filtered by `task_type_id` and `episode_id` (the tasks of its sequences' shots); \
        with `page`, Zou's paginated object (100 a page). `playlists`: Zou's short list, 20 a page (`page`, 1 when absent), newest \
        change first unless `sort_by` names a field, without `shots` and `build_jobs`; clients \
        see those shared with them, vendors none (403). An unknown project is an empty list \
        for studio managers.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("child" = String, Path, description = "The list"),
    ),
    responses(
        (status = 200, description = "Array of records"),
        (status = 400, description = "`Invalid UUID value: <id>`"),
        (status = 403, description = "The caller is not in the project's team"),
        (status = 404, description = "No such list"),
    ))]
pub async fn project_list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, child)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    if child == "history" {
        let path = Path((PROJECTS.to_string(), id));
        return super::history::history(State(state), caller, path, headers).await;
    }
    if child == "tasks" {
        return super::tasks::project_tasks(&state, caller?, &id, &raw, &headers).await;
    }
    children(
        &state,
        caller?,
        (PROJECTS, &id, &child),
        Within::All,
        &raw,
        &headers,
    )
    .await
}

/// The live project, once the caller may create in it (Zou: manager project access).
async fn managed_project(state: &AppState, caller: &KitsuCaller, id: &str) -> KitsuResult<()> {
    let model = Records::model(PROJECTS)?;
    let id = found_id(id)?;
    let project = state.records.live(model, &id).await?;
    state
        .records
        .permit(
            Access::Manager,
            model,
            Some(&id),
            |k| project.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    Ok(())
}

/// The body's `name`, or Zou's validation error naming it.
fn required_name(body: &Map<String, Value>) -> KitsuResult<Value> {
    match body.get("name") {
        Some(Value::Null) | None => Err(KitsuError::Body(
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": "Validation error.",
                "data": {"errors": [{"field": "name", "message": "Field required"}]},
            }),
        )),
        Some(name) => Ok(name.clone()),
    }
}

/// A live entity of the view `route` in project `project`, or 404.
async fn entity_in(state: &AppState, route: &str, project: &str, id: &str) -> KitsuResult<()> {
    let target = Target::of(route)?;
    let id = found_id(id)?;
    let record = state.records.live(target.model, &id).await?;
    target.check(|k| record.fields.get(k))?;
    if record.fields.get("project_id").and_then(Value::as_str) != Some(project) {
        return Err(not_found(&id));
    }
    Ok(())
}

/// The entity `same` finds, once the read model has caught up with the log.
async fn existing(
    state: &AppState,
    same: &Filter,
    headers: &HeaderMap,
) -> KitsuResult<Option<Value>> {
    let model = Records::model("entities")?;
    state.gate.wait(headers, &[RECORDS]).await?;
    let mut options = list_options(model, &[])?;
    options.filter = same.clone();
    let found = all_of(state, model, &options).await?;
    Ok(found.as_array().and_then(|a| a.first()).cloned())
}

/// Creates the entity `input` (or answers the one found by `reuse`): 201 either way.
async fn made(
    state: &AppState,
    caller: &KitsuCaller,
    meta: RequestMeta,
    input: Map<String, Value>,
    reuse: Option<Filter>,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let model = Records::model("entities")?;
    if let Some(same) = &reuse
        && let Some(existing) = existing(state, same, headers).await?
    {
        return Ok((StatusCode::CREATED, Json(existing)).into_response());
    }
    let fields = input.clone().into_iter().collect();
    let metadata = meta.metadata(Some(&caller.user_id));
    let (id, executed) = match state
        .records
        .create(model, input, &caller.user_id, &metadata)
        .await
    {
        Ok(made) => made,
        // A concurrent creator made it first: the one it made is the answer.
        Err(AppError::Duplicate { .. })
            if reuse.is_some()
                && let Some((id, record)) = state.records.holder(model, &fields).await? =>
        {
            let body = Json(serialized(model, &id, &record));
            return Ok((StatusCode::CREATED, body).into_response());
        }
        Err(e) => return Err(KitsuError::crud(e)),
    };
    let response = (
        StatusCode::CREATED,
        Json(serialized(model, &id, &executed.state)),
    );
    Ok(with_position(response.into_response(), executed.position))
}

#[utoipa::path(post, path = "/data/projects/{id}/{child}", tag = "kitsu: data",
    description = "Also served under `/api`. Creates an entity of the project: `episodes` \
        `{name, description, data}`, `sequences` `{name, episode_id}`, `shots` `{name, \
        sequence_id, nb_frames, description, data}`, `edits` `{name, episode_id, description, \
        data}`. Other keys are ignored. An episode, sequence or shot of the same name under the \
        same parent is answered instead of a second one, as Zou does.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("child" = String, Path, description = "`episodes`, `sequences`, `shots` or `edits`"),
    ),
    request_body = Object,
    responses(
        (status = 201, description = "The entity"),
        (status = 400, description = "`Validation error.` naming `name`; a malformed field"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project, parent, or list"),
    ))]
pub async fn create_child(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, child)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let creator = CREATORS
        .iter()
        .find(|c| c.child == child)
        .ok_or_else(|| not_found(&child))?;
    let caller = caller?;
    managed_project(&state, &caller, &id).await?;
    let project = found_id(&id)?;
    let body = json_object(&body)?;
    let name = required_name(&body)?;
    let mut input = Map::new();
    for key in creator.keys {
        if let Some(value) = body.get(*key) {
            input.insert(key.to_string(), value.clone());
        }
    }
    input.entry("data").or_insert_with(|| json!({}));
    if let Some(description) = creator.description {
        input
            .entry("description")
            .or_insert_with(|| json!(description));
    }
    let mut parent = Value::Null;
    if let Some((key, view)) = creator.parent
        && let Some(given) = body.get(key).filter(|v| !v.is_null())
    {
        let given = given.as_str().ok_or_else(|| not_found(key))?;
        entity_in(&state, view, &project, given).await?;
        parent = json!(found_id(given)?);
    }
    let metadata = meta.metadata(Some(&caller.user_id));
    let kind = state
        .records
        .named(
            "entity-types",
            creator.kind,
            Map::new(),
            &caller.user_id,
            &metadata,
        )
        .await?;
    input.insert("name".into(), name.clone());
    input.insert("project_id".into(), json!(project));
    input.insert("entity_type_id".into(), json!(kind));
    input.insert("parent_id".into(), parent.clone());
    let reuse = creator.reuse.then(|| {
        Filter::And(vec![
            Filter::Eq(path("project_id"), json!(project)),
            Filter::Eq(path("entity_type_id"), json!(kind)),
            // A null parent matches entities without one.
            Filter::Eq(path("parent_id"), parent.clone()),
            Filter::Eq(path("name"), name),
        ])
    });
    made(&state, &caller, meta, input, reuse, &headers).await
}

#[utoipa::path(post, path = "/data/projects/{id}/asset-types/{type_id}/assets/new",
    tag = "kitsu: data",
    description = "Also served under `/api`. Creates an asset of the project and asset type: \
        `{name, description, data, is_shared, episode_id}` (other keys ignored). Zou 1.0.97 \
        accepts a second asset of the same name.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("type_id" = String, Path, description = "The asset type's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 201, description = "The asset"),
        (status = 400, description = "`Validation error.` naming `name`; a malformed field"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project or asset type"),
    ))]
pub async fn create_asset(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, type_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    managed_project(&state, &caller, &id).await?;
    let project = found_id(&id)?;
    let asset_types = Target::of("asset-types")?;
    let type_id = found_id(&type_id)?;
    let asset_type = state.records.live(asset_types.model, &type_id).await?;
    asset_types.check(|k| asset_type.fields.get(k))?;
    let body = json_object(&body)?;
    let name = required_name(&body)?;
    let mut input = Map::new();
    for key in ["description", "data", "is_shared"] {
        if let Some(value) = body.get(key) {
            input.insert(key.into(), value.clone());
        }
    }
    input.entry("data").or_insert_with(|| json!({}));
    input.entry("description").or_insert_with(|| json!(""));
    if let Some(episode) = body.get("episode_id").filter(|v| !v.is_null()) {
        input.insert("source_id".into(), episode.clone());
    }
    input.insert("name".into(), name);
    input.insert("project_id".into(), json!(project));
    input.insert("entity_type_id".into(), json!(type_id));
    made(&state, &caller, meta, input, None, &headers).await
}
