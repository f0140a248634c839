//! Members of a bucket: list, invite, cancel invitations, remove, roles, notifications,
//! per-member options, ownership transfer and feedback.
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use annals_domain::workspaces::{NotificationState, Role};

use super::auth::WorkspacesCaller;
use super::buckets::rendered;
use super::errors::{ErrorBody, WorkspacesError};
use super::request::{Body, bucket_id, read, written};
use super::views;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::workspaces::service::Written;

type Result<T> = std::result::Result<T, WorkspacesError>;

fn members_of(done: &Written) -> Vec<Value> {
    views::render_members(&done.doc.doc)
}

fn invitations_of(done: &Written) -> Value {
    json!({ "invitations": views::render_invitations(&done.doc.doc) })
}

#[utoipa::path(get, path = "/api/bucket/{id}/users_authorized", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = [Object], description = "The members: `{_id, email, username, role, notification, joined_at}`"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn users_authorized(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let freshness = views::fresh(&state, &headers).await?;
    let doc = views::bucket(&state, id, &caller.user_id).await?;
    Ok(read(freshness, Json(views::render_members(&doc))))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct EmailBody {
    #[schema(example = "bob@example.com")]
    email: String,
}

#[utoipa::path(post, path = "/api/bucket/{id}/add_user", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = EmailBody,
    responses(
        (status = 200, description = "`{invitations}`: the pending invitations. An existing account was added as `user`; an unknown address was invited by mail and joins when it registers"),
        (status = 400, body = ErrorBody, description = "`email` missing or invalid"),
        (status = 403, body = ErrorBody, description = "Only an admin or the owner can invite; or the plan's member cap (members + pending invitations) is reached"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn add_user(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let email = body.required("email")?;
    let invited = state
        .workspaces
        .invite(
            &state.identity,
            id,
            &caller.user_id,
            &email,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(
        invited.written.position,
        invitations_of(&invited.written),
    ))
}

/// `email` from the query string (`?email=a%40b.c`).
fn query_email(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.trim().is_empty())
}

#[utoipa::path(delete, path = "/api/bucket/{id}/invitation", tag = "workspaces: members",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "bucket id"),
        ("email" = String, Query, description = "the invited address (also accepted as the path `/invitation/{email}`)"),
    ),
    responses(
        (status = 200, description = "`{invitations}`: the pending invitations left"),
        (status = 400, body = ErrorBody, description = "`email` missing"),
        (status = 403, body = ErrorBody, description = "Only an admin or the owner can cancel invitations"),
        (status = 404, body = ErrorBody, description = "No such bucket or invitation, or the caller is not a member"),
    ))]
pub async fn remove_invitation(
    state: State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    cancel_invitation(state, caller, meta, id, query_email(query.as_deref())).await
}

/// The 2017 form, `DELETE /api/bucket/:id/invitation/:email`.
#[utoipa::path(delete, path = "/api/bucket/{id}/invitation/{email}", tag = "workspaces: members",
    description = "The 2017 form of `DELETE /api/bucket/{id}/invitation?email=`.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "bucket id"),
        ("email" = String, Path, description = "the invited address"),
    ),
    responses(
        (status = 200, description = "`{invitations}`: the pending invitations left"),
        (status = 403, body = ErrorBody, description = "Only an admin or the owner can cancel invitations"),
        (status = 404, body = ErrorBody, description = "No such bucket or invitation, or the caller is not a member"),
    ))]
pub async fn remove_invitation_by_path(
    state: State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path((id, email)): Path<(String, String)>,
) -> Result<Response> {
    cancel_invitation(state, caller, meta, id, Some(email)).await
}

async fn cancel_invitation(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    id: String,
    email: Option<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let Some(email) = email else {
        state.workspaces.bucket_for(id, &caller.user_id).await?;
        return Err(AppError::invalid("email", "is required").into());
    };
    let done = state
        .workspaces
        .remove_invitation(
            id,
            &caller.user_id,
            &email,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(done.position, invitations_of(&done)))
}

#[utoipa::path(post, path = "/api/bucket/{id}/remove_user", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = EmailBody,
    responses(
        (status = 200, body = [Object], description = "The members left"),
        (status = 400, body = ErrorBody, description = "`email` missing"),
        (status = 403, body = ErrorBody, description = "impossible to remove the owner from the bucket; or the caller's role does not allow it (owner: anyone; admin: users and developers; anyone: themselves)"),
        (status = 404, body = ErrorBody, description = "user not found (not a member); or no such bucket"),
    ))]
