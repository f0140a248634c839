//! The playlist routes gazu's `playlist` module calls beside the generic `/data/playlists`
//! routes: a project's playlists (a child list, see `entities::SCOPES`) and an episode's,
//! both Zou's short list of 20 a page; and adding an entity to a playlist.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use annals_contracts::filter::{FieldPath, Filter};

use annals_projections::kitsu::RECORDS;

use super::entities::{Within, children};
use super::names::doc_of;
use super::serialized;
use super::shape::without_relations;
use super::tasks::every;
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

fn field_path(name: &str) -> FieldPath {
    FieldPath::parse(name).expect("field names are paths")
}

#[utoipa::path(get, path = "/data/projects/{id}/episodes/{episode_id}/playlists",
    tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. The project's \
        playlists of one episode (`main`: of no episode and not for all; `all`: of no episode \
        and for all), 20 a page (`page`, 1 when absent), newest change first unless `sort_by` \
        names a field, without `shots` and `build_jobs`; `task_type_id` and `for_entity` \
        filter. Clients see the playlists shared with them; vendors none.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("episode_id" = String, Path, description = "The episode's UUID, `main` or `all`"),
    ),
    responses(
        (status = 200, description = "Array of playlists"),
        (status = 400, description = "`Invalid UUID value: <id>`"),
        (status = 403, description = "The caller is not in the project's team, or a vendor"),
        (status = 404, description = "No such episode"),
    ))]
pub async fn episode_playlists(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((id, episode)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let within = Within::Episode(episode);
    let list = ("projects", id.as_str(), "playlists");
    children(&state, caller?, list, within, &raw, &headers).await
}

/// pydantic's refusal of a string that is no UUID (Zou's schemas): the account the `uuid`
/// crate gives, in the words of the version pydantic-core parses with (characters counted
/// from 1, the expected length of a simple UUID named).
fn uuid_problem(text: &str) -> Option<String> {
    let error = uuid::Uuid::parse_str(text).err()?.to_string();
    let error = if let Some(rest) = error.strip_prefix("invalid character: ")
        && let Some((found, index)) = rest.rsplit_once(" at ")
    {
        let index = index.parse::<usize>().map_or(0, |i| i + 1);
        format!("invalid character: {found} at {index}")
    } else if let Some(length) = error.strip_prefix("invalid length: found ") {
        format!("invalid length: expected length 32 for simple format, found {length}")
    } else {
        error
    };
    Some(format!("Input should be a valid UUID, {error}"))
}

/// A UUID field of Zou's `AddEntityToPlaylistSchema`: required or not, `""` as absent; in
/// the canonical form pydantic gives it (lower case, hyphenated), whatever form was sent.
fn uuid_field(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
) -> KitsuResult<Option<String>> {
    match body.get(field) {
        None | Some(Value::Null) if required => {
            Err(KitsuError::validation(field, "Field required"))
        }
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() && !required => Ok(None),
        Some(Value::String(s)) => match uuid::Uuid::parse_str(s) {
            Ok(id) => Ok(Some(id.hyphenated().to_string())),
            Err(_) => Err(KitsuError::validation(
                field,
                &uuid_problem(s).unwrap_or_default(),
            )),
        },
        Some(_) => Err(KitsuError::validation(
            field,
            "UUID input should be a string, bytes or UUID object",
        )),
    }
}

#[utoipa::path(post, path = "/actions/playlists/{id}/add-entity", tag = "kitsu: data",
    description = "Also served under `/api`. Adds an entity to the playlist's `shots` \
        (gazu's `add_entity_to_playlist`): `{entity_id, preview_file_id?}`. A preview that \
        is not one of the entity's own is unset, and an unset one is the entity's latest \
        (highest revision; of the playlist's task type when it has one); an entry without \
        preview is `{entity_id}`. A couple (entity, preview) the playlist holds already is \
        not added twice. The entity is not looked up, as in Zou. Who may: whoever may change \
        the playlist. Answers the playlist, without relations.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The playlist's UUID")),
    request_body = Object,
    responses(
        (status = 200, description = "The playlist after the addition"),
        (status = 400, description = "`Validation error.` naming `entity_id` or `preview_file_id`"),
        (status = 403, description = "The caller may not change the playlist"),
        (status = 404, description = "No such playlist (a malformed id too)"),
    ))]
