//! Application services: the use cases behind the HTTP surfaces, IO around the pure domain.
pub mod catch_up;
pub mod datacube;
pub mod erasure;
pub mod error;
pub mod history;
pub mod identity;
pub mod kitsu;
pub mod verify;
pub mod workspaces;
