//! API keys: create (shown once), list, revoke. Keys authenticate `Authorization: Api-Key <key>`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_projections::Projection;
use annals_projections::identity::{API_KEYS, ApiKeys};

use super::accounts::written;
use super::auth::Caller;
use super::errors::DatacubeError;
use crate::http::auth::Credential;
use crate::http::body::JsonObject;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;

type Result<T> = std::result::Result<T, DatacubeError>;

/// Only a login (JWT) may manage keys: a leaked key must not mint or revoke others.
fn require_login(caller: &Caller) -> std::result::Result<(), AppError> {
    match caller.via {
        Credential::Token => Ok(()),
        Credential::ApiKey => Err(AppError::Forbidden(
            "API keys are managed with a login token, not with an API key".into(),
        )),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    id: String,
    name: String,
    prefix: String,
    /// The full key. Shown once; only its hash is stored.
    key: String,
}

#[utoipa::path(post, path = "/api/api_keys", tag = "document service: accounts",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{\"name\": \"ci\"}`"),
    responses(
        (status = 201, description = "`{success, api_key: {id, name, prefix, key}}`; the key is shown only here"),
        (status = 400, description = "`name` missing or longer than 100 characters"),
        (status = 401, description = "Not logged in"),
        (status = 403, description = "Called with an API key instead of a login token"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    require_login(&caller)?;
    let name = body.required_str("name")?;
    let (key, position) = state
        .identity
        .create_api_key(
            &caller.user_id,
            &name,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    let created = CreatedKey {
        id: key.key_id,
        name: name.trim().to_string(),
        prefix: key.prefix,
        key: key.key,
    };
    Ok(written(
        StatusCode::CREATED,
        position,
        json!({"success": true, "api_key": created}),
    ))
}

#[utoipa::path(get, path = "/api/api_keys", tag = "document service: accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success, data: [{id, name, prefix, created_at, last_used_at}]}`, newest first"),
        (status = 401, description = "Not authenticated"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Value>> {
    state.gate.wait(&headers, &[ApiKeys.name()]).await?;
    let owner = FieldPath::parse("owner").expect("static path");
    let query = Query {
        filter: Filter::Eq(owner, json!(caller.user_id)),
        sort: vec![Sort::parse("-created_at").expect("static sort")],
        limit: 1000,
        offset: 0,
        after: None,
        count: false,
    };
    let page = state
        .gate
        .views
        .find(API_KEYS, &query)
        .await
        .map_err(AppError::from)?;
    let data: Vec<Value> = page
        .items
        .into_iter()
        .map(|(_, mut doc)| {
            if let Some(map) = doc.as_object_mut() {
                map.remove("owner");
            }
            doc
        })
        .collect();
    Ok(Json(json!({"success": true, "data": data})))
}

#[utoipa::path(delete, path = "/api/api_keys/{id}", tag = "document service: accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The key id (from the list)")),
    responses(
        (status = 200, description = "Revoked: the key is refused from now on"),
        (status = 401, description = "Not logged in"),
        (status = 404, description = "No such key among the caller's"),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> Result<Response> {
    require_login(&caller)?;
    let position = state
        .identity
        .revoke_api_key(&caller.user_id, &id, &meta.metadata(Some(&caller.user_id)))
        .await?;
    Ok(written(StatusCode::OK, position, json!({"success": true})))
}
