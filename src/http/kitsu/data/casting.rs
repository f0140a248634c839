//! Zou's casting routes (its breakdown blueprint and the casting reads of the asset and shot
//! ones): an entity's casting read and replaced, one asset cast in many entities, and the
//! casting lists of a project, a sequence, an episode, an asset type, an asset (where it is
//! cast) and a shot (its assets and their types), each in the shape Zou answers it.
use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use annals_domain::kitsu::{Access, Record};
use annals_projections::kitsu::RECORDS;

use super::projects::project_id;
use super::shape::without_relations;
use super::target::{Target, renamed};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Breakdown, Cast, LINKS, Records, Wanted, forbidden};

const PROJECTS: &str = "projects";
const ENTITIES: &str = "entities";

/// The keys of one asset of a casting, by list (Zou builds each list by hand).
const ENTITY_KEYS: &[&str] = &[
    "asset_id",
    "asset_name",
    "asset_type_name",
    "ready_for",
    "episode_id",
    "preview_file_id",
    "nb_occurences",
    "label",
    "is_shared",
    "project_id",
];
const EPISODES_KEYS: &[&str] = &[
    "asset_id",
    "name",
    "asset_name",
    "asset_type_name",
    "preview_file_id",
    "nb_occurences",
    "label",
    "is_shared",
    "project_id",
];
const SEQUENCE_KEYS: &[&str] = &[
    "asset_id",
    "name",
    "asset_name",
    "asset_type_name",
    "sequence_name",
    "preview_file_id",
    "nb_occurences",
    "label",
    "is_shared",
    "project_id",
];
const ASSET_TYPE_KEYS: &[&str] = &[
    "asset_id",
    "name",
    "asset_name",
    "asset_type_name",
    "preview_file_id",
    "nb_occurences",
    "label",
];

fn not_found(what: &str) -> KitsuError {
    AppError::NotFound(what.to_string()).into()
}

/// An id from the path: what is not a UUID names nothing (Zou's 404).
fn found_id(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| not_found(id))
}

/// Zou's project access (`access`: `Member` for reads, `Manager` for changes): a studio
/// manager whatever the project, else a person of the project's team (an unknown project is
/// a 404 for them). With `vendors` false, a vendor is refused besides.
async fn project_access(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    access: Access,
    vendors: bool,
) -> KitsuResult<String> {
    if caller.user.role == "admin" {
        return Ok(uuid::Uuid::try_parse(id)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| id.to_string()));
    }
    let id = project_id(id)?;
    let projects = Records::model(PROJECTS)?;
    let project = state.records.live(projects, &id).await?;
    state
        .records
        .permit(
            access,
            projects,
            Some(&id),
            |k| project.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    if !vendors && caller.user.role == "vendor" {
        return Err(forbidden().into());
    }
    Ok(id)
}

/// The live entity `id` of the view `route` (`entities` for any), or 404.
async fn entity(state: &AppState, route: &str, id: &str) -> KitsuResult<(String, Record)> {
    let target = Target::of(route)?;
    let id = found_id(id)?;
    let record = state.records.live(target.model, &id).await?;
    target.check(|k| record.fields.get(k))?;
    Ok((id, record))
}

/// Refuses an entity of another project (Zou's `check_entities_belong_to_project`).
fn belongs(record: &Record, project: &str) -> KitsuResult<()> {
    if record.fields.get("project_id").and_then(Value::as_str) == Some(project) {
        Ok(())
    } else {
        Err(forbidden().into())
    }
}

/// Zou's entity access: a vendor reaches only the entities a task of which is theirs.
async fn entity_access(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    record: &Record,
) -> KitsuResult<()> {
    let entities = Records::model(ENTITIES)?;
    state
        .records
        .permit(
            entities.rules.read,
            entities,
            Some(id),
            |k| record.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    Ok(())
}

/// The names of entity types, by id.
async fn type_names(state: &AppState) -> KitsuResult<HashMap<String, Value>> {
    let types = Records::model("entity-types")?;
    let rows = super::scan(
        state,
        types.collection,
        annals_contracts::filter::Filter::All,
        &[],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, doc)| (id, doc["name"].clone()))
        .collect())
}

