//! Zou's generic CRUD (reference 2): `GET/POST /data/<model>`, `GET/PUT/DELETE
//! /data/<model>/<id>` for every model of the registry. Writes are commands on the record's
//! stream; reads answer the `kitsu_records` read model once it has caught up.
pub mod assignations;
pub mod budgets;
pub mod casting;
pub mod comment_actions;
pub mod entities;
pub mod entity_links;
pub mod history;
pub mod metadata;
pub mod names;
pub mod news;
pub mod organisations;
mod paged;
pub mod person_actions;
mod person_calendar;
pub mod person_day_offs;
pub mod person_time_spents;
pub mod person_work;
pub mod persons;
pub mod playlists;
pub mod project_lists;
pub mod project_settings;
pub mod projects;
pub mod query;
mod schema;
mod shape;
pub mod target;
pub mod task_time_spents;
pub mod tasks;
pub mod versions;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};

use annals_contracts::filter::{Filter, Query, Sort};
use annals_domain::kitsu::{Model, Record, document};
use annals_projections::kitsu::RECORDS;

use self::query::{ListOptions, keep_fields, list_options};
use self::shape::{named_references, relations_asked, visible, without_relations};
use self::target::{Target, renamed};
use super::auth::KitsuCaller;
use super::errors::{KitsuError, KitsuResult, record_id};
use crate::http::body::check_storable;
use crate::http::consistency;
use crate::http::consistency::{with_freshness, with_position};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{REFERENCED, Records, Refusal};

/// The projection of the people named in answers (a role, a name): part of what a kept
/// answer depends on.
const PROFILES: &str = annals_projections::identity::PROFILES_PROJECTION;

/// A read of `projections` for `caller`, answered from the kept answer while the projections
/// stand where they stood when it was computed (`crate::http::answers`). `what` names the
/// request (route and query); the caller's id and role are part of the key, since what a
/// caller may see depends on them.
pub(super) async fn kept_answer<Fut>(
    state: &AppState,
    headers: &HeaderMap,
    projections: &[&str],
    caller: &KitsuCaller,
    what: &str,
    compute: impl FnOnce() -> Fut,
) -> KitsuResult<Response>
where
    Fut: Future<Output = KitsuResult<Value>>,
{
    let key = format!(
        "kitsu\u{1f}{}\u{1f}{}\u{1f}{what}",
        caller.user_id, caller.user.role
    );
    consistency::kept(&state.gate, headers, projections, key, compute).await
}

/// Rows read per store query while collecting a plain (unpaginated) list.
const SCAN: u32 = 1000;

fn sorts(specs: &[&str]) -> Vec<Sort> {
    specs
        .iter()
        .map(|s| Sort::parse(s).expect("a valid sort"))
        .collect()
}

/// The model a route names, then the caller: an unknown model has no route in Zou, so it
/// answers 404 before authentication.
pub(super) fn model_and_caller(
    route: &str,
    caller: Result<KitsuCaller, KitsuError>,
) -> KitsuResult<(&'static Model, KitsuCaller)> {
    let (target, caller) = target_and_caller(route, caller)?;
    Ok((target.model, caller))
}

/// The model or typed view a route names, then the caller (see [`model_and_caller`]).
pub(super) fn target_and_caller(
    route: &str,
    caller: Result<KitsuCaller, KitsuError>,
) -> KitsuResult<(Target, KitsuCaller)> {
    let target = Target::of(route)?;
    Ok((target, caller?))
}

/// The JSON object of a write's body, as Zou's `request.json` reads it.
pub(super) fn json_object(body: &Bytes) -> KitsuResult<Map<String, Value>> {
    let empty = || {
        KitsuError::bad_request(
            "Data are empty. Please verify that you sent JSON data and that you set the right headers.",
        )
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(empty()),
        Err(_) => {
            return Err(KitsuError::bad_request(
                "The browser (or proxy) sent a request that this server could not understand.",
            ));
        }
    };
    if let Err(AppError::Invalid { field, message }) = check_storable(&object) {
        return Err(KitsuError::invalid_field(&field, &message));
    }
    Ok(object)
}

