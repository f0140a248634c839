//! Kitsu (Zou) error bodies. Zou answers in three shapes, depending on which layer refused:
//! - the JWT layer (flask-jwt-extended): `{"msg": "..."}` with 401 or 422, except an expired
//!   token, which Zou rewrites to `{"error": true, "message": "Signature has expired"}` (gazu
//!   refreshes on that exact message);
//! - the application: `{"error": true, "message": "...", ...}` with the status;
//! - login failures: `{"login": false, ...}` flags (built by the handlers as exact bodies).
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::services::error::AppError;
use crate::services::identity::{TokenError, TokenKind};

/// werkzeug's 401 description, which Zou sends when a token's person cannot be used.
pub const UNAUTHORIZED_MESSAGE: &str = "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

/// werkzeug's 404 text, as Zou sends it for unknown routes and records.
pub const NOT_FOUND_MESSAGE: &str = "404 Not Found: The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

/// werkzeug's 405 description, which Zou sends.
pub const METHOD_NOT_ALLOWED_MESSAGE: &str = "The method is not allowed for the requested URL.";

/// An error of the Kitsu surface.
#[derive(Debug)]
pub enum KitsuError {
    /// An exact answer (login failures, second-factor flags, fixed Zou messages).
    Body(StatusCode, Value),
    /// A token refused on a route that wants a token of `expected` kind.
    Token(TokenError, TokenKind, Option<String>),
    /// Anything else from the application layer.
    App(AppError),
}

pub type KitsuResult<T> = std::result::Result<T, KitsuError>;

impl KitsuError {
    /// `{"error": true, "message": message}` with `status`.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        KitsuError::Body(status, json!({"error": true, "message": message.into()}))
    }

    /// 400 `{"error": true, "message": message}`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::message(StatusCode::BAD_REQUEST, message)
    }

    /// A request-validation failure naming its field (Zou's `WrongParameterException` with
    /// pydantic details): 400 `{"error": true, "message", "data": {"errors": [{field, message}]}}`.
    /// Zou 1.0.97's refusal of a request body its schema does not validate (pydantic):
    /// `"Validation error."`, the field and the problem in `data.errors`.
    pub fn validation(field: &str, problem: &str) -> Self {
        KitsuError::Body(
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": "Validation error.",
                "data": {"errors": [{"field": field, "message": problem}]},
            }),
        )
    }

    pub fn invalid_field(field: &str, problem: &str) -> Self {
        KitsuError::Body(
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": format!("{field}: {problem}"),
                "data": {"errors": [{"field": field, "message": problem}]},
            }),
        )
    }

    /// A token problem on a route that wants an access token (or a refresh token).
    pub fn token(error: TokenError, expected: TokenKind) -> Self {
        KitsuError::Token(error, expected, None)
    }

    /// Like [`KitsuError::token`], keeping the refused token so the message can say what is
    /// wrong with it (as PyJWT does).
    pub fn token_with(error: TokenError, expected: TokenKind, token: &str) -> Self {
        KitsuError::Token(error, expected, Some(token.to_string()))
    }

    /// An error of a generic CRUD write: Zou's sanitized database messages come as
    /// `{"message"}` without `error` (reference 2.2); the field is named in `data.errors`.
    pub fn crud(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, message } | AppError::Duplicate { field, message } => {
                KitsuError::Body(
                    StatusCode::BAD_REQUEST,
                    json!({
                        "message": message,
                        "data": {"errors": [{"field": field, "message": message}]},
                    }),
                )
            }
            other => other.into(),
        }
    }

    /// An application error on a route that wants `expected` tokens.
    pub fn from_app(error: AppError, expected: TokenKind) -> Self {
        match error {
            AppError::Token(e) => KitsuError::Token(e, expected, None),
            other => KitsuError::App(other),
        }
    }
}

impl From<AppError> for KitsuError {
    fn from(e: AppError) -> Self {
        KitsuError::from_app(e, TokenKind::Access)
    }
}

fn msg(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({"msg": message}))
}

/// The flask-jwt-extended answer for a refused token.
pub fn token_body(
    error: &TokenError,
    expected: TokenKind,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let cookie = match expected {
        TokenKind::Refresh => "refresh_token_cookie",
        _ => "access_token_cookie",
    };
    match error {
        TokenError::Expired => (
            StatusCode::UNAUTHORIZED,
            json!({"error": true, "message": "Signature has expired"}),
        ),
        TokenError::Missing => msg(
            StatusCode::UNAUTHORIZED,
            &format!(
                "Missing JWT in cookies or headers (Missing cookie \"{cookie}\"; Missing Authorization Header)"
            ),
        ),
        TokenError::Malformed => msg(
            StatusCode::UNPROCESSABLE_ENTITY,
            malformed_message(token.unwrap_or_default()),
        ),
        TokenError::BadSignature => msg(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Signature verification failed",
        ),
        TokenError::Revoked => msg(StatusCode::UNAUTHORIZED, "Token has been revoked"),
        TokenError::WrongKind => match expected {
            TokenKind::Refresh => msg(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Only refresh tokens are allowed",
            ),
            _ => msg(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Only non-refresh tokens are allowed",
            ),
        },
    }
}

