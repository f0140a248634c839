//! Erasure: what a bucket does when a person's personal data is erased (see
//! [`crate::personal`]).
use chrono::{DateTime, Utc};

use crate::personal::{erased_email, is_erased_email};
use crate::workspaces::bucket::{Bucket, BucketEvent};

impl Bucket {
    /// A pending invitation of the address is withdrawn: the read models key invitations by
    /// address, and only a withdrawal written while the address can still be read removes the
    /// entry it made. A member's entry is erased in place, so the bucket keeps working for the
    /// others (an erased owner stays the owner).
    pub(super) fn erase_person(
        &self,
        actor: String,
        user_id: String,
        email: String,
        at: DateTime<Utc>,
    ) -> Vec<BucketEvent> {
        if !self.exists() {
            return vec![];
        }
        let mut events = Vec::new();
        if let Some(invitation) = self.invitation(&email) {
            events.push(BucketEvent::InvitationRemoved {
                email: invitation.email.clone(),
                by: actor,
                at,
            });
        }
        if let Some(member) = self.member(&user_id)
            && !is_erased_email(&member.email)
        {
            events.push(BucketEvent::MemberErased {
                user_id,
                email: erased_email(&member.email),
                owner: self.owner == member.user_id,
                at,
            });
        }
        events
    }
}
