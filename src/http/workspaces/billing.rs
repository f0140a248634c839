//! Plans and payment: the plan catalogue, payment methods, and the four deprecated billing
//! routes of the seed (subscription, upgrade, start trial, charges), which still work and
//! answer with `Deprecation: true`.
//!
//! A member records a payment method with `POST /api/bucket/:id/payment/cards {token}` (what
//! `@pm2/js-api` calls `bucket.billing.attachCreditCard`): the provider turns the one-time card
//! token into a stored method, recorded on the bucket for that member. The owner may also give
//! a `stripe_token` when upgrading. A paid bucket can only be transferred to a member with a
//! method on file.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::WorkspacesCaller;
use super::buckets::rendered;
use super::errors::{ErrorBody, WorkspacesError};
use super::request::{Body, bucket_id, deprecated, read, written};
use super::views;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::services::error::AppError;

type Result<T> = std::result::Result<T, WorkspacesError>;

#[utoipa::path(get, path = "/api/misc/plans", tag = "workspaces: billing",
    responses(
        (status = 200, body = Object, description = "The plan catalogue keyed by plan name: `{name, max_members, max_servers, price, currency, interval}` (price per month in cents; members count pending invitations). Public"),
    ))]
pub async fn plans(State(state): State<AppState>) -> Json<Value> {
    let config = &state.workspaces.config;
    let plans: serde_json::Map<String, Value> = config
        .plans
        .values()
        .map(|p| {
            let plan = json!({
                "name": p.name,
                "max_members": p.limits.max_members,
                "max_servers": p.limits.max_servers,
                "price": p.price,
                "currency": p.currency,
                "interval": "month",
                "free": !p.is_paid(),
                "trial": p.name == config.trial_plan,
            });
            (p.name.clone(), plan)
        })
        .collect();
    Json(Value::Object(plans))
}

/// The bucket document if the caller is its owner: 404 for strangers, 403 for others.
async fn owner_only(state: &AppState, id: &str, user_id: &str) -> Result<Value> {
    let doc = views::bucket(state, id, user_id).await?;
    if views::member(&doc, user_id).is_none_or(|m| m["role"] != "owner") {
        return Err(
            AppError::Forbidden("only the owner can see the bucket's billing".into()).into(),
        );
    }
    Ok(doc)
}

#[utoipa::path(get, path = "/api/bucket/{id}/subscription", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = Object, description = "The subscription: `{plan, status (active or trialing), amount, currency, interval, max_members, max_servers, trial_end}`. Answers carry `Deprecation: true`"),
        (status = 403, body = ErrorBody, description = "Only the owner sees billing"),
        (status = 404, body = ErrorBody, description = "the bucket doesnt have any subscription (free plan); or no such bucket"),
    ))]
#[deprecated(
    note = "replaced by /api/bucket/{id}/payment/subscription: `bucket.billing.getSubcription`"
)]
pub async fn subscription(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id = bucket_id(&id)?;
        let freshness = views::fresh(&state, &headers).await?;
        let doc = owner_only(&state, id, &caller.user_id).await?;
        let subscription = views::subscription(&doc, Utc::now())
            .ok_or_else(|| AppError::NotFound("the bucket doesnt have any subscription".into()))?;
        Ok(read(freshness, Json(subscription)))
    }
    .await;
    deprecated(result, &format!("/api/bucket/{id}/payment/subscription"))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpgradeBody {
    /// A plan of `GET /api/misc/plans`.
    #[schema(example = "pro_8")]
    plan: String,
    /// A card token (`tok_*` with the local provider); without it, the owner's card on file.
    #[schema(example = "tok_visa")]
    stripe_token: Option<String>,
    /// Accepted and ignored.
    coupon_id: Option<String>,
}

#[utoipa::path(post, path = "/api/bucket/{id}/upgrade", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = UpgradeBody,
    responses(
        (status = 200, description = "`{bucket, subscription}`; a paid plan was charged (see `payment/charges`). Answers carry `Deprecation: true`"),
        (status = 400, body = ErrorBody, description = "`plan` missing or unknown, or already the bucket's plan; `stripe_token` invalid"),
        (status = 403, body = ErrorBody, description = "need a credit card OR not allowed to subscribe to the plan (too many members or servers); card declined; or the caller is not the owner"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
#[deprecated(note = "replaced by /api/bucket/{id}/payment/subscribe: `bucket.billing.subscribe`")]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let result = async {
        let id = bucket_id(&id)?;
        let plan = body.required("plan")?;
        let token = body.optional("stripe_token")?;
        body.optional("coupon_id")?;
        let (done, _) = state
            .workspaces
            .change_plan(
                id,
                &caller.user_id,
                plan.trim(),
                token.as_deref().filter(|t| !t.trim().is_empty()),
                &meta.metadata(Some(&caller.user_id)),
            )
            .await?;
        let bucket = rendered(&state, &done, &caller.user_id);
        let subscription = views::subscription(&done.doc.doc, Utc::now());
        Ok(written(
            done.position,
            json!({"bucket": bucket, "subscription": subscription}),
        ))
    }
    .await;
    deprecated(result, &format!("/api/bucket/{id}/payment/subscribe"))
}

