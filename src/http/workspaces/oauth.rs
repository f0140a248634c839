//! `/api/oauth/token` and `/api/oauth/revoke`: the OAuth 2 front door of the workspaces
//! surface, as `@pm2/js-api` drives it.
//!
//! The client's handshake (`.use('standalone', {refresh_token})`) is
//! `POST /api/oauth/token {client_id, refresh_token, grant_type: "refresh_token"}` sent with the
//! literal header `Authorization: Bearer null`, which is ignored here. Tokens are those of the
//! shared identity: a refresh token from any surface's login works, and the access tokens
//! issued here work on every surface.
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use annals_contracts::Position;

use super::errors::{OAuthError, OAuthErrorBody};
use crate::http::auth::bearer;
use crate::http::body::{JsonObject, check_storable};
use crate::http::consistency::with_position;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::identity::{self, LoginFailure, Proof, TokenKind, TokenPair};

/// The session surface recorded for logins through this endpoint.
const SURFACE: &str = "workspaces";

/// An OAuth request body: JSON (what `@pm2/js-api` sends) or
/// `application/x-www-form-urlencoded` (what RFC 6749 specifies). An empty body is `{}`.
pub struct OAuthParams(Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for OAuthParams {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, OAuthError> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !form {
            let JsonObject(map) = JsonObject::read(req, state)
                .await
                .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
            return Ok(OAuthParams(map));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| OAuthError::invalid_request("the body could not be read"))?;
        let mut map = Map::new();
        for (name, value) in url::form_urlencoded::parse(&bytes) {
            // RFC 6749 §3.2: parameters must not be repeated.
            if map
                .insert(name.to_string(), Value::String(value.into_owned()))
                .is_some()
            {
                return Err(OAuthError::invalid_request(format!("{name}: is repeated")));
            }
        }
        check_storable(&map).map_err(|e| OAuthError::invalid_request(e.to_string()))?;
        Ok(OAuthParams(map))
    }
}

impl OAuthParams {
    /// A string parameter; absent, `null` and blank all count as missing.
    fn optional(&self, name: &str) -> Result<Option<String>, OAuthError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(OAuthError::invalid_request(format!(
                "{name}: must be a string"
            ))),
        }
    }

    fn required(&self, name: &str) -> Result<String, OAuthError> {
        self.optional(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("{name}: is required")))
    }
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads it field by field for precise errors
pub struct TokenRequest {
    /// `refresh_token` (what `@pm2/js-api` sends) or `password` (a first login).
    #[schema(example = "refresh_token")]
    grant_type: String,
    /// With `grant_type=refresh_token`: a refresh token from any login (here, `/core/login`, ...).
    refresh_token: Option<String>,
    /// Accepted and ignored (the client sends `795984050` unless told otherwise).
    #[schema(example = "795984050")]
    client_id: Option<String>,
    /// With `grant_type=password`: the account's email (`email` is accepted too).
    #[schema(example = "developer@example.com")]
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    /// With `grant_type=password`, for accounts with a second factor: one of these.
    totp: Option<String>,
    email_otp: Option<String>,
    recovery_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    /// The refresh token used (refresh grant) or the new session's (password grant).
    refresh_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// When the access token stops working (ISO-8601, UTC).
    #[schema(example = "2026-01-01T12:15:00.000Z")]
    expire_at: String,
    /// Seconds until `expire_at`.
    #[schema(example = 900)]
    expires_in: i64,
}

/// The answer to a successful grant (RFC 6749 §5.1: never cached).
fn issued(state: &AppState, pair: TokenPair, position: Option<Position>) -> Response {
    let now = Utc::now();
    let expire_at = state
        .identity
        .tokens
        .verify(&pair.access, TokenKind::Access)
        .ok()
        .and_then(|claims| DateTime::from_timestamp(claims.exp, 0))
        .unwrap_or_else(|| now + TokenKind::Access.lifetime());
    let body = TokenResponse {
        access_token: pair.access,
        refresh_token: pair.refresh,
        token_type: "Bearer",
        expire_at: expire_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        expires_in: (expire_at - now).num_seconds().max(0),
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    match position {
        Some(position) => with_position(response, position),
        None => response,
    }
}

#[utoipa::path(post, path = "/api/oauth/token", tag = "workspaces: oauth",
    request_body(description = "JSON or form-encoded", content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, body = TokenResponse, description = "Tokens; a password grant also answers `X-Annals-Position`"),
        (status = 400, body = OAuthErrorBody, description = "`invalid_request` (a parameter is missing or malformed), `invalid_grant` (bad, expired or revoked refresh token; wrong credentials; locked or inactive account; second factor missing or wrong) or `unsupported_grant_type`. Never 401: `@pm2/js-api` would retry a 401 forever"),
        (status = 503, body = OAuthErrorBody, description = "`temporarily_unavailable`"),
    ))]
