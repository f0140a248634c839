//! Accepting invitations when the invited address registers, on any surface.
//!
//! Identity knows nothing of buckets, so registration cannot call in here. Instead this
//! reactor follows the event log: for every `UserRegistered` it looks up the pending
//! invitations of that email (the `bucket_invitations` read model) and sends each bucket an
//! `AcceptInvitation` command, which turns the invitation into a membership.
//!
//! - **Restart-safe.** The reactor keeps a checkpoint in the view store (like a projection,
//!   with no documents of its own) and moves it only after the commands of a batch succeeded;
//!   after a crash it re-reads from there. `AcceptInvitation` is idempotent, so re-running a
//!   batch, or two processes running the reactor, changes nothing twice.
//! - **No missed invitation.** Before reacting to a registration it waits until the bucket
//!   read model has applied the whole log as it stands (not only up to the registration), so
//!   every invitation committed before the registration is visible. An invitation committed
//!   after it is handled by the inviting request itself, which looks the address up again
//!   once its invitation is recorded (`Workspaces::invite`).
//! - **Read-your-writes.** The reactor moves past a registration (its progress, its
//!   checkpoint) only once the bucket views applied the memberships it wrote for it. A bucket
//!   read waits for the reactor and the bucket views to pass one position (`views::fresh`):
//!   then the views hold every write up to that position and every invitation accepted
//!   because of a registration up to it, so a read after a registration sees its
//!   memberships.
//!
//! It runs next to the projection workers (`annals serve` and `annals worker`).
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use annals_contracts::filter::{FieldPath, Filter, Query, Sort};
use annals_contracts::{
    CommitError, Delivery, Envelope, EventBus, EventReader, Leadership, Lease, Position,
    ProgressBoard, StoredCheckpoint, StoredEvent, ViewStore,
};
use annals_domain::identity::{User, UserEvent, normalize_email};
use annals_domain::workspaces::{Bucket, BucketCommand, BucketError, Person};
use annals_projections::workspaces::{BucketViews, INVITATIONS};
use annals_projections::{BATCH, Projection};
use cqrs_es::Aggregate;

use crate::es::commands::{CommandError, Commands, Metadata, WriteSide};

/// The reactor's name: its checkpoint, its bus consumer and what reads wait for.
pub const REACTOR: &str = "workspace_invitations";

/// Longest wait for the bucket views before a batch is retried.
const VIEWS_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("invitation reactor: {0}")]
pub struct ReactorError(String);

fn err(e: impl std::fmt::Display) -> ReactorError {
    ReactorError(e.to_string())
}

/// Where the reactor has got to, and what its stored checkpoint says.
struct Cursor {
    at: Position,
    stored: StoredCheckpoint,
}

pub struct InvitationReactor {
    pub buckets: Commands<Bucket>,
    pub views: Arc<dyn ViewStore>,
    pub log: Arc<dyn EventReader>,
    pub progress: Arc<ProgressBoard>,
}