pub async fn add_entity(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let model = Records::model("playlists")?;
    // As Zou: the playlist first (any id that names none is a 404), then the permission,
    // then the body.
    let playlist = state.records.live(model, &id).await?;
    state
        .records
        .permit(
            model.rules.update,
            model,
            Some(&id),
            |k| playlist.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    // Zou validates whatever JSON object came, and reads anything else as an empty one.
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let entity = uuid_field(&body, "entity_id", true)?.unwrap_or_default();
    let preview = uuid_field(&body, "preview_file_id", false)?;
    // The latest preview is read from the read models: let them catch up with the caller.
    state.gate.wait(&headers, &[RECORDS]).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .add_to_playlist(
            &id,
            &playlist,
            &entity,
            preview.as_deref(),
            &caller.user_id,
            &metadata,
        )
        .await
        .map_err(KitsuError::crud)?;
    let doc = without_relations(model, serialized(model, &id, &executed.state));
    Ok(with_position(Json(doc).into_response(), executed.position))
}

/// One preview of an entity as Zou's `get_entity_previews_by_task_type` lists it: a few
/// fields of the record, the task's type, and the originals its `data` tells.
fn entity_preview(doc: &Value, task_type_id: &Value) -> Value {
    let data = doc.get("data").and_then(Value::as_object);
    let original = |k: &str| data.and_then(|d| d.get(k)).cloned().unwrap_or(Value::Null);
    json!({
        "id": doc["id"],
        "revision": doc["revision"],
        "position": doc["position"],
        "original_name": doc["original_name"],
        "extension": doc["extension"],
        "width": doc["width"],
        "height": doc["height"],
        "duration": doc["duration"].as_f64().unwrap_or(0.0),
        "status": doc["status"],
        "annotations": doc["annotations"],
        "created_at": doc["created_at"],
        "task_id": doc["task_id"],
        "task_type_id": task_type_id,
        "original_width": original("original_width"),
        "original_height": original("original_height"),
        "original_duration": original("original_duration"),
        "original_file_size": original("original_file_size"),
    })
}

/// A task's previews (newest revision first) as Zou mixes them: the first preview of each
/// revision carries the others of that revision in `previews`, and drops `position` and
/// `task_type_id`.
fn mixed_revisions(previews: Vec<Value>) -> Vec<Value> {
    let mut mixed: Vec<Value> = Vec::new();
    for preview in previews {
        match mixed
            .iter_mut()
            .find(|m| m["revision"] == preview["revision"])
        {
            Some(first) => first["previews"]
                .as_array_mut()
                .expect("a list")
                .push(preview),
            None => {
                let mut first = preview;
                if let Value::Object(map) = &mut first {
                    map.remove("position");
                    map.remove("task_type_id");
                    map.insert("previews".into(), json!([]));
                }
                mixed.push(first);
            }
        }
    }
    mixed
}

#[utoipa::path(get, path = "/data/playlists/entities/{id}/preview-files",
    tag = "kitsu: data",
    description = "Also served under `/api`. The entity's previews by task type (gazu's \
        `get_entity_preview_files`, which `add_entity_to_playlist` calls without a preview): \
        an object from task type id to the previews of the entity's task of that type, newest \
        revision first, the previews of one revision mixed into the first (`previews`). `{}` \
        for an entity without previews.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The entity's UUID")),
    responses(
        (status = 200, description = "Object of task type id to previews"),
        (status = 403, description = "The caller may not read the entity"),
        (status = 404, description = "No such entity (a malformed id too)"),
    ))]
