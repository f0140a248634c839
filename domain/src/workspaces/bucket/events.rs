use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Charge, NotificationState, PaymentMethod, Person, Plan, Role};

/// Events of a bucket stream. Variant names are persisted: renaming one needs an upcaster.
///
/// Each event carries what a read model or a subscriber needs to act on it alone (e.g. the
/// member's email next to their id), since projections see one event at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum BucketEvent {
    BucketCreated {
        bucket_id: String,
        name: String,
        comment: String,
        app_url: String,
        configuration: Value,
        public_id: String,
        /// The agents' key: visible to members, so not treated as a redacted secret.
        secret_id: String,
        owner: Person,
        plan: Plan,
        at: DateTime<Utc>,
    },
    /// The editable fields, all of them, as they are after the change.
    BucketUpdated {
        name: String,
        comment: String,
        app_url: String,
        configuration: Value,
        by: String,
        at: DateTime<Utc>,
    },
    MemberInvited {
        email: String,
        invited_by: String,
        at: DateTime<Utc>,
    },
    /// An existing account was added directly.
    MemberAdded {
        user_id: String,
        email: String,
        role: Role,
        added_by: String,
        at: DateTime<Utc>,
    },
    /// The invited address now has an account, which became a member.
    InvitationAccepted {
        email: String,
        user_id: String,
        role: Role,
        at: DateTime<Utc>,
    },
    InvitationRemoved {
        email: String,
        by: String,
        at: DateTime<Utc>,
    },
    MemberRemoved {
        user_id: String,
        email: String,
        by: String,
        at: DateTime<Utc>,
    },
    RoleChanged {
        user_id: String,
        email: String,
        role: Role,
        by: String,
        at: DateTime<Utc>,
    },
    NotificationStateChanged {
        user_id: String,
        email: String,
        state: NotificationState,
        by: String,
        at: DateTime<Utc>,
    },
    UserOptionsChanged {
        user_id: String,
        options: Value,
        at: DateTime<Utc>,
    },
    /// The member's personal data was erased: their entry now shows `email`, the erased form of
    /// their address (not personal). `owner`: they own the bucket. Membership and role stay.
    MemberErased {
        user_id: String,
        email: String,
        owner: bool,
        at: DateTime<Utc>,
    },
    /// `to` is now the owner and `from` an admin.
    OwnershipTransferred {
        from: Person,
        to: Person,
        at: DateTime<Utc>,
    },
    FeedbackSent {
        user_id: String,
        feedback: String,
        at: DateTime<Utc>,
    },
    PaymentMethodAttached {
        user_id: String,
        method: PaymentMethod,
        at: DateTime<Utc>,
    },
    PaymentMethodDetached {
        user_id: String,
        method_id: String,
        at: DateTime<Utc>,
    },
    PlanChanged {
        plan: Plan,
        by: String,
        at: DateTime<Utc>,
    },
    ChargeRecorded {
        charge: Charge,
        plan: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// The bucket runs on `plan` until `ends_at`, then falls back to the plan it had.
    TrialStarted {
        plan: Plan,
        ends_at: DateTime<Utc>,
        by: String,
        at: DateTime<Utc>,
    },
    ServerConnected {
        server_name: String,
        hostname: String,
        pm2_version: String,
        at: DateTime<Utc>,
    },
    ServerRemoved {
        server_name: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// Lists what went away with the bucket, so that read models and subscribers can clean up
    /// (and tell the members) from this event alone.
    BucketDeleted {
        by: String,
        member_ids: Vec<String>,
        invitations: Vec<String>,
        servers: Vec<String>,
        payment_methods: Vec<String>,
        charges: Vec<String>,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for BucketEvent {
    fn event_type(&self) -> String {
        match self {
            BucketEvent::BucketCreated { .. } => "BucketCreated",
            BucketEvent::BucketUpdated { .. } => "BucketUpdated",
            BucketEvent::MemberInvited { .. } => "MemberInvited",
            BucketEvent::MemberAdded { .. } => "MemberAdded",
            BucketEvent::InvitationAccepted { .. } => "InvitationAccepted",
            BucketEvent::InvitationRemoved { .. } => "InvitationRemoved",
            BucketEvent::MemberRemoved { .. } => "MemberRemoved",
            BucketEvent::RoleChanged { .. } => "RoleChanged",
            BucketEvent::NotificationStateChanged { .. } => "NotificationStateChanged",
            BucketEvent::UserOptionsChanged { .. } => "UserOptionsChanged",
            BucketEvent::MemberErased { .. } => "MemberErased",
            BucketEvent::OwnershipTransferred { .. } => "OwnershipTransferred",
            BucketEvent::FeedbackSent { .. } => "FeedbackSent",
            BucketEvent::PaymentMethodAttached { .. } => "PaymentMethodAttached",
            BucketEvent::PaymentMethodDetached { .. } => "PaymentMethodDetached",
            BucketEvent::PlanChanged { .. } => "PlanChanged",
            BucketEvent::ChargeRecorded { .. } => "ChargeRecorded",
            BucketEvent::TrialStarted { .. } => "TrialStarted",
            BucketEvent::ServerConnected { .. } => "ServerConnected",
            BucketEvent::ServerRemoved { .. } => "ServerRemoved",
            BucketEvent::BucketDeleted { .. } => "BucketDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
