//! `GET /data/organisations`: Zou's list of organisations, here the one organisation of the
//! instance (`crate::http::kitsu::persons::organisation`), its chat settings for studio
//! managers only, as `/auth/authenticated` answers it.
use axum::Json;
use serde_json::{Value, json};

use crate::http::kitsu::auth::KitsuCaller;
use crate::http::kitsu::errors::{KitsuError, KitsuResult};
use crate::http::kitsu::persons::organisation;

#[utoipa::path(get, path = "/data/organisations", tag = "kitsu: data",
    description = "Also served under `/api`. The organisations: the instance's one, its chat \
        tokens for studio managers only.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Array of one organisation"),
        (status = 401, description = "Missing, expired or revoked token"),
    ))]
pub async fn list(caller: Result<KitsuCaller, KitsuError>) -> KitsuResult<Json<Value>> {
    let caller = caller?;
    Ok(Json(json!([organisation(caller.user.role == "admin")])))
}
