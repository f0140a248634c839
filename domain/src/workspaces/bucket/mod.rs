//! The bucket aggregate: one stream per bucket, keyed by its 24-hex ObjectId.
//!
//! # Permission matrix (our choice, after Keymetrics' documented roles)
//!
//! Roles are ordered `user < developer < admin < owner`; a new member is a `user`. Anyone who
//! is not a member is told the bucket does not exist ([`BucketError::NotFound`]).
//!
//! | action | who |
//! |---|---|
//! | read (retrieve, users, current role, servers) | any member |
//! | notification state | any member for themselves; admin and owner for anyone |
//! | user options, feedback, own payment methods | any member (for themselves) |
//! | invite, cancel an invitation | admin, owner |
//! | update name / comment / app_url / configuration | admin, owner |
//! | remove a member | owner: anyone but themselves; admin: users and developers; anyone: themselves (leaving) |
//! | change a role | owner |
//! | remove a server | admin, owner |
//! | transfer ownership, delete, plans, trial, billing history | owner |
//!
//! The owner can be neither removed nor re-roled; only a transfer changes the owner, and it
//! makes the old owner an admin.
mod aggregate;
mod commands;
mod decide;
mod errors;
mod events;
#[cfg(test)]
mod tests;
mod types;

pub use aggregate::Bucket;
pub use commands::BucketCommand;
pub use errors::BucketError;
pub use events::BucketEvent;
pub use types::{
    Charge, Invitation, Member, NotificationState, PaymentMethod, Person, Plan, PlanLimits, Role,
    Server,
};
