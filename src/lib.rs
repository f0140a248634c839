//! annals: one event-sourced backend, three public API families, one history of events.
//!
//! The folders read as the architecture, from the edge inwards:
//! - [`http`]: the HTTP edge, one module per API surface, each with its router, error body
//!   and fallback; the shared state handlers see ([`http::state::AppState`]).
//! - [`services`]: the application's use cases (identity, workspaces), IO around the pure
//!   domain (`annals-domain`), and the application error type.
//! - [`es`]: the event-sourcing core: commands on aggregates, the relay of the log to the bus.
//! - [`adapters`]: Postgres, SQLite, NATS and mail behind the contracts of `annals-contracts`.
//! - [`docs`]: the subscriber contract (docs/events.md and the events' JSON Schemas),
//!   generated from the code.
//! - [`wiring`]: connects adapters and starts the API, the relay and the workers; only the
//!   [`cli`] uses it.
pub mod adapters;
pub mod cli;
pub mod config;
pub mod docs;
pub mod es;
pub mod http;
pub mod services;
pub mod telemetry;
pub mod wiring;
