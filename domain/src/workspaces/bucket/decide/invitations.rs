//! Invitations: inviting an address, accepting, cancelling.
use chrono::{DateTime, Utc};

use super::check_text;
use crate::workspaces::bucket::{Bucket, BucketError, BucketEvent, Person, Role};

impl Bucket {
    pub(super) fn invite(
        &self,
        actor: String,
        email: String,
        existing: Option<Person>,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.at_least(
            &actor,
            Role::Admin,
            "only an admin or the owner can invite users",
        )?;
        check_text("email", &email, 254, true)?;
        let known = existing
            .as_ref()
            .is_some_and(|p| self.member(&p.user_id).is_some());
        // Inviting again is not an error, and changes nothing.
        if known || self.member_by_email(&email).is_some() {
            return Ok(vec![]);
        }
        if existing.is_none() && self.invitation(&email).is_some() {
            return Ok(vec![]);
        }
        let limit = self.plan_at(at).map_or(0, |p| p.limits.max_members) as usize;
        // A pending invitation of an address that now has an account turns into a
        // membership: it already holds its seat.
        let holds_seat = self.invitation(&email).is_some();
        if !holds_seat && self.seats_taken() >= limit {
            return Err(BucketError::MemberLimitReached);
        }
        Ok(match existing {
            Some(person) if holds_seat => vec![BucketEvent::InvitationAccepted {
                email: person.email,
                user_id: person.user_id,
                role: Role::User,
                at,
            }],
            Some(person) => vec![BucketEvent::MemberAdded {
                user_id: person.user_id,
                email: person.email,
                role: Role::User,
                added_by: actor,
                at,
            }],
            None => vec![BucketEvent::MemberInvited {
                email,
                invited_by: actor,
                at,
            }],
        })
    }

    pub(super) fn accept_invitation(
        &self,
        person: Person,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        if !self.exists() {
            return Err(BucketError::NotFound);
        }
        Ok(match self.invitation(&person.email) {
            Some(invitation) if self.member(&person.user_id).is_none() => {
                vec![BucketEvent::InvitationAccepted {
                    email: invitation.email.clone(),
                    user_id: person.user_id,
                    role: Role::User,
                    at,
                }]
            }
            Some(invitation) => vec![BucketEvent::InvitationRemoved {
                email: invitation.email.clone(),
                by: person.user_id,
                at,
            }],
            None => vec![],
        })
    }

    pub(super) fn remove_invitation(
        &self,
        actor: String,
        email: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<BucketEvent>, BucketError> {
        self.at_least(
            &actor,
            Role::Admin,
            "only an admin or the owner can cancel invitations",
        )?;
        let invitation = self
            .invitation(&email)
            .ok_or(BucketError::InvitationNotFound)?;
        Ok(vec![BucketEvent::InvitationRemoved {
            email: invitation.email.clone(),
            by: actor,
            at,
        }])
    }
}