/// What a casting list says of one cast asset, every key any list uses.
struct Row {
    fields: Map<String, Value>,
    /// Zou's order: the asset type's name, then the asset's.
    order: (String, String),
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The row of the asset `out` cast with `cast`, or none for an unknown or canceled asset
/// (Zou's lists join the asset and skip canceled ones).
fn row(
    out: &str,
    cast: &Cast,
    entities: &HashMap<String, Value>,
    types: &HashMap<String, Value>,
) -> Option<Row> {
    let asset = entities.get(out)?;
    if asset["canceled"] == json!(true) {
        return None;
    }
    let type_name = types
        .get(asset["entity_type_id"].as_str().unwrap_or_default())
        .cloned()
        .unwrap_or(Value::Null);
    let fields = Map::from_iter([
        ("asset_id".into(), json!(out)),
        ("name".into(), asset["name"].clone()),
        ("asset_name".into(), asset["name"].clone()),
        ("asset_type_name".into(), type_name.clone()),
        ("ready_for".into(), asset["ready_for"].clone()),
        ("episode_id".into(), asset["source_id"].clone()),
        ("preview_file_id".into(), asset["preview_file_id"].clone()),
        ("nb_occurences".into(), cast.nb_occurences.clone()),
        ("label".into(), cast.label.clone()),
        ("is_shared".into(), asset["is_shared"].clone()),
        ("project_id".into(), asset["project_id"].clone()),
    ]);
    Some(Row {
        fields,
        order: (text(&type_name), text(&asset["name"])),
    })
}

fn shaped(mut fields: Map<String, Value>, keys: &[&str]) -> Value {
    fields.retain(|k, _| keys.contains(&k.as_str()));
    Value::Object(fields)
}

/// The casting of `entity` in `plan`, as Zou's `get_casting` answers it.
fn casting_of(plan: &Breakdown, entity: &str, types: &HashMap<String, Value>) -> Value {
    let mut rows: Vec<Row> = plan
        .links()
        .filter(|(from, _, _)| *from == entity)
        .filter_map(|(_, out, cast)| row(out, cast, &plan.entities, types))
        .collect();
    rows.sort_by(|a, b| a.order.cmp(&b.order));
    Value::Array(
        rows.into_iter()
            .map(|r| shaped(r.fields, ENTITY_KEYS))
            .collect(),
    )
}

/// The castings of the entities `within` keeps, keyed by entity, in `keys`' shape; `order`
/// gives the entity's place before its assets' (a sequence and shot name).
fn castings(
    plan: &Breakdown,
    types: &HashMap<String, Value>,
    keys: &[&str],
    within: impl Fn(&Value) -> bool,
    order: impl Fn(&Value) -> Vec<String>,
    extra: impl Fn(&Value) -> Map<String, Value>,
) -> Value {
    let mut rows: Vec<(Vec<String>, String, Value)> = Vec::new();
    for (from, out, cast) in plan.links() {
        let Some(holder) = plan.entities.get(from) else {
            continue;
        };
        if !within(holder) {
            continue;
        }
        let Some(mut row) = row(out, cast, &plan.entities, types) else {
            continue;
        };
        row.fields.extend(extra(holder));
        let mut place = order(holder);
        place.push(row.order.0);
        place.push(row.order.1);
        rows.push((place, from.to_string(), shaped(row.fields, keys)));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut grouped = Map::new();
    for (_, from, row) in rows {
        if let Value::Array(list) = grouped.entry(from).or_insert_with(|| json!([])) {
            list.push(row);
        }
    }
    Value::Object(grouped)
}

/// The plan of the project, once the read models have caught up with the log.
async fn plan_of(
    state: &AppState,
    project: &str,
    also: &[String],
    headers: &HeaderMap,
) -> KitsuResult<(Breakdown, crate::http::consistency::Freshness)> {
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    Ok((state.records.breakdown(project, also).await?, freshness))
}

fn ok(body: Value, freshness: crate::http::consistency::Freshness) -> Response {
    with_freshness(Json(body).into_response(), freshness)
}

#[utoipa::path(get, path = "/data/projects/{id}/entities/{entity_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The assets cast in an entity (a shot, an asset, \
        an episode...) that are not canceled, ordered by asset type name then asset name: \
        `[{asset_id, asset_name, asset_type_name, ready_for, episode_id, preview_file_id, \
        nb_occurences, label, is_shared, project_id}]`. The project's team (vendors \
        refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("entity_id" = String, Path, description = "The entity's UUID"),
    ),
    responses(
        (status = 200, description = "The casting"),
        (status = 403, description = "Not in the project's team, a vendor, or an entity of another project"),
        (status = 404, description = "No such project or entity"),
    ))]
