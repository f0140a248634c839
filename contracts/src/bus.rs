//! The event bus as seen by projection workers: durable, at-least-once, in publish order.
use async_trait::async_trait;
use futures::future::BoxFuture;

use crate::Envelope;

#[derive(Debug, thiserror::Error)]
#[error("event bus unavailable: {0}")]
pub struct BusError(pub String);

/// One delivered message. Acking tells the bus not to deliver it again.
pub struct Delivery {
    /// `Err` holds why the message could not be read; the worker repairs from the log.
    pub envelope: Result<Envelope, String>,
    pub ack: Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>,
}

#[async_trait]
pub trait Subscription: Send {
    /// Waits up to `idle` for messages, then returns what is ready (at most `max`), possibly none.
    async fn next_batch(
        &mut self,
        max: usize,
        idle: std::time::Duration,
    ) -> Result<Vec<Delivery>, BusError>;
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// A durable subscription named after the projection: several workers with the same name
    /// share the work, and a restarted worker resumes where the group stopped.
    async fn subscribe(&self, consumer: &str) -> Result<Box<dyn Subscription>, BusError>;
}