/// A write that changes other records finds them in the read model (see
/// `Records::after_write`): it waits for it to catch up with the log first.
async fn others_ready(state: &AppState, model: &Model, headers: &HeaderMap) -> KitsuResult<()> {
    if model.writes_others() {
        state.gate.wait(headers, &[RECORDS]).await?;
    }
    Ok(())
}

/// The record as Zou serializes it, from the write side's state.
pub(super) fn serialized(model: &Model, id: &str, record: &Record) -> Value {
    let created = record.created_at.unwrap_or_else(Utc::now);
    let updated = record.updated_at.unwrap_or(created);
    document(model, id, &record.fields, created, updated)
}

pub(super) fn query_pairs(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// A listed document as the options ask: relations only when asked, then the asked keys.
pub(super) fn listed(model: &Model, doc: Value, options: &ListOptions) -> Value {
    let doc = if options.relations {
        doc
    } else {
        without_relations(model, doc)
    };
    keep_fields(renamed(doc, options.type_name), &options.fields)
}

/// Every `(id, document)` of `collection` matching `filter`, in `sort` order, read a page at
/// a time.
pub(super) async fn scan(
    state: &AppState,
    collection: &str,
    filter: Filter,
    sort: &[&str],
) -> KitsuResult<Vec<(String, Value)>> {
    let mut query = Query::new(filter, sorts(sort), SCAN);
    let mut rows = Vec::new();
    loop {
        let page = state
            .gate
            .views
            .find(collection, &query)
            .await
            .map_err(AppError::from)?;
        rows.extend(page.items);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(rows),
        }
    }
}

/// Every matching document, in creation order (a plain list has no paging).
pub(super) async fn all_of(
    state: &AppState,
    model: &Model,
    options: &ListOptions,
) -> KitsuResult<Value> {
    let rows = scan(
        state,
        model.collection,
        options.filter.clone(),
        &["created_at"],
    )
    .await?;
    Ok(Value::Array(
        rows.into_iter()
            .map(|(_, doc)| listed(model, doc, options))
            .collect(),
    ))
}

/// Zou's paginated object, newest changes first.
pub(super) async fn page_of(
    state: &AppState,
    model: &Model,
    options: &ListOptions,
    page: i64,
) -> KitsuResult<Value> {
    let limit = options.limit;
    let offset = (page - 1) * i64::from(limit);
    let mut query = Query::new(
        options.filter.clone(),
        sorts(&["-updated_at", "-created_at"]),
        if page < 1 { 0 } else { limit },
    );
    query.offset = offset.max(0) as u64;
    query.count = true;
    let found = state
        .gate
        .views
        .find(model.collection, &query)
        .await
        .map_err(AppError::from)?;
    let total = found.total.unwrap_or_default();
    let data: Vec<Value> = found
        .items
        .into_iter()
        .map(|(_, doc)| listed(model, doc, options))
        .collect();
    Ok(json!({
        "data": data,
        "total": total,
        "nb_pages": total.div_ceil(u64::from(limit)),
        "limit": limit,
        "offset": offset,
        "page": page,
    }))
}