pub async fn remove_user(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let email = body.required("email")?;
    let done = state
        .workspaces
        .remove_member(
            id,
            &caller.user_id,
            &email,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(done.position, json!(members_of(&done))))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RoleBody {
    email: String,
    /// `user`, `developer` or `admin`.
    #[schema(example = "admin")]
    role: String,
}

#[utoipa::path(post, path = "/api/bucket/{id}/promote_user", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = RoleBody,
    responses(
        (status = 200, body = [Object], description = "The members"),
        (status = 400, body = ErrorBody, description = "`email` or `role` missing or invalid (`owner` needs a transfer)"),
        (status = 403, body = ErrorBody, description = "impossible to set the role of the owner; or the caller is not the owner"),
        (status = 404, body = ErrorBody, description = "user not found; or no such bucket"),
    ))]
pub async fn promote_user(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let email = body.required("email")?;
    let role = body.required("role")?;
    let role = Role::parse(role.trim())
        .ok_or_else(|| AppError::invalid("role", "must be one of user, developer, admin"))?;
    let done = state
        .workspaces
        .set_role(
            id,
            &caller.user_id,
            &email,
            role,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(done.position, json!(members_of(&done))))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NotificationBody {
    email: String,
    /// `email` or `none`.
    #[schema(example = "none")]
    state: String,
}

#[utoipa::path(post, path = "/api/bucket/{id}/manage_notif", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = NotificationBody,
    responses(
        (status = 200, body = [Object], description = "Every member's state: `{_id, email, username, state}`"),
        (status = 400, body = ErrorBody, description = "`email` or `state` missing or invalid"),
        (status = 403, body = ErrorBody, description = "Only an admin or the owner can change another member's state"),
        (status = 404, body = ErrorBody, description = "user not found; or no such bucket"),
    ))]
pub async fn manage_notif(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let email = body.required("email")?;
    let notification = body.required("state")?;
    let notification = NotificationState::parse(notification.trim())
        .ok_or_else(|| AppError::invalid("state", "must be email or none"))?;
    let done = state
        .workspaces
        .set_notification(
            id,
            &caller.user_id,
            &email,
            notification,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    let states: Vec<Value> = members_of(&done)
        .into_iter()
        .map(|m| {
            json!({"_id": m["_id"], "email": m["email"], "username": m["username"], "state": m["notification"]})
        })
        .collect();
    Ok(written(done.position, json!(states)))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TransferBody {
    /// The new owner's email (`newowner` is accepted too); they must be a member.
    #[schema(example = "bob@example.com")]
    new_owner: String,
}

#[utoipa::path(post, path = "/api/bucket/{id}/transfer_ownership", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = TransferBody,
    responses(
        (status = 200, body = Object, description = "The bucket; the old owner is now admin"),
        (status = 400, body = ErrorBody, description = "`new_owner` missing or invalid"),
        (status = 403, body = ErrorBody, description = "the new owner need to have a active credit card (paid plan; see `POST /api/bucket/{id}/payment/cards`); or the caller is not the owner"),
        (status = 404, body = ErrorBody, description = "user not found (not a member); or no such bucket"),
    ))]
pub async fn transfer_ownership(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let new_owner = body.required_any(&["new_owner", "newowner"])?;
    let done = state
        .workspaces
        .transfer(
            id,
            &caller.user_id,
            &new_owner,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(
        done.position,
        rendered(&state, &done, &caller.user_id),
    ))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OptionsBody {
    #[schema(value_type = Object)]
    options: Value,
}

#[utoipa::path(put, path = "/api/bucket/{id}/user_options", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = OptionsBody,
    responses(
        (status = 200, description = "`{bucket}`, with the caller's options in `user_options`"),
        (status = 400, body = ErrorBody, description = "`options` missing or not an object"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn user_options(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let options = match body.value("options") {
        Some(options @ Value::Object(_)) => options.clone(),
        Some(_) => return Err(AppError::invalid("options", "must be an object").into()),
        None => return Err(AppError::invalid("options", "is required").into()),
    };
    let done = state
        .workspaces
        .set_user_options(
            id,
            &caller.user_id,
            options,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    let bucket = rendered(&state, &done, &caller.user_id);
    Ok(written(done.position, json!({ "bucket": bucket })))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct FeedbackBody {
    feedback: String,
}

#[utoipa::path(put, path = "/api/bucket/{id}/feedback", tag = "workspaces: members",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = FeedbackBody,
    responses(
        (status = 200, description = "`{feedback}`: recorded (as a `FeedbackSent` event)"),
        (status = 400, body = ErrorBody, description = "missing feedback field"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn feedback(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let feedback = body.required("feedback")?;
    let done = state
        .workspaces
        .send_feedback(
            id,
            &caller.user_id,
            feedback.clone(),
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(done.position, json!({ "feedback": feedback })))
}

#[cfg(test)]
mod tests {
    use super::query_email;

    #[test]
    fn the_invitation_email_comes_url_encoded() {
        assert_eq!(query_email(Some("email=a%40b.c")).as_deref(), Some("a@b.c"));
        assert_eq!(query_email(Some("x=1")), None);
        assert_eq!(query_email(Some("email=")), None);
        assert_eq!(query_email(None), None);
    }
}
