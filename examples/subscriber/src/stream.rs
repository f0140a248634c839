//! The NATS side: a JetStream durable pull consumer on the annals stream.
//!
//! The consumer is durable, so a restarted subscriber continues where its acknowledgements
//! left off. It is made once the subscriber has caught up through the history, at the
//! checkpoint's time less a margin rather than at the stream's first message: what is already
//! applied is then skipped by position, and a stream holding years of history is not read
//! again.
use std::time::Duration;

use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, Consumer, DeliverPolicy, pull},
    context::ConsumerInfoErrorKind,
};

use crate::Error;
use crate::store::Checkpoint;

/// Covers the difference between annals' clock (the envelope's `time`) and the NATS server's
/// (a message's timestamp); what it delivers twice is skipped.
const START_MARGIN: Duration = Duration::from_secs(60);

/// Where to find the events.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub nats_url: String,
    /// `ANNALS_EVENTS` unless annals was configured otherwise.
    pub stream: String,
    /// Events are on `<prefix>.<aggregate_type>.<aggregate_id>`.
    pub subject_prefix: String,
    pub durable: String,
}

pub type Messages = pull::Stream;
pub type Durable = Consumer<pull::Config>;

fn nats(e: impl std::fmt::Display) -> Error {
    Error::Nats(e.to_string())
}

/// The annals stream on NATS.
pub async fn connect(config: &StreamConfig) -> Result<jetstream::stream::Stream, Error> {
    let client = async_nats::ConnectOptions::new()
        .name("annals-subscriber")
        .connect(config.nats_url.as_str())
        .await
        .map_err(nats)?;
    jetstream::new(client)
        .get_stream(&config.stream)
        .await
        .map_err(nats)
}

/// The subscriber's durable consumer, if it was made before.
pub async fn existing(
    stream: &jetstream::stream::Stream,
    config: &StreamConfig,
) -> Result<Option<Durable>, Error> {
    match stream.consumer_info(&config.durable).await {
        Ok(_) => stream
            .get_consumer(&config.durable)
            .await
            .map(Some)
            .map_err(nats),
        Err(e) if matches!(e.kind(), ConsumerInfoErrorKind::NotFound) => Ok(None),
        Err(e) => Err(nats(e)),
    }
}

/// Makes the durable consumer, starting just before `checkpoint`.
pub async fn create(
    stream: &jetstream::stream::Stream,
    config: &StreamConfig,
    checkpoint: &Checkpoint,
) -> Result<Durable, Error> {
    stream
        .get_or_create_consumer(
            &config.durable,
            pull::Config {
                durable_name: Some(config.durable.clone()),
                deliver_policy: start_at(checkpoint)?,
                // One ack per message, sent after its transaction committed.
                ack_policy: AckPolicy::Explicit,
                // Every event, not only buckets': `prevposition` links each event to the one
                // before it of any aggregate type, so a filtered consumer would see a gap at
                // every message.
                filter_subject: format!("{}.>", config.subject_prefix),
                ..Default::default()
            },
        )
        .await
        .map_err(nats)
}

/// The consumer's messages, in stream order.
pub async fn messages(consumer: &Durable) -> Result<Messages, Error> {
    consumer.messages().await.map_err(nats)
}

/// Where a new consumer starts: everything for a subscriber that has applied nothing,
/// otherwise the messages published since its last event was recorded (less the margin).
fn start_at(checkpoint: &Checkpoint) -> Result<DeliverPolicy, Error> {
    let Some(time) = checkpoint.time else {
        return Ok(DeliverPolicy::All);
    };
    let start =
        time::OffsetDateTime::from_unix_timestamp(time.timestamp()).map_err(nats)? - START_MARGIN;
    Ok(DeliverPolicy::ByStartTime { start_time: start })
}
