//! Kitsu password routes: change (signed in) and reset by mailed token.
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::KitsuCaller;
use super::body::KitsuArgs;
use super::errors::{KitsuError, KitsuResult};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;

/// Zou's `MIN_PASSWORD_LENGTH` (annals' own minimum too).
pub const MIN_PASSWORD_LENGTH: usize = 8;

/// The checks Zou makes before anything else: confirmation, then length.
fn check_new_password(password: &str, confirmation: &str) -> KitsuResult<()> {
    if password != confirmation {
        return Err(KitsuError::bad_request(
            "Confirmation password doesn't match.",
        ));
    }
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(KitsuError::bad_request("Password is too short."));
    }
    Ok(())
}

/// Application refusals of a new password, in Zou's words.
fn password_error(e: AppError) -> KitsuError {
    match e {
        AppError::Invalid { field, message } if field == "password" => {
            let message = message.trim_end_matches('.');
            KitsuError::bad_request(format!("Password {message}."))
        }
        AppError::Invalid { field, .. } if field == "old_password" => {
            KitsuError::bad_request("Old password is wrong.")
        }
        AppError::Invalid { field, message } if field == "token" => {
            KitsuError::bad_request(message)
        }
        other => other.into(),
    }
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ChangePasswordBody {
    old_password: String,
    password: String,
    password_2: String,
}

#[utoipa::path(post, path = "/auth/change-password", tag = "kitsu: auth",
    description = "Also served under `/api`.",
    security(("bearer" = [])),
    request_body = ChangePasswordBody,
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "`{error: true, message}`: confirmation mismatch, too short, too weak, or wrong old password"),
        (status = 401, description = "Not signed in"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: KitsuCaller,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    let old_password = args.required_raw("old_password")?;
    let password = args.required_raw("password")?;
    let confirmation = args.required_raw("password_2")?;
    check_new_password(&password, &confirmation)?;
    state
        .identity
        .change_password(
            &caller.user_id,
            old_password,
            password,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await
        .map_err(password_error)?;
    Ok(Json(json!({"success": true})))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ResetRequestBody {
    #[schema(example = "artist@example.com")]
    email: String,
}

#[utoipa::path(post, path = "/auth/reset-password", tag = "kitsu: auth",
    description = "Also served under `/api`. Mails a 64-character token (valid 2 hours, single use) if the account exists and is active; answers the same either way.",
    request_body = ResetRequestBody,
    responses(
        (status = 200, description = "`{success: \"Reset token sent\"}`"),
        (status = 400, description = "`email` is missing"),
    ))]
pub async fn request_reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    let email = args.required("email")?;
    state
        .identity
        .request_password_reset(email.trim(), &meta.metadata(None))
        .await?;
    Ok(Json(json!({"success": "Reset token sent"})))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ResetBody {
    email: String,
    /// The token from the reset mail.
    token: String,
    password: String,
    password2: String,
}

#[utoipa::path(put, path = "/auth/reset-password", tag = "kitsu: auth",
    description = "Also served under `/api`.",
    request_body = ResetBody,
    responses(
        (status = 200, description = "`{success: true}`"),
        (status = 400, description = "`Wrong or expired token.`, confirmation mismatch, too short or too weak"),
    ))]
pub async fn reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    args: KitsuArgs,
) -> KitsuResult<Json<Value>> {
    let email = args.required("email")?;
    let token = args.required("token")?;
    let password = args.required_raw("password")?;
    let confirmation = args.required_raw("password2")?;
    check_new_password(&password, &confirmation)?;
    state
        .identity
        .reset_password(email.trim(), token.trim(), password, &meta.metadata(None))
        .await
        .map_err(password_error)?;
    Ok(Json(json!({"success": true})))
}
