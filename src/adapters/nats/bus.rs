//! Projection subscriptions: one durable pull consumer per projection.
use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_trait::async_trait;
use futures::{FutureExt, Stream, StreamExt};

use annals_contracts::{BusError, Delivery, Envelope, EventBus, Subscription};

use super::EventStream;

#[derive(Clone)]
pub struct JetStreamBus {
    stream: EventStream,
}

impl JetStreamBus {
    pub fn new(stream: EventStream) -> Self {
        Self { stream }
    }
}

type Messages = Pin<
    Box<
        dyn Stream<
                Item = Result<
                    async_nats::jetstream::Message,
                    async_nats::error::Error<
                        async_nats::jetstream::consumer::pull::MessagesErrorKind,
                    >,
                >,
            > + Send,
    >,
>;

struct JetStreamSubscription {
    messages: Messages,
}

/// A delivery whose ack does nothing: the consumer acknowledges cumulatively, so acking a
/// batch's last message acknowledges the whole batch.
fn delivery(message: &async_nats::jetstream::Message) -> Delivery {
    let envelope = serde_json::from_slice::<Envelope>(&message.payload).map_err(|e| e.to_string());
    Delivery {
        envelope,
        ack: Box::new(|| async {}.boxed()),
    }
}

/// The delivery of a batch's last message: its ack covers every message before it.
fn last_delivery(message: async_nats::jetstream::Message) -> Delivery {
    let Delivery { envelope, .. } = delivery(&message);
    Delivery {
        envelope,
        ack: Box::new(move || {
            async move {
                if let Err(e) = message.ack().await {
                    tracing::warn!(error = %e, "ack failed; the messages will be redelivered and skipped");
                }
            }
            .boxed()
        }),
    }
}

#[async_trait]
impl Subscription for JetStreamSubscription {
    async fn next_batch(&mut self, max: usize, idle: Duration) -> Result<Vec<Delivery>, BusError> {
        let first = match tokio::time::timeout(idle, self.messages.next()).await {
            Err(_) => return Ok(vec![]),
            Ok(None) => return Err(BusError("subscription closed".into())),
            Ok(Some(m)) => m.map_err(|e| BusError(e.to_string()))?,
        };
        let mut batch = vec![];
        let mut last = first;
        while batch.len() + 1 < max {
            match self.messages.next().now_or_never() {
                Some(Some(Ok(m))) => batch.push(delivery(&std::mem::replace(&mut last, m))),
                Some(Some(Err(e))) => {
                    tracing::warn!(error = %e, "bus hiccup");
                    break;
                }
                _ => break,
            }
        }
        batch.push(last_delivery(last));
        Ok(batch)
    }
}

#[async_trait]
impl EventBus for JetStreamBus {
    async fn subscribe(&self, consumer: &str) -> Result<Box<dyn Subscription>, BusError> {
        let stream = self.stream.ensure().await?;
        let config = pull::Config {
            durable_name: Some(consumer.to_string()),
            deliver_policy: DeliverPolicy::All,
            // Cumulative acks: one per batch instead of one per message. A worker acks only
            // after committing, and anything acked but not applied (a message another process
            // of the same projection was still holding) is repaired from the log.
            ack_policy: AckPolicy::All,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 20_000,
            filter_subject: format!("{}.>", self.stream.prefix),
            ..Default::default()
        };
        let bus_error = |e: &dyn std::fmt::Display| BusError(e.to_string());
        let mut existing = stream
            .get_or_create_consumer(consumer, config.clone())
            .await
            .map_err(|e| bus_error(&e))?;
        if existing.cached_info().config.ack_policy != AckPolicy::All {
            // Made by an earlier version with per-message acks, which cannot be changed in
            // place. The projection's checkpoint lives in the database, so a new consumer
            // only re-delivers what the worker then skips.
            stream
                .delete_consumer(consumer)
                .await
                .map_err(|e| bus_error(&e))?;
            existing = stream
                .create_consumer(config)
                .await
                .map_err(|e| bus_error(&e))?;
        }
        let consumer = existing;
        let messages = consumer
            .stream()
            .max_messages_per_batch(500)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|e| BusError(e.to_string()))?;
        Ok(Box::new(JetStreamSubscription {
            messages: Box::pin(messages),
        }))
    }
}