pub async fn entity_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, entity_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (entity_id, record) = entity(&state, ENTITIES, &entity_id).await?;
    belongs(&record, &project)?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    Ok(ok(casting_of(&plan, &entity_id, &types), freshness))
}

/// A casting body's entries: those with `asset_id` and `nb_occurences` (Zou skips others).
fn wanted(body: &[Value]) -> KitsuResult<Vec<Wanted>> {
    let mut casting = Vec::new();
    for cast in body {
        let (Some(asset), Some(nb)) = (cast.get("asset_id"), cast.get("nb_occurences")) else {
            continue;
        };
        // Zou fails (500) on what is not an id; annals names the field.
        let asset_id = asset
            .as_str()
            .and_then(|a| uuid::Uuid::try_parse(a).ok())
            .map(|u| u.to_string())
            .ok_or_else(|| KitsuError::invalid_field("asset_id", "must be a UUID"))?;
        casting.push(Wanted {
            asset_id,
            nb_occurences: nb.clone(),
            label: cast.get("label").cloned().unwrap_or(json!("")),
        });
    }
    Ok(casting)
}

/// Plans with `change` on fresh read models and writes it, again when a stream moved.
async fn change(
    state: &AppState,
    caller: &KitsuCaller,
    meta: RequestMeta,
    (project, also): (&str, &[String]),
    headers: &HeaderMap,
    change: impl Fn(&mut Breakdown) -> Result<(), AppError>,
) -> KitsuResult<(Breakdown, annals_contracts::Position)> {
    let metadata = meta.metadata(Some(&caller.user_id));
    let mut asked = headers.clone();
    for attempt in 0..crate::es::commands::MAX_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(crate::es::commands::backoff(attempt)).await;
        }
        let (mut plan, _) = plan_of(state, project, also, &asked).await?;
        change(&mut plan).map_err(KitsuError::crud)?;
        let written = state
            .records
            .write_breakdown(&plan, &caller.user_id, &metadata)
            .await
            .map_err(KitsuError::crud)?;
        if let Some(position) = written {
            return Ok((plan, position));
        }
        // Another change landed: wait for the read models to hold the log's head.
        asked.remove(crate::http::consistency::POSITION_HEADER);
    }
    Err(AppError::Conflict.into())
}

#[utoipa::path(put, path = "/data/projects/{id}/entities/{entity_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. Replaces an entity's casting by the body, an \
        array of `{asset_id, nb_occurences, label}` (entries without `asset_id` or \
        `nb_occurences` are skipped), and answers the body. The links are commands on their \
        records, appended together: an asset that leaves is deleted, one that stays keeps \
        its link (Zou makes every link anew), a new one is created. As Zou does: an asset \
        cast in a shot is cast in its episode (`data.auto`), and leaves it when no shot of \
        the episode casts it any more; an asset dropped from an episode leaves its shots; \
        the entity's `nb_entities_out` is its links to assets that are not canceled. An \
        asset of another project must be shared (`is_shared`; Zou casts any entity). \
        Production managers of the project's team.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("entity_id" = String, Path, description = "The entity's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The body"),
        (status = 400, description = "Not a JSON array; a malformed `asset_id` or `nb_occurences`; an unknown asset"),
        (status = 403, description = "Not a production manager of the team, an entity of another project, or an asset another project does not share"),
        (status = 404, description = "No such project or entity"),
    ))]
pub async fn replace_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, entity_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(list)) => list,
        Ok(_) => return Err(KitsuError::bad_request("Request body must be a JSON array")),
        Err(_) => {
            return Err(KitsuError::bad_request(
                "The browser (or proxy) sent a request that this server could not understand.",
            ));
        }
    };
    let project = project_access(&state, &caller, &id, Access::Manager, true).await?;
    let (entity_id, record) = entity(&state, ENTITIES, &entity_id).await?;
    belongs(&record, &project)?;
    let casting = wanted(&body)?;
    let also: Vec<String> = casting.iter().map(|w| w.asset_id.clone()).collect();
    let (_, position) = change(&state, &caller, meta, (&project, &also), &headers, |plan| {
        plan.replace(&entity_id, &casting)
    })
    .await?;
    Ok(with_position(
        Json(Value::Array(body)).into_response(),
        position,
    ))
}

