//! Request arguments the way Zou reads them: a JSON object body, else form fields, with the
//! query string filling in what the body does not give. JSON nulls count as absent.
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use super::errors::KitsuError;
use crate::http::body::check_storable;
use crate::services::error::AppError;

/// The arguments of a Kitsu request.
#[derive(Debug, Default)]
pub struct KitsuArgs(pub Map<String, Value>);

fn pairs(raw: &[u8]) -> Map<String, Value> {
    url::form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

impl<S: Send + Sync> FromRequest<S> for KitsuArgs {
    type Rejection = KitsuError;

    async fn from_request(req: Request, state: &S) -> Result<Self, KitsuError> {
        let query = req
            .uri()
            .query()
            .map(|q| pairs(q.as_bytes()))
            .unwrap_or_default();
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| KitsuError::bad_request("The request body could not be read."))?;
        let mut args = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else if is_form {
            pairs(&bytes)
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => map,
                Ok(Value::Null) => Map::new(),
                Ok(_) => {
                    return Err(KitsuError::bad_request(
                        "Data are empty. Please verify that you sent JSON data and that you set the right headers.",
                    ));
                }
                // Not JSON: read it as form fields, as Flask's request.values would.
                Err(_) => pairs(&bytes),
            }
        };
        for (key, value) in query {
            if args.get(&key).is_none_or(Value::is_null) {
                args.insert(key, value);
            }
        }
        if let Err(AppError::Invalid { field, message }) = check_storable(&args) {
            return Err(KitsuError::invalid_field(&field, &message));
        }
        Ok(KitsuArgs(args))
    }
}

impl KitsuArgs {
    /// A string argument; absent, null and blank read as `None`. Numbers are accepted as
    /// their decimal text (one-time codes are sometimes sent as numbers).
    pub fn optional(&self, field: &str) -> Result<Option<String>, KitsuError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(KitsuError::invalid_field(
                field,
                "Input should be a valid string",
            )),
        }
    }

    /// A string argument that must be given and not blank.
    pub fn required(&self, field: &str) -> Result<String, KitsuError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Err(KitsuError::invalid_field(field, "Field required")),
            Some(Value::String(s)) if s.trim().is_empty() => Err(KitsuError::invalid_field(
                field,
                "String should have at least 1 character",
            )),
            _ => Ok(self.optional(field)?.unwrap_or_default()),
        }
    }

    /// A string argument kept exactly as sent (passwords: surrounding spaces count).
    pub fn raw(&self, field: &str) -> Result<Option<String>, KitsuError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(KitsuError::invalid_field(
                field,
                "Input should be a valid string",
            )),
        }
    }

    /// A string argument that must be given (an empty string is refused).
    pub fn required_raw(&self, field: &str) -> Result<String, KitsuError> {
        match self.raw(field)? {
            None => Err(KitsuError::invalid_field(field, "Field required")),
            Some(s) if s.is_empty() => Err(KitsuError::invalid_field(
                field,
                "String should have at least 1 character",
            )),
            Some(s) => Ok(s),
        }
    }
}
