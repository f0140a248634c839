use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Charge, NotificationState, PaymentMethod, Person, Plan, Role};

/// What can be asked of a bucket. `actor` is the user id of whoever asks; emails are
/// normalised (trimmed, lower-cased) by the caller. Everything that needs IO (looking up an
/// account, talking to a payment provider, generating ids) happens before, and the outcome
/// comes in the command.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketCommand {
    Create {
        bucket_id: String,
        name: String,
        comment: String,
        app_url: String,
        configuration: Value,
        public_id: String,
        secret_id: String,
        owner: Person,
        /// The plan a new bucket starts on (the catalogue's free plan).
        plan: Plan,
        at: DateTime<Utc>,
    },
    /// Changes the given fields; `None` keeps a field.
    Update {
        actor: String,
        name: Option<String>,
        comment: Option<String>,
        app_url: Option<String>,
        configuration: Option<Value>,
        at: DateTime<Utc>,
    },
    /// Invites `email`: an existing account (`existing`) becomes a member at once, any other
    /// address gets a pending invitation.
    Invite {
        actor: String,
        email: String,
        existing: Option<Person>,
        at: DateTime<Utc>,
    },
    /// The account `person` now exists: a pending invitation of its email becomes membership.
    /// Harmless when there is none (it may be asked more than once).
    AcceptInvitation {
        person: Person,
        at: DateTime<Utc>,
    },
    RemoveInvitation {
        actor: String,
        email: String,
        at: DateTime<Utc>,
    },
    RemoveMember {
        actor: String,
        email: String,
        at: DateTime<Utc>,
    },
    SetRole {
        actor: String,
        email: String,
        role: Role,
        at: DateTime<Utc>,
    },
    SetNotification {
        actor: String,
        email: String,
        state: NotificationState,
        at: DateTime<Utc>,
    },
    /// The actor's own options (a JSON object).
    SetUserOptions {
        actor: String,
        options: Value,
        at: DateTime<Utc>,
    },
    /// A person's personal data is being erased: a pending invitation of `email` is withdrawn
    /// (while it can still be read), and if `user_id` is a member their entry is erased.
    /// Harmless when neither applies. `actor`: who erases (recorded as the withdrawal's `by`).
    ErasePerson {
        actor: String,
        user_id: String,
        email: String,
        at: DateTime<Utc>,
    },
    TransferOwnership {
        actor: String,
        new_owner_email: String,
        at: DateTime<Utc>,
    },
    SendFeedback {
        actor: String,
        feedback: String,
        at: DateTime<Utc>,
    },
    /// The actor records a payment method of their own (already accepted by the provider).
    AttachPaymentMethod {
        actor: String,
        method: PaymentMethod,
        at: DateTime<Utc>,
    },
    DetachPaymentMethod {
        actor: String,
        method_id: String,
        at: DateTime<Utc>,
    },
    /// Moves the bucket to `plan`. A paid plan needs a payment method of the owner (one on
    /// file, or `new_method` recorded now) and the provider's accepted `charge`.
    ChangePlan {
        actor: String,
        plan: Plan,
        new_method: Option<PaymentMethod>,
        charge: Option<Charge>,
        at: DateTime<Utc>,
    },
    StartTrial {
        actor: String,
        plan: Plan,
        ends_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// An agent linked with the bucket's keys (the public id found the bucket; the secret is
    /// checked here).
    ConnectServer {
        secret_id: String,
        server_name: String,
        hostname: String,
        pm2_version: String,
        at: DateTime<Utc>,
    },
    RemoveServer {
        actor: String,
        server_name: String,
        at: DateTime<Utc>,
    },
    Delete {
        actor: String,
        at: DateTime<Utc>,
    },
}