#[utoipa::path(put, path = "/api/bucket/{id}/start_trial", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, description = "`{duration, plan, trial_end}`: the trial runs on the trial plan (`ANNALS_TRIAL_PLAN`) for `ANNALS_TRIAL_DAYS`. Answers carry `Deprecation: true`"),
        (status = 400, body = ErrorBody, description = "can't claim trial: one trial per account, never on a paid bucket or twice on one"),
        (status = 403, body = ErrorBody, description = "Only the owner starts a trial"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
#[deprecated(note = "replaced by /api/bucket/{id}/payment/trial: `bucket.billing.startTrial`")]
pub async fn start_trial(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id = bucket_id(&id)?;
        let done = state
            .workspaces
            .start_trial(id, &caller.user_id, &meta.metadata(Some(&caller.user_id)))
            .await?;
        let days = state.workspaces.config.trial_days;
        let trial_end = done.bucket.trial.as_ref().map(|t| t.ends_at);
        Ok(written(
            done.position,
            json!({
                "duration": format!("{days} days"),
                "plan": state.workspaces.config.trial_plan,
                "trial_end": trial_end,
            }),
        ))
    }
    .await;
    deprecated(result, &format!("/api/bucket/{id}/payment/trial"))
}

#[utoipa::path(get, path = "/api/bucket/{id}/payment/charges", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = [Object], description = "The charges, newest first: `{_id, amount, currency, plan, payment_method, provider, status, created_at}`. Answers carry `Deprecation: true`"),
        (status = 403, body = ErrorBody, description = "Only the owner sees billing"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
#[deprecated(note = "replaced by /api/bucket/{id}/payment/invoices: `bucket.billing.getInvoices`")]
pub async fn charges(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id = bucket_id(&id)?;
        let freshness = views::fresh(&state, &headers).await?;
        owner_only(&state, id, &caller.user_id).await?;
        Ok(read(freshness, Json(views::charges(&state, id).await?)))
    }
    .await;
    deprecated(result, &format!("/api/bucket/{id}/payment/invoices"))
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CardBody {
    /// A one-time card token (`tok_*` with the local provider).
    #[schema(example = "tok_visa")]
    token: String,
}

#[utoipa::path(post, path = "/api/bucket/{id}/payment/cards", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    request_body = CardBody,
    responses(
        (status = 200, body = Object, description = "The caller's new payment method `{_id, provider, brand, last4}`, recorded on the bucket"),
        (status = 400, body = ErrorBody, description = "`token` missing or not a valid card token"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn attach_card(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let token = body.required("token")?;
    let (done, method) = state
        .workspaces
        .attach_payment_method(
            id,
            &caller.user_id,
            token.trim(),
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(
        done.position,
        json!({"_id": method.id, "provider": method.provider, "brand": method.brand, "last4": method.last4}),
    ))
}

#[utoipa::path(get, path = "/api/bucket/{id}/payment/cards", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "bucket id")),
    responses(
        (status = 200, body = [Object], description = "The caller's payment methods on this bucket"),
        (status = 404, body = ErrorBody, description = "No such bucket, or the caller is not a member"),
    ))]
pub async fn list_cards(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let freshness = views::fresh(&state, &headers).await?;
    views::membership(&state, id, &caller.user_id).await?;
    let cards = views::payment_methods(&state, id, &caller.user_id).await?;
    Ok(read(freshness, Json(cards)))
}

#[utoipa::path(delete, path = "/api/bucket/{id}/payment/card/{card_id}", tag = "workspaces: billing",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "bucket id"),
        ("card_id" = String, Path, description = "payment method id"),
    ),
    responses(
        (status = 200, description = "`{}`: removed"),
        (status = 403, body = ErrorBody, description = "The owner of a paid bucket must keep a payment method"),
        (status = 404, body = ErrorBody, description = "No such payment method of the caller, no such bucket, or the caller is not a member"),
    ))]
pub async fn delete_card(
    State(state): State<AppState>,
    caller: WorkspacesCaller,
    meta: RequestMeta,
    Path((id, card_id)): Path<(String, String)>,
) -> Result<Response> {
    let id = bucket_id(&id)?;
    let done = state
        .workspaces
        .detach_payment_method(
            id,
            &caller.user_id,
            &card_id,
            &meta.metadata(Some(&caller.user_id)),
        )
        .await?;
    Ok(written(done.position, json!({})))
}
