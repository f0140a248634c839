//! The history for auditors, under `/api/history`: the log's events as the envelopes the relay
//! publishes (secrets removed), page by page, for admins and the `auditor` role. Errors in the
//! document-service shape; callers authenticate as on the document service (a login token or
//! an API key). The reading itself is `services::history`, shared with `annals replay`; the
//! verification is `services::verify`, shared with `annals verify`.
pub mod events;
pub mod verify;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::state::AppState;

/// The history routes, each declared once (path and method from the handler's
/// `#[utoipa::path]`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events::events))
        .routes(routes!(events::stream))
        .routes(routes!(verify::verify))
}