/// Zou's `CastAssetSchema` refusal.
fn invalid(field: &str, problem: &str) -> KitsuError {
    KitsuError::validation(field, problem)
}

/// The body of a cast of one asset: `(entity ids, nb_occurences, label)`.
fn cast_body(body: &Bytes) -> KitsuResult<(Vec<String>, Option<Value>, Option<Value>)> {
    let body: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let ids = match body.get("entity_ids") {
        None | Some(Value::Null) => return Err(invalid("entity_ids", "Field required")),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(invalid(
                "entity_ids",
                "List should have at least 1 item after validation, not 0",
            ));
        }
        Some(Value::Array(list)) => list
            .iter()
            .map(|id| {
                id.as_str()
                    .and_then(|s| uuid::Uuid::try_parse(s).ok())
                    .map(|u| u.to_string())
                    .ok_or_else(|| invalid("entity_ids", "Input should be a valid UUID"))
            })
            .collect::<KitsuResult<Vec<_>>>()?,
        Some(_) => return Err(invalid("entity_ids", "Input should be a valid list")),
    };
    let nb = match body.get("nb_occurences") {
        None | Some(Value::Null) => None,
        Some(n) => match n.as_i64() {
            Some(n) if n < 0 => {
                return Err(invalid(
                    "nb_occurences",
                    "Input should be greater than or equal to 0",
                ));
            }
            Some(n) => Some(json!(n)),
            None => return Err(invalid("nb_occurences", "Input should be a valid integer")),
        },
    };
    let label = match body.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(json!(s)),
        Some(_) => return Err(invalid("label", "Input should be a valid string")),
    };
    Ok((ids, nb, label))
}

#[utoipa::path(put, path = "/data/projects/{id}/entities/casting/assets/{asset_id}",
    tag = "kitsu: data",
    description = "Also served under `/api`. Casts one asset in several entities of the \
        project without touching the rest of their casting: `{entity_ids, nb_occurences, \
        label}`; a count or label left out keeps the link's (1 and `\"\"` on a new link), \
        `nb_occurences: 0` takes the asset out (of an episode's shots too). Answers each \
        entity's casting after the change, keyed by entity id. Production managers of the \
        project's team.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("asset_id" = String, Path, description = "The asset's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The castings, by entity id"),
        (status = 400, description = "`Validation error.` naming `entity_ids`, `nb_occurences` or `label`"),
        (status = 403, description = "Not a production manager of the team, or an entity of another project"),
        (status = 404, description = "No such project, asset or entity"),
    ))]
pub async fn cast_asset(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, asset_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (ids, nb, label) = cast_body(&body)?;
    let project = project_access(&state, &caller, &id, Access::Manager, true).await?;
    let (asset_id, _) = entity(&state, "assets", &asset_id).await?;
    for entity_id in &ids {
        let (_, record) = entity(&state, ENTITIES, entity_id).await?;
        belongs(&record, &project)?;
    }
    let also = [asset_id.clone()];
    let (plan, position) = change(&state, &caller, meta, (&project, &also), &headers, |plan| {
        for entity_id in &ids {
            match &nb {
                Some(n) if *n == json!(0) => plan.uncast(entity_id, &asset_id),
                _ => plan.cast(entity_id, &asset_id, nb.clone(), label.clone())?,
            }
        }
        Ok(())
    })
    .await?;
    let types = type_names(&state).await?;
    let body: Map<String, Value> = ids
        .iter()
        .map(|id| (id.clone(), casting_of(&plan, id, &types)))
        .collect();
    Ok(with_position(
        Json(Value::Object(body)).into_response(),
        position,
    ))
}

#[utoipa::path(get, path = "/data/projects/{id}/episodes/casting", tag = "kitsu: data",
    description = "Also served under `/api`. The castings of the project's entities, keyed \
        by entity id, each `[{asset_id, name, asset_name, asset_type_name, preview_file_id, \
        nb_occurences, label, is_shared, project_id}]` (Zou 1.0.97 keys every casting \
        entity of the project here, not only episodes). The project's team (vendors \
        refused); an unknown project is `{}` for studio managers.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, or a vendor"),
        (status = 404, description = "No such project"),
    ))]
pub async fn episodes_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    let body = castings(
        &plan,
        &types,
        EPISODES_KEYS,
        |holder| holder["project_id"] == json!(project),
        |_| vec![],
        |_| Map::new(),
    );
    Ok(ok(body, freshness))
}

