//! The project routes gazu calls beside the generic ones: the open projects and the team.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_projections::kitsu::RECORDS;

use super::query::list_options;
use super::shape::{open_filter, visible, without_relations};
use super::{all_of, json_object, serialized};
use crate::http::consistency::{with_freshness, with_position};
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::Records;

const PROJECTS: &str = "projects";
/// The relation the team routes change.
const TEAM: &str = "team";

#[utoipa::path(get, path = "/data/projects/open", tag = "kitsu: data",
    description = "Also served under `/api`. The open projects (status \"Open\") with their \
        relations; for non-admins, only those whose team holds them.",
    security(("bearer" = [])),
    responses((status = 200, description = "Array of projects")))]
pub async fn open(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let caller = caller?;
    let model = Records::model(PROJECTS)?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let mut options = list_options(model, &[])?;
    options.relations = true;
    options.filter = match visible(&state, model, &caller).await? {
        Some(only) => only,
        None => open_filter(&state, model).await?,
    };
    let body = all_of(&state, model, &options).await?;
    Ok(with_freshness(Json(body).into_response(), freshness))
}

/// A project id from the path: Zou's team routes answer 404 for what is not one.
pub(super) fn project_id(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| AppError::NotFound(format!("no project {id}")).into())
}

/// The live project, once the caller may manage its team (Zou: manager project access).
pub(super) async fn managed(
    state: &AppState,
    caller: &KitsuCaller,
    id: &str,
) -> KitsuResult<&'static annals_domain::kitsu::Model> {
    let model = Records::model(PROJECTS)?;
    let project = state.records.live(model, id).await?;
    state
        .records
        .permit(
            annals_domain::kitsu::Access::Manager,
            model,
            Some(id),
            |k| project.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    Ok(model)
}

#[utoipa::path(post, path = "/data/projects/{id}/team", tag = "kitsu: data",
    description = "Also served under `/api`. Adds a person to the project's team (once).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The project's UUID")),
    request_body = Object,
    responses(
        (status = 201, description = "The project, without relations"),
        (status = 400, description = "`person_id` missing, or no such person"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project"),
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Bytes,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = project_id(&id)?;
    let model = managed(&state, &caller, &id).await?;
    let input = json_object(&body)?;
    let Some(person) = input.get("person_id").and_then(Value::as_str) else {
        return Err(KitsuError::Body(
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": "Validation error.",
                "data": {"errors": [{"field": "person_id", "message": "Field required"}]},
            }),
        ));
    };
    let unknown = || {
        KitsuError::Body(
            StatusCode::BAD_REQUEST,
            json!({"error": true, "message": format!("Person with id {person} not found"), "data": null}),
        )
    };
    if uuid::Uuid::try_parse(person).is_err() || !state.records.is_known("persons", person).await? {
        return Err(unknown());
    }
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .relink(model, &id, TEAM, person, true, &caller.user_id, &metadata)
        .await?;
    let body = without_relations(model, serialized(model, &id, &executed.state));
    let response = (StatusCode::CREATED, Json(body)).into_response();
    Ok(with_position(response, executed.position))
}

#[utoipa::path(delete, path = "/data/projects/{id}/team/{person_id}", tag = "kitsu: data",
    description = "Also served under `/api`. Takes a person out of the project's team (204 \
        also when they were not in it).",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The project's UUID"),
        ("person_id" = String, Path, description = "The person's UUID"),
    ),
    responses(
        (status = 204, description = "Not in the team (any more)"),
        (status = 403, description = "The caller does not manage the project"),
        (status = 404, description = "No such project"),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((id, person)): Path<(String, String)>,
) -> KitsuResult<Response> {
    let caller = caller?;
    let id = project_id(&id)?;
    let model = managed(&state, &caller, &id).await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .relink(model, &id, TEAM, &person, false, &caller.user_id, &metadata)
        .await?;
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        executed.position,
    ))
}
