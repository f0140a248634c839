//! The email claim: one stream per normalised email address, so that uniqueness holds across
//! user aggregates. Registering first claims the address; the optimistic concurrency of this one
//! stream decides between concurrent registrations.
mod aggregate;
#[cfg(test)]
mod tests;

pub use aggregate::{EmailClaim, EmailClaimCommand, EmailClaimError, EmailClaimEvent};
