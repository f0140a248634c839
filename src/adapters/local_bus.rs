//! The in-process bus: what NATS is to several processes, a broadcast channel is to one.
//! Not durable, and it need not be: workers catch up from the log when they start, and a
//! subscriber that falls behind sees a broken `prevposition` chain and repairs from the log.
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::sync::broadcast;

use annals_contracts::{BusError, Delivery, Envelope, EventBus, Subscription};

use super::Publisher;

const CAPACITY: usize = 8192;

#[derive(Clone)]
pub struct LocalBus {
    sender: broadcast::Sender<Envelope>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

struct LocalSubscription {
    receiver: broadcast::Receiver<Envelope>,
}

fn delivery(envelope: Envelope) -> Delivery {
    Delivery {
        envelope: Ok(envelope),
        ack: Box::new(|| async {}.boxed()),
    }
}

#[async_trait]
impl Subscription for LocalSubscription {
    async fn next_batch(&mut self, max: usize, idle: Duration) -> Result<Vec<Delivery>, BusError> {
        let first = match tokio::time::timeout(idle, self.receiver.recv()).await {
            Err(_) => return Ok(vec![]),
            Ok(Ok(envelope)) => envelope,
            // Missed messages: deliver nothing now; the next one breaks the chain and the
            // worker reads what it missed from the log.
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => return Ok(vec![]),
            Ok(Err(broadcast::error::RecvError::Closed)) => {
                return Err(BusError("local bus closed".into()));
            }
        };
        let mut batch = vec![delivery(first)];
        while batch.len() < max {
            match self.receiver.try_recv() {
                Ok(envelope) => batch.push(delivery(envelope)),
                Err(_) => break,
            }
        }
        Ok(batch)
    }
}

impl LocalBus {
    /// Hands envelopes to the current subscribers (none is fine).
    pub fn send(&self, envelopes: &[Envelope]) {
        for envelope in envelopes {
            let _ = self.sender.send(envelope.clone());
        }
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn subscribe(&self, _consumer: &str) -> Result<Box<dyn Subscription>, BusError> {
        Ok(Box::new(LocalSubscription {
            receiver: self.sender.subscribe(),
        }))
    }
}

#[async_trait]
impl Publisher for LocalBus {
    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), BusError> {
        // No subscriber is fine: workers read the log when they start.
        self.send(envelopes);
        Ok(())
    }

    async fn last_published(&self) -> Result<Option<Envelope>, BusError> {
        Ok(None)
    }

    fn destination(&self) -> String {
        "the in-process bus".into()
    }
}
