//! Zou's casting routes (its breakdown blueprint and the casting reads of the asset and shot
//! ones): an entity's casting read here, its changes in [`changes`], the casting lists of a
//! project, a sequence, an episode, an asset type, an asset (where it is cast) and a shot (its
//! assets and their types) in [`lists`], each in the shape Zou answers it.
pub mod changes;
pub mod lists;

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
use super::scan;
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
    let rows = scan(
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
