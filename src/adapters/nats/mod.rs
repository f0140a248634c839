//! NATS JetStream adapters: the stream, the relay's publisher, projection subscriptions.
mod bus;
mod publisher;
mod stream;

pub use bus::JetStreamBus;
pub use publisher::JetStreamPublisher;
pub use stream::{DUPLICATE_WINDOW, EventStream, subject_token};
