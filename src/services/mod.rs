//! Application services: the use cases behind the HTTP surfaces, IO around the pure domain.
pub mod error;
pub mod history;
pub mod verify;
pub mod identity;
pub mod workspaces;
