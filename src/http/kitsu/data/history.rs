//! `GET /data/<model>/<id>/history`: every change of one record, from its stream.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use annals_projections::kitsu::RECORDS;

use annals_domain::identity::user::person::ROUTE;

use super::{model_and_caller, persons, record_id};
use crate::http::consistency::with_freshness;
use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::kitsu::{Records, record_history};

#[utoipa::path(get, path = "/data/{model}/{id}/history", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash. Beyond Zou: every \
        change of the record, newest first, read from its own stream: `{id, type, record_id, \
        sequence, event, author_id, created_at, request_id, changes: [{field, old, new}]}` \
        (a create sets each field from null, a delete takes each to null). Readable by whoever \
        may read the record; once it is deleted, by studio managers only. A person's history \
        is their account's changes (`type: PersonChange`), each caller seeing the fields of \
        the person they read by id; a changed secret (`password`, `totp_secret`, ...) is named \
        with `secret: true` and no values, to studio and production managers only.",
    security(("bearer" = [])),
    params(
        ("model" = String, Path, description = "The model's route"),
        ("id" = String, Path, description = "The record's UUID"),
    ),
    responses(
        (status = 200, description = "The record's changes, newest first"),
        (status = 400, description = "`{error: true, message: \"Malformed ID.\", data: null}`"),
        (status = 403, description = "The caller may not read the record"),
        (status = 404, description = "No such model or record (a deleted one, for non-admins)"),
    ))]
pub async fn history(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path((route, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KitsuResult<Response> {
    if route == ROUTE {
        // Persons are accounts, not registry records: their history is their user stream's.
        let (caller, id) = (caller?, record_id(&id)?);
        return persons::history(&state, &caller, &id, &headers).await;
    }
    let (model, caller) = model_and_caller(&route, caller)?;
    let id = record_id(&id)?;
    // The log shows a stream's events once no older transaction is still open; the records'
    // projection having passed the caller's writes means their events are visible.
    let freshness = state.gate.wait(&headers, &[RECORDS]).await?;
    let past = record_history(&state.history, model, &id).await?;
    if past.deleted {
        // Gone for everyone but studio managers, as a deleted row is in Zou.
        if caller.user.role != "admin" {
            return Err(AppError::NotFound(format!("no {route} {id}")).into());
        }
    } else {
        Records::allow(model.rules.read, &caller.user.role)?;
    }
    Ok(with_freshness(
        Json(past.entries).into_response(),
        freshness,
    ))
}
