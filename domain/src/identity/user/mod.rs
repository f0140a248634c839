//! The user aggregate: one stream per person, keyed by user id.
mod aggregate;
mod commands;
mod errors;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{LOCKOUT_DURATION_SECS, LOCKOUT_THRESHOLD, LOCKOUT_WINDOW_SECS, User};
pub use commands::UserCommand;
pub use errors::UserError;
pub use events::UserEvent;
