//! Workspaces use cases: buckets and accounts (commands), plans and trials (config),
//! payments, and the reactor that accepts invitations when the invited person registers.
pub mod config;
pub mod invitations;
pub mod payments;
pub mod service;

pub use service::Workspaces;
