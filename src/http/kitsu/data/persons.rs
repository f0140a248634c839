//! `/data/persons`: the studio's people are its accounts (the `User` aggregate), served in
//! Zou's person shape (`crate::http::kitsu::persons`).
use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult, record_id};
use crate::http::kitsu::persons::{person, times};
use crate::http::state::AppState;

/// `GET /data/persons/<id>`: a person as Zou's `serialize_safe` gives it, to any signed-in
/// caller (Zou lets every role read the studio's people). Persons are the accounts themselves
/// (the `User` aggregate), read from the write side like the login's own user object.
#[utoipa::path(get, path = "/data/persons/{id}", tag = "kitsu: data",
    description = "Also served under `/api`, and with a trailing slash.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The person's UUID")),
    responses(
        (status = 200, description = "The person, without secrets"),
        (status = 400, description = "`{error: true, message: \"Malformed ID.\", data: null}`"),
        (status = 404, description = "No such person"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Result<KitsuCaller, KitsuError>,
    Path(id): Path<String>,
) -> KitsuResult<Json<Value>> {
    caller?;
    let id = record_id(&id)?;
    let user = state.identity.user(&id).await?;
    let times = times(&state, &user).await;
    Ok(Json(person(&user, times)))
}
