//! The playlist routes gazu's `playlist` module calls beside the generic `/data/playlists`
//! routes: a project's playlists (a child list, see `entities::SCOPES`) and an episode's,
//! both Zou's short list of 20 a page; and adding an entity to a playlist.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use annals_projections::kitsu::RECORDS;

use super::entities::{Within, children};
use super::serialized;
use super::shape::without_relations;
use crate::http::consistency::with_position;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::kitsu::Records;

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
