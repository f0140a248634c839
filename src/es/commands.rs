//! The write path: run a command against its aggregate's state (cqrs-es `Aggregate`), append
//! its events through the group appender, retry optimistic-concurrency conflicts on fresh state,
//! and report the position of the append for read-your-writes.
//!
//! cqrs-es's `CqrsFramework` does the same minus the position: its `execute` returns nothing,
//! and a write response must say where its events landed without a second query.
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::SerializedEvent;
use cqrs_es::{Aggregate, EventEnvelope};
use tokio::sync::Notify;

use annals_contracts::{LogError, Position};

use crate::adapters::batching::{Batcher, Work};
use crate::adapters::person_keys::Sealer;
use crate::adapters::{EventLog, GroupAppender, LogRepository};
use crate::adapters::{codec, sealed};
use crate::es::state_cache::StateCache;

/// Conflicts before one is reported (409). High enough for dozens of writers racing on one
/// stream, each retry re-running the command on the state the winner left.
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
    /// The credential used: `token:<session id>` or `api_key:<key id>`.
    pub via: Option<String>,
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
        if let Some(v) = &self.via {
            map.insert("via".into(), v.clone());
        }
        map
    }
}

/// The log as the write side uses it, shared by every aggregate's `Commands`.
#[derive(Clone)]
pub struct WriteSide {
    /// Reads of streams (postgres-es or sqlite-es).
    pub repository: Arc<dyn Fn() -> LogRepository + Send + Sync>,
    /// Positions.
    pub log: Arc<dyn EventLog>,
    pub appender: Arc<GroupAppender>,
    /// Poked after each append so the relay publishes without waiting for its poll.
    pub wake: Arc<Notify>,
    /// Seals the personal fields of events before they are appended.
    pub sealer: Arc<Sealer>,
}

/// Reads of streams of one aggregate type, batched: the session checks of concurrent requests
/// share one query.
struct StreamReads<A> {
    repository: LogRepository,
    aggregate: PhantomData<fn() -> A>,
}

/// Streams read in one query at most.
const MAX_READS: usize = 256;

#[async_trait]
impl<A: Aggregate + 'static> Work for StreamReads<A> {
    /// Stream id, and the sequence already known.
    type Item = (String, usize);
    type Output = Vec<SerializedEvent>;
    type Key = ();

    fn key(_: &Self::Item) -> Option<()> {
        None
    }

    fn weight(_: &Self::Item) -> usize {
        1
    }

    async fn run(&self, reads: &[Self::Item]) -> Result<Vec<Self::Output>, LogError> {
        self.repository
            .get_last_events_of_many::<A>(reads)
            .await
            .map_err(|e| LogError(e.to_string()))
    }
}

/// What an executed command left: where its events landed and the stream's state after it.
#[derive(Debug)]
pub struct Executed<A> {
    pub position: Position,
    pub state: A,
}

/// A command's events, serialized and not yet appended, with the stream's state before and
/// after them.
#[derive(Debug)]
pub struct Prepared<A> {
    pub events: Vec<SerializedEvent>,
    pub before: A,
    pub state: A,
}

pub struct Commands<A: Aggregate + 'static> {
    reads: Batcher<StreamReads<A>>,
    services: A::Services,
    log: Arc<dyn EventLog>,
    appender: Arc<GroupAppender>,
    wake: Arc<Notify>,
    sealer: Arc<Sealer>,
    states: StateCache<A>,
}

fn unavailable<E: std::error::Error>(e: impl std::fmt::Display) -> CommandError<E> {
    CommandError::Unavailable(e.to_string())
}

