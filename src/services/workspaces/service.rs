//! Bucket use cases: IO around the bucket and account aggregates (ids, account lookups,
//! payments, mail), the rules themselves stay in the domain.
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use serde_json::Value;

use annals_contracts::Position;
use annals_domain::identity::normalize_email;
use annals_domain::workspaces::{
    AccountCommand, AccountError, Bucket, BucketCommand, BucketEvent, Charge, NotificationState,
    PaymentMethod, Person, Plan, Role, WorkspaceAccount,
};
use annals_projections::workspaces::BucketDoc;

use super::config::WorkspacesConfig;
use super::payments::{PaymentError, PaymentProvider};
use crate::adapters::mail::Mail;
use crate::es::commands::{CommandError, Commands, Metadata};
use crate::es::viewed::{Fold, Viewed};
use crate::services::error::AppError;
use crate::services::identity::{Identity, validate_email};

/// How long a reserved bucket slot may stay without its bucket before the reservation counts
/// as abandoned (a creation that crashed between the two writes).
const ABANDONED_AFTER: Duration = Duration::minutes(5);

/// A bucket's state with its read-model document (`annals_projections::workspaces`).
pub type ViewedBucket = Viewed<Bucket, BucketDoc>;

impl Fold<BucketEvent> for BucketDoc {
    fn apply(&mut self, event: &BucketEvent) {
        BucketDoc::apply(self, event);
    }
}

pub struct Workspaces {
    pub buckets: Commands<ViewedBucket>,
    pub accounts: Commands<WorkspaceAccount>,
    pub config: WorkspacesConfig,
    pub payments: Arc<dyn PaymentProvider>,
}

/// A Mongo-style ObjectId: 4 bytes of seconds, 8 random bytes, as 24 lowercase hex digits.
pub fn object_id(at: DateTime<Utc>) -> String {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&(at.timestamp() as u32).to_be_bytes());
    let random: [u8; 8] = rand::random();
    bytes[4..].copy_from_slice(&random);
    hex::encode(bytes)
}

pub fn is_object_id(id: &str) -> bool {
    id.len() == 24
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A bucket key: 15 lowercase letters and digits.
pub fn bucket_key() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..15)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The editable fields of a bucket.
#[derive(Debug, Default, Clone)]
pub struct BucketFields {
    pub name: Option<String>,
    pub comment: Option<String>,
    pub app_url: Option<String>,
    pub configuration: Option<Value>,
}

/// A write's outcome: the stream position to report, the bucket after it, and its read-model
/// document after it (what answers render, as reads do).
pub struct Written {
    pub position: Position,
    pub bucket: Bucket,
    pub doc: BucketDoc,
}

/// What an invitation did, for the answer and the mail.
pub struct Invited {
    pub written: Written,
    /// The address has no account yet: an invitation is pending.
    pub pending: bool,
}

fn payment_error(e: PaymentError) -> AppError {
    match e {
        PaymentError::InvalidToken => AppError::invalid("token", "is not a valid card token"),
        PaymentError::Declined => AppError::Forbidden("your card was declined".into()),
        PaymentError::Unavailable(detail) => AppError::Unavailable(detail),
    }
}

impl Workspaces {
    async fn run(
        &self,
        id: &str,
        command: BucketCommand,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let done = self
            .buckets
            .execute_returning(id, command, metadata)
            .await?;
        Ok(Written {
            position: done.position,
            bucket: done.state.state,
            doc: done.state.view,
        })
    }

    /// The bucket's current state, from the log.
    async fn load(&self, id: &str) -> Result<Bucket, AppError> {
        Ok(self.buckets.load(id).await?.state)
    }

    /// The bucket as its member `user_id` may see it (consistent with every earlier write).
    pub async fn bucket_for(&self, id: &str, user_id: &str) -> Result<Bucket, AppError> {
        let bucket = self.load(id).await?;
        bucket.as_member(user_id)?;
        Ok(bucket)
    }

