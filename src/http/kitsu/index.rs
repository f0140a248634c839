//! `GET /`: what Zou answers to say it is there (gazu's `host_is_up` and `get_api_version`).
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The Zou API level annals speaks, marked as annals'.
pub const VERSION: &str = "0.20.0-annals";

#[derive(Serialize, ToSchema)]
pub struct ApiInfo {
    #[schema(example = "Zou")]
    api: &'static str,
    #[schema(example = "0.20.0-annals")]
    version: &'static str,
}

#[utoipa::path(get, path = "/", tag = "kitsu: index",
    description = "Also served at `/api` and `/api/`; HEAD too.",
    responses((status = 200, body = ApiInfo)))]
pub async fn index() -> Json<ApiInfo> {
    Json(ApiInfo {
        api: "Zou",
        version: VERSION,
    })
}
