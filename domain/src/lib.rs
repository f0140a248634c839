//! The pure domain of annals: aggregates, commands, events and domain errors.
//!
//! Nothing here does IO. Time comes in through commands (`at` fields) so that every rule
//! can be tested given/when/then without a clock.
pub mod catalogue;
pub mod datacube;
mod decide;
pub mod identity;
pub mod kitsu;
pub mod personal;
pub mod versioning;
pub mod workspaces;
