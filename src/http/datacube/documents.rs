//! Data API: `/api/crud` inserts (POST), queries (GET), updates (PUT) and deletes (DELETE)
//! documents; filters are MongoDB-style.
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use annals_contracts::filter::Filter;
use annals_projections::Projection;
use annals_projections::datacube::{DatabaseViews, DocumentViews};

use super::accounts::written;
use super::auth::{Access, Caller};
use super::caller::metadata;
use super::databases::{fresh, read};
use super::errors::DatacubeError;
use super::params::{flag, query_params, required};
use crate::http::body::JsonObject;
use crate::http::consistency;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::datacube::documents::{
    Changed, InCollection, collection_name, documents_of, parse_update,
};
use crate::services::datacube::query;
use crate::services::error::AppError;
use crate::services::history::parse_time;

type Result<T> = std::result::Result<T, DatacubeError>;

const TAG: &str = "document service: data";

/// The filter of a PUT or DELETE body; an empty one only with `all: true` (DELETE).
fn body_filter(body: &JsonObject, empty_allowed: bool) -> std::result::Result<Filter, AppError> {
    let value = query::filter_value(body.0.get("filters"))?;
    if value.as_object().is_some_and(|m| m.is_empty()) && !empty_allowed {
        return Err(AppError::invalid(
            "filters",
            "must not be empty (send \"all\": true to change every document)",
        ));
    }
    query::compile_filter(value)
}

fn changed(position: &Changed, body: Value) -> Response {
    match position.position {
        Some(p) => written(StatusCode::OK, p, body),
        None => Json(body).into_response(),
    }
}

#[utoipa::path(post, path = "/api/crud", tag = TAG,
    security(("api_key" = []), ("bearer" = [])),
    request_body(content = Object, description = "`{database_id, collection_name, data}`: `data` (or `documents`, or both holding the same) is one object or an array; a missing collection is created without a schema"),
    responses(
        (status = 201, description = "`{success, inserted_ids}`, in input order; all or none are kept"),
        (status = 400, description = "A bad document, named by index and field (`data[3].age`)"),
        (status = 404, description = "No such database among the caller's"),
        (status = 409, description = "An `_id` already exists in the collection"),
        (status = 413, description = "A document too large for one event"),
    ))]
pub async fn insert(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let database_id = body.required_str("database_id")?;
    caller.may_use(&database_id, Access::Write)?;
    let collection = body.required_str("collection_name")?;
    let (root, data) = match (body.0.get("data"), body.0.get("documents")) {
        (Some(data), None) => ("data", data.clone()),
        (None, Some(documents)) => ("documents", documents.clone()),
        (None, None) => return Err(AppError::invalid("data", "is required").into()),
        // The original's own clients send the same list under both names.
        (Some(data), Some(documents)) if data == documents => ("data", data.clone()),
        (Some(_), Some(_)) => {
            return Err(
                AppError::invalid("documents", "differs from data: send one of them").into(),
            );
        }
    };
    let documents = documents_of(data);
    if documents.is_empty() {
        return Err(AppError::invalid(root, "holds no documents").into());
    }
    let (ids, position) = state
        .datacube
        .insert(
            &caller.user_id,
            &database_id,
            &collection,
            documents,
            root,
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(written(
        StatusCode::CREATED,
        position,
        json!({"success": true, "inserted_ids": ids}),
    ))
}

#[utoipa::path(get, path = "/api/crud", tag = TAG,
    security(("api_key" = []), ("bearer" = [])),
    params(
        ("database_id" = String, Query, description = "24-hex database id"),
        ("collection_name" = String, Query, description = "The collection"),
        ("filters" = Option<String>, Query, description = "MongoDB-style JSON filter: `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex` (`$options: \"i\"`) `$not $and $or $nor`, dotted paths, array membership"),
        ("sort" = Option<String>, Query, description = "`{\"field\": -1}`; then insertion order"),
        ("fields" = Option<String>, Query, description = "Projection: `{\"email\": 1}`, `{\"secret\": 0}` or `email,name`"),
        ("page" = Option<u32>, Query, description = "From 1"),
        ("page_size" = Option<u32>, Query, description = "1 to 1000, default 20"),
        ("as_of" = Option<String>, Query, description = "RFC 3339 time: the collection as it was then, from its events"),
    ),
    responses(
        (status = 200, description = "`{success, data, pagination: {page, page_size, total, total_items, total_pages}}`"),
        (status = 400, description = "A bad filter, sort, projection or page, named in `error.field`"),
        (status = 404, description = "No such database or collection among the caller's"),
    ))]
