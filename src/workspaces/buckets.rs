//! Buckets (workspaces). For now only the list of the caller's buckets, which
//! `@pm2/js-api` also fetches right after every token exchange (`GET /api/bucket`, no
//! trailing slash) and needs to be a JSON array before it sends anything else.
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use annals_projections::filter::{FieldPath, Filter, Query, Sort};

use super::auth::WorkspacesCaller;
use super::errors::{ErrorBody, WorkspacesError};
use crate::app::AppState;
use crate::error::AppError;

/// The read-model collection of buckets, one document per bucket, id = the bucket's `_id`.
/// Each document lists its members' user ids in `member_ids`.
///
/// Nothing writes it yet: the Bucket aggregate and its projection come later, so every list
/// is empty until then. Reads do not wait on the read gate for the same reason (no projection
/// is registered under a name to wait for); once the bucket projection exists, the list
/// should `state.gate.wait(&headers, &[<its name>])` first, as `/core/me` does.
pub const BUCKETS: &str = "buckets";

/// Far above any plan's bucket cap; keeps a pathological account from loading everything.
const MAX_LISTED: u32 = 1000;

/// The bucket documents `user_id` is a member of, oldest first.
pub async fn of_member(state: &AppState, user_id: &str) -> Result<Vec<(String, Value)>, AppError> {
    let query = Query {
        filter: Filter::Contains(
            FieldPath::parse("member_ids").expect("a valid field path"),
            json!(user_id),
        ),
        sort: vec![Sort::parse("created_at").expect("a valid sort key")],
        limit: MAX_LISTED,
        offset: 0,
    };
    Ok(state.gate.views.find(BUCKETS, &query).await?.items)
}

#[utoipa::path(get, path = "/api/bucket", tag = "workspaces: buckets",
    security(("bearer" = [])),
    responses(
        (status = 200, body = [Object], description = "The buckets the caller is a member of (also served at `/api/bucket/`)"),
        (status = 401, body = ErrorBody, description = "Missing, invalid, expired or revoked access token"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
) -> Result<Json<Vec<Value>>, WorkspacesError> {
    let buckets = of_member(&state, &caller.user_id).await?;
    Ok(Json(buckets.into_iter().map(|(_, doc)| doc).collect()))
}
