//! Servers linked to a bucket: the agent handshake that records them, their list, and their
//! removal.
//!
//! An agent (`pm2 link <secret_id> <public_id>`) starts with `POST /api/node/verifyPM2`
//! `{public_id, private_id, data: {MACHINE_NAME, HOSTNAME, PM2_VERSION, ...}}`. The public id
//! finds the bucket, the secret proves the agent may link, and the first handshake of a server
//! name records a `ServerConnected` event. The answer is what agents expect:
//! `{endpoints, active, pending, disabled, new}`; a bucket at its plan's server cap answers
//! `{active: false, pending: true}`.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::WorkspacesCaller;
use super::errors::{ErrorBody, WorkspacesError};
use super::request::{Body, bucket_id, read, written};
use super::views;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;

type Result<T> = std::result::Result<T, WorkspacesError>;

#[utoipa::path(get, path = "/api/bucket/{id}/meta_servers", tag = "workspaces: servers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = [Object], description = "The linked servers: `{_id, name, server_name, hostname, pm2_version, connected_at}`"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn meta_servers(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let freshness = views::fresh(&state, &headers).await?;
    views::membership(&state, id, &caller.user_id).await?;
    Ok(read(freshness, Json(views::servers(&state, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DeleteServerBody {
    #[schema(example = "web-1")]
    server_name: String,
}

#[utoipa::path(post, path = "/api/bucket/{id}/data/deleteServer", tag = "workspaces: servers",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = DeleteServerBody,
    responses(
        (status = 200, description = "`{success: true, msg}`"),
        (status = 400, body = ErrorBody, description = "`server_name` missing"),
        (status = 403, body = ErrorBody, description = "Only an admin or the owner can delete servers"),
        (status = 404, body = ErrorBody, description = "server not found; or no such bucket"),
    ))]
pub async fn delete_server(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let server_name = body.required("server_name")?;
    let done = state
        .workspaces
        .remove_server(
            id,
            &caller.user_id,
            &server_name,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(
        done.position,
        json!({"success": true, "msg": format!("server {server_name} deleted")}),
    ))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct VerifyBody {
    #[schema(example = "96a1ph8ymmrycwr")]
    public_id: String,
    /// The bucket's `secret_id` (`secret_id` is accepted too).
    #[schema(example = "c138m2m71boc57m")]
    private_id: String,
    /// The agent's metadata: `MACHINE_NAME` (the server name; `machine_name`, `server_name`
    /// and `hostname` are accepted too), `HOSTNAME`, `PM2_VERSION`.
    #[schema(value_type = Object)]
    data: Value,
}

fn text(data: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| data.get(*k).and_then(Value::as_str))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[utoipa::path(post, path = "/api/node/verifyPM2", tag = "workspaces: servers",
    request_body = VerifyBody,
    responses(
        (status = 200, description = "`{endpoints: {web, push, reverse, ws}, active, pending, disabled, new}`; `active: false, pending: true` when the plan's server cap is reached. Answers `X-Annals-Position` when a server was recorded"),
        (status = 400, body = ErrorBody, description = "A field is missing (the server name is read from `data.MACHINE_NAME`)"),
        (status = 403, body = ErrorBody, description = "invalid public or secret id"),
    ))]
pub async fn verify_pm2(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    body: Body,
) -> Result<Response> {
    let public_id = body.required("public_id")?;
    let secret_id = body.required_any(&["private_id", "secret_id"])?;
    let data = body.value("data").cloned().unwrap_or_else(|| json!({}));
    if !data.is_object() {
        return Err(AppError::invalid("data", "must be an object").into());
    }
    let server_name = text(
        &data,
        &[
            "MACHINE_NAME",
            "machine_name",
            "server_name",
            "hostname",
            "HOSTNAME",
        ],
    )
    .ok_or_else(|| AppError::invalid("data.MACHINE_NAME", "is required"))?;
    let hostname = text(&data, &["HOSTNAME", "hostname"]).unwrap_or_else(|| server_name.clone());
    let pm2_version = text(&data, &["PM2_VERSION", "pm2_version"]).unwrap_or_default();
    let refused = || AppError::Forbidden("invalid public or secret id".into());
    views::fresh(&state, &headers).await?;
    let id = views::bucket_id_by_public_id(&state, public_id.trim())
        .await?
        .ok_or_else(refused)?;
    let web = state.identity.public_url.clone();
    let endpoints = json!({
        "web": web,
        "push": web,
        "reverse": web,
        "ws": web.replacen("http", "ws", 1),
    });
    let outcome = state
        .workspaces
        .connect_server(
            &id,
            secret_id.trim(),
            &server_name,
            &hostname,
            &pm2_version,
            &meta.metadata(None),
        )
        .await;
    match outcome {
        Ok((done, new)) => Ok(written(
            done.position,
            json!({"endpoints": endpoints, "active": true, "pending": false, "disabled": false, "new": new}),
        )),
        Err(AppError::Forbidden(msg)) if msg.contains("limit") => Ok(Json(json!({
            "endpoints": endpoints,
            "active": false,
            "pending": true,
            "disabled": false,
            "msg": msg,
        }))
        .into_response()),
        Err(AppError::NotFound(_)) => Err(refused().into()),
        Err(e) => Err(e.into()),
    }
}
