//! An event store that remembers recent aggregate states, so that a command on a long stream
//! (a user who logged in a thousand times, a busy bucket) reads only the events it has not seen
//! instead of the whole stream. The state is only a starting point: the events after it are
//! always read from the log, and the append is still guarded by the log's optimistic
//! concurrency, so several processes (each with its own cache) stay correct.
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use lru::LruCache;

use crate::infra::LogRepository;

/// Streams remembered per aggregate type.
const CAPACITY: usize = 10_000;

pub struct CachedEventStore<A: Aggregate> {
    inner: PersistedEventStore<LogRepository, A>,
    repository: LogRepository,
    states: Mutex<LruCache<String, (A, usize)>>,
}

impl<A: Aggregate + Clone> CachedEventStore<A> {
    pub fn new(repository: impl Fn() -> LogRepository) -> Self {
        Self {
            inner: PersistedEventStore::new_event_store(repository()),
            repository: repository(),
            states: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).expect("non-zero"),
            )),
        }
    }

    fn remembered(&self, id: &str) -> Option<(A, usize)> {
        self.states.lock().expect("cache lock").get(id).cloned()
    }

    fn remember(&self, id: String, aggregate: A, sequence: usize) {
        self.states
            .lock()
            .expect("cache lock")
            .put(id, (aggregate, sequence));
    }

    fn forget(&self, id: &str) {
        self.states.lock().expect("cache lock").pop(id);
    }
}

impl<A: Aggregate + Clone> EventStore<A> for CachedEventStore<A> {
    type AC = EventStoreAggregateContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.inner.load_events(aggregate_id).await
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<Self::AC, AggregateError<A::Error>> {
        let (mut aggregate, mut sequence) = self
            .remembered(aggregate_id)
            .unwrap_or_else(|| (A::default(), 0));
        let newer = self
            .repository
            .get_last_events::<A>(aggregate_id, sequence)
            .await?;
        for serialized in newer {
            let event = EventEnvelope::<A>::try_from(serialized)?;
            sequence = event.sequence;
            aggregate.apply(event.payload);
        }
        Ok(EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            current_sequence: sequence,
            current_snapshot: None,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        // The framework hands over the state with the new events already applied.
        let id = context.aggregate_id.clone();
        let after = (
            context.aggregate.clone(),
            context.current_sequence + events.len(),
        );
        match self.inner.commit(events, context, metadata).await {
            Ok(committed) => {
                self.remember(id, after.0, after.1);
                Ok(committed)
            }
            Err(e) => {
                self.forget(&id);
                Err(e)
            }
        }
    }
}