/// What PyJWT says about a token that is not a usable JWT: the segment count, then the
/// header's algorithm (`alg: none` and anything but HS256 are "not allowed").
fn malformed_message(token: &str) -> &'static str {
    let segments: Vec<&str> = token.split('.').collect();
    if segments.len() != 3 {
        return "Not enough segments";
    }
    let Some(header) = base64url_decode(segments[0]) else {
        return "Invalid header padding";
    };
    match serde_json::from_slice::<Value>(&header) {
        Ok(Value::Object(h)) => match h.get("alg").and_then(Value::as_str) {
            Some("HS256") => "Invalid payload string",
            _ => "The specified alg value is not allowed",
        },
        _ => "Invalid header string",
    }
}

/// Decodes unpadded (or padded) base64url.
fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for c in input.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

fn app_body(e: &AppError) -> (StatusCode, Value) {
    let error =
        |status: StatusCode, message: String| (status, json!({"error": true, "message": message}));
    match e {
        AppError::Invalid { field, message } => (
            StatusCode::BAD_REQUEST,
            json!({
                "error": true,
                "message": format!("{field}: {message}"),
                "data": {"errors": [{"field": field, "message": message}]},
            }),
        ),
        AppError::Duplicate { .. } => error(StatusCode::BAD_REQUEST, e.to_string()),
        AppError::TooLarge { .. } => error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        AppError::Unauthorized(m) => error(StatusCode::UNAUTHORIZED, m.clone()),
        AppError::Token(t) => token_body(t, TokenKind::Access, None),
        AppError::Forbidden(m) => error(StatusCode::FORBIDDEN, m.clone()),
        AppError::NotFound(_) => error(StatusCode::NOT_FOUND, NOT_FOUND_MESSAGE.into()),
        AppError::Locked { .. } => (
            StatusCode::BAD_REQUEST,
            json!({"error": true, "login": false, "too_many_failed_login_attemps": true}),
        ),
        // gazu treats statuses it does not know (409, 503) as success, so every server-side
        // failure is a 500 here, as in Zou.
        AppError::Conflict => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Too many concurrent changes; try again.".into(),
        ),
        AppError::Unavailable(detail) => {
            tracing::error!(%detail, "kitsu request failed: dependency unavailable");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error.".into(),
            )
        }
    }
}

impl IntoResponse for KitsuError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            KitsuError::Body(status, body) => (status, body),
            KitsuError::Token(e, expected, token) => token_body(&e, expected, token.as_deref()),
            KitsuError::App(e) => app_body(&e),
        };
        (status, Json(body)).into_response()
    }
}

/// A record id from the path: Zou refuses what is not a UUID before looking.
pub fn record_id(id: &str) -> KitsuResult<String> {
    uuid::Uuid::try_parse(id)
        .map(|u| u.to_string())
        .map_err(|_| {
            KitsuError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": true, "message": "Malformed ID.", "data": null}),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tokens_are_described_as_pyjwt_does() {
        assert_eq!(malformed_message("None"), "Not enough segments");
        assert_eq!(malformed_message("a.b"), "Not enough segments");
        // {"alg":"none","typ":"JWT"}
        assert_eq!(
            malformed_message("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.e30."),
            "The specified alg value is not allowed"
        );
        assert_eq!(malformed_message("!!.e30.x"), "Invalid header padding");
        assert_eq!(base64url_decode("eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
    }

    #[test]
    fn token_errors_use_flask_jwt_extended_shapes() {
        let (status, body) = token_body(&TokenError::Expired, TokenKind::Access, None);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            json!({"error": true, "message": "Signature has expired"})
        );
        let (status, body) = token_body(&TokenError::WrongKind, TokenKind::Refresh, None);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body, json!({"msg": "Only refresh tokens are allowed"}));
        let (_, body) = token_body(&TokenError::Missing, TokenKind::Refresh, None);
        assert_eq!(
            body["msg"],
            "Missing JWT in cookies or headers (Missing cookie \"refresh_token_cookie\"; Missing Authorization Header)"
        );
    }
}
