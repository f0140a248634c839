//! Answers for requests that no route takes, in the error shape of the surface the path belongs
//! to: an unknown path gets 404, a known path asked with a method it does not serve gets 405
//! (axum adds the `Allow` header).
//!
//! | surface | paths | 404 | 405 |
//! |---|---|---|---|
//! | Kitsu (Zou) | `/`, `/auth/…`, `/data/…`, `/actions/…` (and Zou's other blueprints), the same under `/api` | `{"error": true, "message": "404 Not Found: …"}` (werkzeug's text, as Zou sends it) | `{"error": true, "message": "The method is not allowed for the requested URL."}` |
//! | workspaces | `/api/bucket…`, `/api/oauth…`, `/api/users…`, `/api/misc…`, `/api/node…` | `{"msg": "Cannot GET /api/…"}` (Express's text, which the Keymetrics API sent) | the same text, status 405 |
//! | DataCube and operations | everything else (`/core/…`, the rest of `/api/…`, `/healthz`, …) | `{"success": false, "error": {"code": "not_found", …}}` | `{"success": false, "error": {"code": "method_not_allowed", "message": "Method \"X\" not allowed."}}` (DRF's text) |
use axum::Json;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::datacube::errors::DatacubeError;
use crate::http::kitsu;
use crate::http::kitsu::errors::{KitsuError, METHOD_NOT_ALLOWED_MESSAGE, NOT_FOUND_MESSAGE};
use crate::http::workspaces::errors::WorkspacesError;
use crate::services::error::AppError;

/// First path segments of Zou's blueprints, at the root or under `/api`.
const KITSU_PREFIXES: &[&str] = &[
    "auth", "data", "actions", "events", "export", "import", "pictures", "movies", "config",
];

/// First path segments under `/api` that belong to the workspaces surface.
const WORKSPACES_PREFIXES: &[&str] = &["bucket", "oauth", "users", "misc", "node"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Kitsu,
    Workspaces,
    Datacube,
}

impl Surface {
    /// The surface whose error shape answers for `path`, by its first segments.
    pub fn of(path: &str) -> Surface {
        let mut segments = path.trim_start_matches('/').split('/');
        match segments.next().unwrap_or_default() {
            // `/`: Kitsu's index.
            "" => Surface::Kitsu,
            first if KITSU_PREFIXES.contains(&first) => Surface::Kitsu,
            "api" => match segments.next() {
                // `/api` and `/api/`: Kitsu's index again.
                None | Some("") => Surface::Kitsu,
                Some(second) if KITSU_PREFIXES.contains(&second) => Surface::Kitsu,
                Some(second) if WORKSPACES_PREFIXES.contains(&second) => Surface::Workspaces,
                Some(_) => Surface::Datacube,
            },
            _ => Surface::Datacube,
        }
    }
}

impl Surface {
    /// `error` in this surface's body shape (for answers given before any route ran).
    pub fn answer(self, error: AppError) -> Response {
        match self {
            Surface::Datacube => DatacubeError(error).into_response(),
            Surface::Kitsu => KitsuError::from(error).into_response(),
            Surface::Workspaces => WorkspacesError(error).into_response(),
        }
    }
}

/// The router's fallback: no route has this path.
pub async fn not_found(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    match Surface::of(path) {
        Surface::Kitsu => {
            kitsu_answer(KitsuError::message(
                StatusCode::NOT_FOUND,
                NOT_FOUND_MESSAGE,
            ))
            .await
        }
        Surface::Workspaces => express(StatusCode::NOT_FOUND, &method, path),
        Surface::Datacube => {
            DatacubeError(AppError::NotFound("no such endpoint".into())).into_response()
        }
    }
}

/// Every route's method fallback: the path is known, the method is not.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    match Surface::of(path) {
        Surface::Kitsu => {
            kitsu_answer(KitsuError::message(
                StatusCode::METHOD_NOT_ALLOWED,
                METHOD_NOT_ALLOWED_MESSAGE,
            ))
            .await
        }
        Surface::Workspaces => express(StatusCode::METHOD_NOT_ALLOWED, &method, path),
        Surface::Datacube => (
            StatusCode::METHOD_NOT_ALLOWED,
            Json(json!({
                "success": false,
                "error": {
                    "code": "method_not_allowed",
                    "message": format!("Method \"{method}\" not allowed."),
                },
            })),
        )
            .into_response(),
    }
}

/// Zou puts its security headers on every response, errors included.
async fn kitsu_answer(error: KitsuError) -> Response {
    kitsu::security_headers(error.into_response()).await
}

/// The workspaces `{msg}` shape with Express's text for an unrouted request.
fn express(status: StatusCode, method: &Method, path: &str) -> Response {
    (
        status,
        Json(json!({"msg": format!("Cannot {method} {path}")})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::Surface;

    #[test]
    fn paths_belong_to_their_surface() {
        for (path, surface) in [
            ("/", Surface::Kitsu),
            ("/api", Surface::Kitsu),
            ("/api/", Surface::Kitsu),
            ("/auth/nope", Surface::Kitsu),
            ("/data/persons", Surface::Kitsu),
            ("/api/data/persons", Surface::Kitsu),
            ("/api/actions/x", Surface::Kitsu),
            ("/api/bucket", Surface::Workspaces),
            ("/api/bucket/", Surface::Workspaces),
            ("/api/bucket/1/nope", Surface::Workspaces),
            ("/api/oauth/nope", Surface::Workspaces),
            ("/api/misc/nope", Surface::Workspaces),
            ("/api/buckets", Surface::Datacube),
            ("/api/import_data", Surface::Datacube),
            ("/api/api_keys/x/y", Surface::Datacube),
            ("/core/nope", Surface::Datacube),
            ("/no/such/thing", Surface::Datacube),
            ("/healthz/x", Surface::Datacube),
        ] {
            assert_eq!(Surface::of(path), surface, "{path}");
        }
    }
}