impl<A> Commands<A>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone,
{
    pub fn new(write: &WriteSide, services: A::Services) -> Self {
        let reads = StreamReads {
            repository: (write.repository)(),
            aggregate: PhantomData,
        };
        Self {
            reads: Batcher::start(Arc::new(reads), 1, MAX_READS),
            services,
            log: write.log.clone(),
            appender: write.appender.clone(),
            wake: write.wake.clone(),
            sealer: write.sealer.clone(),
            states: StateCache::default(),
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
        Ok(self
            .execute_returning(id, command, metadata)
            .await?
            .position)
    }

    /// Executes `command` on the stream `id`; returns the position of the stream's newest
    /// event and the stream's state after the command (the state it ran on with its events
    /// applied, or, if it produced none, the state the log confirmed), without reading the
    /// stream again.
    ///
    /// The command first runs on the remembered state without reading the log: if the stream
    /// moved on, the append conflicts and the command runs again on the events read since. A
    /// refusal (or a no-op) on a remembered state is only believed once the log confirms it.
    pub async fn execute_returning(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<Executed<A>, CommandError<A::Error>> {
        let metadata = metadata.to_map();
        let mut read_log = false;
        let mut conflicts = 0;
        loop {
            let (mut aggregate, sequence, confirmed) = self.state(id, read_log).await?;
            read_log = true;
            let sink = EventSink::default();
            if let Err(e) = aggregate
                .handle(command.clone(), &self.services, &sink)
                .await
            {
                if confirmed {
                    return Err(CommandError::Domain(e));
                }
                continue;
            }
            let events = sink.collect().await;
            if events.is_empty() {
                if !confirmed {
                    continue;
                }
                let position = self.log.stream_position(A::TYPE, id).await;
                return Ok(Executed {
                    position: position.map_err(unavailable)?.unwrap_or(Position::ZERO),
                    state: aggregate,
                });
            }
            let count = events.len();
            let serialized = self.stored_form(id, events, sequence, &metadata).await?;
            match self
                .appender
                .append(serialized)
                .await
                .map_err(unavailable)?
            {
                Some(position) => {
                    // The sink applied the events: `aggregate` is the state after them.
                    self.states
                        .remember(id, aggregate.clone(), sequence + count);
                    metrics::counter!("annals_events_appended_total", "aggregate" => A::TYPE)
                        .increment(count as u64);
                    self.wake.notify_one();
                    return Ok(Executed {
                        position,
                        state: aggregate,
                    });
                }
                None => {
                    conflicts += 1;
                    if conflicts >= MAX_ATTEMPTS {
                        return Err(CommandError::Conflict);
                    }
                    // A remembered state that was merely old is retried at once; a race with
                    // another writer on fresh state backs off.
                    if confirmed {
                        metrics::counter!("annals_command_conflicts_total", "aggregate" => A::TYPE)
                            .increment(1);
                        tokio::time::sleep(backoff(conflicts)).await;
                    }
                }
            }
        }
    }

    /// Runs `command` on the stream `id` and returns its events serialized, not appended: for
    /// commands whose events go into the log together with other streams' (see
    /// [`crate::es::together`]). With `fresh`, the stream is taken to be new without reading
    /// it (the append conflicts if it is not, and the caller prepares again without `fresh`);
    /// otherwise its state is read from the log.
    pub async fn prepare(
        &self,
        id: &str,
        command: A::Command,
        metadata: &Metadata,
        fresh: bool,
    ) -> Result<Prepared<A>, CommandError<A::Error>> {
        let (aggregate, sequence) = if fresh {
            (A::default(), 0)
        } else {
            self.versioned(id).await?
        };
        self.prepare_on(id, aggregate, sequence, command, metadata)
            .await
    }

    /// The stream's state as the log holds it, and how many events it has: for a command
    /// whose input is computed from what the state was when read, and which must not land if
    /// the stream moved since ([`Commands::prepare_on`]).
    pub async fn versioned(&self, id: &str) -> Result<(A, usize), CommandError<A::Error>> {
        let (state, sequence, _) = self.state(id, true).await?;
        Ok((state, sequence))
    }

    /// [`Commands::prepare`] on a state of [`Commands::versioned`]: the events are numbered
    /// after `sequence`, so their append conflicts if the stream moved since it was read.
    pub async fn prepare_on(
        &self,
        id: &str,
        mut aggregate: A,
        sequence: usize,
        command: A::Command,
        metadata: &Metadata,
    ) -> Result<Prepared<A>, CommandError<A::Error>> {
        let before = aggregate.clone();
        let sink = EventSink::default();
        aggregate
            .handle(command, &self.services, &sink)
            .await
            .map_err(CommandError::Domain)?;
        let events = sink.collect().await;
        let events = self
            .stored_form(id, events, sequence, &metadata.to_map())
            .await?;
        Ok(Prepared {
            events,
            before,
            state: aggregate,
        })
    }

    /// `events` of the stream `id` as the log stores them: numbered after `sequence`, with
    /// `metadata`, personal fields sealed.
    async fn stored_form(
        &self,
        id: &str,
        events: Vec<A::Event>,
        sequence: usize,
        metadata: &HashMap<String, String>,
    ) -> Result<Vec<SerializedEvent>, CommandError<A::Error>> {
        let mut serialized = events
            .into_iter()
            .zip(sequence + 1..)
            .map(|(payload, sequence)| {
                SerializedEvent::try_from(&EventEnvelope::<A> {
                    aggregate_id: id.to_string(),
                    sequence,
                    payload,
                    metadata: metadata.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(unavailable)?;
        self.seal(&mut serialized).await?;
        Ok(serialized)
    }

    /// Seals the personal fields of `events` (see `annals_domain::personal`) with their
    /// subjects' keys: the log never holds them in plaintext.
    async fn seal(&self, events: &mut [SerializedEvent]) -> Result<(), CommandError<A::Error>> {
        let mut subjects = Vec::new();
        for event in events.iter_mut() {
            let (id, event_type) = (event.aggregate_id.clone(), event.event_type.clone());
            if let Some(fields) = fields_of(event) {
                subjects.extend(sealed::personal_subjects(A::TYPE, &id, &event_type, fields));
            }
        }
        if subjects.is_empty() {
            return Ok(());
        }
        let keys = self.sealer.keys(subjects).await.map_err(unavailable)?;
        for event in events.iter_mut() {
            let (id, event_type) = (event.aggregate_id.clone(), event.event_type.clone());
            if let Some(fields) = fields_of(event) {
                sealed::seal_personal(A::TYPE, &id, &event_type, fields, &keys);
            }
        }
        Ok(())
    }

    /// The current state of a stream, straight from the log (consistent, no projection lag).
    pub async fn load(&self, id: &str) -> Result<A, CommandError<A::Error>> {
        Ok(self.state(id, true).await?.0)
    }

    /// A stream's state, its sequence, and whether the log was read to get it: with
    /// `read_log`, or when nothing is remembered, the events after the remembered state are
    /// read and applied.
    async fn state(
        &self,
        id: &str,
        read_log: bool,
    ) -> Result<(A, usize, bool), CommandError<A::Error>> {
        let (mut aggregate, mut sequence) = match self.states.get(id) {
            Some((state, sequence)) if !read_log => return Ok((state, sequence, false)),
            Some(remembered) => remembered,
            None => (A::default(), 0),
        };
        let mut newer = self
            .reads
            .submit((id.to_string(), sequence))
            .await
            .map_err(unavailable)?;
        // Events read as erased after a remembered state: the person was erased since, and the
        // remembered state may hold what the erasure removed (an invitation withdrawn while
        // its address could still be read). The whole stream is read anew instead.
        if sequence > 0
            && newer
                .iter()
                .any(|e| e.metadata.get(codec::ERASED_FIELDS).is_some())
        {
            (aggregate, sequence) = (A::default(), 0);
            newer = self
                .reads
                .submit((id.to_string(), 0))
                .await
                .map_err(unavailable)?;
        }
        let read = !newer.is_empty();
        for serialized in newer {
            let event = EventEnvelope::<A>::try_from(serialized).map_err(unavailable)?;
            sequence = event.sequence;
            aggregate.apply(event.payload);
        }
        if read {
            self.states.remember(id, aggregate.clone(), sequence);
        }
        Ok((aggregate, sequence, true))
    }
}

/// The fields of a serialized event (cqrs-es tags them with the event type).
fn fields_of(
    event: &mut SerializedEvent,
) -> Option<&mut serde_json::Map<String, serde_json::Value>> {
    event
        .payload
        .get_mut(&event.event_type)
        .and_then(|v| v.as_object_mut())
}

/// Random jitter growing with the attempt, capped at 50 ms, so racing writers spread out.
pub fn backoff(attempt: u32) -> Duration {
    let cap = (1u64 << attempt.min(6)).min(50);
    Duration::from_millis(rand::random_range(0..=cap))
}

#[cfg(test)]
mod tests {
    use annals_domain::identity::{RegisteredVia, User, UserCommand};
    use chrono::Utc;

    use super::*;
    use crate::adapters::sqlite::{self, SqliteBatchWriter, SqliteEventLog};

    /// A write side of its own, as another process would have.
    fn process(pool: &sqlx::SqlitePool) -> WriteSide {
        let for_repository = pool.clone();
        WriteSide {
            repository: Arc::new(move || LogRepository::sqlite(for_repository.clone())),
            log: Arc::new(SqliteEventLog::new(pool.clone())),
            appender: Arc::new(GroupAppender::start(
                Arc::new(SqliteBatchWriter::new(pool.clone(), Default::default())),
                1,
            )),
            wake: Arc::new(Notify::new()),
            sealer: Arc::new(Sealer::new(crate::adapters::person_keys::KeyStore::Sqlite(
                pool.clone(),
            ))),
        }
    }

    async fn scratch_log() -> (tempfile::TempDir, sqlx::SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite::url_for(&dir.path().join("log.db"));
        let pool = sqlite::connect(&url).await.unwrap();
        sqlite::migrate(&pool).await.unwrap();
        (dir, pool)
    }

    fn register(id: &str) -> UserCommand {
        UserCommand::Register {
            user_id: id.into(),
            email: format!("{id}@example.com"),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            password_hash: "h".into(),
            role: "user".into(),
            registered_via: RegisteredVia::Signup,
            at: Utc::now(),
        }
    }

    /// Two processes, each with its own cache, writing to one stream: each sees the other's
    /// events, and neither loses a write.
    #[tokio::test]
    async fn writers_with_their_own_caches_see_each_others_events() {
        let (_dir, pool) = scratch_log().await;
        let writer = || Commands::<User>::new(&process(&pool), ());
        let (a, b) = (writer(), writer());
        let meta = Metadata::default();
        a.execute("u1", register("u1"), &meta).await.unwrap();
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
        let events = a.reads.submit(("u1".into(), 0)).await.unwrap();
        let sequences: Vec<usize> = events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, vec![1, 2, 3, 4]);
    }

    /// A refusal decided on a remembered state is checked against the log before it is
    /// believed: here the account was reactivated by another process meanwhile.
    #[tokio::test]
    async fn a_refusal_on_a_remembered_state_is_rechecked_against_the_log() {
        let (_dir, pool) = scratch_log().await;
        let (a, b) = (
            Commands::<User>::new(&process(&pool), ()),
            Commands::<User>::new(&process(&pool), ()),
        );
        let meta = Metadata::default();
        let set_active = |active| UserCommand::SetActive {
            active,
            at: Utc::now(),
        };
        a.execute("u1", register("u1"), &meta).await.unwrap();
        a.execute("u1", set_active(false), &meta).await.unwrap();
        b.execute("u1", set_active(true), &meta).await.unwrap();
        let reset = UserCommand::RequestPasswordReset {
            token_hash: "t".into(),
            expires_at: Utc::now(),
            at: Utc::now(),
        };
        a.execute("u1", reset, &meta)
            .await
            .expect("accepted: the account is active again");
        assert_eq!(a.reads.submit(("u1".into(), 0)).await.unwrap().len(), 4);
    }

    /// A process that remembers a person's state from before their erasure reads the stream
    /// anew once it meets events whose fields read as erased.
    #[tokio::test]
    async fn a_state_remembered_from_before_an_erasure_is_read_anew() {
        let (_dir, pool) = scratch_log().await;
        let (erasing, other) = (process(&pool), process(&pool));
        let (a, b) = (
            Commands::<User>::new(&erasing, ()),
            Commands::<User>::new(&other, ()),
        );
        let meta = Metadata::default();
        a.execute("u1", register("u1"), &meta).await.unwrap();
        assert_eq!(b.load("u1").await.unwrap().email, "u1@example.com");
        let rename = UserCommand::UpdateProfile {
            first_name: Some("Ann".into()),
            last_name: None,
            at: Utc::now(),
        };
        a.execute("u1", rename, &meta).await.unwrap();
        let subjects = annals_domain::personal::user_subjects("u1", "u1@example.com");
        assert_eq!(erasing.sealer.erase(&subjects).await.unwrap(), 2);
        let seen = b.load("u1").await.unwrap();
        assert_eq!(
            seen.email,
            annals_domain::personal::erased_email("u1@example.com")
        );
        assert_eq!(
            (seen.first_name.as_str(), seen.last_name.as_str()),
            ("erased", "erased")
        );
    }

    /// Concurrent commands of one process on many streams and on one stream: every accepted
    /// command is in the log once, with its own position, and none is lost.
    #[tokio::test]
    async fn concurrent_commands_each_land_once_with_their_position() {
        let (_dir, pool) = scratch_log().await;
        let commands = Arc::new(Commands::<User>::new(&process(&pool), ()));
        let meta = Metadata::default();
        for i in 0..8 {
            commands
                .execute(&format!("u{i}"), register(&format!("u{i}")), &meta)
                .await
                .unwrap();
        }
        let tasks: Vec<_> = (0..64)
            .map(|n| {
                let commands = commands.clone();
                tokio::spawn(async move {
                    let rename = UserCommand::UpdateProfile {
                        first_name: Some(format!("n{n}")),
                        last_name: None,
                        at: Utc::now(),
                    };
                    commands
                        .execute(&format!("u{}", n % 8), rename, &Metadata::default())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut positions = std::collections::HashSet::new();
        for task in tasks {
            assert!(positions.insert(task.await.unwrap()));
        }
        for i in 0..8 {
            let events = commands.reads.submit((format!("u{i}"), 0)).await.unwrap();
            let sequences: Vec<usize> = events.iter().map(|e| e.sequence).collect();
            assert_eq!(sequences, (1..=9).collect::<Vec<_>>());
        }
    }
}