/// The castings of the shots `within` keeps (each with its sequence's name), ordered by
/// sequence name, shot name, then the assets' order (Zou's `get_sequence_casting`).
fn shots_casting(
    plan: &Breakdown,
    types: &HashMap<String, Value>,
    within: impl Fn(&Value, &Value) -> bool,
) -> Value {
    let sequence_of = |holder: &Value| {
        holder["parent_id"]
            .as_str()
            .and_then(|p| plan.entities.get(p))
            .cloned()
    };
    castings(
        plan,
        types,
        SEQUENCE_KEYS,
        |holder| sequence_of(holder).is_some_and(|sequence| within(holder, &sequence)),
        |holder| {
            let sequence = sequence_of(holder).unwrap_or(Value::Null);
            vec![text(&sequence["name"]), text(&holder["name"])]
        },
        |holder| {
            let sequence = sequence_of(holder).unwrap_or(Value::Null);
            Map::from_iter([("sequence_name".to_string(), sequence["name"].clone())])
        },
    )
}

#[utoipa::path(get, path = "/data/projects/{id}/sequences/{sequence_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The castings of a sequence's shots (`all`: of \
        every shot of the project), keyed by shot id, each `[{asset_id, name, asset_name, \
        asset_type_name, sequence_name, preview_file_id, nb_occurences, label, is_shared, \
        project_id}]`. The project's team (vendors refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("sequence_id" = String, Path, description = "The sequence's UUID, or `all`"),
    ),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, a vendor, or a sequence of another project"),
        (status = 404, description = "No such project or sequence"),
    ))]
pub async fn sequence_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, sequence_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let sequence = if sequence_id == "all" {
        None
    } else {
        let (sequence_id, record) = entity(&state, "sequences", &sequence_id).await?;
        belongs(&record, &project)?;
        Some(sequence_id)
    };
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    let body = shots_casting(&plan, &types, |shot, parent| match &sequence {
        Some(id) => parent["id"] == json!(id),
        None => shot["project_id"] == json!(project),
    });
    Ok(ok(body, freshness))
}

#[utoipa::path(get, path = "/data/projects/{id}/episodes/{episode_id}/sequences/all/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The castings of the shots of an episode's \
        sequences, keyed by shot id, in the shape of a sequence's (`main`: `{}`). The \
        project's team (vendors refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("episode_id" = String, Path, description = "The episode's UUID"),
    ),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, or a vendor"),
        (status = 404, description = "No such project"),
    ))]
pub async fn episode_shots_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, episode_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    if episode_id == "main" {
        return Ok(ok(json!({}), freshness));
    }
    let types = type_names(&state).await?;
    let body = shots_casting(&plan, &types, |shot, sequence| {
        shot["project_id"] == json!(project) && sequence["parent_id"] == json!(episode_id)
    });
    Ok(ok(body, freshness))
}

#[utoipa::path(get, path = "/data/projects/{id}/asset-types/{type_id}/casting",
    tag = "kitsu: data",
    description = "Also served under `/api`. The castings of the project's assets of an \
        asset type, keyed by asset id, each `[{asset_id, name, asset_name, asset_type_name, \
        preview_file_id, nb_occurences, label}]`. The project's team (vendors refused).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("type_id" = String, Path, description = "The asset type's UUID"),
    ),
    responses(
        (status = 200, description = "The castings"),
        (status = 403, description = "Not in the project's team, or a vendor"),
        (status = 404, description = "No such project or asset type"),
    ))]
pub async fn asset_type_casting(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, type_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let project = project_access(&state, &caller, &id, Access::Member, false).await?;
    let (type_id, _) = entity(&state, "asset-types", &type_id).await?;
    let (plan, freshness) = plan_of(&state, &project, &[], &headers).await?;
    let types = type_names(&state).await?;
    let body = castings(
        &plan,
        &types,
        ASSET_TYPE_KEYS,
        |holder| {
            holder["project_id"] == json!(project) && holder["entity_type_id"] == json!(type_id)
        },
        |_| vec![],
        |_| Map::new(),
    );
    Ok(ok(body, freshness))
}

/// The entity documents of `ids`, by id, from the read model.
async fn docs(state: &AppState, ids: Vec<Value>) -> KitsuResult<HashMap<String, Value>> {
    let entities = Records::model(ENTITIES)?;
    let filter = annals_contracts::filter::Filter::In(
        annals_contracts::filter::FieldPath::parse("id").expect("a path"),
        ids,
    );
    Ok(super::scan(state, entities.collection, filter, &[])
        .await?
        .into_iter()
        .collect())
}

