//! annals: one event-sourced backend, three public API families, one history of events.
pub mod admin;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod datacube;
pub mod error;
pub mod http;
pub mod identity;
pub mod infra;
pub mod kitsu;
pub mod relay;
mod state_cache;
pub mod telemetry;
pub mod workspaces;
