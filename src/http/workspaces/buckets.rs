//! Buckets (workspaces): create, list, retrieve, update, delete, and the caller's role.
//!
//! `@pm2/js-api` fetches the list right after every token exchange (`GET /api/bucket`, no
//! trailing slash) and needs a JSON array before it sends anything else; before any call about
//! a bucket it fetches `GET /api/bucket/:id` and sends the call to `node.endpoints.web`, which
//! is this server's public URL.
//!
//! Reads come from the read models (`annals_projections::workspaces`) once they have caught up
//! with every earlier write ([`views::fresh`]); answers to writes are rendered, by the same
//! renderer, from the bucket document folded from the command's events. Everything under
//! `/api/bucket/:id` answers 404 to non-members.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use annals_domain::identity::normalize_email;
use annals_domain::workspaces::Person;

use super::auth::WorkspacesCaller;
use super::errors::{ErrorBody, WorkspacesError};
use super::request::{Body, bucket_id, read, written};
use super::views;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;
use crate::services::workspaces::service::{BucketFields, Written};

/// The read-model collection of buckets, one document per bucket, id = the bucket's `_id`
/// (see `annals_projections::workspaces`).
pub use annals_projections::workspaces::BUCKETS;

type Result<T> = std::result::Result<T, WorkspacesError>;

/// The bucket documents `user_id` is a member of, oldest first, once the read models hold
/// every write committed before the call.
pub async fn of_member(
    state: &AppState,
    user_id: &str,
) -> std::result::Result<Vec<(String, Value)>, AppError> {
    views::fresh(state, &HeaderMap::new()).await?;
    Ok(views::buckets_of(state, user_id)
        .await?
        .into_iter()
        .map(|doc| {
            let id = doc["_id"].as_str().unwrap_or_default().to_string();
            (id, doc)
        })
        .collect())
}

/// The API's bucket object after a write, from the document its events lead to.
pub(super) fn rendered(state: &AppState, written: &Written, caller: &str) -> Value {
    views::render(
        &written.doc.doc,
        caller,
        &state.identity.public_url,
        Utc::now(),
    )
}

/// `configuration`: any JSON value but null.
fn configuration(body: &Body) -> Option<Value> {
    body.value("configuration").cloned()
}

#[utoipa::path(get, path = "/api/bucket", tag = "workspaces: buckets",
    security(("bearer" = [])),
    responses(
        (status = 200, body = [Object], description = "The buckets the caller is a member of, as `GET /api/bucket/{id}` shows them (also served at `/api/bucket/`)"),
        (status = 401, body = ErrorBody, description = "Missing, invalid, expired or revoked access token"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
) -> Result<Response> {
    let freshness = views::fresh(&state, &headers).await?;
    let now = Utc::now();
    let buckets: Vec<Value> = views::buckets_of(&state, &caller.user_id)
        .await?
        .iter()
        .map(|doc| views::render(doc, &caller.user_id, &state.identity.public_url, now))
        .collect();
    Ok(read(freshness, Json(buckets)))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads it field by field for precise errors
pub struct CreateBucket {
    #[schema(example = "prod")]
    name: String,
    #[schema(example = "EU cluster")]
    comment: Option<String>,
    #[schema(example = "https://example.com")]
    app_url: Option<String>,
    /// Any JSON value.
    #[schema(value_type = Option<Object>)]
    configuration: Option<Value>,
}

#[utoipa::path(post, path = "/api/bucket/create_classic", tag = "workspaces: buckets",
    security(("bearer" = [])),
    request_body = CreateBucket,
    responses(
        (status = 200, description = "`{bucket}`: the created bucket, owned by the caller, on the free plan"),
        (status = 400, body = ErrorBody, description = "`name` missing or invalid"),
        (status = 403, body = ErrorBody, description = "you cant create any more bucket (the per-account cap, `ANNALS_MAX_OWNED_BUCKETS`)"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    body: Body,
) -> Result<Response> {
    let fields = BucketFields {
        name: Some(body.required("name")?),
        comment: body.optional("comment")?,
        app_url: body.optional("app_url")?,
        configuration: configuration(&body),
    };
    let user = state.identity.user(&caller.user_id).await?;
    let owner = Person {
        user_id: user.user_id,
        email: normalize_email(&user.email),
    };
    let done = state
        .workspaces
        .create(owner, fields, &meta.metadata(Some(&caller.user_id)))
        .await?;
    let bucket = rendered(&state, &done, &caller.user_id);
    Ok(written(done.position, json!({ "bucket": bucket })))
}

#[utoipa::path(get, path = "/api/bucket/{id}", tag = "workspaces: buckets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id (24 hex digits)")),
    responses(
        (status = 200, body = Object, description = "The bucket: `_id`, `name`, `comment`, `app_url`, `configuration`, `public_id`, `secret_id`, `owner`, `credits.offer_type`, `payment.offer_type`, `members`, `invitations`, `node.endpoints.web`, `created_at`, `updated_at`"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let freshness = views::fresh(&state, &headers).await?;
    let doc = views::bucket(&state, id, &caller.user_id).await?;
    let bucket = views::render(
        &doc,
        &caller.user_id,
        &state.identity.public_url,
        Utc::now(),
    );
    Ok(read(freshness, Json(bucket)))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateBucket {
    name: Option<String>,
    comment: Option<String>,
    app_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    configuration: Option<Value>,
}

#[utoipa::path(put, path = "/api/bucket/{id}", tag = "workspaces: buckets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = UpdateBucket,
    responses(
        (status = 200, body = Object, description = "The updated bucket"),
        (status = 400, body = ErrorBody, description = "None of the fields given, or one is invalid"),
        (status = 403, body = ErrorBody, description = "Only an admin or the owner can update"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let fields = BucketFields {
        name: body.optional("name")?,
        comment: body.optional("comment")?,
        app_url: body.optional("app_url")?,
        configuration: configuration(&body),
    };
    if fields.name.is_none()
        && fields.comment.is_none()
        && fields.app_url.is_none()
        && fields.configuration.is_none()
    {
        // Membership first: a stranger learns nothing, not even what is missing.
        state.workspaces.bucket_for(id, &caller.user_id).await?;
        return Err(AppError::invalid(
            "name",
            "missing parameters: give name, comment, app_url or configuration",
        )
        .into());
    }
    let done = state
        .workspaces
        .update(
            id,
            &caller.user_id,
            fields,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(
        done.position,
        rendered(&state, &done, &caller.user_id),
    ))
}

#[utoipa::path(delete, path = "/api/bucket/{id}", tag = "workspaces: buckets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = Object, description = "The deleted bucket"),
        (status = 403, body = ErrorBody, description = "Only the owner can delete the bucket"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn destroy(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let done = state
        .workspaces
        .delete(id, &caller.user_id, &meta.metadata(Some(&caller.user_id)))
        .await?;
    Ok(written(
        done.position,
        rendered(&state, &done, &caller.user_id),
    ))
}

#[utoipa::path(get, path = "/api/bucket/{id}/current_role", tag = "workspaces: buckets",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = String, content_type = "text/plain", description = "The caller's role: `owner`, `admin`, `developer` or `user` (plain text)"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn current_role(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let freshness = views::fresh(&state, &headers).await?;
    let member = views::membership(&state, id, &caller.user_id).await?;
    let role = member["role"].as_str().unwrap_or("user").to_string();
    let mut response = role.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(read(freshness, response))
}