    pub async fn create(
        &self,
        owner: Person,
        fields: BucketFields,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let name = fields
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| AppError::invalid("name", "is required"))?;
        let at = Utc::now();
        let bucket_id = object_id(at);
        self.reserve_slot(&owner.user_id, &bucket_id, metadata)
            .await?;
        let command = BucketCommand::Create {
            bucket_id: bucket_id.clone(),
            name,
            comment: fields.comment.unwrap_or_default(),
            app_url: fields.app_url.unwrap_or_default(),
            configuration: fields
                .configuration
                .unwrap_or_else(|| Value::Object(Default::default())),
            public_id: bucket_key(),
            secret_id: bucket_key(),
            owner: owner.clone(),
            plan: self.config.free().clone(),
            at,
        };
        match self.run(&bucket_id, command, metadata).await {
            Ok(written) => Ok(written),
            Err(e) => {
                self.release_slot(&owner.user_id, &bucket_id, metadata)
                    .await;
                Err(e)
            }
        }
    }

    /// Takes a slot of the owner's bucket cap. At the cap, abandoned reservations (buckets
    /// deleted or transferred while the release failed, creations that crashed) are given back
    /// first.
    async fn reserve_slot(
        &self,
        user_id: &str,
        bucket_id: &str,
        metadata: &Metadata,
    ) -> Result<(), AppError> {
        let reserve = || AccountCommand::ReserveBucket {
            bucket_id: bucket_id.to_string(),
            max: self.config.max_owned_buckets,
            at: Utc::now(),
        };
        match self.accounts.execute(user_id, reserve(), metadata).await {
            Err(CommandError::Domain(AccountError::BucketLimitReached)) => {
                if self.reconcile(user_id, metadata).await? == 0 {
                    return Err(AccountError::BucketLimitReached.into());
                }
                self.accounts.execute(user_id, reserve(), metadata).await?;
                Ok(())
            }
            other => other.map(|_| ()).map_err(AppError::from),
        }
    }

    async fn release_slot(&self, user_id: &str, bucket_id: &str, metadata: &Metadata) {
        let release = AccountCommand::ReleaseBucket {
            bucket_id: bucket_id.to_string(),
            at: Utc::now(),
        };
        if let Err(e) = self.accounts.execute(user_id, release, metadata).await {
            tracing::warn!(error = %e, bucket_id, "bucket slot not released; reconciled later");
        }
    }

    /// Releases the owner's slots whose bucket is gone, owned by someone else, or was never
    /// created. Returns how many.
    async fn reconcile(&self, user_id: &str, metadata: &Metadata) -> Result<usize, AppError> {
        let account = self.accounts.load(user_id).await?;
        let now = Utc::now();
        let mut released = 0;
        for (bucket_id, reserved_at) in account.owned {
            let bucket = self.load(&bucket_id).await?;
            let stale = if bucket.created {
                bucket.deleted || bucket.owner != user_id
            } else {
                now - reserved_at > ABANDONED_AFTER
            };
            if stale {
                let release = AccountCommand::ReleaseBucket { bucket_id, at: now };
                self.accounts.execute(user_id, release, metadata).await?;
                released += 1;
            }
        }
        Ok(released)
    }

    pub async fn update(
        &self,
        id: &str,
        actor: &str,
        fields: BucketFields,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::Update {
            actor: actor.to_string(),
            name: fields.name,
            comment: fields.comment,
            app_url: fields.app_url,
            configuration: fields.configuration,
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    pub async fn delete(
        &self,
        id: &str,
        actor: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::Delete {
            actor: actor.to_string(),
            at: Utc::now(),
        };
        let written = self.run(id, command, metadata).await?;
        self.release_slot(actor, id, metadata).await;
        Ok(written)
    }

    /// Invites `email`: an account is added at once; an unknown address gets a pending
    /// invitation (accepted when it registers: see `invitations`).
    pub async fn invite(
        &self,
        identity: &Identity,
        id: &str,
        actor: &str,
        email: &str,
        metadata: &Metadata,
    ) -> Result<Invited, AppError> {
        let email = normalize_email(&validate_email(email)?);
        let existing = self.person(identity, &email).await?;
        let command = BucketCommand::Invite {
            actor: actor.to_string(),
            email: email.clone(),
            existing,
            at: Utc::now(),
        };
        let mut written = self.run(id, command, metadata).await?;
        let mut pending = written.bucket.invitation(&email).is_some();
        if pending {
            // The address may have registered since it was looked up; its registration may
            // then have been handled before this invitation existed. Accept it here.
            if let Some(person) = self.person(identity, &email).await? {
                let accept = BucketCommand::AcceptInvitation {
                    person,
                    at: Utc::now(),
                };
                written = self.run(id, accept, metadata).await?;
                pending = false;
            }
        }
        if pending {
            self.mail_invitation(identity, &written.bucket, actor, &email)
                .await;
        }
        Ok(Invited { written, pending })
    }

    async fn person(&self, identity: &Identity, email: &str) -> Result<Option<Person>, AppError> {
        Ok(identity.user_by_email(email).await?.map(|user| Person {
            email: normalize_email(&user.email),
            user_id: user.user_id,
        }))
    }

    /// A failed mail does not undo the invitation; it is logged.
    async fn mail_invitation(&self, identity: &Identity, bucket: &Bucket, actor: &str, to: &str) {
        let inviter = bucket
            .member(actor)
            .map_or_else(|| "A member".to_string(), |m| m.email.clone());
        let mail = Mail {
            to: to.to_string(),
            subject: format!("You are invited to the bucket {}", bucket.name),
            body: format!(
                "{inviter} invited you to the bucket \"{}\".\n\nCreate your account with this email address at {} and you will join it at once.",
                bucket.name, identity.public_url
            ),
        };
        if let Err(e) = identity.mailer.send(mail).await {
            tracing::error!(error = %e, "invitation mail not sent");
        }
    }

    pub async fn remove_invitation(
        &self,
        id: &str,
        actor: &str,
        email: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::RemoveInvitation {
            actor: actor.to_string(),
            email: normalize_email(email),
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    pub async fn remove_member(
        &self,
        id: &str,
        actor: &str,
        email: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::RemoveMember {
            actor: actor.to_string(),
            email: normalize_email(email),
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    pub async fn set_role(
        &self,
        id: &str,
        actor: &str,
        email: &str,
        role: Role,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::SetRole {
            actor: actor.to_string(),
            email: normalize_email(email),
            role,
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    pub async fn set_notification(
        &self,
        id: &str,
        actor: &str,
        email: &str,
        state: NotificationState,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::SetNotification {
            actor: actor.to_string(),
            email: normalize_email(email),
            state,
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    pub async fn set_user_options(
        &self,
        id: &str,
        actor: &str,
        options: Value,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::SetUserOptions {
            actor: actor.to_string(),
            options,
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    pub async fn send_feedback(
        &self,
        id: &str,
        actor: &str,
        feedback: String,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::SendFeedback {
            actor: actor.to_string(),
            feedback,
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    /// Transfers the bucket; the owned-bucket slot moves with it.
    pub async fn transfer(
        &self,
        id: &str,
        actor: &str,
        new_owner_email: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::TransferOwnership {
            actor: actor.to_string(),
            new_owner_email: normalize_email(new_owner_email),
            at: Utc::now(),
        };
        let written = self.run(id, command, metadata).await?;
        let new_owner = written.bucket.owner.clone();
        if new_owner != actor {
            let adopt = AccountCommand::AdoptBucket {
                bucket_id: id.to_string(),
                at: Utc::now(),
            };
            if let Err(e) = self.accounts.execute(&new_owner, adopt, metadata).await {
                tracing::warn!(error = %e, bucket_id = id, "transferred bucket not counted for its new owner");
            }
            self.release_slot(actor, id, metadata).await;
        }
        Ok(written)
    }

    pub async fn attach_payment_method(
        &self,
        id: &str,
        actor: &str,
        token: &str,
        metadata: &Metadata,
    ) -> Result<(Written, PaymentMethod), AppError> {
        let bucket = self.bucket_for(id, actor).await?;
        let email = bucket
            .member(actor)
            .map(|m| m.email.clone())
            .unwrap_or_default();
        let method = self
            .payments
            .attach(token, &email)
            .await
            .map_err(payment_error)?;
        let command = BucketCommand::AttachPaymentMethod {
            actor: actor.to_string(),
            method: method.clone(),
            at: Utc::now(),
        };
        Ok((self.run(id, command, metadata).await?, method))
    }

    pub async fn detach_payment_method(
        &self,
        id: &str,
        actor: &str,
        method_id: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::DetachPaymentMethod {
            actor: actor.to_string(),
            method_id: method_id.to_string(),
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }

    /// Moves the bucket to `plan_name`. A paid plan is charged first (with the card of `token`,
    /// or the owner's card on file); if the change cannot be recorded, the charge is refunded.
    pub async fn change_plan(
        &self,
        id: &str,
        actor: &str,
        plan_name: &str,
        token: Option<&str>,
        metadata: &Metadata,
    ) -> Result<(Written, Option<Charge>), AppError> {
        let plan: Plan = self
            .config
            .plan(plan_name)
            .cloned()
            .ok_or_else(|| AppError::invalid("plan", "is not a plan of the catalogue"))?;
        let now = Utc::now();
        let bucket = self.load(id).await?;
        bucket.check_plan_change(actor, &plan, now)?;
        let (mut new_method, mut charge) = (None, None);
        if plan.is_paid() {
            let email = bucket
                .member(actor)
                .map(|m| m.email.clone())
                .unwrap_or_default();
            let method = match token {
                Some(token) => {
                    let method =
                        self.payments
                            .attach(token, &email)
                            .await
                            .map_err(|e| match e {
                                PaymentError::InvalidToken => {
                                    AppError::invalid("stripe_token", "is not a valid card token")
                                }
                                other => payment_error(other),
                            })?;
                    new_method = Some(method.clone());
                    method
                }
                None => bucket.methods_of(actor).next().cloned().ok_or_else(|| {
                    AppError::Forbidden("need a credit card to subscribe to this plan".into())
                })?,
            };
            charge = Some(
                self.payments
                    .charge(&method, plan.price, &plan.currency, &plan.name)
                    .await
                    .map_err(payment_error)?,
            );
        }
        let command = BucketCommand::ChangePlan {
            actor: actor.to_string(),
            plan,
            new_method,
            charge: charge.clone(),
            at: now,
        };
        match self.run(id, command, metadata).await {
            Ok(written) => Ok((written, charge)),
            Err(e) => {
                if let Some(charge) = &charge
                    && let Err(refund) = self.payments.refund(charge).await
                {
                    tracing::error!(error = %refund, charge = %charge.id, "charge not refunded after a failed plan change");
                }
                Err(e)
            }
        }
    }

    /// Starts the account's one trial on this bucket.
    pub async fn start_trial(
        &self,
        id: &str,
        actor: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let now = Utc::now();
        self.load(id).await?.check_trial(actor, now)?;
        let claim = AccountCommand::ClaimTrial {
            bucket_id: id.to_string(),
            at: now,
        };
        self.accounts.execute(actor, claim, metadata).await?;
        let command = BucketCommand::StartTrial {
            actor: actor.to_string(),
            plan: self.config.trial().clone(),
            ends_at: now + Duration::days(i64::from(self.config.trial_days)),
            at: now,
        };
        self.run(id, command, metadata).await
    }

    pub async fn connect_server(
        &self,
        id: &str,
        secret_id: &str,
        server_name: &str,
        hostname: &str,
        pm2_version: &str,
        metadata: &Metadata,
    ) -> Result<(Written, bool), AppError> {
        let before = self.load(id).await?;
        let known = before.servers.iter().any(|s| s.name == server_name);
        let command = BucketCommand::ConnectServer {
            secret_id: secret_id.to_string(),
            server_name: server_name.to_string(),
            hostname: hostname.to_string(),
            pm2_version: pm2_version.to_string(),
            at: Utc::now(),
        };
        Ok((self.run(id, command, metadata).await?, !known))
    }

    pub async fn remove_server(
        &self,
        id: &str,
        actor: &str,
        server_name: &str,
        metadata: &Metadata,
    ) -> Result<Written, AppError> {
        let command = BucketCommand::RemoveServer {
            actor: actor.to_string(),
            server_name: server_name.to_string(),
            at: Utc::now(),
        };
        self.run(id, command, metadata).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_keymetrics_ones() {
        let id = object_id(Utc::now());
        assert!(is_object_id(&id), "{id}");
        assert_ne!(object_id(Utc::now()), id);
        assert!(!is_object_id("5d0c1763ef9ce356bb8c0a3"));
        assert!(!is_object_id("5D0C1763EF9CE356BB8C0A32"));
        let key = bucket_key();
        assert_eq!(key.len(), 15);
        assert!(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }
}
