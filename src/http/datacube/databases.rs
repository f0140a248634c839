//! Management API: create, list, describe and drop databases; add, list and drop collections.
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_contracts::filter::{FieldPath, Filter, Sort};
use annals_projections::Projection;
use annals_projections::datacube::{DATABASES, DatabaseViews, DocumentViews};

use super::accounts::written;
use super::auth::{Access, Caller};
use super::caller::metadata;
use super::errors::DatacubeError;
use super::params::{self, query_params, required};
use crate::http::body::JsonObject;
use crate::http::consistency::{Freshness, with_freshness};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::datacube::query;
use crate::services::error::AppError;

type Result<T> = std::result::Result<T, DatacubeError>;

const TAG: &str = "document service: management";

/// Waits until the DataCube read models passed the caller's writes.
pub(super) async fn fresh(state: &AppState, headers: &HeaderMap) -> Result<Freshness> {
    Ok(state
        .gate
        .wait(headers, &[DatabaseViews.name(), DocumentViews.name()])
        .await?)
}

pub(super) fn read(freshness: Freshness, body: Value) -> Response {
    with_freshness(Json(body).into_response(), freshness)
}

/// A database's collections in creation order, as get_metadata shows them.
fn collections_of(database: &Value) -> Vec<Value> {
    let mut collections: Vec<Value> = database["collections"]
        .as_object()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    collections.sort_by_key(|c| c["order"].as_i64());
    for c in &mut collections {
        if let Some(c) = c.as_object_mut() {
            c.remove("order");
            c.remove("collection_id");
        }
    }
    collections
}

#[utoipa::path(post, path = "/api/create_database", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    request_body(content = Object, description = "`{db_name, collections: [{name, fields: [{name, type}]}]}`; types: string, number, integer, boolean, date, datetime, object, array, any"),
    responses(
        (status = 201, description = "`{success, database: {id, name}, collections: [{name, created, exists, error}]}`"),
        (status = 400, description = "A bad name or field type, named in `error.field`"),
        (status = 403, description = "An API key limited to one database"),
        (status = 409, description = "The caller already has a database of this name"),
    ))]
pub async fn create_database(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    caller.may_create_databases()?;
    let name = body.required_str("db_name")?;
    let collections = params::collections(&body.0)?;
    let (id, reports, position) = state
        .datacube
        .create_database(
            &caller.user_id,
            &name,
            collections,
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(written(
        StatusCode::CREATED,
        position,
        json!({
            "success": true,
            "database": {"id": id, "name": annals_domain::datacube::normalize_name(&name)},
            "collections": reports,
        }),
    ))
}

#[utoipa::path(get, path = "/api/list_databases", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    params(
        ("page" = Option<u32>, Query, description = "From 1"),
        ("page_size" = Option<u32>, Query, description = "1 to 1000, default 20"),
        ("search" = Option<String>, Query, description = "Part of the name, any case"),
    ),
    responses(
        (status = 200, description = "`{success, data: [{id, name, num_collections}], pagination: {page, page_size, total, total_items, total_pages}}`, by name"),
    ))]
pub async fn list_databases(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let params = query_params(raw.as_deref());
    let (page, page_size) = query::page(
        params.get("page").map(String::as_str),
        params.get("page_size").map(String::as_str),
    )?;
    let path = |p: &str| FieldPath::parse(p).expect("static path");
    let mut filter = vec![Filter::Eq(path("user_id"), json!(caller.user_id))];
    if let Some(only) = caller.only_database() {
        // A key limited to one database sees that one.
        filter.push(Filter::Eq(path("_id"), json!(only)));
    }
    if let Some(search) = params
        .get("search")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        filter.push(Filter::ILike(path("displayName"), search.to_string()));
    }
    let freshness = fresh(&state, &headers).await?;
    let sort = vec![Sort::parse("displayName").expect("static sort")];
    let q = query::paged(Filter::And(filter), sort, page, page_size);
    let found = state
        .gate
        .views
        .find(DATABASES, &q)
        .await
        .map_err(AppError::from)?;
    let data: Vec<Value> = found
        .items
        .iter()
        .map(|(id, doc)| {
            json!({
                "id": id,
                "name": doc["displayName"],
                "num_collections": doc["collections"].as_object().map_or(0, |m| m.len()),
            })
        })
        .collect();
    Ok(read(
        freshness,
        json!({
            "success": true,
            "data": data,
            "pagination": query::pagination(page, page_size, found.total.unwrap_or(0)),
        }),
    ))
}

