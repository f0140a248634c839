//! The write path: run a command against its aggregate with cqrs-es, append its events with
//! postgres-es, retry optimistic-concurrency conflicts on fresh state, report the position.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, EventEnvelope, EventStore, Query};
use tokio::sync::Notify;

use annals_projections::Position;

use crate::cached_store::CachedEventStore;
use crate::infra::EventLog;

/// Attempts before a conflict is reported (409). High enough for dozens of writers racing on
/// one stream, each retry re-running the command on the state the winner left.
pub const MAX_ATTEMPTS: u32 = 64;

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    #[error(transparent)]
    Domain(E),
    #[error("too many concurrent changes to the same record")]
    Conflict,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// Who asked, from where: stored with every event.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub actor: Option<String>,
    pub request_id: Option<String>,
    pub origin: Option<String>,
}

impl Metadata {
    /// The same request, attributed to `user_id` unless someone is already named.
    pub fn acting_as(&self, user_id: &str) -> Metadata {
        let mut m = self.clone();
        m.actor.get_or_insert_with(|| user_id.to_string());
        m
    }

    fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        if let Some(v) = &self.actor {
            map.insert("actor".into(), v.clone());
        }
        if let Some(v) = &self.request_id {
            map.insert("request_id".into(), v.clone());
        }
        if let Some(v) = &self.origin {
            map.insert("origin".into(), v.clone());
        }
        map
    }
}

/// Counts appended events for /metrics. (Read models are not built here: see projections.)
struct AppendCounter;

#[async_trait]
impl<A: Aggregate> Query<A> for AppendCounter {
    async fn dispatch(&self, _aggregate_id: &str, events: &[EventEnvelope<A>]) {
        metrics::counter!("annals_events_appended_total", "aggregate" => A::TYPE)
            .increment(events.len() as u64);
    }
}

pub type EventRepository = crate::infra::LogRepository;

pub struct Commands<A: Aggregate + Clone> {
    cqrs: CqrsFramework<A, CachedEventStore<A>>,
    /// A second handle on the same log for reads (the framework keeps its store private).
    store: PersistedEventStore<EventRepository, A>,
    log: Arc<dyn EventLog>,
    wake: Arc<Notify>,
}

impl<A> Commands<A>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone,
{
    pub fn new(
        repository: &impl Fn() -> EventRepository,
        services: A::Services,
        log: Arc<dyn EventLog>,
        wake: Arc<Notify>,
    ) -> Self {
        let store = CachedEventStore::new(repository);
        let cqrs = CqrsFramework::new(store, vec![Box::new(AppendCounter)], services);
        let store = PersistedEventStore::new_event_store(repository());
        Self {
            cqrs,
            store,
            log,
            wake,
        }
    }

    /// Executes `command` on the stream `id` and returns the position of the stream's newest
    /// event (what the write response reports for read-your-writes).
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<Position, CommandError<A::Error>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .cqrs
                .execute_with_metadata(id, command.clone(), metadata.to_map())
                .await
            {
                Ok(()) => break,
                Err(AggregateError::UserError(e)) => return Err(CommandError::Domain(e)),
                Err(AggregateError::AggregateConflict) if attempt < MAX_ATTEMPTS => {
                    metrics::counter!("annals_command_conflicts_total", "aggregate" => A::TYPE)
                        .increment(1);
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(AggregateError::AggregateConflict) => return Err(CommandError::Conflict),
                Err(e) => return Err(CommandError::Unavailable(e.to_string())),
            }
        }
        self.wake.notify_one();
        let position = self
            .log
            .stream_position(A::TYPE, id)
            .await
            .map_err(|e| CommandError::Unavailable(e.to_string()))?;
        Ok(position.unwrap_or(Position::ZERO))
    }

    /// The current state of a stream, straight from the log (consistent, no projection lag).
    pub async fn load(&self, id: &str) -> Result<A, CommandError<A::Error>> {
        let events = self.store.load_events(id).await.map_err(|e| match e {
            AggregateError::UserError(e) => CommandError::Domain(e),
            other => CommandError::Unavailable(other.to_string()),
        })?;
        let mut aggregate = A::default();
        for event in events {
            aggregate.apply(event.payload);
        }
        Ok(aggregate)
    }
}

/// Random jitter growing with the attempt, capped at 50 ms, so racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let cap = (1u64 << attempt.min(6)).min(50);
    Duration::from_millis(rand::random_range(0..=cap))
}

#[cfg(test)]
mod tests {
    use annals_domain::identity::{User, UserCommand};
    use chrono::Utc;

    use super::*;
    use crate::infra::sqlite::{self, SqliteEventLog};

    /// Two processes, each with its own cache, writing to one stream: each sees the other's
    /// events, and neither loses a write.
    #[tokio::test]
    async fn writers_with_their_own_caches_see_each_others_events() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite::url_for(&dir.path().join("log.db"));
        let pool = sqlite::connect(&url).await.unwrap();
        sqlite::migrate(&pool).await.unwrap();
        let writer = || {
            let for_repository = pool.clone();
            let repository = move || {
                crate::infra::LogRepository::Sqlite(sqlite_es::SqliteEventRepository::new(
                    for_repository.clone(),
                ))
            };
            Commands::<User>::new(
                &repository,
                (),
                Arc::new(SqliteEventLog::new(pool.clone())),
                Arc::new(Notify::new()),
            )
        };
        let (a, b) = (writer(), writer());
        let meta = Metadata::default();
        let register = UserCommand::Register {
            user_id: "u1".into(),
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            password_hash: "h".into(),
            role: "user".into(),
            at: Utc::now(),
        };
        a.execute("u1", register, &meta).await.unwrap();
        let rename = |first: &str| UserCommand::UpdateProfile {
            first_name: Some(first.into()),
            last_name: None,
            at: Utc::now(),
        };
        a.execute("u1", rename("A1"), &meta).await.unwrap();
        b.execute("u1", rename("B1"), &meta).await.unwrap();
        // `a` remembers the state after A1; it must still read B1 before deciding.
        let verify = UserCommand::VerifyEmail { at: Utc::now() };
        a.execute("u1", verify, &meta).await.unwrap();
        let from_log = a.load("u1").await.unwrap();
        assert_eq!(from_log.first_name, "B1");
        assert!(from_log.verified);
        let events = a.store.load_events("u1").await.unwrap();
        let sequences: Vec<usize> = events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, vec![1, 2, 3, 4]);
    }
}
