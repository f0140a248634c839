//! Kitsu second-factor routes: TOTP, email OTP, recovery codes; FIDO and SAML answer that
//! they are not enabled (WebAuthn and SAML are out of scope).
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use annals_domain::identity::User;
use annals_domain::identity::user::SecondFactor;

use super::auth::{KitsuCaller, missing_otp, proof, with_position, wrong_otp};
use super::body::KitsuArgs;
use super::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;

fn label(method: SecondFactor) -> &'static str {
    match method {
        SecondFactor::Totp => "TOTP",
        SecondFactor::EmailOtp => "OTP by email",
    }
}

fn already_enabled(method: SecondFactor) -> KitsuError {
    KitsuError::bad_request(format!("{} already enabled.", label(method)))
}

fn not_enabled(method: SecondFactor) -> KitsuError {
    KitsuError::bad_request(format!("{} not enabled.", label(method)))
}

/// Enables a factor whose setup began, given a code from it: answers the recovery codes
/// (first factor only) and the tokens of a fresh session.
async fn enable(
    state: &AppState,
    caller: &KitsuCaller,
    meta: &RequestMeta,
    method: SecondFactor,
    code: &str,
) -> KitsuResult<Response> {
    let user = &caller.user;
    let factor = user.factor(method);
    if factor.enabled {
        return Err(already_enabled(method));
    }
    if factor.secret.is_none() {
        return Err(KitsuError::bad_request(format!(
            "{} setup was not started.",
            label(method)
        )));
    }
    let metadata = meta.metadata(Some(&caller.user_id));
    let codes = match state
        .identity
        .enable_second_factor(&caller.user_id, method, code, &metadata)
        .await
    {
        Ok(codes) => codes,
        // The state was checked above: a refusal now is the code.
        Err(AppError::Invalid { .. }) => return Err(wrong_otp()),
        Err(e) => return Err(e.into()),
    };
    let (tokens, position) = state
        .identity
        .start_session(&caller.user_id, "kitsu", &metadata)
        .await?;
    let mut body = json!({
        "access_token": tokens.access,
        "refresh_token": tokens.refresh,
    });
    if let Some(codes) = codes {
        body["otp_recovery_codes"] = json!(codes);
    }
    Ok(with_position(Json(body).into_response(), position))
}

