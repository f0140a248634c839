//! Request and response helpers of the bucket routes.
use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use annals_contracts::Position;

use super::errors::WorkspacesError;
use crate::http::body::JsonObject;
use crate::http::consistency::{Freshness, with_freshness, with_position};
use crate::services::error::AppError;
use crate::services::workspaces::service::is_object_id;

/// A JSON object body (`{}` when empty, as on GET and DELETE), refused as `{msg, fields}`.
pub struct Body(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = WorkspacesError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WorkspacesError> {
        let JsonObject(map) = JsonObject::read(req, state).await?;
        Ok(Body(map))
    }
}

impl Body {
    fn object(&self) -> JsonObject {
        JsonObject(self.0.clone())
    }

    /// A required, non-blank string.
    pub fn required(&self, field: &str) -> Result<String, AppError> {
        self.object().required_str(field)
    }

    pub fn optional(&self, field: &str) -> Result<Option<String>, AppError> {
        self.object().optional_str(field)
    }

    /// The first of `fields` that is present (aliases of one field), required.
    pub fn required_any(&self, fields: &[&str]) -> Result<String, AppError> {
        for field in fields {
            if let Some(value) = self.optional(field)?
                && !value.trim().is_empty()
            {
                return Ok(value);
            }
        }
        Err(AppError::invalid(fields[0], "is required"))
    }

    pub fn value(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }
}

/// Only 24-hex ids can name a bucket; anything else is a bucket that does not exist.
pub fn bucket_id(id: &str) -> Result<&str, AppError> {
    if is_object_id(id) {
        Ok(id)
    } else {
        Err(AppError::NotFound("bucket not found".into()))
    }
}

/// A write's answer: its body plus the position a later read can wait for.
pub fn written(position: Position, body: Value) -> Response {
    with_position((StatusCode::OK, Json(body)).into_response(), position)
}

/// A read's answer, marked when the read models had not caught up in time.
pub fn read(freshness: Freshness, body: impl IntoResponse) -> Response {
    with_freshness(body.into_response(), freshness)
}

static DEPRECATION: HeaderName = HeaderName::from_static("deprecation");

/// Answers of the deprecated billing routes, successes and errors alike, carry
/// `Deprecation: true` and a link to the route that replaced them.
pub fn deprecated(result: Result<Response, WorkspacesError>, successor: &str) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    let headers = response.headers_mut();
    headers.insert(DEPRECATION.clone(), HeaderValue::from_static("true"));
    if let Ok(link) = HeaderValue::from_str(&format!("<{successor}>; rel=\"successor-version\"")) {
        headers.insert(axum::http::header::LINK, link);
    }
    response
}
