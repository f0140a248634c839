//! `GET /api/history/verify`: checks the log's tamper evidence now, and says how the previous
//! check went.
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::datacube::auth::Caller;
use crate::http::datacube::errors::DatacubeError;
use crate::http::history::events::require_reader;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::verify::{Report, Run};

/// This run's report, and the run before it.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    pub report: Report,
    /// The previous run (from `annals verify` or this route), if any.
    pub previous: Option<Run>,
}

#[utoipa::path(get, path = "/api/history/verify", tag = "history",
    security(("bearer" = [])),
    description = "Verifies every stream's hash chain and every seal of the log now (one pass over the whole log), records the run, and answers with the report (events, streams and seals checked, intact or the first broken links, named by stream and sequence or by seal and position) and the previous run. For admins and auditors. `annals verify` does the same from the command line.",
    responses(
        (status = 200, body = Verification, description = "`report.intact` is false when a link is broken"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Neither an admin nor an auditor"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Verification>, DatacubeError> {
    require_reader(&state, &caller).await?;
    let previous = state.verifier.last_run().await.map_err(AppError::from)?;
    let report = state
        .verifier
        .run("api", &|_| {})
        .await
        .map_err(AppError::from)?;
    Ok(Json(Verification { report, previous }))
}
