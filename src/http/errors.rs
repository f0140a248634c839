//! The HTTP status of each application error, shared by the surfaces; each surface writes its
//! own body shape (`datacube::errors`, `kitsu::errors`, `workspaces::errors`).
use axum::http::StatusCode;

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
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}
