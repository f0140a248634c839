//! Members: removal, roles, ownership, and what each member sets for themselves.
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{FEEDBACK_MAX, check_text};
use crate::workspaces::bucket::{
    Bucket, BucketError, BucketEvent, NotificationState, Person, Role,
};

impl Bucket {
    pub(super) fn remove_member(
        &self,
        actor: String,
        email: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        let caller = self.as_member(&actor)?;
        let target = self
            .member_by_email(&email)
            .ok_or(BucketError::UserNotFound)?;
        if target.role == Role::Owner {
            return Err(BucketError::Forbidden(
                "impossible to remove the owner from the bucket",
            ));
        }
        let leaving = target.user_id == caller.user_id;
        let allowed = leaving
            || caller.role == Role::Owner
            || (caller.role == Role::Admin && target.role < Role::Admin);
        if !allowed {
            return Err(BucketError::Forbidden(
                "you are not allowed to remove this user",
            ));
        }
        Ok(vec![BucketEvent::MemberRemoved {
            user_id: target.user_id.clone(),
            email: target.email.clone(),
            by: actor,
            at,
        }])
    }

    pub(super) fn set_role(
        &self,
        actor: String,
        email: String,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.at_least(
            &actor,
            Role::Owner,
            "only the owner can change a user's role",
        )?;
        let target = self
            .member_by_email(&email)
            .ok_or(BucketError::UserNotFound)?;
        if target.role == Role::Owner {
            return Err(BucketError::Forbidden(
                "impossible to set the role of the owner",
            ));
        }
        if role == Role::Owner {
            return Err(BucketError::Invalid {
                field: "role",
                message: "use transfer_ownership to change the owner",
            });
        }
        if target.role == role {
            return Ok(vec![]);
        }
        Ok(vec![BucketEvent::RoleChanged {
            user_id: target.user_id.clone(),
            email: target.email.clone(),
            role,
            by: actor,
            at,
        }])
    }

    pub(super) fn transfer_ownership(
        &self,
        actor: String,
        new_owner_email: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        let owner = self.at_least(
            &actor,
            Role::Owner,
            "only the owner can transfer the bucket",
        )?;
        let target = self
            .member_by_email(&new_owner_email)
            .ok_or(BucketError::UserNotFound)?;
        if target.user_id == owner.user_id {
            return Err(BucketError::Invalid {
                field: "new_owner",
                message: "is already the owner",
            });
        }
        if self.is_paid_at(at) && self.methods_of(&target.user_id).next().is_none() {
            return Err(BucketError::PaymentRequired(
                "the new owner need to have a active credit card",
            ));
        }
        Ok(vec![BucketEvent::OwnershipTransferred {
            from: Person {
                user_id: owner.user_id.clone(),
                email: owner.email.clone(),
            },
            to: Person {
                user_id: target.user_id.clone(),
                email: target.email.clone(),
            },
            at,
        }])
    }

    pub(super) fn set_notification(
        &self,
        actor: String,
        email: String,
        state: NotificationState,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        let caller = self.as_member(&actor)?;
        let target = self.member_by_email(&email);
        let own = target.is_some_and(|t| t.user_id == caller.user_id);
        if !own && caller.role < Role::Admin {
            return Err(BucketError::Forbidden(
                "only an admin or the owner can change another member's notifications",
            ));
        }
        let target = target.ok_or(BucketError::UserNotFound)?;
        if target.notification == state {
            return Ok(vec![]);
        }
        Ok(vec![BucketEvent::NotificationStateChanged {
            user_id: target.user_id.clone(),
            email: target.email.clone(),
            state,
            by: actor,
            at,
        }])
    }

    pub(super) fn set_user_options(
        &self,
        actor: String,
        options: Value,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.as_member(&actor)?;
        if !options.is_object() {
            return Err(BucketError::Invalid {
                field: "options",
                message: "must be an object",
            });
        }
        Ok(vec![BucketEvent::UserOptionsChanged {
            user_id: actor,
            options,
            at,
        }])
    }

    pub(super) fn send_feedback(
        &self,
        actor: String,
        feedback: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.as_member(&actor)?;
        check_text("feedback", &feedback, FEEDBACK_MAX, true)?;
        Ok(vec![BucketEvent::FeedbackSent {
            user_id: actor,
            feedback,
            at,
        }])
    }
}
