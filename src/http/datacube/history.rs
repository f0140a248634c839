//! `GET /api/crud/history`: every version of one document, from its events.
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::auth::{Access, Caller};
use super::databases::{fresh, read};
use super::errors::DatacubeError;
use super::params::{query_params, required};
use crate::http::state::AppState;
use crate::services::datacube::documents::collection_name;

#[utoipa::path(get, path = "/api/crud/history", tag = "document service: data",
    security(("api_key" = []), ("bearer" = [])),
    params(
        ("database_id" = String, Query, description = "24-hex database id"),
        ("collection_name" = String, Query, description = "The collection"),
        ("document_id" = String, Query, description = "The document's `_id`"),
    ),
    responses(
        (status = 200, description = "`{success, document_id, data: [{version, event, at, actor, via, request_id, origin, changes}]}`, oldest first; a deleted document's history stays"),
        (status = 404, description = "No such database, collection or document among the caller's"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, DatacubeError> {
    let params = query_params(raw.as_deref());
    let database_id = required(&params, "database_id")?;
    caller.may_use(database_id, Access::Read)?;
    let collection = collection_name(required(&params, "collection_name")?, "collection_name")?;
    let document_id = required(&params, "document_id")?;
    let freshness = fresh(&state, &headers).await?;
    let collection_id = state
        .datacube
        .viewed_collection(&caller.user_id, database_id, &collection)
        .await?;
    let versions = state
        .datacube
        .document_history(&collection_id, document_id)
        .await?;
    Ok(read(
        freshness,
        json!({"success": true, "document_id": document_id, "data": versions}),
    ))
}