/// The links of the read model whose `field` is `id`, as `(in, out, document)`.
async fn links_where(state: &AppState, field: &str, id: &str) -> KitsuResult<Vec<Value>> {
    let links = Records::model(LINKS)?;
    let filter = annals_contracts::filter::Filter::Eq(
        annals_contracts::filter::FieldPath::parse(field).expect("a path"),
        json!(id),
    );
    Ok(
        super::scan(state, links.collection, filter, &["created_at"])
            .await?
            .into_iter()
            .map(|(_, doc)| doc)
            .collect(),
    )
}

#[utoipa::path(get, path = "/data/assets/{id}/cast-in", tag = "kitsu: data",
    description = "Also served under `/api`. Where an asset is cast: first the entities with \
        a parent (shots) that are not canceled, `{shot_id, shot_name, sequence_name, \
        episode_id, episode_name, preview_file_id, nb_occurences}` ordered by episode, \
        sequence and shot name (`episode_id` is the string `\"None\"` without episode, as Zou \
        writes it), then the assets, `{asset_id, asset_name, asset_type_name, \
        preview_file_id, nb_occurences}` ordered by type and name. The project's team; \
        vendors on assets of their tasks.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The asset's UUID")),
    responses(
        (status = 200, description = "The entities"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn cast_in(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (id, asset) = entity(&state, "assets", &id).await?;
    let project = text(asset.fields.get("project_id").unwrap_or(&Value::Null));
    project_access(&state, &caller, &project, Access::Member, true).await?;
    entity_access(&state, &caller, &id, &asset).await?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let links = links_where(&state, "entity_out_id", &id).await?;
    let holders = docs(
        &state,
        links.iter().map(|l| l["entity_in_id"].clone()).collect(),
    )
    .await?;
    let parents: Vec<Value> = holders.values().map(|h| h["parent_id"].clone()).collect();
    let mut around = docs(&state, parents).await?;
    let grandparents: Vec<Value> = around.values().map(|s| s["parent_id"].clone()).collect();
    around.extend(docs(&state, grandparents).await?);
    let types = type_names(&state).await?;
    let mut shots = Vec::new();
    let mut assets = Vec::new();
    for link in &links {
        let Some(holder) = link["entity_in_id"].as_str().and_then(|h| holders.get(h)) else {
            continue;
        };
        if holder["canceled"] == json!(true) {
            continue;
        }
        if let Some(sequence) = holder["parent_id"].as_str().and_then(|p| around.get(p)) {
            let episode = sequence["parent_id"].as_str().and_then(|e| around.get(e));
            let order = [
                episode.map(|e| text(&e["name"])),
                Some(text(&sequence["name"])),
                Some(text(&holder["name"])),
            ];
            shots.push((
                order,
                json!({
                    "shot_id": holder["id"],
                    "shot_name": holder["name"],
                    "sequence_name": sequence["name"],
                    "episode_id": episode.map_or(json!("None"), |e| e["id"].clone()),
                    "episode_name": episode.map_or(Value::Null, |e| e["name"].clone()),
                    "preview_file_id": holder["preview_file_id"],
                    "nb_occurences": link["nb_occurences"],
                }),
            ));
        }
        if holder["type"] == "Asset" {
            let type_name = types
                .get(holder["entity_type_id"].as_str().unwrap_or_default())
                .cloned()
                .unwrap_or(Value::Null);
            assets.push((
                (text(&type_name), text(&holder["name"])),
                json!({
                    "asset_id": holder["id"],
                    "asset_name": holder["name"],
                    "asset_type_name": type_name,
                    "preview_file_id": holder["preview_file_id"],
                    "nb_occurences": link["nb_occurences"],
                }),
            ));
        }
    }
    // Postgres puts nulls last in an ascending order.
    shots.sort_by(|a, b| {
        let key = |o: &[Option<String>; 3]| {
            o.iter()
                .map(|v| (v.is_none(), v.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        key(&a.0).cmp(&key(&b.0))
    });
    assets.sort_by(|a, b| a.0.cmp(&b.0));
    let body: Vec<Value> = shots
        .into_iter()
        .map(|(_, v)| v)
        .chain(assets.into_iter().map(|(_, v)| v))
        .collect();
    Ok(ok(Value::Array(body), freshness))
}

/// The live shot `id` the caller may read, with the assets it casts (in the order cast).
async fn shot_assets(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
    headers: &HeaderMap,
    vendors_by_entity: bool,
) -> KitsuResult<(Vec<Value>, crate::http::consistency::Freshness)> {
    let (id, shot) = entity(state, "shots", id).await?;
    let project = text(shot.fields.get("project_id").unwrap_or(&Value::Null));
    project_access(state, caller, &project, Access::Member, true).await?;
    if vendors_by_entity {
        entity_access(state, caller, &id, &shot).await?;
    }
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let links = links_where(state, "entity_in_id", &id).await?;
    let outs: Vec<Value> = links.iter().map(|l| l["entity_out_id"].clone()).collect();
    let found = docs(state, outs.clone()).await?;
    let assets = outs
        .iter()
        .filter_map(|out| found.get(out.as_str()?).cloned())
        .collect();
    Ok((assets, freshness))
}

#[utoipa::path(get, path = "/data/shots/{id}/assets", tag = "kitsu: data",
    description = "Also served under `/api`. The entities a shot casts, as `Asset` records \
        without relations (canceled ones too). The project's team; vendors on shots of their \
        tasks.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The shot's UUID")),
    responses(
        (status = 200, description = "The assets"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "No such shot"),
    ))]
pub async fn shot_assets_list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let entities = Records::model(ENTITIES)?;
    let (assets, freshness) = shot_assets(&state, &caller, &id, &headers, true).await?;
    let body = assets
        .into_iter()
        .map(|doc| renamed(without_relations(entities, doc), Some("Asset")))
        .collect();
    Ok(ok(Value::Array(body), freshness))
}