pub async fn find(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let params = query_params(raw.as_deref());
    let database_id = required(&params, "database_id")?;
    caller.may_use(database_id, Access::Read)?;
    let collection = collection_name(required(&params, "collection_name")?, "collection_name")?;
    let get = |name: &str| params.get(name).map(|s| Value::String(s.clone()));
    let filter = query::compile_filter(query::filter_value(get("filters").as_ref())?)?;
    let sort = query::sort(get("sort").as_ref())?;
    let projection = query::projection(get("fields").as_ref())?;
    let (page, page_size) = query::page(
        params.get("page").map(String::as_str),
        params.get("page_size").map(String::as_str),
    )?;
    let pages = (page, page_size);
    let Some(at) = params.get("as_of") else {
        // The live collection: kept while its projections stand still, per owner and query.
        let projections = [DatabaseViews.name(), DocumentViews.name()];
        let key = format!(
            "datacube\u{1f}{}\u{1f}{}",
            caller.user_id,
            raw.as_deref().unwrap_or_default()
        );
        let reader = &state;
        let owner = &caller.user_id;
        let answer = consistency::kept(
            &state.gate,
            &headers,
            &projections,
            key,
            move || async move {
                let collection_id = reader
                    .datacube
                    .viewed_collection(owner, database_id, &collection)
                    .await?;
                let (data, total) = reader
                    .datacube
                    .find(&collection_id, filter, sort, pages, &projection)
                    .await?;
                Ok::<_, AppError>(found(data, page, page_size, total))
            },
        )
        .await;
        return Ok(answer?);
    };
    let at = parse_time(at.trim()).ok_or_else(|| {
        AppError::invalid(
            "as_of",
            "must be an RFC 3339 time, e.g. 2026-11-23T11:47:18Z",
        )
    })?;
    let freshness = fresh(&state, &headers).await?;
    let collection_id = state
        .datacube
        .viewed_collection(&caller.user_id, database_id, &collection)
        .await?;
    let (data, total) = state
        .datacube
        .find_as_of(&collection_id, at, filter, sort, pages, &projection)
        .await?;
    Ok(read(freshness, found(data, page, page_size, total)))
}

/// The answer of a query: the page and its pagination.
fn found(data: Vec<Value>, page: u32, page_size: u32, total: u64) -> Value {
    json!({
        "success": true,
        "data": data,
        "pagination": query::pagination(page, page_size, total),
    })
}

#[utoipa::path(put, path = "/api/crud", tag = TAG,
    security(("api_key" = []), ("bearer" = [])),
    request_body(content = Object, description = "`{database_id, collection_name, filters, update_data, update_many, upsert}`: `update_data` is a plain object (set those fields) or uses `$set $unset $inc $push`; the first match changes unless `update_many: true`; with `upsert: true` and no match, the filter's equalities changed by `update_data` are inserted"),
    responses(
        (status = 200, description = "`{success, matched_count, modified_count}`, and `upserted_id` when an upsert inserted"),
        (status = 409, description = "An upsert's `_id` is taken (also by a deleted document)"),
        (status = 400, description = "A bad filter or update, or a value of the wrong type, named in `error.field`"),
        (status = 404, description = "No such database or collection among the caller's"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let database_id = body.required_str("database_id")?;
    caller.may_use(&database_id, Access::Write)?;
    let collection = collection_name(&body.required_str("collection_name")?, "collection_name")?;
    let filter = body_filter(&body, false)?;
    let update = match body.0.get("update_data") {
        None | Some(Value::Null) => {
            return Err(AppError::invalid("update_data", "is required").into());
        }
        Some(v) => parse_update(v)?,
    };
    let many = flag(&body.0, "update_many")?.unwrap_or(false);
    let upsert = flag(&body.0, "upsert")?.unwrap_or(false);
    let seed = if upsert {
        Some(query::upsert_seed(&query::filter_value(
            body.0.get("filters"),
        )?)?)
    } else {
        None
    };
    // Matches are resolved in the read model, brought up to this request's arrival.
    fresh(&state, &headers).await?;
    let target = InCollection {
        owner: &caller.user_id,
        database_id: &database_id,
        collection: &collection,
    };
    let metadata = metadata(&meta, &caller);
    let done = match seed {
        Some(seed) => {
            state
                .datacube
                .upsert(target, &filter, seed, update, many, &metadata)
                .await?
        }
        None => {
            state
                .datacube
                .update(target, &filter, update, many, &metadata)
                .await?
        }
    };
    let mut answer =
        json!({"success": true, "matched_count": done.matched, "modified_count": done.changed});
    if let Some(id) = &done.upserted {
        answer["upserted_id"] = json!(id);
    }
    Ok(changed(&done, answer))
}

#[utoipa::path(delete, path = "/api/crud", tag = TAG,
    security(("api_key" = []), ("bearer" = [])),
    request_body(content = Object, description = "`{database_id, collection_name, filters, soft_delete}`: every match is deleted; an empty filter needs `\"all\": true`. Every delete is what the original calls soft (`soft_delete`, default true, is accepted either way): the document leaves the reads, its `_id` stays taken, its history stays"),
    responses(
        (status = 200, description = "`{success, deleted_count, count}`; the documents' history stays"),
        (status = 400, description = "A bad or empty filter, named in `error.field`"),
        (status = 404, description = "No such database or collection among the caller's"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let database_id = body.required_str("database_id")?;
    caller.may_use(&database_id, Access::Write)?;
    let collection = collection_name(&body.required_str("collection_name")?, "collection_name")?;
    let all = flag(&body.0, "all")?.unwrap_or(false);
    // A delete is an event whatever the flag: nothing is ever removed from the log (a
    // person's data is erased by `erase-user`), so "hard" has nothing more to do.
    flag(&body.0, "soft_delete")?;
    let filter = body_filter(&body, all)?;
    fresh(&state, &headers).await?;
    let done = state
        .datacube
        .delete(
            InCollection {
                owner: &caller.user_id,
                database_id: &database_id,
                collection: &collection,
            },
            &filter,
            true,
            &metadata(&meta, &caller),
        )
        .await?;
    Ok(changed(
        &done,
        json!({"success": true, "deleted_count": done.changed, "count": done.changed}),
    ))
}
