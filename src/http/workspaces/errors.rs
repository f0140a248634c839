//! The workspaces surface's two error shapes.
//!
//! - Ordinary routes answer `{"msg": "...", "fields": [...]?}`, the shape the Keymetrics API
//!   used (`{"msg":"Missing parameters","fields":["newowner"]}`); pm2 reads `err.data.msg`.
//! - `/api/oauth/*` answers OAuth style, `{"error": "...", "error_description": "..."}`
//!   (RFC 6749 §5.2); pm2 reads `err.data.error_description` first.
//!
//! `@pm2/js-api` treats a 401 as "refresh the tokens and retry once", and a 401 from the token
//! endpoint itself as "retry the token exchange every 500 ms, forever". So [`OAuthError`] never
//! carries a 401: every credential problem on the token endpoint is a 400.
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::services::error::AppError;
use crate::services::identity::TokenError;

/// An error of an ordinary workspaces route, answered as `{msg, fields?}`.
#[derive(Debug)]
pub struct WorkspacesError(pub AppError);

impl From<AppError> for WorkspacesError {
    fn from(e: AppError) -> Self {
        WorkspacesError(e)
    }
}

impl From<annals_contracts::StoreError> for WorkspacesError {
    fn from(e: annals_contracts::StoreError) -> Self {
        WorkspacesError(e.into())
    }
}

/// The body of an error on an ordinary workspaces route.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    #[schema(example = "Signature has expired")]
    msg: String,
    /// The offending request fields, when the error is about some.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["email"]))]
    fields: Option<Vec<String>>,
}

fn retry_after(response: &mut Response, until: DateTime<Utc>) {
    let secs = (until - Utc::now()).num_seconds().max(1);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

impl IntoResponse for WorkspacesError {
    fn into_response(self) -> Response {
        let e = self.0;
        let fields = match &e {
            AppError::Invalid { field, .. } | AppError::Duplicate { field, .. } => {
                Some(vec![field.clone()])
            }
            _ => None,
        };
        if let AppError::Unavailable(detail) = &e {
            tracing::error!(%detail, "request failed: dependency unavailable");
        }
        let body = ErrorBody {
            msg: e.to_string(),
            fields,
        };
        let mut response = (e.status(), Json(body)).into_response();
        match &e {
            AppError::Token(kind) => {
                // RFC 6750 §3: no error code when no credentials were sent.
                let challenge = if *kind == TokenError::Missing {
                    HeaderValue::from_static("Bearer")
                } else {
                    HeaderValue::from_static("Bearer error=\"invalid_token\"")
                };
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            AppError::Locked { until } => retry_after(&mut response, *until),
            _ => {}
        }
        response
    }
}

/// The body of an error on `/api/oauth/*` (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type` or
    /// `temporarily_unavailable`.
    #[schema(example = "invalid_grant")]
    error: &'static str,
    #[schema(example = "the refresh token is invalid, expired or revoked")]
    error_description: String,
}

/// An error of the OAuth endpoints: never a 401 (see the module docs).
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<DateTime<Utc>>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    /// A parameter is missing, repeated, of the wrong type, or the body is unreadable.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// The credentials or the refresh token are not accepted.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            description,
        )
    }

    /// A locked account: refused like bad credentials, with a `Retry-After`.
    pub fn locked(until: DateTime<Utc>) -> Self {
        OAuthError {
            retry_after: Some(until),
            ..Self::invalid_grant(format!(
                "the account is locked until {}",
                until.to_rfc3339()
            ))
        }
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { .. } | AppError::Duplicate { .. } | AppError::TooLarge { .. } => {
                OAuthError::invalid_request(e.to_string())
            }
            AppError::Token(kind) => OAuthError::invalid_grant(match kind {
                TokenError::Expired => "the token has expired",
                TokenError::Revoked => "the token has been revoked",
                TokenError::WrongKind => "the token is not of the expected kind",
                TokenError::Missing | TokenError::Malformed | TokenError::BadSignature => {
                    "the token is invalid"
                }
            }),
            AppError::Locked { until } => OAuthError::locked(until),
            AppError::Unauthorized(m) | AppError::Forbidden(m) | AppError::NotFound(m) => {
                OAuthError::invalid_grant(m)
            }
            AppError::Conflict => OAuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                e.to_string(),
            ),
            AppError::Unavailable(detail) => {
                tracing::error!(%detail, "OAuth request failed: dependency unavailable");
                OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "service unavailable",
                )
            }
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        debug_assert_ne!(self.status, StatusCode::UNAUTHORIZED);
        let body = json!({"error": self.error, "error_description": self.description});
        let mut response = (self.status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(until) = self.retry_after {
            retry_after(&mut response, until);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_oauth_error_is_a_401() {
        let errors = [
            AppError::Token(TokenError::Missing),
            AppError::Token(TokenError::Expired),
            AppError::Token(TokenError::Revoked),
            AppError::Unauthorized("invalid credentials".into()),
            AppError::Forbidden("inactive".into()),
            AppError::NotFound("user not found".into()),
            AppError::invalid("refresh_token", "is required"),
            AppError::Locked { until: Utc::now() },
            AppError::Conflict,
            AppError::Unavailable("db down".into()),
        ];
        for e in errors {
            let status = OAuthError::from(e).status;
            assert_ne!(status, StatusCode::UNAUTHORIZED);
        }
    }

    #[test]
    fn token_problems_are_invalid_grants() {
        let e = OAuthError::from(AppError::Token(TokenError::Revoked));
        assert_eq!(
            (e.status, e.error),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
    }
}
