//! Lenient JSON bodies with precise errors: every problem names its field.
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use crate::http::datacube::errors::DatacubeError;
use crate::services::error::AppError;

/// A JSON object body. An empty body counts as `{}` (clients send that on GET/DELETE).
pub struct JsonObject(pub Map<String, Value>);

/// As an extractor it answers in the document-service shape (its only direct user); other
/// surfaces call [`JsonObject::read`] and map the error to their own shape.
impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = DatacubeError;

    async fn from_request(req: Request, state: &S) -> Result<Self, DatacubeError> {
        Ok(Self::read(req, state).await?)
    }
}

impl JsonObject {
    pub async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::invalid("body", "could not be read"))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonObject(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(AppError::invalid("body", "must be a JSON object")),
            Err(e) => Err(AppError::invalid(
                "body",
                format!("is not valid JSON ({e})"),
            )),
        }
    }

    /// A required string; blank counts as missing.
    pub fn required_str(&self, field: &str) -> Result<String, AppError> {
        match self.optional_str(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(AppError::invalid(field, "is required")),
        }
    }

    pub fn optional_str(&self, field: &str) -> Result<Option<String>, AppError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AppError::invalid(field, "must be a string")),
        }
    }
}
