//! The rules of a bucket: [`Decide::decide`] only dispatches; each rule lives with its concern.
//!
//! - [`lifecycle`]: create, update, delete.
//! - [`invitations`]: invite, accept, cancel.
//! - [`members`]: remove, roles, ownership, and a member's own settings and feedback.
//! - [`billing`]: payment methods, plans, trials.
//! - [`servers`]: connect, remove.
//! - [`erasure`]: a person's personal data erased.
mod billing;
mod erasure;
mod invitations;
mod lifecycle;
mod members;
mod servers;

use super::{Bucket, BucketCommand, BucketError, BucketEvent};
use crate::decide::Decide;

const NAME_MAX: usize = 100;
const TEXT_MAX: usize = 2000;
const FEEDBACK_MAX: usize = 10_000;

impl Decide for Bucket {
    fn decide(&self, command: BucketCommand) -> Result<Vec<BucketEvent>, BucketError> {
        use BucketCommand as C;
        match command {
            C::Create {
                bucket_id,
                name,
                comment,
                app_url,
                configuration,
                public_id,
                secret_id,
                owner,
                plan,
                at,
            } => self.create(
                bucket_id,
                name,
                comment,
                app_url,
                configuration,
                public_id,
                secret_id,
                owner,
                plan,
                at,
            ),
            C::Update {
                actor,
                name,
                comment,
                app_url,
                configuration,
                at,
            } => self.update(actor, name, comment, app_url, configuration, at),
            C::Delete { actor, at } => self.delete(actor, at),
            C::Invite {
                actor,
                email,
                existing,
                at,
            } => self.invite(actor, email, existing, at),
            C::AcceptInvitation { person, at } => self.accept_invitation(person, at),
            C::RemoveInvitation { actor, email, at } => self.remove_invitation(actor, email, at),
            C::RemoveMember { actor, email, at } => self.remove_member(actor, email, at),
            C::ErasePerson {
                actor,
                user_id,
                email,
                at,
            } => Ok(self.erase_person(actor, user_id, email, at)),
            C::SetRole {
                actor,
                email,
                role,
                at,
            } => self.set_role(actor, email, role, at),
            C::TransferOwnership {
                actor,
                new_owner_email,
                at,
            } => self.transfer_ownership(actor, new_owner_email, at),
            C::SetNotification {
                actor,
                email,
                state,
                at,
            } => self.set_notification(actor, email, state, at),
            C::SetUserOptions { actor, options, at } => self.set_user_options(actor, options, at),
            C::SendFeedback {
                actor,
                feedback,
                at,
            } => self.send_feedback(actor, feedback, at),
            C::AttachPaymentMethod { actor, method, at } => {
                self.attach_payment_method(actor, method, at)
            }
            C::DetachPaymentMethod {
                actor,
                method_id,
                at,
            } => self.detach_payment_method(actor, method_id, at),
            C::ChangePlan {
                actor,
                plan,
                new_method,
                charge,
                at,
            } => self.change_plan(actor, plan, new_method, charge, at),
            C::StartTrial {
                actor,
                plan,
                ends_at,
                at,
            } => self.start_trial(actor, plan, ends_at, at),
            C::ConnectServer {
                secret_id,
                server_name,
                hostname,
                pm2_version,
                at,
            } => self.connect_server(secret_id, server_name, hostname, pm2_version, at),
            C::RemoveServer {
                actor,
                server_name,
                at,
            } => self.remove_server(actor, server_name, at),
        }
    }
}

fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<(), BucketError> {
    if required && value.trim().is_empty() {
        return Err(BucketError::Invalid {
            field,
            message: "is required",
        });
    }
    if value.chars().count() > max {
        return Err(BucketError::Invalid {
            field,
            message: "is too long",
        });
    }
    if field != "feedback" && field != "comment" && value.chars().any(char::is_control) {
        return Err(BucketError::Invalid {
            field,
            message: "must not contain control characters",
        });
    }
    Ok(())
}
