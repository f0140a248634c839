//! Read models of the identity store.
mod profiles;

pub use profiles::{PROFILES, UserProfiles};
