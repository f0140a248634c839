//! The user aggregate: one stream per person, keyed by user id.
mod aggregate;
mod commands;
mod errors;
mod events;
pub mod history;
mod names;
pub mod person;
mod security;
#[cfg(test)]
mod tests;
mod tracker;
#[cfg(test)]
mod tracker_tests;
pub(crate) mod upcasters;

pub use aggregate::{
    LOCKOUT_DURATION_SECS, LOCKOUT_THRESHOLD, LOCKOUT_WINDOW_SECS, PendingReset, SecondFactorState,
    User,
};
pub use commands::{SecondFactor, UserCommand};
pub use errors::UserError;
pub use events::{RegisteredVia, UserEvent};
pub use security::ROLES;
