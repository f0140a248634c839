//! Application services: the use cases behind the HTTP surfaces, IO around the pure domain.
pub mod error;
pub mod history;
pub mod identity;
pub mod kitsu;
pub mod workspaces;