/// Disables a factor given a proof (any enabled factor or a recovery code).
async fn disable(
    state: &AppState,
    caller: &KitsuCaller,
    meta: &RequestMeta,
    method: SecondFactor,
    args: &KitsuArgs,
) -> KitsuResult<Json<Value>> {
    if !caller.user.factor(method).enabled {
        return Err(not_enabled(method));
    }
    let proof = proof(args)?;
    if proof.is_empty() {
        return Err(missing_otp(&caller.user));
    }
    match state
        .identity
        .disable_second_factor(
            &caller.user_id,
            method,
            &proof,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await
    {
        Ok(()) => Ok(Json(json!({"success": true}))),
        Err(AppError::Invalid { .. }) => Err(wrong_otp()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TotpBody {
    /// A code from the authenticator app.
    totp: String,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct EmailOtpBody {
    /// The mailed code.
    email_otp: String,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ProofBody {
    totp: Option<String>,
    email_otp: Option<String>,
    recovery_code: Option<String>,
}

#[utoipa::path(put, path = "/auth/totp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Starts TOTP setup.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{totp_provisionning_uri, otp_secret}`"),
        (status = 400, description = "TOTP is already enabled"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn pre_enable_totp(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
) -> KitsuResult<Json<Value>> {
    if caller.user.totp.enabled {
        return Err(already_enabled(SecondFactor::Totp));
    }
    let setup = state
        .identity
        .begin_totp(&caller.user_id, &meta.metadata(Some(&caller.user_id)))
        .await?;
    Ok(Json(json!({
        "totp_provisionning_uri": setup.uri,
        "otp_secret": setup.secret,
    })))
}

#[utoipa::path(post, path = "/auth/totp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Enables TOTP with a code from the app.",
    security(("bearer" = [])),
    request_body = TotpBody,
    responses(
        (status = 200, description = "`{otp_recovery_codes (first factor only), access_token, refresh_token}`"),
        (status = 400, description = "`wrong_OTP`, setup not started, or already enabled"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn enable_totp(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Response> {
    let code = args.required("totp")?;
    enable(&state, &caller, &meta, SecondFactor::Totp, &code).await
}

#[utoipa::path(delete, path = "/auth/totp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Needs a proof (`totp`, `email_otp` or `recovery_code`, in the body or the query).",
    security(("bearer" = [])),
    request_body = ProofBody,
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "Not enabled, `missing_OTP` or `wrong_OTP`"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn disable_totp(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    disable(&state, &caller, &meta, SecondFactor::Totp, &args).await
}

#[utoipa::path(get, path = "/auth/email-otp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Mails a one-time code (valid 5 minutes, single use) to an active person with email OTP enabled or being set up; answers the same either way.",
    params(("email" = String, Query, description = "The person's email")),
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "`email` is missing"),
    ))]
pub async fn send_email_otp(
    State(state): State<AppState>,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    let email = args.required("email")?;
    state
        .identity
        .send_email_otp(email.trim(), &meta.metadata(None))
        .await?;
    Ok(Json(json!({"success": true})))
}

#[utoipa::path(put, path = "/auth/email-otp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Starts email OTP setup and mails a code.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "Email OTP is already enabled"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn pre_enable_email_otp(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
) -> KitsuResult<Json<Value>> {
    if caller.user.email_otp.enabled {
        return Err(already_enabled(SecondFactor::EmailOtp));
    }
    state
        .identity
        .begin_email_otp(&caller.user_id, &meta.metadata(Some(&caller.user_id)))
        .await?;
    Ok(Json(json!({"success": true})))
}

#[utoipa::path(post, path = "/auth/email-otp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Enables email OTP with the mailed code.",
    security(("bearer" = [])),
    request_body = EmailOtpBody,
    responses(
        (status = 200, description = "`{otp_recovery_codes (first factor only), access_token, refresh_token}`"),
        (status = 400, description = "`wrong_OTP`, setup not started, or already enabled"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn enable_email_otp(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Response> {
    let code = args.required("email_otp")?;
    enable(&state, &caller, &meta, SecondFactor::EmailOtp, &code).await
}

#[utoipa::path(delete, path = "/auth/email-otp", tag = "kitsu: second factor",
    description = "Also served under `/api`. Needs a proof (`totp`, `email_otp` or `recovery_code`, in the body or the query).",
    security(("bearer" = [])),
    request_body = ProofBody,
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "Not enabled, `missing_OTP` or `wrong_OTP`"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn disable_email_otp(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    disable(&state, &caller, &meta, SecondFactor::EmailOtp, &args).await
}

fn no_factor(user: &User) -> bool {
    user.enabled_factors().is_empty()
}

#[utoipa::path(put, path = "/auth/recovery-codes", tag = "kitsu: second factor",
    description = "Also served under `/api`. Replaces the recovery codes; needs a proof (`totp`, `email_otp` or `recovery_code`).",
    security(("bearer" = [])),
    request_body = ProofBody,
    responses(
        (status = 200, description = "`{otp_recovery_codes: [16 codes]}`"),
        (status = 400, description = "`No two factor authentication enabled.`, `missing_OTP` or `wrong_OTP`"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn recovery_codes(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    if no_factor(&caller.user) {
        return Err(KitsuError::bad_request(
            "No two factor authentication enabled.",
        ));
    }
    let proof = proof(&args)?;
    if proof.is_empty() {
        return Err(missing_otp(&caller.user));
    }
    match state
        .identity
        .regenerate_recovery_codes(
            &caller.user_id,
            &proof,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await
    {
        Ok(codes) => Ok(Json(json!({"otp_recovery_codes": codes}))),
        Err(AppError::Invalid { .. }) => Err(wrong_otp()),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(method(get, put, post, delete), path = "/auth/fido", tag = "kitsu: second factor",
    description = "Also served under `/api`. WebAuthn is not supported.",
    responses((status = 400, description = "`{error: true, message: \"FIDO not enabled.\"}`")))]
pub async fn fido() -> KitsuError {
    KitsuError::bad_request("FIDO not enabled.")
}

#[utoipa::path(get, path = "/auth/saml/login", tag = "kitsu: auth",
    description = "Also served under `/api`. SAML is not supported.",
    responses((status = 400, description = "`{error: \"SAML is not enabled.\"}`")))]
pub async fn saml() -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": "SAML is not enabled."}),
    )
}

#[utoipa::path(get, path = "/auth/oidc/login", tag = "kitsu: auth",
    description = "Also served under `/api`. OpenID Connect is not supported.",
    responses((status = 400, description = "`{error: \"OIDC is not enabled.\"}`")))]
pub async fn oidc() -> KitsuError {
    KitsuError::Body(
        StatusCode::BAD_REQUEST,
        json!({"error": "OIDC is not enabled."}),
    )
}

#[utoipa::path(post, path = "/auth/saml/sso", tag = "kitsu: auth",
    description = "Also served under `/api`. SAML is not supported.",
    responses((status = 400, description = "`{error: \"SAML is not enabled.\"}`")))]
pub async fn saml_sso() -> KitsuError {
    saml().await
}

#[utoipa::path(get, path = "/auth/oidc/callback", tag = "kitsu: auth",
    description = "Also served under `/api`. OpenID Connect is not supported.",
    responses((status = 400, description = "`{error: \"OIDC is not enabled.\"}`")))]
pub async fn oidc_callback() -> KitsuError {
    oidc().await
}
