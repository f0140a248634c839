//! `GET /data/shots/<id>/versions` and `GET /data/edits/<id>/versions`: an entity's versions,
//! read from its own stream (every update is one), as Zou's `ShotVersion` / `EditVersion`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use annals_projections::kitsu::RECORDS;

use super::target::Target;
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::entity_versions;

async fn versions(
    state: &AppState,
    caller: KitsuCaller,
    route: &str,
    type_name: &str,
    id: &str,
    headers: &HeaderMap,
) -> KitsuResult<Response> {
    let target = Target::of(route)?;
    let not_found = || KitsuError::from(AppError::NotFound(format!("no {route} {id}")));
    let id = uuid::Uuid::try_parse(id)
        .map_err(|_| not_found())?
        .to_string();
    let freshness = state.gate.wait(headers, &[RECORDS]).await?;
    let record = state.records.live(target.model, &id).await?;
    target.check(|k| record.fields.get(k))?;
    state
        .records
        .permit(
            target.model.rules.read,
            target.model,
            Some(&id),
            |k| record.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    let versions = entity_versions(&state.history, &id, type_name).await?;
    Ok(with_freshness(Json(versions).into_response(), freshness))
}

#[utoipa::path(get, path = "/data/shots/{id}/versions", tag = "kitsu: data",
    description = "Also served under `/api`. The shot's versions, newest first: one per change \
        of the shot, read from its stream, `{id, created_at, updated_at, name, data, entity_id, \
        person_id, type: \"ShotVersion\"}` where `name` is the name before the change and \
        `data` the data after it (as Zou keeps them). A shot never changed has none.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The shot's UUID")),
    responses(
        (status = 200, description = "Array of versions"),
        (status = 403, description = "The caller is not in the shot's project team"),
        (status = 404, description = "No such shot"),
    ))]
pub async fn shot_versions(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    versions(&state, caller?, "shots", "ShotVersion", &id, &headers).await
}

#[utoipa::path(get, path = "/data/edits/{id}/versions", tag = "kitsu: data",
    description = "Also served under `/api`. The edit's versions, shaped as a shot's are \
        (`type: \"EditVersion\"`).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The edit's UUID")),
    responses(
        (status = 200, description = "Array of versions"),
        (status = 403, description = "The caller is not in the edit's project team"),
        (status = 404, description = "No such edit"),
    ))]
pub async fn edit_versions(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    versions(&state, caller?, "edits", "EditVersion", &id, &headers).await
}
