//! Publishing envelopes to JetStream for the relay.
use async_nats::jetstream::message::PublishMessage;
use async_trait::async_trait;
use bytes::Bytes;

use annals_contracts::integrity::Seal;
use annals_contracts::{BusError, Envelope};

use super::EventStream;
use crate::adapters::Publisher;

#[derive(Clone)]
pub struct JetStreamPublisher {
    stream: EventStream,
    /// Where seals go: a plain subject, outside the stream (`annals.seals`).
    seal_subject: String,
}

impl JetStreamPublisher {
    pub fn new(stream: EventStream, seal_subject: String) -> Self {
        Self {
            stream,
            seal_subject,
        }
    }
}

#[async_trait]
impl Publisher for JetStreamPublisher {
    /// Publishes in order and returns once JetStream acknowledged every message. Sends are
    /// pipelined on one connection, so the stream keeps their order. A retried batch is
    /// deduplicated by `Nats-Msg-Id`.
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), BusError> {
        let mut pending = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let body = serde_json::to_vec(envelope).map_err(|e| BusError(e.to_string()))?;
            let message = PublishMessage::build()
                .payload(Bytes::from(body))
                .message_id(&envelope.id)
                .header("Content-Type", "application/cloudevents+json");
            let subject = self
                .stream
                .subject(&envelope.aggregatetype, &envelope.aggregateid);
            let ack = self
                .stream
                .js
                .send_publish(subject, message)
                .await
                .map_err(|e| BusError(e.to_string()))?;
            pending.push(ack);
        }
        for ack in pending {
            ack.await.map_err(|e| BusError(e.to_string()))?;
        }
        Ok(())
    }

    /// The newest envelope on the stream: its position, so a new leader never republishes what
    /// a previous one already got acknowledged (even beyond the duplicate window), and its log.
    async fn last_published(&self) -> Result<Option<Envelope>, BusError> {
        let mut stream = self.stream.ensure().await?;
        let last = stream
            .info()
            .await
            .map_err(|e| BusError(e.to_string()))?
            .state
            .last_sequence;
        if last == 0 {
            return Ok(None);
        }
        let message = stream
            .get_raw_message(last)
            .await
            .map_err(|e| BusError(e.to_string()))?;
        let envelope: Envelope =
            serde_json::from_slice(&message.payload).map_err(|e| BusError(e.to_string()))?;
        Ok(Some(envelope))
    }

    fn destination(&self) -> String {
        format!("JetStream stream {}", self.stream.name)
    }

    /// A core NATS message (not kept by JetStream: the seals table is the record; this copy
    /// lets an outside party keep its own).
    async fn publish_seal(&self, seal: &Seal) -> Result<(), BusError> {
        let body = serde_json::to_vec(seal).map_err(|e| BusError(e.to_string()))?;
        let client = self.stream.js.client();
        client
            .publish(self.seal_subject.clone(), Bytes::from(body))
            .await
            .map_err(|e| BusError(e.to_string()))?;
        client.flush().await.map_err(|e| BusError(e.to_string()))
    }
}