#[utoipa::path(get, path = "/api/get_metadata", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    params(("database_id" = String, Query, description = "24-hex database id")),
    responses(
        (status = 200, description = "`{success, data: {_id, user_id, displayName, dbName, collections: [{name, fields, created_at}], created_at, updated_at}}`"),
        (status = 404, description = "No such database among the caller's"),
    ))]
pub async fn get_metadata(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let params = query_params(raw.as_deref());
    let database_id = required(&params, "database_id")?;
    caller.may_use(database_id, Access::Read)?;
    let freshness = fresh(&state, &headers).await?;
    let mut database = state
        .datacube
        .viewed_database(&caller.user_id, database_id)
        .await?;
    database["collections"] = Value::Array(collections_of(&database));
    Ok(read(freshness, json!({"success": true, "data": database})))
}

#[utoipa::path(get, path = "/api/list_collections", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    params(("database_id" = String, Query, description = "24-hex database id")),
    responses(
        (status = 200, description = "`{success, collections: [{name, num_documents, fields}]}`, in creation order, counts live"),
        (status = 404, description = "No such database among the caller's"),
    ))]
pub async fn list_collections(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let params = query_params(raw.as_deref());
    let database_id = required(&params, "database_id")?;
    caller.may_use(database_id, Access::Read)?;
    let freshness = fresh(&state, &headers).await?;
    let database = state
        .datacube
        .viewed_database(&caller.user_id, database_id)
        .await?;
    let mut entries: Vec<&Value> = database["collections"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    entries.sort_by_key(|c| c["order"].as_i64());
    let mut collections = Vec::with_capacity(entries.len());
    for c in entries {
        let count = state
            .datacube
            .count(c["collection_id"].as_str().unwrap_or_default())
            .await?;
        collections.push(json!({"name": c["name"], "num_documents": count, "fields": c["fields"]}));
    }
    Ok(read(
        freshness,
        json!({"success": true, "collections": collections}),
    ))
}

#[utoipa::path(post, path = "/api/create_collection", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    request_body(content = Object, description = "`{database_id, name, fields}` or `{database_id, collections: [{name, fields}]}`"),
    responses(
        (status = 201, description = "`{success, collections: [{name, created, exists, error}]}`; an existing collection is reported with `exists: true` and left as it is"),
        (status = 400, description = "A bad name or field type, named in `error.field`"),
        (status = 404, description = "No such database among the caller's"),
    ))]
pub async fn create_collection(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let database_id = body.required_str("database_id")?;
    caller.may_use(&database_id, Access::Write)?;
    let collections = if body.0.contains_key("collections") {
        params::collections(&body.0)?
    } else {
        vec![params::collection(&Value::Object(body.0.clone()), "body")?]
    };
    if collections.is_empty() {
        return Err(AppError::invalid("collections", "must name at least one collection").into());
    }
    let (reports, position) = state
        .datacube
        .add_collections(
            &caller.user_id,
            &database_id,
            collections,
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(written(
        StatusCode::CREATED,
        position,
        json!({"success": true, "collections": reports}),
    ))
}

#[utoipa::path(method(delete, post), path = "/api/drop_database", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    request_body(content = Object, description = "`{database_id, confirmation}`: the confirmation is the database's name"),
    responses(
        (status = 200, description = "`{success, message}`; its documents leave the read models, their history stays"),
        (status = 400, description = "`confirmation` does not match the name"),
        (status = 404, description = "No such database among the caller's"),
    ))]
pub async fn drop_database(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let database_id = body.required_str("database_id")?;
    caller.may_use(&database_id, Access::Write)?;
    let confirmation = body.required_str("confirmation")?;
    let (name, position) = state
        .datacube
        .drop_database(
            &caller.user_id,
            &database_id,
            &confirmation,
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(written(
        StatusCode::OK,
        position,
        json!({
            "success": true,
            "message": format!("Database '{name}' was successfully dropped."),
        }),
    ))
}

#[utoipa::path(method(delete, post), path = "/api/drop_collections", tag = TAG,
    security(("bearer" = []), ("api_key" = [])),
    request_body(content = Object, description = "`{database_id, collection_names: [..]}`"),
    responses(
        (status = 200, description = "`{success, dropped_collections, dropped}`"),
        (status = 400, description = "An unknown name (all are listed; nothing is dropped)"),
        (status = 404, description = "No such database among the caller's"),
    ))]
pub async fn drop_collections(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let database_id = body.required_str("database_id")?;
    caller.may_use(&database_id, Access::Write)?;
    let names = params::names(&body.0, "collection_names")?;
    let position = state
        .datacube
        .drop_collections(
            &caller.user_id,
            &database_id,
            names.clone(),
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(written(
        StatusCode::OK,
        position,
        json!({"success": true, "dropped_collections": names, "dropped": names}),
    ))
}