pub async fn entity_previews(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let unknown = || KitsuError::from(AppError::NotFound(format!("no entity {id}")));
    let entity_id = uuid::Uuid::try_parse(&id)
        .map_err(|_| unknown())?
        .to_string();
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let entities = Records::model("entities")?;
    let entity = doc_of(&state, "entities", &entity_id)
        .await?
        .ok_or_else(unknown)?;
    state
        .records
        .permit(
            entities.rules.read,
            entities,
            Some(&entity_id),
            |k| entity.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    let by_entity = Filter::Eq(field_path("entity_id"), json!(entity_id));
    let tasks = every(
        &state,
        Records::model("tasks")?.collection,
        by_entity,
        &["created_at"],
    )
    .await?;
    let mut types: HashMap<String, (i64, String)> = HashMap::new();
    let mut task_types: HashMap<String, Value> = HashMap::new();
    for task in &tasks {
        let (Some(task_id), Some(type_id)) = (task["id"].as_str(), task["task_type_id"].as_str())
        else {
            continue;
        };
        task_types.insert(task_id.to_string(), json!(type_id));
        if !types.contains_key(type_id) {
            let doc = doc_of(&state, "task-types", type_id)
                .await?
                .unwrap_or_default();
            let rank = (
                doc["priority"].as_i64().unwrap_or(0),
                doc["name"].as_str().unwrap_or_default().to_string(),
            );
            types.insert(type_id.to_string(), rank);
        }
    }
    let task_ids: Vec<Value> = task_types.keys().map(|id| json!(id)).collect();
    let previews = if task_ids.is_empty() {
        Vec::new()
    } else {
        let of_tasks = Filter::In(field_path("task_id"), task_ids);
        let collection = Records::model("preview-files")?.collection;
        every(&state, collection, of_tasks, &["created_at"]).await?
    };
    // Zou's order: the task type's priority (highest first), its name, the revision
    // (highest first), then the oldest first. The read model keeps creation times to the
    // second, so previews made in the same second go by position (an extra preview of a
    // revision comes after the first), the order Zou's microseconds give them.
    let mut rows: Vec<(&(i64, String), Value)> = previews
        .iter()
        .filter_map(|doc| {
            let type_id = task_types.get(doc["task_id"].as_str()?)?;
            let rank = types.get(type_id.as_str()?)?;
            Some((rank, entity_preview(doc, type_id)))
        })
        .collect();
    rows.sort_by(|(a, x), (b, y)| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| y["revision"].as_i64().cmp(&x["revision"].as_i64()))
            .then_with(|| x["created_at"].as_str().cmp(&y["created_at"].as_str()))
            .then_with(|| x["position"].as_i64().cmp(&y["position"].as_i64()))
    });
    // One list per task, in the order its first preview comes; a type's list is its
    // last task's, as in Zou.
    let mut per_task: Vec<(String, Vec<Value>)> = Vec::new();
    for (_, preview) in rows {
        let task_id = preview["task_id"].as_str().unwrap_or_default().to_string();
        match per_task.iter_mut().find(|(id, _)| *id == task_id) {
            Some((_, list)) => list.push(preview),
            None => per_task.push((task_id, vec![preview])),
        }
    }
    let mut by_type = Map::new();
    for (task_id, list) in per_task {
        let type_id = task_types[&task_id]
            .as_str()
            .unwrap_or_default()
            .to_string();
        by_type.insert(type_id, Value::Array(mixed_revisions(list)));
    }
    Ok(with_freshness(
        Json(Value::Object(by_type)).into_response(),
        freshness,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_uuid_is_refused_in_pydantic_words() {
        // What Zou 1.0.97 answers (tests/fixtures/zou-1.0.97-rules.md).
        for (text, problem) in [
            ("nope", "invalid character: found `n` at 1"),
            (
                "1234",
                "invalid length: expected length 32 for simple format, found 4",
            ),
            ("abc-def", "invalid group count: expected 5, found 2"),
            (
                "00000000-0000-4000-8000-00000000000g",
                "invalid character: found `g` at 36",
            ),
            (
                "00000000-0000-4000-8000-0000000000001",
                "invalid group length in group 4: expected 12, found 13",
            ),
        ] {
            assert_eq!(
                uuid_problem(text).as_deref(),
                Some(format!("Input should be a valid UUID, {problem}").as_str())
            );
        }
        assert_eq!(uuid_problem("00000000-0000-4000-8000-000000000001"), None);
        // Any form pydantic takes is kept in its canonical one.
        let body = serde_json::json!({"entity_id": "0193A1B2000070008000000000000001"});
        assert_eq!(
            uuid_field(body.as_object().unwrap(), "entity_id", true).ok(),
            Some(Some("0193a1b2-0000-7000-8000-000000000001".to_string()))
        );
    }
}
