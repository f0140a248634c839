//! `GET /api/users/isLogged`: the caller's user (`client.user.retrieve()` in `@pm2/js-api`).
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use annals_projections::Projection;
use annals_projections::identity::{PROFILES, UserProfiles};

use super::auth::WorkspacesCaller;
use super::buckets;
use super::errors::{ErrorBody, WorkspacesError};
use crate::http::consistency::{CONSISTENCY_HEADER, Freshness};
use crate::http::state::AppState;

/// The Keymetrics-style user model. `_id`, `username`, `email` and `authorized_bucket` are what
/// clients rely on (`@pm2/js-api`'s own tests assert them).
#[derive(Serialize, ToSchema)]
pub struct WorkspaceUser {
    #[serde(rename = "_id")]
    #[schema(rename = "_id", example = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
    id: String,
    /// The local part of the email address (accounts have no separate pseudonym).
    #[schema(example = "developer")]
    username: String,
    #[schema(example = "developer@example.com")]
    email: String,
    first_name: String,
    last_name: String,
    #[schema(example = "user")]
    role: String,
    active: bool,
    /// Whether the email address is verified.
    verified: bool,
    /// The ids of the buckets the user is a member of.
    authorized_bucket: Vec<String>,
    /// From the profile read model; `null` only while it has not caught up.
    #[schema(value_type = Option<String>, example = "2026-01-01T12:00:00Z")]
    created_at: Value,
    #[schema(value_type = Option<String>)]
    updated_at: Value,
    #[schema(value_type = Option<String>)]
    last_login_at: Value,
}

/// The name shown for an account: the local part of its email.
fn username(email: &str) -> String {
    email
        .split_once('@')
        .map_or(email, |(local, _)| local)
        .to_string()
}

#[utoipa::path(get, path = "/api/users/isLogged", tag = "workspaces: users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = WorkspaceUser, description = "The caller's user"),
        (status = 401, body = ErrorBody, description = "Missing, invalid, expired or revoked access token (the client then refreshes its tokens and retries once)"),
        (status = 404, body = ErrorBody, description = "The token's user no longer exists"),
    ))]
pub async fn is_logged(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
) -> Result<Response, WorkspacesError> {
    // Identity fields come from the user's own stream (always current); timestamps from the
    // profile read model, read after the caller's earlier writes as `/core/me` does.
    let user = state.identity.user(&caller.user_id).await?;
    let freshness = state.gate.wait(&headers, &[UserProfiles.name()]).await?;
    let profile = state
        .gate
        .views
        .get(PROFILES, &caller.user_id)
        .await?
        .unwrap_or(Value::Null);
    let authorized_bucket = buckets::of_member(&state, &caller.user_id)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let body = WorkspaceUser {
        id: user.user_id,
        username: username(&user.email),
        email: user.email,
        first_name: user.first_name,
        last_name: user.last_name,
        role: user.role,
        active: user.active,
        verified: user.verified,
        authorized_bucket,
        created_at: profile["createdAt"].clone(),
        updated_at: profile["updatedAt"].clone(),
        last_login_at: profile["lastLoginAt"].clone(),
    };
    let mut response = Json(body).into_response();
    if freshness == Freshness::Stale {
        response
            .headers_mut()
            .insert(CONSISTENCY_HEADER, HeaderValue::from_static("stale"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::username;

    #[test]
    fn the_username_is_the_local_part_of_the_email() {
        assert_eq!(username("ada.lovelace@example.com"), "ada.lovelace");
        assert_eq!(username("odd"), "odd");
    }
}
