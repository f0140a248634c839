//! An aggregate together with a read-model document folded from the same events, so that a
//! write can answer with what the read model will show after it, rendered by the renderer of
//! reads, without reading the stream again or waiting for the projection.
//!
//! `Viewed<A, V>` is itself an aggregate of `A`'s type (same stream, same events): `Commands`
//! remembers it per stream like any state, so the document always reflects exactly the events
//! the state does.
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A document folded from an aggregate's events (through its projection's own changes).
pub trait Fold<E>: Default + Clone + Serialize + DeserializeOwned + Send + Sync {
    fn apply(&mut self, event: &E);
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewed<A, V> {
    pub state: A,
    pub view: V,
}

impl<A, V> Aggregate for Viewed<A, V>
where
    A: Aggregate + Clone,
    A::Command: Send,
    V: Fold<A::Event>,
{
    const TYPE: &'static str = A::TYPE;
    type Command = A::Command;
    type Event = A::Event;
    type Error = A::Error;
    type Services = A::Services;

    async fn handle(
        &mut self,
        command: A::Command,
        services: &A::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), A::Error> {
        // The decision is `A`'s, on a copy of the state; its events are then applied to both
        // the state and the document.
        let decided = EventSink::<A>::default();
        let mut scratch = self.state.clone();
        scratch.handle(command, services, &decided).await?;
        for event in decided.collect().await {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: A::Event) {
        self.view.apply(&event);
        self.state.apply(event);
    }
}

#[cfg(test)]
mod tests {
    use annals_domain::workspaces::{Bucket, BucketCommand, Person, Plan, PlanLimits};
    use annals_projections::workspaces::BucketDoc;
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    /// The document follows the state through a command.
    #[tokio::test]
    async fn a_command_moves_the_state_and_the_document_together() {
        let mut viewed = Viewed::<Bucket, BucketDoc>::default();
        let create = BucketCommand::Create {
            bucket_id: "b1".into(),
            name: "prod".into(),
            comment: String::new(),
            app_url: String::new(),
            configuration: json!({}),
            public_id: "p".into(),
            secret_id: "s".into(),
            owner: Person {
                user_id: "u1".into(),
                email: "u1@example.com".into(),
            },
            plan: Plan {
                name: "free".into(),
                limits: PlanLimits {
                    max_members: 5,
                    max_servers: 2,
                },
                price: 0,
                currency: "eur".into(),
            },
            at: Utc::now(),
        };
        let sink = EventSink::default();
        viewed.handle(create, &(), &sink).await.unwrap();
        assert_eq!(sink.collect().await.len(), 1);
        assert!(viewed.state.created);
        assert_eq!(viewed.state.members.len(), 1, "applied once");
        assert_eq!(viewed.view.doc["_id"], "b1");
        assert_eq!(viewed.view.doc["members"]["u1"]["role"], "owner");
    }
}
