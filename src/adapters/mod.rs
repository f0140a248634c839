//! Adapters behind the ports the rest of annals uses: event log, bus, view store, mail.
//! Handlers, domain and projections only see the traits, so an embedded backend can be added
//! beside these without touching them.
pub mod append;
pub mod batching;
pub mod codec;
pub mod integrity;
mod local_bus;
pub mod mail;
pub mod nats;
pub mod person_keys;
pub mod postgres;
mod repository;
pub mod sealed;
pub mod shared_head;
pub mod sqlite;

pub use append::GroupAppender;
pub use local_bus::LocalBus;
pub use repository::LogRepository;

use async_trait::async_trait;

use annals_contracts::integrity::Seal;
use annals_contracts::{BusError, Envelope, EventReader, LogError, Position};

/// A storage error, as the log's ports report it.
pub(crate) fn log_error(e: sqlx::Error) -> LogError {
    LogError(e.to_string())
}

/// Where the relay publishes: JetStream, or the in-process bus.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Returns once every envelope is acknowledged, in order.
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), BusError>;
    /// The newest envelope already on the bus, if the bus remembers.
    async fn last_published(&self) -> Result<Option<Envelope>, BusError>;
    /// What the relay publishes into, for messages naming it (a stream's name).
    fn destination(&self) -> String;
    /// Publishes a seal for readers outside the database (the in-process bus has none: the
    /// seals table is the only copy).
    async fn publish_seal(&self, _seal: &Seal) -> Result<(), BusError> {
        Ok(())
    }
}

/// The write side's view of the log, beyond reading it in order.
#[async_trait]
pub trait EventLog: EventReader {
    /// Position of the newest event of one stream (what a write response reports).
    async fn stream_position(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<Position>, LogError>;

    /// How many committed events lie after `after`, counting at most `cap`.
    async fn count_after(&self, after: Position, cap: i64) -> Result<i64, LogError>;

    /// Cheap liveness probe.
    async fn ping(&self) -> Result<(), LogError>;
}
