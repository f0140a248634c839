//! Accounts: register, login, token refresh, email verification, profile.
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use annals_contracts::Position;
use annals_domain::identity::RegisteredVia;
use annals_projections::Projection;
use annals_projections::identity::{PROFILES, UserProfiles};

use super::auth::Caller;
use super::errors::DatacubeError;
use crate::http::body::JsonObject;
use crate::http::consistency::{with_freshness, with_position};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::identity::{self, LoginFailure, Proof, Registration};

type Result<T> = std::result::Result<T, DatacubeError>;

/// A write's answer: its body plus the position a later read can wait for.
pub(super) fn written(status: StatusCode, position: Position, body: Value) -> Response {
    with_position((status, Json(body)).into_response(), position)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // documents the body; handlers read it field by field for precise errors
pub struct RegisterRequest {
    #[schema(example = "developer@example.com")]
    email: String,
    #[schema(example = "Alex")]
    first_name: String,
    #[schema(example = "Dev")]
    last_name: String,
    #[schema(example = "a-strong-and-secure-password")]
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    message: String,
}

#[utoipa::path(post, path = "/core/register", tag = "document service: accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = MessageResponse, description = "Registered; a verification mail was sent"),
        (status = 400, description = "A field is missing or invalid (weak password, malformed email)"),
        (status = 409, description = "The email is already registered"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let registration = Registration {
        email: body.required_str("email")?,
        password: body.required_str("password")?,
        first_name: body.required_str("firstName")?,
        last_name: body.required_str("lastName")?,
        role: "user".into(),
        via: RegisteredVia::Signup,
    };
    let (_, position) = state
        .identity
        .register(registration, &meta.metadata(None))
        .await?;
    Ok(written(
        StatusCode::CREATED,
        position,
        json!({"message": "User registered successfully. Please check your email to verify your account."}),
    ))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct LoginRequest {
    #[schema(example = "developer@example.com")]
    email: String,
    #[schema(example = "a-strong-and-secure-password")]
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPairResponse {
    refresh: String,
    access: String,
}

#[utoipa::path(post, path = "/core/login", tag = "document service: accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 400, description = "A field is missing"),
        (status = 401, description = "Unknown email or wrong password (indistinguishable)"),
        (status = 429, description = "Locked after 5 failures within a minute; Retry-After says when to try again"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let request = identity::LoginRequest {
        email: body.required_str("email")?,
        password: body.required_str("password")?,
        second_factor: Proof {
            totp: body.optional_str("totp")?,
            email_otp: body.optional_str("email_otp")?,
            recovery_code: body.optional_str("recovery_code")?,
        },
    };
    let bad = || AppError::Unauthorized("invalid email or password".into());
    match state
        .identity
        .login(request, "datacube", &meta.metadata(None))
        .await
    {
        Ok(ok) => Ok(written(
            StatusCode::OK,
            ok.position,
            json!({"refresh": ok.tokens.refresh, "access": ok.tokens.access}),
        )),
        Err(LoginFailure::BadCredentials) | Err(LoginFailure::SecondFactorWrong) => {
            Err(bad().into())
        }
        Err(LoginFailure::Locked { until }) => Err(AppError::Locked { until }.into()),
        Err(LoginFailure::Inactive) => {
            Err(AppError::Forbidden("the account is inactive".into()).into())
        }
        Err(LoginFailure::SecondFactorMissing { .. }) => Err(AppError::invalid(
            "totp",
            "a second factor is required: give totp, email_otp or recovery_code",
        )
        .into()),
        Err(LoginFailure::Failed(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RefreshRequest {
    refresh: String,
}

#[utoipa::path(post, path = "/core/token/refresh", tag = "document service: accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPairResponse, description = "A new access token (the refresh token is returned unchanged)"),
        (status = 400, description = "`refresh` is missing"),
        (status = 401, description = "The refresh token is invalid, expired or not a refresh token"),
    ))]
pub async fn refresh(State(state): State<AppState>, body: JsonObject) -> Result<Json<Value>> {
    let refresh = body.required_str("refresh")?;
    let pair = state.identity.refresh(&refresh).await?;
    Ok(Json(
        json!({"refresh": pair.refresh, "access": pair.access}),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct VerifyParams {
    /// The token from the verification mail.
    token: Option<String>,
}

#[utoipa::path(get, path = "/core/verify-email", tag = "document service: accounts",
    params(VerifyParams),
    responses(
        (status = 200, body = MessageResponse, description = "The address is verified"),
        (status = 400, description = "The token is missing, invalid or expired"),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    meta: RequestMeta,
    Query(params): Query<VerifyParams>,
) -> Result<Response> {
    let token = params
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::invalid("token", "is required"))?;
    let position = state
        .identity
        .verify_email(&token, &meta.metadata(None))
        .await?;
    Ok(written(
        StatusCode::OK,
        position,
        json!({"success": true, "message": "Email verified."}),
    ))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    id: String,
    email: String,
    first_name: String,
    last_name: String,
    role: String,
    /// How the account came to exist: `signup`, `operator` (created by an administrator), or
    /// `unrecorded` (registered before annals recorded it).
    registered_via: String,
    verified: bool,
    login_count: i64,
    last_login_at: Option<String>,
    created_at: String,
    updated_at: String,
}

#[utoipa::path(get, path = "/core/me", tag = "document service: accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Profile, description = "The caller's profile, from the read model, including the caller's earlier writes"),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 404, description = "No profile for this token's user"),
    ))]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response> {
    let freshness = state.gate.wait(&headers, &[UserProfiles.name()]).await?;
    let profile = state
        .gate
        .views
        .get(PROFILES, &caller.user_id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound("no profile for this user".into()))?;
    Ok(with_freshness(Json(profile).into_response(), freshness))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct UpdateProfileRequest {
    first_name: Option<String>,
    last_name: Option<String>,
}

#[utoipa::path(patch, path = "/core/me", tag = "document service: accounts",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "Updated"),
        (status = 400, description = "A field has the wrong type or is too long"),
        (status = 401, description = "Missing, invalid or expired access token"),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: JsonObject,
) -> Result<Response> {
    let first_name = body.optional_str("firstName")?;
    let last_name = body.optional_str("lastName")?;
    if first_name.is_none() && last_name.is_none() {
        return Err(AppError::invalid("body", "give firstName and/or lastName").into());
    }
    let position = state
        .identity
        .update_profile(
            &caller.user_id,
            first_name,
            last_name,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(StatusCode::OK, position, json!({"success": true})))
}
