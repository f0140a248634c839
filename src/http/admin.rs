//! Administration over HTTP, under `/api/admin`, for the `admin` role: erasing a person's
//! personal data (`services::erasure`, also `annals admin erase-user`). Authenticated and
//! answered like `/api/history` (a login token or an API key; document-service error bodies).
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::es::commands::Metadata;
use crate::http::consistency::with_position;
use crate::http::datacube::auth::Caller;
use crate::http::datacube::errors::DatacubeError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::erasure::Erased;
use crate::services::error::AppError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(erase_user))
}

#[utoipa::path(post, path = "/api/admin/users/{user_id}/erase", tag = "admin",
    security(("bearer" = [])),
    description = "Erases the user's personal data (email, names) everywhere: their keys are deleted, so the log's sealed fields read as erased in replay, `/api/history`, NATS publications and rebuilds, and the read models show the erased forms (`erased`, `erased-<digest>@erased.invalid`). The account can no longer log in; its email may register again as a new account. The rest of the history stays. Admins only; asking again is harmless.",
    params(("user_id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, body = Erased, description = "What was erased"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user"),
        (status = 503, description = "The read models did not catch up in time: nothing was deleted; ask again"),
    ))]
pub async fn erase_user(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    Path(user_id): Path<String>,
) -> Result<Response, DatacubeError> {
    let admin = state.identity.user(&caller.user_id).await?;
    if admin.role != "admin" {
        return Err(AppError::Forbidden("erasure is for admins".into()).into());
    }
    let metadata: Metadata = meta.metadata(Some(&caller.user_id));
    let erased = state.erasure.erase_user(&user_id, &metadata).await?;
    let position = erased.position;
    Ok(with_position(
        (StatusCode::OK, Json(erased)).into_response(),
        position,
    ))
}
