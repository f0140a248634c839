//! Read models of the identity store.
mod api_keys;
mod profiles;

pub use api_keys::{API_KEYS, ApiKeys};

pub use profiles::{PROFILES, PROFILES_PROJECTION, UserProfiles};
