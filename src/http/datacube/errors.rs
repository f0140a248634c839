//! The document service's (DataCube) error body, and its codes.
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::services::error::AppError;

/// The stable `code` and the `field` of the body.
trait Described {
    fn code(&self) -> &'static str;
    fn field(&self) -> Option<&str>;
}

impl Described for AppError {
    fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { .. } => "invalid_input",
            AppError::Unauthorized(_) | AppError::Token(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Duplicate { .. } => "duplicate",
            AppError::Conflict => "conflict",
            AppError::Locked { .. } => "account_locked",
            AppError::TooLarge { .. } => "too_large",
            AppError::Unavailable(_) => "unavailable",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. }
            | AppError::Duplicate { field, .. }
            | AppError::TooLarge { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The document-service (DataCube) error body:
/// `{"success": false, "error": {"code": "...", "message": "...", "field": "..."}}`.
pub struct DatacubeError(pub AppError);

impl From<AppError> for DatacubeError {
    fn from(e: AppError) -> Self {
        DatacubeError(e)
    }
}

impl IntoResponse for DatacubeError {
    fn into_response(self) -> Response {
        let e = self.0;
        if let AppError::Unavailable(detail) = &e {
            tracing::error!(%detail, "request failed: dependency unavailable");
        }
        let mut error = json!({"code": e.code(), "message": e.to_string()});
        if let Some(field) = e.field() {
            error["field"] = json!(field);
        }
        if let AppError::Locked { until } = &e {
            error["retry_after"] = json!(until);
        }
        let mut response =
            (e.status(), Json(json!({"success": false, "error": error}))).into_response();
        if let AppError::Locked { until } = &e {
            let secs = (*until - chrono::Utc::now()).num_seconds().max(1);
            if let Ok(v) = secs.to_string().parse() {
                response.headers_mut().insert("retry-after", v);
            }
        }
        response
    }
}
