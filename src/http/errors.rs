//! Mapping application errors to HTTP, in one place. Surfaces choose their body shape here.
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::services::error::AppError;

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) | AppError::Token(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Duplicate { .. } | AppError::Conflict => StatusCode::CONFLICT,
            AppError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { .. } => "invalid_input",
            AppError::Unauthorized(_) | AppError::Token(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Duplicate { .. } => "duplicate",
            AppError::Conflict => "conflict",
            AppError::Locked { .. } => "account_locked",
            AppError::Unavailable(_) => "unavailable",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Duplicate { field, .. } => Some(field),
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

/// Extractor rejections and shared handlers answer in the document-service shape; surfaces
/// with another documented shape wrap `AppError` in their own type, as `DatacubeError` does.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        DatacubeError(self).into_response()
    }
}
