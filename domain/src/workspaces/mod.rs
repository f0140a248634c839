//! Workspaces ("buckets", Keymetrics / PM2 Plus style): teams with members, roles,
//! invitations, plans and connected servers.
//!
//! - [`bucket`]: one stream per bucket. Every rule that concerns one bucket (who may do what,
//!   the member cap, ownership transfer, plans, servers) is decided there, so the stream's
//!   optimistic concurrency makes the rules hold under concurrent requests.
//! - [`account`]: one stream per user, for the rules that span a user's buckets (how many
//!   buckets one may own, one trial per account).
pub mod account;
pub mod bucket;

pub use account::{AccountCommand, AccountError, AccountEvent, WorkspaceAccount};
pub use bucket::{
    Bucket, BucketCommand, BucketError, BucketEvent, Charge, Invitation, Member, NotificationState,
    PaymentMethod, Person, Plan, PlanLimits, Role, Server,
};