#[utoipa::path(get, path = "/data/{model}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. The model's records: a \
        plain array, or with `page` Zou's paginated object (`data`, `total`, `nb_pages`, \
        `limit`, `offset`, `page`). Other query keys that are attributes of the model filter \
        (`name` case-insensitive, `[...]` lists, booleans, UUIDs).",
    security(("bearer" = [])),
    params(("model" = String, Path, description = "The model's route, e.g. `project-status`")),
    responses(
        (status = 200, description = "Array of records, or the paginated object"),
        (status = 400, description = "`{error: true, message}`: a malformed filter or page"),
        (status = 403, description = "The caller may not list this model"),
        (status = 404, description = "No such model"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(route): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let (target, caller) = target_and_caller(&route, caller)?;
    let model = target.model;
    // Lists the rule narrows are narrowed below rather than refused.
    Records::may_ever(model.rules.list, &caller.user.role)?;
    let pairs = target.query(query_pairs(&raw));
    let mut options = list_options(model, &pairs)?;
    options.relations = relations_asked(&pairs, target.relations());
    options.type_name = target.type_name();
    options.filter = Filter::And(vec![options.filter, target.filter()]);
    let what = format!("{route}?{}", raw.as_deref().unwrap_or_default());
    let (reader, asker) = (&state, &caller);
    kept_answer(
        reader,
        &headers,
        &[RECORDS, PROFILES],
        asker,
        &what,
        move || async move {
            if let Some(only) = visible(reader, model, asker).await? {
                options.filter = Filter::And(vec![options.filter, only]);
            }
            match options.page {
                Some(page) => page_of(reader, model, &options, page).await,
                None => all_of(reader, model, &options).await,
            }
        },
    )
    .await
}

#[utoipa::path(post, path = "/data/{model}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. Creates a record; \
        `id`, `created_at`, `updated_at` are the server's.",
    security(("bearer" = [])),
    params(("model" = String, Path, description = "The model's route")),
    request_body = Object,
    responses(
        (status = 201, description = "The created record"),
        (status = 400, description = "`{message}`: unknown key, missing or malformed field, duplicate unique value"),
        (status = 403, description = "The caller may not create records of this model"),
        (status = 404, description = "No such model"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path(route): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let (target, caller) = target_and_caller(&route, caller)?;
    let model = target.writable()?;
    // Refused before the body is read when no team could allow it.
    Records::may_ever(model.rules.create, &caller.user.role)?;
    let input = json_object(&body)?;
    others_ready(&state, model, &headers).await?;
    // A team-scoped rule looks at the team of the project the new record names.
    state
        .records
        .permit(
            model.rules.create,
            model,
            None,
            |k| input.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let (id, executed) = state
        .records
        .create(model, input, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let response = (
        StatusCode::CREATED,
        Json(serialized(model, &id, &executed.state)),
    );
    Ok(with_position(response.into_response(), executed.position))
}

#[utoipa::path(get, path = "/data/{model}/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash.",
    security(("bearer" = [])),
    params(
        ("model" = String, Path, description = "The model's route"),
        ("id" = String, Path, description = "The record's UUID"),
    ),
    responses(
        (status = 200, description = "The record"),
        (status = 400, description = "`{error: true, message: \"Malformed ID.\", data: null}`"),
        (status = 403, description = "The caller may not read it"),
        (status = 404, description = "No such model or record"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((route, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let (target, caller) = target_and_caller(&route, caller)?;
    let model = target.model;
    let id = record_id(&id)?;
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let doc = state
        .gate
        .views
        .get(model.collection, &id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound(format!("no {route} {id}")))?;
    target.check(|k| doc.get(k))?;
    state
        .records
        .permit(
            model.rules.read,
            model,
            Some(&id),
            |k| doc.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    let mut doc = if relations_asked(&query_pairs(&raw), true) {
        doc
    } else {
        without_relations(model, doc)
    };
    named_references(&state, model, &mut doc).await?;
    shape::extras(&state, model, model.extras, &mut doc).await?;
    if let Some(view) = target.view {
        shape::extras(&state, model, view.extras, &mut doc).await?;
    }
    let doc = renamed(doc, target.type_name());
    Ok(with_freshness(Json(doc).into_response(), freshness))
}

#[utoipa::path(put, path = "/data/{model}/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. Changes the given \
        fields; keys that are not fields, server keys and protected fields are ignored. A \
        supervisor of the team changes a task of their departments when the request holds \
        only `priority`, `start_date`, `due_date`, `estimation`, `difficulty`, `data`.",
    security(("bearer" = [])),
    params(
        ("model" = String, Path, description = "The model's route"),
        ("id" = String, Path, description = "The record's UUID"),
    ),
    request_body = Object,
    responses(
        (status = 200, description = "The record after the change"),
        (status = 400, description = "`{message}`: malformed field or duplicate unique value; or a malformed id"),
        (status = 403, description = "The caller may not change it"),
        (status = 404, description = "No such model or record"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((route, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KitsuResult<Response> {
    let (target, caller) = target_and_caller(&route, caller)?;
    let model = target.writable()?;
    let id = record_id(&id)?;
    let input = json_object(&body)?;
    others_ready(&state, model, &headers).await?;
    let current = state.records.live(model, &id).await?;
    // Zou limits some changes by the keys the request holds (a supervisor's task change).
    let keys: Vec<String> = input.keys().cloned().collect();
    state
        .records
        .permit_change(
            model.rules.update,
            model,
            Some(&id),
            |k| current.fields.get(k),
            &keys,
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    let metadata = meta.metadata(Some(&caller.user_id));
    let executed = state
        .records
        .update(model, &id, current, input, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let body = without_relations(model, serialized(model, &id, &executed.state));
    let response = Json(body).into_response();
    Ok(with_position(response, executed.position))
}

#[utoipa::path(delete, path = "/data/{model}/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash.",
    security(("bearer" = [])),
    params(
        ("model" = String, Path, description = "The model's route"),
        ("id" = String, Path, description = "The record's UUID"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id; `{message: \"The change conflicts with records referencing this one.\"}` while a record refers to it; an open project"),
        (status = 403, description = "The caller may not delete it"),
        (status = 404, description = "No such model or record"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    meta: RequestMeta,
    Path((route, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    let (target, caller) = target_and_caller(&route, caller)?;
    let model = target.model;
    let id = record_id(&id)?;
    let current = state.records.live(model, &id).await?;
    target.check(|k| current.fields.get(k))?;
    state
        .records
        .permit(
            model.rules.delete,
            model,
            Some(&id),
            |k| current.fields.get(k),
            &caller.user_id,
            &caller.user.role,
        )
        .await?;
    if let Some(lifecycle) = model.lifecycle
        && shape::is_open(&state, model, &current.fields).await?
    {
        return Err(KitsuError::bad_request(lifecycle.delete_open_message));
    }
    // Who refers to it is read from the read models: let them catch up with the log first.
    state.gate.wait(&headers, &[RECORDS]).await?;
    let force = query_pairs(&raw)
        .iter()
        .any(|(k, v)| k == "force" && v.eq_ignore_ascii_case("true"));
    let metadata = meta.metadata(Some(&caller.user_id));
    match state
        .records
        .clear_referrers(model, &id, force, &caller.user_id, &metadata)
        .await
    {
        Ok(()) => {}
        Err(Refusal::Referenced) => {
            if let Some(message) = target.view.and_then(|v| v.referenced_message) {
                return Err(KitsuError::bad_request(message));
            }
            return Err(KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({ "message": REFERENCED }),
            ));
        }
        Err(Refusal::Attached(message)) => {
            return Err(KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": message, "data": null}),
            ));
        }
        Err(Refusal::Failed(e)) => return Err(e.into()),
    }
    let mut position = state
        .records
        .delete(model, &id, &caller.user_id, &metadata)
        .await
        .map_err(KitsuError::crud)?;
    let retotal = state.records.retotal(
        model,
        &id,
        &current.fields,
        false,
        &caller.user_id,
        &metadata,
    );
    if let Some(after) = retotal.await.map_err(KitsuError::crud)? {
        position = after;
    }
    Ok(with_position(
        StatusCode::NO_CONTENT.into_response(),
        position,
    ))
}