#[utoipa::path(get, path = "/data/shots/{id}/asset-types", tag = "kitsu: data",
    description = "Also served under `/api`. The asset types of the entities a shot casts, \
        each once, as `AssetType` records without relations, by name. The project's team.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The shot's UUID")),
    responses(
        (status = 200, description = "The asset types"),
        (status = 403, description = "Not in the project's team"),
        (status = 404, description = "No such shot"),
    ))]
pub async fn shot_asset_types(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let (assets, freshness) = shot_assets(&state, &caller, &id, &headers, false).await?;
    let mut ids: Vec<Value> = Vec::new();
    for asset in &assets {
        if !ids.contains(&asset["entity_type_id"]) {
            ids.push(asset["entity_type_id"].clone());
        }
    }
    let types = Records::model("entity-types")?;
    let filter = annals_contracts::filter::Filter::In(
        annals_contracts::filter::FieldPath::parse("id").expect("a path"),
        ids,
    );
    let body = super::scan(&state, types.collection, filter, &["name"])
        .await?
        .into_iter()
        .map(|(_, doc)| renamed(without_relations(types, doc), Some("AssetType")))
        .collect();
    Ok(ok(Value::Array(body), freshness))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_casting_body_keeps_the_entries_zou_keeps() {
        let asset = uuid::Uuid::new_v4().to_string();
        let body = vec![
            json!({"asset_id": asset, "nb_occurences": 2}),
            json!({"asset_id": asset}),
            json!({"nb_occurences": 1}),
            json!({"asset_id": asset, "nb_occurences": 1, "label": "fixed"}),
        ];
        let casting = wanted(&body).unwrap();
        assert_eq!(casting.len(), 2);
        assert_eq!(casting[0].label, json!(""));
        assert_eq!(casting[1].label, json!("fixed"));
        assert!(wanted(&[json!({"asset_id": "nope", "nb_occurences": 1})]).is_err());
    }

    #[test]
    fn a_cast_body_is_validated_as_zou_validates_it() {
        let id = uuid::Uuid::new_v4().to_string();
        let body = |v: Value| Bytes::from(v.to_string());
        assert!(cast_body(&body(json!({}))).is_err());
        assert!(cast_body(&body(json!({"entity_ids": []}))).is_err());
        assert!(cast_body(&body(json!({"entity_ids": [id], "nb_occurences": -1}))).is_err());
        let (ids, nb, label) =
            cast_body(&body(json!({"entity_ids": [id], "label": "kept"}))).unwrap();
        assert_eq!((ids.len(), nb, label), (1, None, Some(json!("kept"))));
    }
}