pub async fn token(
    State(state): State<AppState>,
    meta: RequestMeta,
    params: OAuthParams,
) -> Result<Response, OAuthError> {
    params.optional("client_id")?; // any client id is accepted, but it must be a string
    let grant_type = params.optional("grant_type")?.ok_or_else(|| {
        OAuthError::invalid_request("grant_type: is required (refresh_token or password)")
    })?;
    match grant_type.as_str() {
        "refresh_token" => {
            let refresh_token = params.required("refresh_token")?;
            let pair = state.identity.refresh(&refresh_token).await?;
            Ok(issued(&state, pair, None))
        }
        "password" => password_grant(state, meta, params).await,
        other => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {other:?} is not supported (use refresh_token or password)"
        ))),
    }
}

async fn password_grant(
    state: AppState,
    meta: RequestMeta,
    params: OAuthParams,
) -> Result<Response, OAuthError> {
    let email = match params.optional("username")? {
        Some(username) => username,
        None => params.optional("email")?.ok_or_else(|| {
            OAuthError::invalid_request("username: is required (the account's email)")
        })?,
    };
    let request = identity::LoginRequest {
        email,
        password: params.required("password")?,
        second_factor: Proof {
            totp: params.optional("totp")?,
            email_otp: params.optional("email_otp")?,
            recovery_code: params.optional("recovery_code")?,
        },
    };
    match state
        .identity
        .login(request, SURFACE, &meta.metadata(None))
        .await
    {
        Ok(ok) => Ok(issued(&state, ok.tokens, Some(ok.position))),
        Err(LoginFailure::BadCredentials) => {
            Err(OAuthError::invalid_grant("invalid username or password"))
        }
        Err(LoginFailure::SecondFactorWrong) => Err(OAuthError::invalid_grant(
            "the second factor is wrong or expired",
        )),
        Err(LoginFailure::SecondFactorMissing { .. }) => Err(OAuthError::invalid_grant(
            "a second factor is required: give totp, email_otp or recovery_code",
        )),
        Err(LoginFailure::Locked { until }) => Err(OAuthError::locked(until)),
        Err(LoginFailure::Inactive) => Err(OAuthError::invalid_grant("the account is inactive")),
        Err(LoginFailure::Failed(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RevokeRequest {
    /// An access or refresh token; without it, the bearer token of the request (what
    /// `client.auth.revoke()` sends).
    token: Option<String>,
    /// Accepted and ignored: both kinds of token are recognised.
    #[schema(example = "refresh_token")]
    token_type_hint: Option<String>,
}

#[utoipa::path(post, path = "/api/oauth/revoke", tag = "workspaces: oauth",
    request_body(description = "JSON or form-encoded; may be `{}` when a bearer token is sent", content(
        (RevokeRequest = "application/json"),
        (RevokeRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The token's session is ended: its access and refresh tokens are refused from now on. Also answered for unknown or invalid tokens (RFC 7009)"),
        (status = 400, body = OAuthErrorBody, description = "`invalid_request`: no `token` and no bearer token"),
        (status = 503, body = OAuthErrorBody, description = "`temporarily_unavailable`"),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    params: OAuthParams,
) -> Result<Response, OAuthError> {
    params.optional("token_type_hint")?;
    let token = match params.optional("token")? {
        Some(token) => token,
        None => bearer(&headers)
            .filter(|t| !t.is_empty() && *t != "null")
            .map(str::to_string)
            .ok_or_else(|| OAuthError::invalid_request("token: is required"))?,
    };
    // Attribute the revocation to the token's owner when the token is genuine.
    let owner = [TokenKind::Refresh, TokenKind::Access]
        .into_iter()
        .find_map(|kind| state.identity.tokens.verify(&token, kind).ok())
        .map(|claims| claims.sub);
    state
        .identity
        .revoke_token(&token, &meta.metadata(owner.as_deref()))
        .await?;
    let mut response = (StatusCode::OK, Json(json!({}))).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
