//! API keys: create (shown once), list, revoke. Keys authenticate `Authorization: Api-Key <key>`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_domain::identity::KeyScope;
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
    /// The one database the key may use, if it is limited to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    database_id: Option<String>,
    /// `read` or `read_write` (there).
    #[serde(skip_serializing_if = "Option::is_none")]
    access: Option<&'static str>,
}

/// The optional `database_id` (one of the caller's) and `access` (`read` or `read_write`,
/// the default) that limit a new key.
async fn scope(
    state: &AppState,
    caller: &Caller,
    body: &JsonObject,
) -> std::result::Result<Option<KeyScope>, AppError> {
    let access = body.optional_str("access")?;
    let read_only = match access.as_deref().map(str::trim) {
        None | Some("read_write") => false,
        Some("read") => true,
        Some(_) => return Err(AppError::invalid("access", "must be read or read_write")),
    };
    let Some(database_id) = body.optional_str("database_id")? else {
        if access.is_some() {
            return Err(AppError::invalid(
                "access",
                "limits a key in one database: send database_id too",
            ));
        }
        return Ok(None);
    };
    let database_id = database_id.trim().to_string();
    // From the log: a database created a moment ago counts.
    state
        .datacube
        .owned(&caller.user_id, &database_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(message) => AppError::NotFound(format!("database_id: {message}")),
            other => other,
        })?;
    Ok(Some(KeyScope {
        database_id,
        read_only,
    }))
}

#[utoipa::path(post, path = "/api/api_keys", tag = "document service: accounts",
    security(("bearer" = [])),
    request_body(content = Object, description = "`{\"name\": \"ci\"}`, optionally `database_id` (limits the key to that database of the caller's: 403 on the others, and on creating databases) and `access` (`read` or `read_write`, the default)"),
    responses(
        (status = 201, description = "`{success, api_key: {id, name, prefix, key[, database_id, access]}}`; the key is shown only here"),
        (status = 400, description = "`name` missing or longer than 100 characters, or a bad `access`"),
        (status = 404, description = "`database_id` is not one of the caller's databases"),
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
    let scope = scope(&state, &caller, &body).await?;
    let (key, position) = state
        .identity
        .create_api_key(
            &caller.user_id,
            &name,
            scope.clone(),
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    let created = CreatedKey {
        id: key.key_id,
        name: name.trim().to_string(),
        prefix: key.prefix,
        key: key.key,
        access: scope
            .as_ref()
            .map(|s| if s.read_only { "read" } else { "read_write" }),
        database_id: scope.map(|s| s.database_id),
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
        (status = 200, description = "`{success, data: [{id, name, prefix, created_at, last_used_at[, database_id, access]}]}`, newest first"),
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
        within: None,
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