/// Starts the reactor, restarted from its checkpoint whenever it fails. `bus` wakes it: the
/// projection workers' feed of applied batches.
pub fn spawn(
    parts: ReactorParts,
    bus: Arc<dyn EventBus>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    let reactor = Arc::new(InvitationReactor {
        buckets: Commands::<Bucket>::new(&parts.write, ()),
        views: parts.views,
        log: parts.log,
        progress: parts.progress,
    });
    let leadership = parts.leadership;
    tokio::spawn(async move {
        while !cancel.is_cancelled() {
            // One process reacts at a time (the commands are idempotent, but a standby's
            // work would be wasted); the others take over when its lease ends.
            let lease = match leadership.try_lead(REACTOR).await {
                Ok(Some(lease)) => lease,
                Ok(None) | Err(_) => {
                    tokio::select! {
                        _ = cancel.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    continue;
                }
            };
            let led = cancel.child_token();
            let watch = tokio::spawn(watch_lease(lease, led.clone()));
            if let Err(e) = reactor.run(bus.clone(), led.clone()).await {
                tracing::warn!(error = %e, "invitation reactor stopped; restarting");
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
            led.cancel();
            let _ = watch.await;
        }
    })
}

/// Cancels `led` when the lease is lost; holds the lease until `led` ends.
async fn watch_lease(mut lease: Box<dyn Lease>, led: CancellationToken) {
    loop {
        tokio::select! {
            _ = led.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        if !lease.still_held().await {
            tracing::warn!("invitation reactor lost its leadership; standing by");
            led.cancel();
            return;
        }
    }
}

/// What the reactor needs of a process: the write side for its commands, the read side to
/// look invitations up and wait for the bucket views.
pub struct ReactorParts {
    pub write: WriteSide,
    pub views: Arc<dyn ViewStore>,
    pub log: Arc<dyn EventReader>,
    pub progress: Arc<ProgressBoard>,
    /// Who may react: one process at a time.
    pub leadership: Arc<dyn Leadership>,
}

/// Whether an event (by aggregate type and name) is a registration, what the reactor acts on.
fn is_registration(aggregate_type: &str, event_type: &str) -> bool {
    aggregate_type == User::TYPE && event_type == "UserRegistered"
}

/// The account a `UserRegistered` event created.
fn registration(event: &StoredEvent) -> Option<Person> {
    if !is_registration(&event.aggregate_type, &event.event_type) {
        return None;
    }
    match Envelope::from_stored(event, Position::ZERO).decode::<UserEvent>() {
        Ok(UserEvent::UserRegistered { user_id, email, .. }) => Some(Person {
            user_id,
            email: normalize_email(&email),
        }),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, event = %event.aggregate_id, "unreadable registration");
            None
        }
    }
}

/// When a delivered batch continues the chain from `at` and holds no registration, the
/// position it brings the reactor to without reading the log.
fn nothing_to_do(batch: &[Delivery], at: Position) -> Option<Position> {
    let mut prev = at;
    for delivery in batch {
        let envelope = delivery.envelope.as_ref().ok()?;
        if envelope.position <= at {
            continue;
        }
        let registration = is_registration(&envelope.aggregatetype, &envelope.eventname);
        if envelope.prevposition != prev || registration {
            return None;
        }
        prev = envelope.position;
    }
    (prev != at).then_some(prev)
}

impl InvitationReactor {
    pub async fn run(
        &self,
        bus: Arc<dyn EventBus>,
        cancel: CancellationToken,
    ) -> Result<(), ReactorError> {
        // The bus only says "something happened"; what happened is read from the log.
        let mut wake = bus
            .subscribe(&format!("reactor-{REACTOR}"))
            .await
            .map_err(err)?;
        let stored = self.views.checkpoint(REACTOR).await.map_err(err)?;
        let mut cursor = Cursor {
            at: stored,
            stored: StoredCheckpoint::new(stored),
        };
        self.progress.publish(REACTOR, cursor.at);
        tracing::info!(reactor = REACTOR, checkpoint = %cursor.at, "invitation reactor started");
        self.catch_up(&mut cursor, &cancel).await?;
        loop {
            let idle = cursor.stored.idle(cursor.at);
            let batch = tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                batch = wake.next_batch(BATCH, idle) => batch.map_err(err)?,
            };
            if batch.is_empty() {
                self.store(&mut cursor).await?;
                self.catch_up(&mut cursor, &cancel).await?;
                continue;
            }
            match nothing_to_do(&batch, cursor.at) {
                Some(last) => {
                    cursor.at = last;
                    self.progress.publish(REACTOR, last);
                    if cursor.stored.due() {
                        self.store(&mut cursor).await?;
                    }
                }
                None => self.catch_up(&mut cursor, &cancel).await?,
            }
            for delivery in batch {
                (delivery.ack)().await;
            }
        }
    }

    /// Handles everything the log holds after the cursor.
    async fn catch_up(
        &self,
        cursor: &mut Cursor,
        cancel: &CancellationToken,
    ) -> Result<(), ReactorError> {
        loop {
            let events = self
                .log
                .read_after(cursor.at, BATCH as i64)
                .await
                .map_err(err)?;
            let Some(last) = events.last().map(|e| e.position) else {
                return Ok(());
            };
            let registered: Vec<Person> = events.iter().filter_map(registration).collect();
            let acted = !registered.is_empty();
            if acted {
                self.wait_for_views(None, cancel).await?;
                let mut written = Position::ZERO;
                for person in registered {
                    written = written.max(self.accept(person).await?);
                }
                // Reads wait for this reactor and the bucket views to pass one position: the
                // views must hold what was written here before the reactor moves on.
                self.wait_for_views(Some(written), cancel).await?;
            }
            cursor.at = last;
            self.progress.publish(REACTOR, cursor.at);
            // Batches without registrations are only remembered now and then: after a crash
            // they are read again, and nothing happens again.
            if acted || cursor.stored.due() {
                self.store(cursor).await?;
            }
            if events.len() < BATCH {
                return Ok(());
            }
        }
    }

    /// Stores the cursor, unless another process got further: then continues from there.
    async fn store(&self, cursor: &mut Cursor) -> Result<(), ReactorError> {
        if cursor.stored.position() == cursor.at {
            return Ok(());
        }
        match self
            .views
            .commit(REACTOR, cursor.stored.position(), cursor.at, &[])
            .await
        {
            Ok(()) => cursor.stored.set(cursor.at),
            Err(CommitError::CheckpointMoved(actual)) => {
                cursor.at = actual;
                cursor.stored.set(actual);
                self.progress.publish(REACTOR, actual);
            }
            Err(CommitError::Store(e)) => return Err(err(e)),
        }
        Ok(())
    }

    /// Waits until the bucket views have applied the log up to `position`, by default its
    /// current head.
    async fn wait_for_views(
        &self,
        position: Option<Position>,
        cancel: &CancellationToken,
    ) -> Result<(), ReactorError> {
        let head = match position {
            Some(position) => position,
            None => match self.log.head().await.map_err(err)? {
                Some(head) => head,
                None => return Ok(()),
            },
        };
        crate::services::catch_up::applied(
            self.views.as_ref(),
            &self.progress,
            BucketViews.name(),
            head,
            VIEWS_WAIT,
            cancel,
        )
        .await
        .map_err(err)
    }

    /// Turns every pending invitation of `person`'s email into a membership; returns the
    /// newest position of the buckets it wrote to.
    async fn accept(&self, person: Person) -> Result<Position, ReactorError> {
        let query = Query {
            filter: Filter::Eq(
                FieldPath::parse("email").expect("a valid field path"),
                json!(person.email),
            ),
            sort: vec![Sort::parse("created_at").expect("a valid sort key")],
            limit: 1000,
            offset: 0,
            after: None,
            count: false,
            within: None,
        };
        let invitations = self
            .views
            .find(INVITATIONS, &query)
            .await
            .map_err(err)?
            .items;
        let metadata = Metadata {
            actor: Some(person.user_id.clone()),
            request_id: None,
            origin: Some(REACTOR.into()),
            via: None,
        };
        let mut written = Position::ZERO;
        for (_, invitation) in invitations {
            let Some(bucket_id) = invitation["bucket_id"].as_str() else {
                continue;
            };
            let command = BucketCommand::AcceptInvitation {
                person: person.clone(),
                at: Utc::now(),
            };
            match self.buckets.execute(bucket_id, command, &metadata).await {
                Ok(position) => {
                    written = written.max(position);
                    tracing::info!(bucket_id, user_id = %person.user_id, "invitation accepted")
                }
                // Deleted since: nothing to join.
                Err(CommandError::Domain(BucketError::NotFound)) => {}
                Err(CommandError::Domain(e)) => {
                    tracing::warn!(error = %e, bucket_id, "invitation not accepted");
                }
                Err(e) => return Err(err(e)),
            }
        }
        Ok(written)
    }
}
