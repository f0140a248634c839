//! Erasing a person's personal data (`annals admin erase-user`, `POST /api/admin/users/{id}/erase`).
//!
//! The log keeps every event as stored (it is hash-chained and append-only); the person's
//! fields in it are sealed with their keys (`annals_domain::personal`, `adapters::sealed`).
//! Erasure deletes those keys, after recording it as events, in this order:
//!
//! 1. Each bucket the person is in or invited to gets `ErasePerson`: a pending invitation of
//!    their address is withdrawn and their member entry erased (`MemberErased`). Read models
//!    key invitations by address, so the withdrawal has to be applied while the address can
//!    still be read: erasure waits until the bucket views applied it.
//! 2. The user stream gets `UserErased` (the account is gone: login and every command refused)
//!    and the email claim is released (the address may register again, as a new person with
//!    nothing of the old one).
//! 3. The keys of the person (`user:<id>`) and of their address (`email:<digest>`) are
//!    deleted. From then on every reader (replay, `/api/history`, the relay's publications,
//!    projection catch-up and rebuild, aggregate loads) reads the erased form, and the live
//!    read models show the same values, set by the erasure events.
//!
//! Events stored before personal fields were sealed hold them in plaintext; they cannot be
//! erased without rewriting rows, which the hash chain forbids. Their live read models are
//! still erased (step 1 and 2), but a rebuild or a replay shows what those rows hold.
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use annals_contracts::filter::{FieldPath, Filter, Query};
use annals_contracts::{EventReader, Position, ProgressBoard, ViewStore};
use annals_domain::identity::{EmailClaimCommand, UserCommand, normalize_email};
use annals_domain::personal::user_subjects;
use annals_domain::workspaces::BucketCommand;
use annals_projections::Projection;
use annals_projections::workspaces::{BucketViews, INVITATIONS, MEMBERS};

use crate::adapters::person_keys::Sealer;
use crate::es::commands::Metadata;
use crate::services::catch_up;
use crate::services::error::AppError;
use crate::services::identity::{Identity, claim_id};
use crate::services::workspaces::Workspaces;

/// Longest wait for the bucket views (before the keys are deleted).
const VIEWS_WAIT: Duration = Duration::from_secs(30);
/// Buckets one person can be in, at most, as far as erasure looks.
const MAX_BUCKETS: u32 = 10_000;

pub struct Erasure {
    pub identity: Arc<Identity>,
    pub workspaces: Arc<Workspaces>,
    pub views: Arc<dyn ViewStore>,
    pub log: Arc<dyn EventReader>,
    pub progress: Arc<ProgressBoard>,
    pub sealer: Arc<Sealer>,
}

/// What an erasure did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Erased {
    pub user_id: String,
    /// Buckets whose member entry or invitation was erased.
    pub buckets: Vec<String>,
    /// Keys deleted (0 when the person was erased before).
    pub keys_deleted: u64,
    /// The position of the erasure's last event (`X-Annals-Position`).
    #[schema(value_type = String)]
    pub position: Position,
}

fn lookup(field: &str, value: &str) -> Query {
    Query {
        filter: Filter::Eq(
            FieldPath::parse(field).expect("a valid field path"),
            json!(value),
        ),
        sort: vec![],
        limit: MAX_BUCKETS,
        offset: 0,
        after: None,
        count: false,
        within: None,
    }
}

impl Erasure {
    /// Waits until the bucket views applied the log up to `target` (by default its head).
    async fn buckets_applied(&self, target: Option<Position>) -> Result<(), AppError> {
        let target = match target {
            Some(target) => target,
            None => match self.log.head().await? {
                Some(head) => head,
                None => return Ok(()),
            },
        };
        catch_up::applied(
            self.views.as_ref(),
            &self.progress,
            BucketViews.name(),
            target,
            VIEWS_WAIT,
            &CancellationToken::new(),
        )
        .await
        .map_err(|e| AppError::Unavailable(format!("erasure not done, nothing deleted: {e}")))
    }

    /// The buckets `user_id` is a member of or `email` is invited to.
    async fn buckets_of(&self, user_id: &str, email: &str) -> Result<Vec<String>, AppError> {
        let mut buckets = Vec::new();
        for (collection, query) in [
            (MEMBERS, lookup("user_id", user_id)),
            (INVITATIONS, lookup("email", &normalize_email(email))),
        ] {
            for (_, doc) in self.views.find(collection, &query).await?.items {
                if let Some(bucket) = doc["bucket_id"].as_str() {
                    buckets.push(bucket.to_string());
                }
            }
        }
        buckets.sort();
        buckets.dedup();
        Ok(buckets)
    }

    /// The account holding `email`, erased or not.
    pub async fn user_id_by_email(&self, email: &str) -> Result<String, AppError> {
        let claim = self.identity.claims.load(&claim_id(email)).await?;
        claim
            .holder
            .ok_or_else(|| AppError::NotFound("no account has this email".into()))
    }

    /// Erases the personal data of the user `user_id` (see the module comment). Asking again
    /// is harmless.
    pub async fn erase_user(&self, user_id: &str, metadata: &Metadata) -> Result<Erased, AppError> {
        let user = self.identity.users.load(user_id).await?;
        if !user.registered {
            return Err(AppError::NotFound("user not found".into()));
        }
        let actor = metadata.actor.clone().unwrap_or_else(|| "admin".into());
        // The person's email as stored (already the erased form when erased before: then
        // nothing in the views is found by it, and the keys are gone).
        let email = user.email.clone();
        self.buckets_applied(None).await?;
        let buckets = self.buckets_of(user_id, &email).await?;
        let mut position = Position::ZERO;
        for bucket in &buckets {
            let command = BucketCommand::ErasePerson {
                actor: actor.clone(),
                user_id: user_id.to_string(),
                email: normalize_email(&email),
                at: Utc::now(),
            };
            let done = self
                .workspaces
                .buckets
                .execute(bucket, command, metadata)
                .await?;
            position = position.max(done);
        }
        let erased = self
            .identity
            .users
            .execute(user_id, UserCommand::Erase { at: Utc::now() }, metadata)
            .await?;
        position = position.max(erased);
        let claim = claim_id(&email);
        if self.identity.claims.load(&claim).await?.holder.as_deref() == Some(user_id) {
            let release = EmailClaimCommand::Release {
                user_id: user_id.to_string(),
                at: Utc::now(),
            };
            position = position.max(
                self.identity
                    .claims
                    .execute(&claim, release, metadata)
                    .await?,
            );
        }
        // The withdrawals must reach the views while they can be read.
        self.buckets_applied(Some(position)).await?;
        let keys_deleted = self
            .sealer
            .erase(&user_subjects(user_id, &email))
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        tracing::info!(
            user_id,
            actor,
            keys_deleted,
            buckets = buckets.len(),
            "personal data erased"
        );
        Ok(Erased {
            user_id: user_id.to_string(),
            buckets,
            keys_deleted,
            position,
        })
    }
}
